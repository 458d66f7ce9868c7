/**
 * The policy cache: GetParameter calls over many warm invocations within the cache time
 * (POLICY_CACHE_SECONDS, 60 s by default). Throttling is off: this counts SSM calls, and
 * a thousand back-to-back Describes would only wait on EC2's bucket.
 */
import { Rig } from './rig';
import { seconds } from './stats';

/** The keys of `ssm` in results.json. */
export interface SsmResult {
  readonly invocations: number;
  readonly getParameterCalls: number;
}

export async function runSsm(
  bundle: string,
  invocations: number,
): Promise<{ result: SsmResult; seconds: number }> {
  // One invocation per notification: the hint queue would batch them into a few.
  const rig = await Rig.start({ bundle, services: 1, throttling: false, delivery: 'direct' });
  try {
    const started = Date.now();
    for (let i = 0; i < invocations; i++) {
      await rig.notify(rig.serviceIds[0]!, 'vpce-0123456789abcdef0');
    }
    return {
      result: { invocations, getParameterCalls: rig.aws.ssm.count('GetParameter') },
      seconds: seconds(Date.now() - started),
    };
  } finally {
    await rig.close();
  }
}
