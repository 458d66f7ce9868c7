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
  const denySet = setHolding(policy, policy.denySets, connection.owner);
  if (denySet !== undefined) {
    return {
      action: 'reject',
      rule: 'deny',
      reason: `account ${connection.owner} is in principal set ${denySet}, which denySets lists`,
    };
  }

  let expiredMatch: Rule | undefined;
  for (const rule of policy.rules) {
    const via = ruleMatch(policy, rule, connection);
    if (via === false) continue;
    if (rule.expires && rule.expires.getTime() <= now.getTime()) {
      expiredMatch ??= rule;
      continue;
    }
    const accept = rule.accept && pending;
    return {
      action: accept ? 'accept' : 'keep',
      rule: rule.id,
      reason: `allowed by rule ${rule.id}${via === true ? '' : ` (principal set ${via})`}${accept ? ', which accepts' : ''}`,
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

/**
 * Whether the rule matches: false; true when the owner is listed in the rule; or the name of
 * the principal set that holds the owner.
 */
function ruleMatch(policy: Policy, rule: Rule, connection: Connection): boolean | string {
  if (!matches(rule.services, connection.serviceId)) return false;
  if (rule.regions && !rule.regions.has(connection.region)) return false;
  if (matches(rule.principals, connection.owner)) return true;
  return setHolding(policy, rule.principalSets, connection.owner) ?? false;
}

/** The first of the named sets that holds `account`. */
function setHolding(
  policy: Policy,
  names: readonly string[] | undefined,
  account: string,
): string | undefined {
  if (!names) return undefined;
  for (const name of names) {
    const accounts = policy.principalSets?.get(name);
    // A programming error, never a decision: an unloaded set's accounts would be rejected.
    if (!accounts)
      throw new Error(
        `principal set ${name} is not loaded; load the policy's sets before deciding`,
      );
    if (accounts.has(account)) return name;
  }
  return undefined;
}

function matches(matcher: Matcher, value: string): boolean {
  return matcher === '*' || matcher.has(value);
}
