/**
 * The guard's own CloudWatch metrics, by the names the function emits (core/metric-names.ts).
 */
import { Duration, Stack, aws_cloudwatch as cloudwatch } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { METRICS_DIMENSION, METRICS_NAMESPACE, MetricName } from '../core/metric-names';

/** The period of every alarm and graph: long enough to smooth a sweep, short to page early. */
export const METRIC_PERIOD = Duration.minutes(5);

/**
 * The guard `scope`'s name: the stack's name, then the guard's path in the stack, so
 * `VpceGuard-Guard` for the app's stack. It starts every alarm name
 * (`VpceGuard-Guard-PolicyInvalid`) and is the `service` dimension of the guard's metrics and
 * the `service` of its logs, so that two guards in one account and Region never read each
 * other's metrics.
 *
 * It is unique per account and Region (a stack's name is, and the path tells two guards in one
 * stack apart) and stable across deploys (a new alarm name replaces the alarm and drops its
 * history); it depends on neither the account nor the Region, so an environment-agnostic stack
 * gets the same names wherever it is deployed. CloudFormation's generated names would be
 * unique too, but end in a random suffix that nobody can type or recognise.
 */
export function guardName(guard: Construct): string {
  const stack = Stack.of(guard);
  const scopes = guard.node.scopes;
  const path = scopes.slice(scopes.indexOf(stack) + 1).map((c) => c.node.id);
  return [stack.stackName, ...path].join('-');
}

/** One guard's metrics: those the function emits with its `service` dimension (`guardName`). */
export class GuardMetrics {
  /** @param service the guard's name (`guardName`): also where its alarm names start */
  constructor(readonly service: string) {}

  /** One of the guard's metrics, summed per period, with the dimension Powertools adds. */
  metric(metricName: MetricName, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { [METRICS_DIMENSION]: this.service },
      statistic: cloudwatch.Stats.SUM,
      period: METRIC_PERIOD,
      ...props,
    });
  }

  /** Endpoints that a Reject or Accept call did not change: `Unsuccessful` entries and failed calls. */
  unsuccessful(props: cloudwatch.MathExpressionOptions = {}): cloudwatch.MathExpression {
    // FILL: the guard emits nothing when all is well, and a sum with a missing term is missing.
    return new cloudwatch.MathExpression({
      expression: 'FILL(reject, 0) + FILL(accept, 0)',
      usingMetrics: {
        reject: this.metric(MetricName.REJECT_UNSUCCESSFUL),
        accept: this.metric(MetricName.ACCEPT_UNSUCCESSFUL),
      },
      label: 'Unsuccessful (reject + accept)',
      period: METRIC_PERIOD,
      ...props,
    });
  }
}
