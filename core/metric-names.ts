/**
 * The guard's CloudWatch metrics: namespace, dimension and names.
 *
 * Constants only, so the CDK construct can build its alarms and dashboard from the same
 * names the Lambda emits without pulling Powertools into the CDK app.
 */
export const METRICS_NAMESPACE = 'VpceGuard';
/**
 * The `service` of a function deployed without a name of its own (the demo, the benchmark): a
 * deployed guard's is its name (lib/metrics.ts `guardName`), in `POWERTOOLS_SERVICE_NAME`.
 */
export const SERVICE_NAME = 'vpce-guard';
/** Powertools adds this dimension to every metric: its value is the guard's service name. */
export const METRICS_DIMENSION = 'service';

/**
 * The guard's metric names. A TypeScript enum, so that jsii offers it to Python too
 * (`MetricName.POLICY_INVALID`); each value is the name in CloudWatch.
 */
export enum MetricName {
  /** Connections the policy was evaluated for (skipped states excluded). */
  CONNECTIONS_EVALUATED = 'ConnectionsEvaluated',
  /** Connections rejected (in enforce mode). */
  CONNECTIONS_REJECTED = 'ConnectionsRejected',
  CONNECTIONS_ACCEPTED = 'ConnectionsAccepted',
  /** In dry run: connections that enforce mode would have rejected or accepted. */
  DRY_RUN_REJECTS = 'DryRunRejects',
  DRY_RUN_ACCEPTS = 'DryRunAccepts',
  /** Connections the policy allows without accepting, or leaves pending for a human. */
  CONNECTIONS_KEPT = 'ConnectionsKept',
  /** Endpoints a Reject call did not reject: Unsuccessful entries and failed calls. */
  REJECT_UNSUCCESSFUL = 'RejectUnsuccessful',
  ACCEPT_UNSUCCESSFUL = 'AcceptUnsuccessful',
  /** Retry records sent to the retry queue. */
  RETRIES_QUEUED = 'RetriesQueued',
  /** Retry records given up on (exhausted or unreadable) and sent to the dead-letter queue. */
  RETRIES_DEAD_LETTERED = 'RetriesDeadLettered',
  /** The policy in SSM is unparsable or invalid. */
  POLICY_INVALID = 'PolicyInvalid',
  /** The policy parameter could not be read (missing, access denied, throttled). */
  POLICY_UNREADABLE = 'PolicyUnreadable',
  /** An event of a shape the guard does not know. */
  UNKNOWN_TRIGGER = 'UnknownTrigger',
  /** A dry run found that the guard lacks the permission to act. */
  PERMISSION_DENIED = 'PermissionDenied',
  /**
   * Decision events EventBridge did not take (after the guard's retries), or that the
   * invocation had no time left to publish: the decisions stand, their events are lost.
   */
  DECISION_EVENTS_FAILED = 'DecisionEventsFailed',
  /**
   * One-time decision events (a connection kept pending, a dry run's decision) published
   * without the announcement table's check, because DynamoDB failed: other containers may
   * announce them again.
   */
  ANNOUNCEMENTS_UNCHECKED = 'AnnouncementsUnchecked',
  /** The protected services a sweep found (a count of services, not one metric each). */
  SERVICES_PROTECTED = 'ServicesProtected',
  /**
   * Protected services whose `AcceptanceRequired` is false: EC2 accepts every request to them
   * before the guard can decide; only `revoke` can cut those connections later.
   */
  SERVICES_ACCEPTING_AUTOMATICALLY = 'ServicesAcceptingAutomatically',
  /** Protected services whose allowed principals include `*`: anyone may request a connection. */
  SERVICES_OPEN_TO_EVERYONE = 'ServicesOpenToEveryone',
  /** Endpoint connection notifications the guard created for protected services. */
  NOTIFICATIONS_CREATED = 'NotificationsCreated',
  /** Protected services the guard could not wire with a connection notification. */
  NOTIFICATION_WIRING_FAILED = 'NotificationWiringFailed',
}
