/**
 * A fleet's policy changes, forwarded from the policy's home to every other guard
 * (docs/fleet.md). Parameter Store emits its change events only in the parameter's own account
 * and Region, so the home's rules send them on, bus to bus, to each guard's default event bus,
 * where its own PolicyChangedRule matches them (they keep their source, detail-type and
 * detail) and the guard drops its cached policy. Without them, the cache time still bounds
 * how stale a guard's policy can be.
 */
import {
  Stack,
  Token,
  aws_events as events,
  aws_events_targets as targets,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DEFAULT_EVENT_BUS, defaultBusArn, type GuardEnvironment } from '../core/fleet';
import { PARAMETER_CHANGE_DETAIL_TYPE, PARAMETER_CHANGE_SOURCE } from '../core/policy-parameter';

export interface PolicyChangeForwardingProps {
  /** The policy's Parameter Store Change events (the PolicyChangedRule's own pattern). */
  readonly eventPattern: events.EventPattern;
  /** The other guards' environments. */
  readonly environments: readonly GuardEnvironment[];
  /** Where the events EventBridge cannot deliver go (after its retries, up to 24 hours). */
  readonly deadLetterQueue: sqs.IQueue;
}

/** The home's side: one rule per receiving guard, to its default event bus. */
export class PolicyChangeForwarding extends Construct {
  readonly rules: events.Rule[];

  constructor(scope: Construct, id: string, props: PolicyChangeForwardingProps) {
    super(scope, id);
    // One rule per receiver rather than one rule with up to five targets: each has its own
    // name, its own metrics (FailedInvocations) and its own role, scoped to one bus.
    this.rules = props.environments.map((environment) => {
      const label = `${environment.region}-${environment.account}`;
      const bus = events.EventBus.fromEventBusArn(this, `Bus-${label}`, defaultBusArn(environment));
      return new events.Rule(this, `To-${label}`, {
        description: `vpce-guard: forwards the policy's changes to the guard in ${environment.account} ${environment.region}`,
        eventPattern: props.eventPattern,
        // EventBridge requires a role for a bus of another account or Region; CDK makes one
        // per rule, allowed events:PutEvents on that bus only.
        targets: [new targets.EventBus(bus, { deadLetterQueue: props.deadLetterQueue })],
      });
    });
  }
}

/**
 * The receiver's side: the default event bus admits the Parameter Store Change events that the
 * policy's account forwards, and nothing else from it. A PutEvents call cannot set an `aws.`
 * source (EventBridge refuses it), so only a rule of that account can send such an event.
 */
export function admitPolicyChanges(
  guard: Construct,
  id: string,
  policyAccount: string,
): events.CfnEventBusPolicy {
  const stack = Stack.of(guard);
  // The statement ID names the stack: another stack in this account and Region may admit
  // events on the same bus under its own statement.
  const statementId = Token.isUnresolved(stack.stackName)
    ? `vpce-guard-policy-changes-${policyAccount}`
    : `${stack.stackName}-policy-changes`.slice(0, 64);
  // Two such statements in one stack would overwrite each other on the one bus: say so now,
  // not in a failed deploy.
  const twin = stack.node
    .findAll()
    .find((c) => c instanceof events.CfnEventBusPolicy && c.statementId === statementId);
  if (twin) {
    throw new Error(
      `${guard.node.path}: stack ${stack.stackName} already admits another account’s policy changes (${twin.node.path}): one guard per stack may read a policy of another account; put this one in a stack of its own`,
    );
  }
  return new events.CfnEventBusPolicy(guard, id, {
    eventBusName: DEFAULT_EVENT_BUS,
    statementId,
    statement: {
      Sid: statementId,
      Effect: 'Allow',
      Principal: { AWS: `arn:${stack.partition}:iam::${policyAccount}:root` },
      Action: 'events:PutEvents',
      Resource: stack.formatArn({
        service: 'events',
        resource: 'event-bus',
        resourceName: DEFAULT_EVENT_BUS,
      }),
      Condition: {
        // The only events a receiving bus admits from the home: Parameter Store's own.
        'ForAllValues:StringEquals': { 'events:source': [PARAMETER_CHANGE_SOURCE] },
        StringEquals: { 'events:detail-type': PARAMETER_CHANGE_DETAIL_TYPE },
      },
    },
  });
}
