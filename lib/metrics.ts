/**
 * The guard's own CloudWatch metrics, by the names the function emits (core/metric-names.ts).
 */
import { Duration, aws_cloudwatch as cloudwatch } from 'aws-cdk-lib';
import { METRICS_DIMENSIONS, METRICS_NAMESPACE, MetricName } from '../core/metric-names';

/** The period of every alarm and graph: long enough to smooth a sweep, short to page early. */
export const METRIC_PERIOD = Duration.minutes(5);

/** One of the guard's metrics, summed per period, with the dimension Powertools adds. */
export function guardMetric(
  metricName: MetricName,
  props: cloudwatch.MetricOptions = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { ...METRICS_DIMENSIONS },
    statistic: cloudwatch.Stats.SUM,
    period: METRIC_PERIOD,
    ...props,
  });
}

/** Endpoints that a Reject or Accept call did not change: `Unsuccessful` entries and failed calls. */
export function unsuccessfulMetric(
  props: cloudwatch.MathExpressionOptions = {},
): cloudwatch.MathExpression {
  // FILL: the guard emits nothing when all is well, and a sum with a missing term is missing.
  return new cloudwatch.MathExpression({
    expression: 'FILL(reject, 0) + FILL(accept, 0)',
    usingMetrics: {
      reject: guardMetric(MetricName.REJECT_UNSUCCESSFUL),
      accept: guardMetric(MetricName.ACCEPT_UNSUCCESSFUL),
    },
    label: 'Unsuccessful (reject + accept)',
    period: METRIC_PERIOD,
    ...props,
  });
}
