import { AwsError } from './aws-error';
import type { Reply } from './http';

/** One request a fake received, as tests and the benchmark inspect it. */
export interface CallRecord {
  /** As the client named it, so that unknown actions show up too. */
  action: string;
  /** The decoded request: the JSON body, or EC2's form as a tree (`{ VpcEndpointId: [...] }`). */
  params: unknown;
  /** Answered the service's throttling error (EC2: `RequestLimitExceeded`), injected or not. */
  throttled: boolean;
  /** The error code answered, if the call failed for any reason. */
  error?: string;
  /** When the request arrived, in epoch milliseconds. */
  at: number;
  /** The Region of the request's signature (SSM and RAM only). */
  region?: string;
  /** The account of the request's access key (SSM and RAM only). */
  account?: string;
}

/** What a fake has received, for tests and the benchmark to inspect. */
export class CallLog<A extends string> {
  readonly calls: CallRecord[] = [];
  private readonly counts = new Map<string, number>();
  private throttled = 0;

  /** @param throttlingCode the error code the service throttles with, which the log flags */
  constructor(private readonly throttlingCode: string) {}

  /**
   * Answers one request and records it, whatever its outcome: an `AwsError` that `respond`
   * throws is answered with `renderError` and its code kept in the record. Any other error is
   * a bug in a fake and propagates.
   */
  async answer(
    call: CallRecord,
    respond: () => Reply | Promise<Reply>,
    renderError: (err: AwsError) => Reply,
  ): Promise<Reply> {
    try {
      return await respond();
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      call.error = err.code;
      call.throttled = err.code === this.throttlingCode;
      return renderError(err);
    } finally {
      this.calls.push(call);
      this.counts.set(call.action, (this.counts.get(call.action) ?? 0) + 1);
      if (call.throttled) this.throttled += 1;
    }
  }

  /** Requests received for `action`, whatever their outcome. */
  count(action: A): number {
    return this.counts.get(action) ?? 0;
  }

  get throttledCount(): number {
    return this.throttled;
  }
}

/**
 * An error to inject. `status` defaults to 400; for per-item failures it only tells sender (4xx)
 * from receiver (5xx) faults.
 */
export interface Fault {
  code: string;
  message?: string;
  status?: number;
}

export function faultError(fault: Fault): AwsError {
  return new AwsError(fault.code, faultMessage(fault), fault.status ?? 400);
}

export const faultMessage = (fault: Fault): string =>
  fault.message ?? `${fault.code} (injected by the fake)`;

/**
 * Faults waiting to be injected, each for the subjects it applies to (an action, an endpoint ID,
 * a batch entry) and a number of times. The oldest applicable rule wins.
 */
export class FaultPlan<S> {
  private rules: { applies: (subject: S) => boolean; fault: Fault; remaining: number }[] = [];

  add(applies: (subject: S) => boolean, fault: Fault, times: number): void {
    this.rules.push({ applies, fault, remaining: times });
  }

  /** The fault for `subject`, if any, using up one of its times. */
  take(subject: S): Fault | undefined {
    const rule = this.rules.find((r) => r.applies(subject));
    if (!rule) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.rules = this.rules.filter((r) => r !== rule);
    return rule.fault;
  }
}
