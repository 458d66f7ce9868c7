/**
 * The guard's environment as the stack deploys it (lib/guard-function.ts), with local
 * endpoints: every benchmark runs the bundle under the same settings.
 */
import { METRICS_NAMESPACE, SERVICE_NAME } from '../core/metric-names';
import { GUARD_TIMEOUT } from '../lib/guard-function';
import { DEFAULT_POLICY_PARAMETER_NAME } from '../core/policy-parameter';

export const POLICY_PARAMETER = DEFAULT_POLICY_PARAMETER_NAME;

/** The deployed function's timeout: what each invocation's deadline starts from. */
export const INVOCATION_TIMEOUT_MS = GUARD_TIMEOUT.toMilliseconds();

export function guardEnvironment(values: Record<string, string>): Record<string, string> {
  return {
    POLICY_PARAMETER_NAME: POLICY_PARAMETER,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    // Deployed too: Node then reads the bundle's source map at load, which costs init time.
    NODE_OPTIONS: '--enable-source-maps',
    // Node 20 here: the SDK would warn that it soon needs Node 22. The Lambda runs Node 24.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...values,
  };
}
