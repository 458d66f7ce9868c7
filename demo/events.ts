/**
 * The demo's triggers, one per step: the local AWS kit's event builders (local-aws/events.ts)
 * with the demo's Region, account, topic, queue and schedule.
 */
import * as events from '../local-aws/events';
import { POLICY_PARAMETER, PROVIDER_ACCOUNT, REGION } from './scenario';

const ORIGIN: events.EventOrigin = { region: REGION, accountId: PROVIDER_ACCOUNT };

/**
 * The endpoint connection notification (event `Connect`) of one endpoint, as the stack
 * delivers it: SNS puts its envelope on the hint queue, whose event source hands the guard a
 * batch. AWS does not document the body; the guard only takes the IDs out of it.
 */
export function connectNotification(serviceId: string, endpointId: string) {
  const message = JSON.stringify({
    eventType: 'Connect',
    serviceId,
    endpointId,
    endpointState: 'pendingAcceptance',
  });
  const envelope = events.snsEnvelope(message, 'vpce-guard-connections', ORIGIN);
  return events.sqsEvent([envelope], 'vpce-guard-hints', ORIGIN);
}

/** What SSM puts on the default event bus when the operator pushes the policy. */
export const parameterStoreChange = () =>
  events.parameterStoreChange({ name: POLICY_PARAMETER, description: '' }, ORIGIN);

/** The guard's reconcile schedule firing. */
export const scheduledEvent = () => events.scheduledEvent('vpce-guard-sweep', ORIGIN);
