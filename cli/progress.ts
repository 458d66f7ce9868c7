/**
 * Progress lines of a long sweep, on stderr so that stdout stays the report: one when a
 * service starts (when there are several) and one per Describe page after the first. A sweep
 * of every service reads them all at once: its lines count the pages of that one read.
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

  /** One read for every service: the page lines say so. */
  startSweep(): void {
    this.index = 0;
    this.serviceId = '';
    this.pages = 0;
  }

  /** Called after each Describe page of the current service (or of the sweep). */
  pageRead(): void {
    this.pages += 1;
    if (this.pages > 1) this.line(`page ${this.pages} read`);
  }

  private line(what: string): void {
    const where =
      this.index === 0
        ? `every service (${this.services})`
        : `[${this.index}/${this.services}] ${this.serviceId}`;
    this.out.write(`${where}: ${what}\n`);
  }
}
