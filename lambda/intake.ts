/**
 * The one intake: every event the function receives is classified here, and every queued
 * message's body parsed here, once, into typed work.
 *
 * Every trigger is only a hint (docs/architecture.md#triggers-are-hints): it names services
 * to reconcile (and endpoint IDs for the logs), never what to decide. Nothing is trusted
 * beyond the shape of an ID, so a forged event can at worst make the guard re-read the truth
 * from EC2.
 */
import { type GuardConfig, NOTIFICATION_CLEANUP_RESOURCE_TYPE } from '../core/contract';
import { ENDPOINT_ID_SOURCE, isServiceId, SERVICE_ID_SHAPE, SERVICE_ID_SOURCE } from '../core/ids';
import {
  isPolicyChange,
  PARAMETER_CHANGE_DETAIL_TYPE,
  PARAMETER_CHANGE_SOURCE,
  type PolicyParameter,
  policyParameter,
} from '../core/policy-parameter';
import { type RetryRecord, retryRecordFrom } from '../core/retry-record';

/** A connection request may be waiting on these services. */
export interface Hint {
  readonly kind: 'hint';
  readonly source: 'notification' | 'cloudtrail';
  /** The services to reconcile; empty: every protected service. */
  readonly serviceIds: readonly string[];
  readonly endpointIds: readonly string[];
  /** The notification's body (its format is not documented), for a debug log. */
  readonly message?: string;
}

/**
 * The account created an endpoint service (CloudTrail `CreateVpcEndpointServiceConfiguration`):
 * wire it and reconcile it at once. No service ID in the record: every protected service.
 */
export interface ServiceCreated {
  readonly kind: 'serviceCreated';
  readonly serviceIds: readonly string[];
}

/**
 * CloudFormation, through the CDK Provider framework, tells of the stack's notification
 * cleanup resource: on `Delete` the guard removes the notifications it created.
 */
export interface StackEvent {
  readonly kind: 'stackEvent';
  readonly requestType: 'Create' | 'Update' | 'Delete';
  /** Echoed back, so that an update never replaces the resource. */
  readonly physicalResourceId?: string;
}

/** What one trigger asks of the guard. */
export type Work =
  | Hint
  | ServiceCreated
  | StackEvent
  | { readonly kind: 'sweep'; readonly source: 'schedule' | 'manual' }
  | { readonly kind: 'manual'; readonly serviceIds: readonly string[] }
  | { readonly kind: 'policyChanged' }
  /** A known shape that concerns something else (another parameter, an AWS service endpoint). */
  | { readonly kind: 'ignored'; readonly why: string }
  | { readonly kind: 'unknown'; readonly seen: string };

/**
 * A message on one of the guard's queues: a trigger that SNS (its envelope, raw delivery
 * off) or EventBridge (the event itself) queued, a retry record, or neither. `body` is kept
 * as it came, for the dead-letter queue.
 */
export type QueueMessage = { readonly messageId: string; readonly body: string } & (
  | { readonly kind: 'work'; readonly work: QueuedWork }
  | { readonly kind: 'retry'; readonly record: RetryRecord }
  | {
      readonly kind: 'unreadable';
      readonly problem: string;
      /**
       * Whether it came from the guard's retry queue (its event source ARN names it), whose
       * unreadable records the guard dead-letters; anything else goes back to its own queue.
       */
      readonly fromRetryQueue: boolean;
    }
);

/** What the intake compares events with, parsed once from the guard's configuration. */
export interface IntakeSettings {
  /** A Parameter Store Change of this parameter, or of one of its sets' manifests, reloads it. */
  readonly policy: PolicyParameter;
  /** The retry queue, as `<account>/<name>`. */
  readonly retryQueue: string;
  /** The guard's own stack: only its events are answered. */
  readonly stackId?: string;
}

export function intakeSettings(
  config: Pick<GuardConfig, 'policyParameterName' | 'retryQueueUrl' | 'stackId'>,
): IntakeSettings {
  // `https://sqs.<region>.amazonaws.com/<account>/<name>`: the path names the queue.
  const path = new URL(config.retryQueueUrl).pathname.split('/').filter(Boolean);
  return {
    policy: policyParameter(config.policyParameterName),
    retryQueue: path.join('/'),
    ...(config.stackId ? { stackId: config.stackId } : {}),
  };
}

/** `arn:<partition>:sqs:<region>:<account>:<name>` as `<account>/<name>`. */
function queueOfArn(arn: unknown): string | undefined {
  if (typeof arn !== 'string') return undefined;
  const [prefix, , service, , account, name] = arn.split(':');
  return prefix === 'arn' && service === 'sqs' && account && name
    ? `${account}/${name}`
    : undefined;
}

/** What a queued message may ask: a stack event takes a direct invocation, never a queue. */
export type QueuedWork = Exclude<Work, StackEvent>;

/** An event: one trigger, or a batch of messages from the guard's queues. */
export type Intake = Work | { readonly kind: 'queue'; readonly messages: readonly QueueMessage[] };

