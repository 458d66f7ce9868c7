/**
 * Event shapes → what the guard should do.
 *
 * Every trigger is only a hint: it names services to reconcile (and endpoint IDs for the
 * logs), never what to decide. Nothing is trusted beyond the shape of an ID, so a forged
 * event can at worst make the guard re-read the truth from EC2.
 */
import type { SQSRecord } from 'aws-lambda';
import { ENDPOINT_ID_SOURCE, isServiceId, SERVICE_ID_SOURCE } from '../core/ids';

export type Trigger =
  /** Reconcile these services; an empty list means every protected service. */
  | {
      readonly kind: 'hint';
      readonly source: 'notification' | 'cloudtrail';
      readonly serviceIds: readonly string[];
      readonly endpointIds: readonly string[];
      /** The notification's body (its format is not documented), for a debug log. */
      readonly message?: string;
    }
  | { readonly kind: 'sweep'; readonly source: 'schedule' | 'manual' }
  | { readonly kind: 'manual'; readonly serviceIds: readonly string[] }
  | { readonly kind: 'policyChanged' }
  /** Messages from the guard's queues: retry records, and hints queued by SNS or EventBridge. */
  | { readonly kind: 'queue'; readonly records: readonly SQSRecord[] }
  /** A known shape that concerns something else (another parameter, an AWS service endpoint). */
  | { readonly kind: 'ignored'; readonly why: string }
  | { readonly kind: 'unknown'; readonly seen: string };

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
export function parseTrigger(event: unknown, policyParameterName: string): Trigger {
  if (!isObject(event)) return unknown(event);
  if (Array.isArray(event.Records)) return parseRecords(event.Records);
  if ('reconcile' in event) return parseManual(event.reconcile);
  if (typeof event['detail-type'] === 'string') return parseEventBridge(event, policyParameterName);
  return unknown(event);
}

function parseRecords(records: unknown[]): Trigger {
  const first = records[0];
  if (!isObject(first)) return unknown({ Records: records });
  if (first.eventSource === 'aws:sqs') {
    return records.every((r) => isObject(r) && r.eventSource === 'aws:sqs')
      ? { kind: 'queue', records: records as SQSRecord[] }
      : unknown(first);
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

/** The notification body's format is not documented: every ID it contains is a hint. */
function notificationHint(message: string): Trigger {
  return {
    kind: 'hint',
    source: 'notification',
    serviceIds: idsIn(message, SERVICE_ID),
    endpointIds: idsIn(message, ENDPOINT_ID),
    message: message.slice(0, MAX_LOGGED_MESSAGE),
  };
}

/**
 * A message on one of the guard's queues: a trigger that SNS (its envelope, raw delivery off)
 * or EventBridge (the event itself) queued, or else a retry record, whose own parser
 * refuses anything malformed.
 */
export type QueuedMessage =
  | { readonly kind: 'trigger'; readonly record: SQSRecord; readonly trigger: Trigger }
  | { readonly kind: 'retry'; readonly record: SQSRecord };

export function classifyQueued(record: SQSRecord, policyParameterName: string): QueuedMessage {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return { kind: 'retry', record };
  }
  if (isObject(body) && body.Type === 'Notification' && typeof body.Message === 'string') {
    return { kind: 'trigger', record, trigger: notificationHint(body.Message) };
  }
  if (isObject(body) && typeof body['detail-type'] === 'string') {
    return { kind: 'trigger', record, trigger: parseEventBridge(body, policyParameterName) };
  }
  return { kind: 'retry', record };
}

function parseManual(reconcile: unknown): Trigger {
  if (reconcile === 'all') return { kind: 'sweep', source: 'manual' };
  if (!Array.isArray(reconcile) || reconcile.length === 0) {
    throw new ManualInvocationError(`"reconcile" is ${JSON.stringify(reconcile)}`);
  }
  const bad = reconcile.find((id) => !isServiceId(id));
  if (bad !== undefined)
    throw new ManualInvocationError(`${JSON.stringify(bad)} is not an endpoint service ID`);
  return { kind: 'manual', serviceIds: [...new Set(reconcile as string[])] };
}

function parseEventBridge(event: Record<string, unknown>, policyParameterName: string): Trigger {
  const detailType = event['detail-type'];
  const detail = isObject(event.detail) ? event.detail : {};
  if (detailType === 'Scheduled Event' && event.source === 'aws.events')
    return { kind: 'sweep', source: 'schedule' };

  if (detailType === 'Parameter Store Change' && event.source === 'aws.ssm') {
    return detail.name === policyParameterName
      ? { kind: 'policyChanged' }
      : {
          kind: 'ignored',
          why: `Parameter Store Change of ${JSON.stringify(detail.name)}, not the policy`,
        };
  }

  if (detailType === 'AWS API Call via CloudTrail' && detail.eventName === 'CreateVpcEndpoint') {
    const requested = requestedServiceName(detail.requestParameters);
    const endpointIds = idsIn(JSON.stringify(detail.responseElements ?? null), ENDPOINT_ID);
    if (typeof requested === 'string') {
      const service = PRIVATELINK_SERVICE_NAME.exec(requested);
      if (!service)
        return {
          kind: 'ignored',
          why: `CreateVpcEndpoint for ${requested}, not a PrivateLink endpoint service`,
        };
      return { kind: 'hint', source: 'cloudtrail', serviceIds: [service[1]!], endpointIds };
    }
    // Consumers' records reach us forwarded and sometimes trimmed: without a service name, check them all.
    return { kind: 'hint', source: 'cloudtrail', serviceIds: [], endpointIds };
  }
  return unknown(event);
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

function unknown(event: unknown): Trigger {
  return { kind: 'unknown', seen: describeShape(event) };
}

/** What an unknown event looked like, without its values (they may be large or sensitive). */
function describeShape(event: unknown): string {
  if (!isObject(event))
    return event === null ? 'null' : Array.isArray(event) ? 'an array' : typeof event;
  const keys = Object.keys(event).slice(0, 20).join(', ');
  const hints = ['source', 'detail-type', 'eventSource', 'EventSource']
    .filter((k) => typeof event[k] === 'string')
    .map((k) => `${k}=${String(event[k]).slice(0, 100)}`);
  return `object with keys [${keys}]${hints.length ? ` (${hints.join(', ')})` : ''}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
