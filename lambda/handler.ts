/**
 * The Lambda entry point for every trigger: the hint queue (connection notifications and
 * CloudTrail events), the retry queue, the schedule and Parameter Store Change rules, manual
 * invocations, and the stack's notification cleanup resource. It only builds the dependencies
 * (once per container), sets each invocation's deadlines, and hands the event to guard.ts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { realClock } from '../core/clock';
import { parseGuardEnvironment } from '../core/contract';
import { FINISH_MARGIN_MS, InvocationDeadline, SAFETY_MARGIN_MS } from '../core/deadline';
import { EC2_MAX_ATTEMPTS } from '../core/ec2';
import { parameterRegion } from '../core/policy-parameter';
import { mutatingLimiters, wiringLimiter } from '../core/rate-limiter';
import { deadlineClient } from '../core/sdk-deadline';
import { Announcements } from './announcements';
import { DecisionPublisher } from './decision-events';
import { type GuardDeps, handleEvent } from './guard';
import { intakeSettings } from './intake';
import { reportPolicyProblem } from './policy-problems';
import { PolicyStore } from './policy-store';
import { logger, metrics } from './telemetry';
import { PermissionsCache } from './upkeep';

/** The SDK's default attempts per call, for the clients that need no more. */
const DEFAULT_ATTEMPTS = 3;
/** A burst of cold containers can meet GetParameter's throttle: retry more than the default. */
const SSM_MAX_ATTEMPTS = 5;

// Read at start-up: a missing or malformed variable fails the init, naming the variable.
const config = parseGuardEnvironment(process.env);

// The clients live as long as the container; each invocation sets its deadlines, which their
// retries and sockets obey (core/deadline.ts): the decisions' calls end by `work`, the
// queueing and publishing that follow by `finish`.
const work = new InvocationDeadline();
const finish = new InvocationDeadline();
// In the policy parameter's Region: an ARN's may be another (core/policy-parameter.ts).
const ssm = deadlineClient(
  SSMClient,
  SSM_MAX_ATTEMPTS,
  work,
  parameterRegion(config.policyParameterName),
);
const deps: GuardDeps = {
  config,
  intake: intakeSettings(config),
  ec2: deadlineClient(EC2Client, EC2_MAX_ATTEMPTS, work),
  sqs: deadlineClient(SQSClient, DEFAULT_ATTEMPTS, finish),
  policies: new PolicyStore(
    ssm,
    config.policyParameterName,
    config.policyCacheSeconds,
    realClock,
    reportPolicyProblem,
  ),
  limiters: mutatingLimiters(),
  wiringLimiter: wiringLimiter(),
  permissions: new PermissionsCache(realClock),
  decisions: new DecisionPublisher({
    events: deadlineClient(EventBridgeClient, DEFAULT_ATTEMPTS, finish),
    ...(config.eventBusName ? { busName: config.eventBusName } : {}),
    // Without a table, no DynamoDB client: each container remembers its own announcements.
    announcements: new Announcements(
      config.announcementTableName
        ? {
            dynamodb: deadlineClient(DynamoDBClient, DEFAULT_ATTEMPTS, finish),
            name: config.announcementTableName,
          }
        : undefined,
      realClock,
    ),
    clock: realClock,
    deadline: finish,
  }),
  clock: realClock,
  deadline: work,
};

export async function handler(event: unknown, context?: Context) {
  if (context) logger.addContext(context);
  metrics.captureColdStartMetric();
  const end = context ? Date.now() + context.getRemainingTimeInMillis() : undefined;
  work.set(end === undefined ? undefined : end - SAFETY_MARGIN_MS);
  finish.set(end === undefined ? undefined : end - FINISH_MARGIN_MS);
  try {
    return await handleEvent(event, deps);
  } catch (error) {
    // Asynchronous triggers are retried by Lambda, then land in the on-failure destination.
    logger.error('Invocation failed', { error: error as Error });
    throw error;
  } finally {
    work.clear();
    finish.clear();
    metrics.publishStoredMetrics();
  }
}
