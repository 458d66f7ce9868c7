/**
 * The scheduled sweep of 1, 50 and 500 services, protecting every service of the account (the
 * default), with 2 pending denied connections, against EC2's token buckets: what a sweep costs
 * in Describe calls and seconds as the number of services grows. The first sweeps after a
 * deploy wire every service with its connection notification (100 a sweep at most); once all
 * are wired, one more sweep is the steady one: what every 5 minutes costs.
 *
 * The issue's baseline, before the sweep read every service at once: 200 services and 2
 * pending connections made 214 DescribeVpcEndpointConnections calls and took 5.9 s.
 */
import { scheduledEvent } from '../local-aws/events';
import { startAwsFakes } from '../local-aws/fakes';
import type { Ec2Action } from '../local-aws/fakes/ec2-model';
import { LocalLambda } from '../local-aws/local-lambda';
import { deniedOwner } from './accounts';
import { guardEnvironment, INVOCATION_TIMEOUT_MS, POLICY_PARAMETER } from './guard-env';
import { seconds } from './stats';

/** The keys of `services` in results.json. */
export interface ServicesSweepResult {
  readonly services: number;
  readonly pending: number;
  /** The steady sweep: DescribeVpcEndpointConnections calls. Target: ceil(pending / 1000) + 1. */
  readonly describeConnectionsCalls: number;
  /** The steady sweep: the other Describe calls (services, notifications, permissions). */
  readonly otherDescribeCalls: number;
  /** The steady sweep, start to return. */
  readonly seconds: number;
  /** The first sweep after a deploy: notifications it created, and its seconds. */
  readonly firstSweepCreates: number;
  readonly firstSweepSeconds: number;
}

export interface ServicesSweepDetails {
  /** The steady sweep's other Describe calls, by action. */
  readonly describeByAction: Readonly<Record<string, number>>;
  readonly rejectCalls: number;
  readonly throttled: number;
  /** Sweeps it took to wire every service (100 a sweep at most). */
  readonly sweepsToWire: number;
}

export const SERVICE_COUNTS = [1, 50, 500] as const;
const PENDING = 2;
/** More than 500 services need (100 notifications a sweep), in case one sweep falls short. */
const MAX_WIRING_SWEEPS = 8;
const REGION = 'eu-west-1';
const ACCOUNT_ID = '123456789012';
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT_ID}:vpce-guard-notifications`;

export async function runServicesSweep(
  bundle: string,
  services: number,
): Promise<{ result: ServicesSweepResult; details: ServicesSweepDetails }> {
  const aws = await startAwsFakes({ region: REGION, accountId: ACCOUNT_ID, throttling: true });
  let guard: LocalLambda | undefined;
  try {
    const serviceIds = Array.from({ length: services }, () => aws.ec2.addService());
    for (let i = 0; i < PENDING; i++) {
      aws.ec2.addConnection({ serviceId: serviceIds[i % services]!, owner: deniedOwner(i) });
    }
    aws.ssm.setParameter(
      POLICY_PARAMETER,
      JSON.stringify({ version: 1, mode: 'enforce', defaultAction: 'reject', rules: [] }),
    );
    guard = await LocalLambda.start(
      bundle,
      guardEnvironment(
        {
          retryQueueUrl: aws.sqs.createQueue('vpce-guard-retry'),
          notificationTopicArn: TOPIC_ARN,
        },
        aws.env(),
      ),
      { execArgv: [] },
    );
    const sweep = async () => {
      const started = Date.now();
      const invocation = await guard!.invoke(
        scheduledEvent('vpce-guard-schedule', { region: REGION, accountId: ACCOUNT_ID }),
        INVOCATION_TIMEOUT_MS,
      );
      if (invocation.error) throw new Error(`the sweep failed: ${invocation.error.message}`);
      return seconds(Date.now() - started);
    };
    const wired = () =>
      aws.ec2.notifications().filter((n) => n.ConnectionNotificationArn === TOPIC_ARN).length;

    const firstSweepSeconds = await sweep();
    const firstSweepCreates = aws.ec2.count('CreateVpcEndpointConnectionNotification');
    let sweepsToWire = 1;
    while (wired() < services && sweepsToWire < MAX_WIRING_SWEEPS) {
      await sweep();
      sweepsToWire += 1;
    }
    // Fresh buckets, so that the steady sweep pays only for itself.
    aws.ec2.setThrottling(true);
    const before = aws.ec2.calls.length;
    const steadySeconds = await sweep();
    const calls = aws.ec2.calls.slice(before);
    const count = (action: Ec2Action) => calls.filter((c) => c.action === action).length;
    const describeByAction = Object.fromEntries(
      (
        [
          'DescribeVpcEndpointServiceConfigurations',
          'DescribeVpcEndpointConnectionNotifications',
          'DescribeVpcEndpointServicePermissions',
        ] as const
      ).map((action) => [action, count(action)]),
    );
    return {
      result: {
        services,
        pending: PENDING,
        describeConnectionsCalls: count('DescribeVpcEndpointConnections'),
        otherDescribeCalls: Object.values(describeByAction).reduce((a, b) => a + b, 0),
        seconds: steadySeconds,
        firstSweepCreates,
        firstSweepSeconds,
      },
      details: {
        describeByAction,
        rejectCalls: aws.ec2.count('RejectVpcEndpointConnections'),
        throttled: aws.ec2.throttledCount,
        sweepsToWire,
      },
    };
  } finally {
    await guard?.close();
    await aws.close();
  }
}
