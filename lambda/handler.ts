/**
 * The Lambda entry point for every trigger: SNS notifications, EventBridge rules, the
 * retry queue and manual invocations. It only builds the dependencies (once per
 * container) and hands each event to the guard's core.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { realClock } from '../core/clock';
import { parseGuardEnvironment } from '../core/contract';
import { EC2_MAX_ATTEMPTS } from '../core/ec2';
import { mutatingLimiters } from '../core/rate-limiter';
import { type GuardDeps, handleEvent } from './guard';
import { reportPolicyProblem } from './policy-problems';
import { PolicyStore } from './policy-store';
import { logger, metrics } from './telemetry';

// Left of the invocation's time when the last EC2 change may start: enough to queue the rest.
const SAFETY_MARGIN_MS = 5_000;

// Read at start-up: a missing or malformed variable fails the init, naming the variable.
const config = parseGuardEnvironment(process.env);
// A burst of cold containers can meet GetParameter's throttle: retry more than the default 3.
const ssm = new SSMClient({ maxAttempts: 5 });
const deps: GuardDeps = {
  config,
  ec2: new EC2Client({ maxAttempts: EC2_MAX_ATTEMPTS }),
  sqs: new SQSClient({}),
  policies: new PolicyStore(
    ssm,
    config.policyParameterName,
    config.policyCacheSeconds,
    realClock,
    reportPolicyProblem,
  ),
  limiters: mutatingLimiters(),
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
    // Asynchronous triggers are retried by Lambda, then land in the on-failure destination.
    logger.error('Invocation failed', { error: error as Error });
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
}
