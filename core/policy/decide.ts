/**
 * The decision: what the guard does with one connection. Pure: no I/O, and `now` is the only
 * clock (docs/architecture.md#decisions-are-pure).
 */
import type { Connection } from '../connection';
import type { Decision, Matcher, Policy, Rule } from './model';

/**
 * Decides what to do with one connection (its state normalised by the EC2 edge).
 *
 * Order: only pending connections (and available ones when `revoke`) are considered; the
 * deny list wins over every rule; the first unexpired rule that matches service, principal
 * and Region allows; otherwise the default action.
 */
export function decide(policy: Policy, connection: Connection, now: Date): Decision {
  const { state } = connection;
  const pending = state === 'pendingAcceptance';
  if (!pending && !(state === 'available' && policy.revoke)) {
    return {
      action: 'skip',
      rule: 'state',
      reason:
        state === 'available'
          ? 'connection is available and the policy does not revoke'
          : `connection is ${connection.state}: nothing to decide`,
    };
  }

  if (policy.deny.has(connection.owner)) {
    return {
      action: 'reject',
      rule: 'deny',
      reason: `account ${connection.owner} is on the deny list`,
    };
  }

  let expiredMatch: Rule | undefined;
  for (const rule of policy.rules) {
    if (!ruleMatches(rule, connection)) continue;
    if (rule.expires && rule.expires.getTime() <= now.getTime()) {
      expiredMatch ??= rule;
      continue;
    }
    const accept = rule.accept && pending;
    return {
      action: accept ? 'accept' : 'keep',
      rule: rule.id,
      reason: `allowed by rule ${rule.id}${accept ? ', which accepts' : ''}`,
    };
  }

  const why = expiredMatch
    ? `rule ${expiredMatch.id} matched but expired at ${expiredMatch.expires?.toISOString()}`
    : `no rule allows account ${connection.owner} on ${connection.serviceId} from ${connection.region}`;
  return {
    action: policy.defaultAction,
    rule: 'defaultAction',
    reason: `${why}; default action is ${policy.defaultAction}`,
  };
}

function ruleMatches(rule: Rule, connection: Connection): boolean {
  return (
    matches(rule.services, connection.serviceId) &&
    matches(rule.principals, connection.owner) &&
    (!rule.regions || rule.regions.has(connection.region))
  );
}

function matches(matcher: Matcher, value: string): boolean {
  return matcher === '*' || matcher.has(value);
}
