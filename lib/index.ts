/** vpce-guard as a library: the construct, its props, and the stack the app deploys. */
export { VpceGuard } from './vpce-guard';
export { DEFAULT_POLICY_PARAMETER_NAME, type VpceGuardProps } from './vpce-guard-props';
export {
  VpceGuardStack,
  type VpceGuardFleetProps,
  type VpceGuardStackProps,
} from './vpce-guard-stack';
export type { GuardEnvironment } from '../core/fleet';
export { METRICS_NAMESPACE, MetricName } from '../core/metric-names';
