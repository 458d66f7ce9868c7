/**
 * Progress lines of a long sweep, on stderr so that stdout stays the report: one when a
 * service starts (when there are several) and one per Describe page after the first.
 */
import type { Output } from './io';

export class SweepProgress {
  private index = 0;
  private serviceId = '';
  private pages = 0;

  constructor(
    private readonly out: Output,
    private readonly services: number,
  ) {}

  startService(serviceId: string): void {
    this.index += 1;
    this.serviceId = serviceId;
    this.pages = 0;
    if (this.services > 1) this.line('reading connections');
  }

  /** Called after each Describe page of the current service. */
  pageRead(): void {
    this.pages += 1;
    if (this.pages > 1) this.line(`page ${this.pages} read`);
  }

  private line(what: string): void {
    this.out.write(`[${this.index}/${this.services}] ${this.serviceId}: ${what}\n`);
  }
}
