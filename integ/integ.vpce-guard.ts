/**
 * The integration test of vpce-guard on a real account (docs/integration-test.md), written
 * with the CDK's own tools: the test stack (./test-stack.ts), and assertions that
 * `@aws-cdk/integ-tests-alpha` deploys after it as custom resources, so that a failed
 * assertion fails the deployment. Each waits at most DECISION_BOUND for its state:
 *
 * 1. The deployed policy accepts the account on one service: that connection ends
 *    `available`, and the request to the other service is still `pendingAcceptance`.
 * 2. An edit denies the account: the pending request ends `rejected`; the accepted
 *    connection stays `available` (the policy does not revoke).
 * 3. An edit revokes: the accepted connection ends `rejected`.
 * 4. With the stack's notification of the rejected service deleted out of band, a sweep
 *    (`{"reconcile":"all"}`) creates the guard's own: its role may create notifications. The
 *    stack's deletion then removes that one through the cleanup: its role may delete them.
 * 5. An alarm set to ALARM reaches the alarm topic (encrypted under the guard's key), and a
 *    queue subscribed to it.
 *
 * Named and laid out as integ-runner expects (`integ.*.ts`, its snapshot in
 * `integ.vpce-guard.ts.snapshot/`), and runnable as a CDK app: `npx tsx integ/integ.vpce-guard.ts`.
 */
import { App, CfnResource, Duration, RemovalPolicy, Stack, aws_logs as logs } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import {
  ExpectedResult,
  IntegTest,
  InvocationType,
  type IApiCall,
} from '@aws-cdk/integ-tests-alpha';
import { ALARMS } from '../lib/alarms';
import { DENYING_POLICY, REVOKING_POLICY } from './policies';
import { GuardIntegStack, INTEG_POLICY_PARAMETER_NAME } from './test-stack';

export const INTEG_STACK_NAME = 'VpceGuardInteg';

/**
 * How long each decision may take. The acceptance follows the Connect notification, which
 * reaches the guard in seconds (through the hint queue's 5-second batching window), and
 * AWS's own switch to `available`. A policy edit's Parameter Store Change invokes the guard
 * directly, in seconds; if that invocation failed, Lambda would retry it twice within about
 * three minutes. Five minutes covers both, and a run takes far less than the sweep's hour, so
 * a pass comes from the event paths.
 */
export const DECISION_BOUND = Duration.minutes(5);
const POLL_INTERVAL = Duration.seconds(15);

/** The alarm the test sets to ALARM: it only publishes, to the test's own alarm topic. */
export const INTEG_ALARM_NAME = `${INTEG_STACK_NAME}-Guard-${ALARMS.functionErrors.role}`;

/** `^[rR]ejected$`: AWS documents both spellings of the states (docs/internals.md). */
const eitherCase = (state: string) =>
  `^[${state.charAt(0)}${state.charAt(0).toUpperCase()}]${state.slice(1)}$`;