export class ManualInvocationError extends Error {
  constructor(message: string) {
    super(
      `manual invocation: ${message}. Expected {"reconcile": "all"} or {"reconcile": ["vpce-svc-…", …]}`,
    );
    this.name = 'ManualInvocationError';
  }
}

const SERVICE_ID = new RegExp(SERVICE_ID_SOURCE, 'g');
const ENDPOINT_ID = new RegExp(ENDPOINT_ID_SOURCE, 'g');
/** Enough of a notification body to learn its format from the logs. */
const MAX_LOGGED_MESSAGE = 4096;
/** `com.amazonaws.vpce.<region>.vpce-svc-…`: a PrivateLink service, as CreateVpcEndpoint names it. */
const PRIVATELINK_SERVICE_NAME = new RegExp(
  `^com\\.amazonaws\\.vpce\\.[a-z0-9-]+\\.(${SERVICE_ID_SOURCE})$`,
);

/** Classifies an event. Throws only for a manual invocation with a malformed request. */
export function classifyEvent(event: unknown, settings: IntakeSettings): Intake {
  if (!isObject(event)) return unknown(event);
  if (Array.isArray(event.Records)) return classifyRecords(event.Records, settings);
  if ('reconcile' in event) return manualRequest(event.reconcile);
  if (typeof event.RequestType === 'string' && typeof event.StackId === 'string')
    return stackEvent(event, settings.stackId);
  if (typeof event['detail-type'] === 'string') return eventBridgeWork(event, settings);
  return unknown(event);
}

function classifyRecords(records: unknown[], settings: IntakeSettings): Intake {
  const first = records[0];
  if (!isObject(first)) return unknown({ Records: records });
  if (first.eventSource === 'aws:sqs') {
    if (!records.every(isSqsRecord)) return unknown(first);
    return {
      kind: 'queue',
      messages: records.map((r) =>
        queueMessage(r, queueOfArn(r.eventSourceARN) === settings.retryQueue, settings),
      ),
    };
  }
  if (first.EventSource === 'aws:sns') {
    return notificationHint(
      records
        .map((r) => (isObject(r) && isObject(r.Sns) ? String(r.Sns.Message ?? '') : ''))
        .join('\n'),
    );
  }
  return unknown(first);
}

function isSqsRecord(
  record: unknown,
): record is { messageId: string; body: string; eventSourceARN?: unknown } {
  return (
    isObject(record) &&
    record.eventSource === 'aws:sqs' &&
    typeof record.messageId === 'string' &&
    typeof record.body === 'string'
  );
}

/** Parses a queued body once and says what it is. */
function queueMessage(
  { messageId, body }: { messageId: string; body: string },
  fromRetryQueue: boolean,
  settings: IntakeSettings,
): QueueMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    const problem = 'the message body is not JSON';
    return { messageId, body, kind: 'unreadable', problem, fromRetryQueue };
  }
  if (isObject(value) && value.Type === 'Notification' && typeof value.Message === 'string') {
    return { messageId, body, kind: 'work', work: notificationHint(value.Message) };
  }
  if (isObject(value) && typeof value['detail-type'] === 'string') {
    return { messageId, body, kind: 'work', work: eventBridgeWork(value, settings) };
  }
  const retry = retryRecordFrom(value);
  return retry.ok
    ? { messageId, body, kind: 'retry', record: retry.record }
    : { messageId, body, kind: 'unreadable', problem: retry.error, fromRetryQueue };
}

/** The notification body's format is not documented: every ID it contains is a hint. */
function notificationHint(message: string): Hint {
  return {
    kind: 'hint',
    source: 'notification',
    serviceIds: idsIn(message, SERVICE_ID),
    endpointIds: idsIn(message, ENDPOINT_ID),
    message: message.slice(0, MAX_LOGGED_MESSAGE),
  };
}

function manualRequest(reconcile: unknown): Work {
  if (reconcile === 'all') return { kind: 'sweep', source: 'manual' };
  if (!Array.isArray(reconcile) || reconcile.length === 0) {
    throw new ManualInvocationError(`"reconcile" is ${JSON.stringify(reconcile)}`);
  }
  const bad = reconcile.find((id) => !isServiceId(id));
  if (bad !== undefined) {
    throw new ManualInvocationError(
      `${JSON.stringify(bad)} is not an endpoint service ID (${SERVICE_ID_SHAPE})`,
    );
  }
  return { kind: 'manual', serviceIds: [...new Set(reconcile as string[])] };
}

function eventBridgeWork(event: Record<string, unknown>, settings: IntakeSettings): QueuedWork {
  const detailType = event['detail-type'];
  const detail = isObject(event.detail) ? event.detail : {};
  if (detailType === 'Scheduled Event' && event.source === 'aws.events')
    return { kind: 'sweep', source: 'schedule' };

  if (detailType === PARAMETER_CHANGE_DETAIL_TYPE && event.source === PARAMETER_CHANGE_SOURCE) {
    return typeof detail.name === 'string' && isPolicyChange(settings.policy, detail.name)
      ? { kind: 'policyChanged' }
      : {
          kind: 'ignored',
          why: `Parameter Store Change of ${JSON.stringify(detail.name)}, not the policy or one of its sets`,
        };
  }

  // EC2's calls, as CloudTrail puts them on the bus: source aws.ec2, as the rules match them.
  if (detailType === 'AWS API Call via CloudTrail' && event.source === 'aws.ec2') {
    if (detail.eventName === 'CreateVpcEndpoint') return endpointCreatedHint(detail);
    if (detail.eventName === 'CreateVpcEndpointServiceConfiguration') return serviceCreated(detail);
  }
  return unknown(event);
}

