/**
 * How many endpoint IDs does one `RejectVpcEndpointConnections` call take? AWS does not say
 * (docs/internals.md), and the guard's `rejectBatchSize` allows up to 1,000. The probe asks EC2
 * with made-up endpoint IDs, which no connection has, so it rejects nothing: it doubles the
 * count from 1,000 while EC2 answers (each made-up ID an `Unsuccessful` entry), and when EC2
 * refuses a count, it halves the gap until it knows the largest count answered.
 *
 * `npm run integ` runs it on the test's rejected service, with the test's already-rejected
 * endpoint first in every list. On its own (docs/integration-test.md):
 *
 *   npx tsx integ/probe-reject-limit.ts --service-id vpce-svc-… [--region eu-west-1]
 */
import { randomBytes } from 'crypto';
import { parseArgs } from 'util';
import { EC2Client, RejectVpcEndpointConnectionsCommand } from '@aws-sdk/client-ec2';
import { NUMERIC_SETTINGS } from '../core/contract';
import { isServiceId } from '../core/ids';

/** What EC2 said to one call. */
export interface ProbeAttempt {
  /** Endpoint IDs in the call. */
  readonly ids: number;
  readonly outcome: 'answered' | 'refused';
  /** Answered: the `Unsuccessful` entries, counted by error code. */
  readonly unsuccessfulByCode?: Record<string, number>;
  /** Answered: one made-up ID's entry, as EC2 wrote it. */
  readonly madeUpIdEntry?: unknown;
  /** Answered, with a known endpoint: its entry, or `succeeded` when it had none. */
  readonly knownEndpointEntry?: unknown;
  /** Refused: the error, as the SDK reports it. */
  readonly error?: ProbeError;
}

export interface ProbeError {
  readonly name: string;
  readonly message: string;
  readonly httpStatus?: number;
}

export interface ProbeReport {
  readonly serviceId: string;
  readonly attempts: readonly ProbeAttempt[];
  /** The largest count EC2 answered. */
  readonly largestAnswered?: number;
  /** The smallest count EC2 refused; absent when it answered every count up to the ceiling. */
  readonly smallestRefused?: number;
  /** One sentence: what the probe learned. */
  readonly conclusion: string;
}

export interface ProbeOptions {
  readonly serviceId: string;
  /** An endpoint already rejected on the service, put first in every list. Never a live one. */
  readonly knownEndpointId?: string;
  /** The first large count: the guard's largest batch. */
  readonly start?: number;
  /** The probe stops doubling here. */
  readonly ceiling?: number;
  /** Waits between calls: Reject's token bucket refills at 1 per second. */
  readonly pause?: () => Promise<void>;
}

const GUARD_MAX_BATCH = NUMERIC_SETTINGS.rejectBatchSize.max;
const THROTTLED = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException']);

/** `vpce-` and 17 random hex digits: the shape of an endpoint ID that no endpoint has. */
function madeUpEndpointId(): string {
  return `vpce-${randomBytes(9).toString('hex').slice(0, 17)}`;
}

