/**
 * The guard's CloudWatch metrics: namespace, dimension and names.
 *
 * Constants only, so the CDK construct can build its alarms and dashboard from the same
 * names the Lambda emits without pulling Powertools into the CDK app.
 */
export const METRICS_NAMESPACE = 'VpceGuard';
export const SERVICE_NAME = 'vpce-guard';
/** Powertools adds this dimension to every metric. */
export const METRICS_DIMENSIONS = { service: SERVICE_NAME } as const;

export const MetricName = {
  /** Connections the policy was evaluated for (skipped states excluded). */
  ConnectionsEvaluated: 'ConnectionsEvaluated',
  /** Connections rejected (in enforce mode). */
  ConnectionsRejected: 'ConnectionsRejected',
  ConnectionsAccepted: 'ConnectionsAccepted',
  /** In dry run: connections that enforce mode would have rejected or accepted. */
  DryRunRejects: 'DryRunRejects',
  DryRunAccepts: 'DryRunAccepts',
  /** Connections the policy allows without accepting, or leaves pending for a human. */
  ConnectionsKept: 'ConnectionsKept',
  /** Endpoints a Reject call did not reject: Unsuccessful entries and failed calls. */
  RejectUnsuccessful: 'RejectUnsuccessful',
  AcceptUnsuccessful: 'AcceptUnsuccessful',
  /** Retry records sent to the retry queue. */
  RetriesQueued: 'RetriesQueued',
  /** Retry records given up on (exhausted or unreadable) and sent to the dead-letter queue. */
  RetriesDeadLettered: 'RetriesDeadLettered',
  /** The policy in SSM is unparsable or invalid. */
  PolicyInvalid: 'PolicyInvalid',
  /** The policy parameter could not be read (missing, access denied, throttled). */
  PolicyUnreadable: 'PolicyUnreadable',
  /** An event of a shape the guard does not know. */
  UnknownTrigger: 'UnknownTrigger',
  /** A dry run found that the guard lacks the permission to act. */
  PermissionDenied: 'PermissionDenied',
  /**
   * Decision events EventBridge did not take (after the guard's retries), or that the
   * invocation had no time left to publish: the decisions stand, their events are lost.
   */
  DecisionEventsFailed: 'DecisionEventsFailed',
  /** The protected services a sweep found (a count of services, not one metric each). */
  ServicesProtected: 'ServicesProtected',
  /**
   * Protected services whose `AcceptanceRequired` is false: EC2 accepts every request to them
   * before the guard can decide; only `revoke` can cut those connections later.
   */
  ServicesAcceptingAutomatically: 'ServicesAcceptingAutomatically',
  /** Protected services whose allowed principals include `*`: anyone may request a connection. */
  ServicesOpenToEveryone: 'ServicesOpenToEveryone',
  /** Endpoint connection notifications the guard created for protected services. */
  NotificationsCreated: 'NotificationsCreated',
  /** Protected services the guard could not wire with a connection notification. */
  NotificationWiringFailed: 'NotificationWiringFailed',
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];