/**
 * The new service's ID, where CloudTrail records EC2's answer:
 * `responseElements.CreateVpcEndpointServiceConfigurationResponse.serviceConfiguration.serviceId`
 * (EC2's XML answer, as CloudTrail records the other EC2 calls). The shape is not documented,
 * so any `vpce-svc-…` in the answer serves; none (a trimmed record) sweeps every service.
 */
function serviceCreated(detail: Record<string, unknown>): QueuedWork {
  if (typeof detail.errorCode === 'string') {
    return {
      kind: 'ignored',
      why: `CreateVpcEndpointServiceConfiguration failed (${detail.errorCode}): no service was created`,
    };
  }
  const response = isObject(detail.responseElements) ? detail.responseElements : {};
  const wrapped = response.CreateVpcEndpointServiceConfigurationResponse;
  const configuration =
    isObject(wrapped) && isObject(wrapped.serviceConfiguration) ? wrapped.serviceConfiguration : {};
  const serviceIds = isServiceId(configuration.serviceId)
    ? [configuration.serviceId]
    : idsIn(JSON.stringify(response), SERVICE_ID);
  return { kind: 'serviceCreated', serviceIds };
}

/**
 * The CDK Provider framework's request, CloudFormation's custom resource event. It is answered
 * only when it comes from the guard's own stack (`STACK_ID`): anyone allowed to invoke the
 * function could send one. Only the request type is taken from it: what to clean up comes
 * from the guard's own configuration.
 */
function stackEvent(event: Record<string, unknown>, ownStackId: string | undefined): Work {
  const requestType = event.RequestType;
  if (event.ResourceType !== NOTIFICATION_CLEANUP_RESOURCE_TYPE) {
    return {
      kind: 'ignored',
      why: `a stack event for ${String(event.ResourceType).slice(0, 100)}`,
    };
  }
  if (ownStackId === undefined || event.StackId !== ownStackId) {
    return {
      kind: 'unknown',
      seen: `a stack event of stack ${JSON.stringify(String(event.StackId).slice(0, 200))}, not the guard's own (STACK_ID ${ownStackId ?? 'not set'})`,
    };
  }
  if (requestType !== 'Create' && requestType !== 'Update' && requestType !== 'Delete') {
    return unknown(event);
  }
  return {
    kind: 'stackEvent',
    requestType,
    ...(typeof event.PhysicalResourceId === 'string'
      ? { physicalResourceId: event.PhysicalResourceId }
      : {}),
  };
}

function endpointCreatedHint(detail: Record<string, unknown>): QueuedWork {
  const requested = requestedServiceName(detail.requestParameters);
  const endpointIds = idsIn(JSON.stringify(detail.responseElements ?? null), ENDPOINT_ID);
  if (typeof requested !== 'string') {
    // Consumers' records reach us forwarded and sometimes trimmed: without a service name, check them all.
    return { kind: 'hint', source: 'cloudtrail', serviceIds: [], endpointIds };
  }
  const service = PRIVATELINK_SERVICE_NAME.exec(requested);
  if (!service) {
    return {
      kind: 'ignored',
      why: `CreateVpcEndpoint for ${requested}, not a PrivateLink endpoint service`,
    };
  }
  return { kind: 'hint', source: 'cloudtrail', serviceIds: [service[1]!], endpointIds };
}

/**
 * CloudTrail records EC2's request as `{"CreateVpcEndpointRequest": {"ServiceName": …}}`;
 * older records flatten it to `{"serviceName": …}`. Either is accepted.
 */
function requestedServiceName(requestParameters: unknown): unknown {
  if (!isObject(requestParameters)) return undefined;
  const wrapped = requestParameters.CreateVpcEndpointRequest;
  return isObject(wrapped) ? wrapped.ServiceName : requestParameters.serviceName;
}

function idsIn(text: string, pattern: RegExp): string[] {
  return [...new Set(text.match(pattern) ?? [])];
}

function unknown(event: unknown): QueuedWork {
  return { kind: 'unknown', seen: describeShape(event) };
}

/** What an unknown event looked like, without its values (they may be large or sensitive). */
function describeShape(event: unknown): string {
  if (!isObject(event))
    return event === null ? 'null' : Array.isArray(event) ? 'an array' : typeof event;
  const keys = Object.keys(event).slice(0, 20).join(', ');
  const hints = ['source', 'detail-type', 'eventSource', 'EventSource', 'RequestType']
    .filter((k) => typeof event[k] === 'string')
    .map((k) => `${k}=${String(event[k]).slice(0, 100)}`);
  return `object with keys [${keys}]${hints.length ? ` (${hints.join(', ')})` : ''}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
