/**
 * How the guard reports a policy it cannot use (docs/architecture.md#fail-safe-on-a-bad-policy):
 * it acts on the last valid policy it loaded, or on nothing, and says exactly what is wrong
 * and where.
 */
import { MetricName } from '../core/metric-names';
import type { PolicyProblem } from './policy-store';
import { count, logger } from './telemetry';

/** Thrown for a direct trigger when no valid policy is loaded: AWS retries the event. */
export class PolicyUnavailableError extends Error {
  constructor(problem: PolicyProblem) {
    super(
      `no valid policy in SSM parameter ${problem.parameter}: ` +
        problem.errors.map((e) => `${e.path}: ${e.message}`).join('; '),
    );
    this.name = 'PolicyUnavailableError';
  }
}

/** The PolicyStore's `onProblem`: each load that found a problem is logged and counted once. */
export function reportPolicyProblem(problem: PolicyProblem, fallback: boolean): void {
  const what = problem.kind === 'unreadable' ? 'Policy unreadable' : 'Policy invalid';
  logger.error(
    fallback
      ? `${what}; acting on the last valid policy`
      : `${what} and no valid policy loaded; acting on nothing`,
    { parameter: problem.parameter, errors: problem.errors.map((e) => `${e.path}: ${e.message}`) },
  );
  count(
    problem.kind === 'unreadable' ? MetricName.POLICY_UNREADABLE : MetricName.POLICY_INVALID,
    1,
  );
}
