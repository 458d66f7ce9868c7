/**
 * The Lambda entry point for every trigger: SNS notifications, EventBridge rules, the
 * retry queue and manual invocations. It only builds the dependencies (once per
 * container) and hands each event to the guard's core.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { realClock } from './clock';
import { loadConfig } from './config';
import { type GuardDeps, handleEvent } from './guard';
import { PolicyStore } from './policy-store';
import { TokenBucket } from './rate-limiter';
import { logger, metrics } from './telemetry';

// EC2's documented bucket for each of RejectVpcEndpointConnections and AcceptVpcEndpointConnections.
const MUTATING_BUCKET = { capacity: 10, refillPerSecond: 1 };
// Left of the invocation's time when the last EC2 change may start: enough to queue the rest.
const SAFETY_MARGIN_MS = 5_000;

// Read at start-up: a missing or malformed variable fails the init, naming the variable.
const config = loadConfig(process.env);
const ssm = new SSMClient({});
const deps: GuardDeps = {
  config,
  // More attempts than the SDK's default 3, so a throttled call backs off and lands
  // instead of being queued; the client-side buckets keep that rare.
  ec2: new EC2Client({ maxAttempts: 6 }),
  sqs: new SQSClient({}),
  policies: new PolicyStore(ssm, config.policyParameterName, config.policyCacheSeconds, realClock),
  limiters: {
    reject: new TokenBucket(MUTATING_BUCKET.capacity, MUTATING_BUCKET.refillPerSecond),
    accept: new TokenBucket(MUTATING_BUCKET.capacity, MUTATING_BUCKET.refillPerSecond),
  },
  clock: realClock,
};

export async function handler(event: unknown, context?: Context) {
  if (context) logger.addContext(context);
  metrics.captureColdStartMetric();
  const deadline = context
    ? Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS
    : undefined;
  try {
    return await handleEvent(event, deps, deadline);
  } catch (error) {
    logger.error('Invocation failed; AWS will retry the event', { error: error as Error });
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
}