export async function probeRejectLimit(
  ec2: EC2Client,
  options: ProbeOptions,
): Promise<ProbeReport> {
  const { serviceId, knownEndpointId } = options;
  const start = options.start ?? GUARD_MAX_BATCH;
  const ceiling = options.ceiling ?? start * 16;
  const pause = options.pause ?? (() => new Promise((resolve) => setTimeout(resolve, 1100)));
  const attempts: ProbeAttempt[] = [];
  const report = (conclusion: string, largestAnswered?: number, smallestRefused?: number) => ({
    serviceId,
    attempts,
    largestAnswered,
    smallestRefused,
    conclusion,
  });

  const call = async (count: number): Promise<ProbeAttempt> => {
    if (attempts.length > 0) await pause();
    const known = knownEndpointId ? [knownEndpointId] : [];
    const ids = [...known, ...Array.from({ length: count - known.length }, madeUpEndpointId)];
    const attempt = await reject(ec2, serviceId, ids, knownEndpointId);
    attempts.push(attempt);
    return attempt;
  };
  const throttled = (attempt: ProbeAttempt) => THROTTLED.has(attempt.error?.name ?? '');

  // Two IDs first: if EC2 refuses even those, a refusal says nothing about the count.
  const baseline = await call(2);
  if (baseline.outcome === 'refused') {
    return report(
      `Inconclusive: EC2 refused a call of 2 IDs (${describe(baseline.error)}), so no refusal can be put down to the count.`,
    );
  }

  let answered = 2;
  let refused: number | undefined;
  for (
    let count = Math.max(start, 3);
    refused === undefined;
    count = Math.min(count * 2, ceiling)
  ) {
    const attempt = await call(count);
    if (throttled(attempt)) return report(throttledConclusion(attempt), answered);
    if (attempt.outcome === 'refused') refused = count;
    else answered = count;
    if (count >= ceiling) break;
  }
  if (refused === undefined) {
    return report(
      `EC2 answered ${answered} IDs in one call, the most the probe tries: whatever its limit, it is higher.`,
      answered,
    );
  }
  while (refused - answered > 1) {
    const middle = Math.floor((answered + refused) / 2);
    const attempt = await call(middle);
    if (throttled(attempt)) return report(throttledConclusion(attempt), answered, refused);
    if (attempt.outcome === 'refused') refused = middle;
    else answered = middle;
  }
  const refusal = attempts.find((a) => a.ids === refused)?.error;
  return report(
    `EC2 answers up to ${answered} IDs in one call and refuses ${refused} (${describe(refusal)}).`,
    answered,
    refused,
  );
}

async function reject(
  ec2: EC2Client,
  serviceId: string,
  ids: string[],
  knownEndpointId: string | undefined,
): Promise<ProbeAttempt> {
  try {
    const { Unsuccessful = [] } = await ec2.send(
      new RejectVpcEndpointConnectionsCommand({ ServiceId: serviceId, VpcEndpointIds: ids }),
    );
    const unsuccessfulByCode: Record<string, number> = {};
    for (const entry of Unsuccessful) {
      const code = entry.Error?.Code ?? '(no code)';
      unsuccessfulByCode[code] = (unsuccessfulByCode[code] ?? 0) + 1;
    }
    const entryOf = (id: string) => Unsuccessful.find((entry) => entry.ResourceId === id);
    const madeUpId = ids.find((id) => id !== knownEndpointId);
    return {
      ids: ids.length,
      outcome: 'answered',
      unsuccessfulByCode,
      madeUpIdEntry: madeUpId ? entryOf(madeUpId) : undefined,
      ...(knownEndpointId ? { knownEndpointEntry: entryOf(knownEndpointId) ?? 'succeeded' } : {}),
    };
  } catch (error) {
    const {
      name = 'Error',
      message = String(error),
      $metadata,
    } = error as {
      name?: string;
      message?: string;
      $metadata?: { httpStatusCode?: number };
    };
    return {
      ids: ids.length,
      outcome: 'refused',
      error: { name, message, httpStatus: $metadata?.httpStatusCode },
    };
  }
}

function describe(error: ProbeError | undefined): string {
  return error ? `${error.name}: ${error.message}` : 'no error recorded';
}

function throttledConclusion(attempt: ProbeAttempt): string {
  return `Inconclusive: EC2 throttled the call of ${attempt.ids} IDs even after the SDK's retries (${describe(attempt.error)}); run the probe again later.`;
}

if (require.main === module) {
  const { values } = parseArgs({
    options: { 'service-id': { type: 'string' }, region: { type: 'string' } },
  });
  const serviceId = values['service-id'];
  if (!isServiceId(serviceId)) {
    console.error(
      'Usage: npx tsx integ/probe-reject-limit.ts --service-id vpce-svc-… [--region <region>]\n' +
        'The service must be yours; the probe names only made-up endpoint IDs, so it rejects nothing.',
    );
    process.exit(2);
  }
  const ec2 = new EC2Client({ region: values.region, maxAttempts: 8 });
  probeRejectLimit(ec2, { serviceId }).then(
    (probe) => console.log(JSON.stringify(probe, null, 2)),
    (error: Error) => {
      console.error(`The probe failed: ${error.message}`);
      process.exit(1);
    },
  );
}