/** The integ app in `app`: the test stack and its assertions. */
export function integApp(app: App): IntegTest {
  const stack = new GuardIntegStack(app, INTEG_STACK_NAME);
  const integ = new IntegTest(app, 'VpceGuardIntegTest', {
    testCases: [stack],
    // The snapshot keeps no asset files (docs/integration-test.md): integ-runner must not
    // try to deploy it before the update.
    stackUpdateWorkflow: false,
    cdkCommandOptions: { destroy: { args: { force: true } } },
  });
  const { rejected, accepted } = stack;
  const waitFor = (call: IApiCall): IApiCall =>
    call.waitForAssertions({ totalTimeout: DECISION_BOUND, interval: POLL_INTERVAL });

  /** Waits until the connection of `side`'s endpoint to its service is in `state`. */
  const connectionIs = (side: typeof rejected, state: string): IApiCall =>
    waitFor(
      integ.assertions
        .awsApiCall('EC2', 'describeVpcEndpointConnections', {
          Filters: [
            { Name: 'service-id', Values: [side.service.vpcEndpointServiceId] },
            { Name: 'vpc-endpoint-id', Values: [side.endpoint.vpcEndpointId] },
          ],
        })
        .assertAtPath(
          'VpcEndpointConnections.0.VpcEndpointState',
          ExpectedResult.stringLikeRegexp(eitherCase(state)),
        ),
    );
  const writePolicy = (policy: object): IApiCall =>
    integ.assertions.awsApiCall('SSM', 'putParameter', {
      Name: INTEG_POLICY_PARAMETER_NAME,
      Value: JSON.stringify(policy),
      Type: 'String',
      Overwrite: true,
    });

  /** The Connect notifications of the rejected service to the guard's topic. */
  const rejectedServiceNotifications = () =>
    integ.assertions.awsApiCall('EC2', 'describeVpcEndpointConnectionNotifications', {
      Filters: [
        { Name: 'service-id', Values: [rejected.service.vpcEndpointServiceId] },
        { Name: 'connection-notification-arn', Values: [stack.guard.notificationTopic.topicArn] },
      ],
    });

  const steps = [
    connectionIs(accepted, 'available'),
    connectionIs(rejected, 'pendingAcceptance'),
    writePolicy(DENYING_POLICY),
    connectionIs(rejected, 'rejected'),
    connectionIs(accepted, 'available'),
    writePolicy(REVOKING_POLICY),
    connectionIs(accepted, 'rejected'),
    // The guard's wiring, with its own role: a notification deleted out of band comes back.
    integ.assertions
      .awsApiCall('EC2', 'deleteVpcEndpointConnectionNotifications', {
        ConnectionNotificationIds: [stack.rejectedServiceNotification.ref],
      })
      .expect(ExpectedResult.objectLike({ Unsuccessful: [] })),
    // Gone as EC2's reads see it, so that the sweep cannot still find it.
    waitFor(
      rejectedServiceNotifications().expect(
        ExpectedResult.objectLike({ ConnectionNotificationSet: [] }),
      ),
    ),
    integ.assertions.invokeFunction({
      functionName: stack.guard.guardFunction.functionName,
      invocationType: InvocationType.EVENT,
      payload: JSON.stringify({ reconcile: 'all' }),
    }),
    waitFor(
      rejectedServiceNotifications().assertAtPath(
        'ConnectionNotificationSet.0.ConnectionEvents.0',
        ExpectedResult.stringLikeRegexp('^Connect$'),
      ),
    ),
    // Alarms reach the alarm topic through the key policy's conditions on CloudWatch.
    integ.assertions.awsApiCall('CloudWatch', 'setAlarmState', {
      AlarmName: INTEG_ALARM_NAME,
      StateValue: 'ALARM',
      StateReason: 'vpce-guard integration test: does an alarm reach the alarm topic?',
    }),
    waitFor(
      integ.assertions
        .awsApiCall('SQS', 'receiveMessage', {
          QueueUrl: stack.alarmRecorder.queueUrl,
          WaitTimeSeconds: 10,
        })
        .assertAtPath('Messages.0.Body', ExpectedResult.stringLikeRegexp(INTEG_ALARM_NAME)),
    ),
  ];
  steps.reduce((previous, next) => previous.next(next));
  deleteFunctionLogsWithStack(Stack.of(steps[0]!));
  return integ;
}

/**
 * The assertions' provider functions have no log group of their own: Lambda would create one
 * at their first invocation, and it would outlive the test. Each gets one here, deleted with
 * the stack, and created before any custom resource of the stack runs.
 */
function deleteFunctionLogsWithStack(stack: Stack): void {
  const resources = stack.node.findAll().filter(CfnResource.isCfnResource);
  const customResources = resources.filter((r) => r.cfnResourceType.startsWith('Custom::'));
  for (const fn of resources.filter((r) => r.cfnResourceType === 'AWS::Lambda::Function')) {
    const logGroup = new logs.CfnLogGroup(fn.node.scope as Construct, `${fn.node.id}Logs`, {
      logGroupName: `/aws/lambda/${fn.ref}`,
      retentionInDays: 1,
    });
    logGroup.applyRemovalPolicy(RemovalPolicy.DESTROY);
    for (const customResource of customResources) customResource.node.addDependency(logGroup);
  }
}

if (require.main === module) {
  const app = new App();
  integApp(app);
  app.synth();
}
