/**
 * The guard's one Logger and one Metrics instance, created once per container.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { serviceNameOf } from '../core/contract';
import { METRICS_NAMESPACE, type MetricName } from '../core/metric-names';

// The guard's name (`<stack>-<path>`): its alarms read this `service` dimension only.
const serviceName = serviceNameOf(process.env);
export const logger = new Logger({ serviceName });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });

/**
 * A level measured now (how many services are protected, how many accept automatically),
 * emitted even when 0: graphed and alarmed on as a Maximum, so 0 must show.
 */
export function gauge(name: MetricName, value: number): void {
  metrics.addMetric(name, MetricUnit.Count, value);
}

/** Adds a count; callers total what they can first (Powertools keeps one value per call). */
export function count(name: MetricName, value: number): void {
  if (value > 0) metrics.addMetric(name, MetricUnit.Count, value);
}
