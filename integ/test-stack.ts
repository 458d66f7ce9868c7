/**
 * The stack the integration test deploys (docs/integration-test.md): the real VpceGuard
 * construct, two throwaway endpoint services for it to protect, one consumer endpoint to
 * each from the same account, and two recorders that keep what AWS sends.
 *
 * Everything in it is deleted with it: RemovalPolicies turns the construct's retained log
 * group into a deleted one, and the policy parameter is a CloudFormation resource of this
 * stack (the guard uses it as an existing parameter), so no custom resource leaves it behind.
 */
import {
  Aws,
  CfnOutput,
  Duration,
  RemovalPolicies,
  Stack,
  type StackProps,
  aws_ec2 as ec2,
  aws_elasticloadbalancingv2 as elbv2,
  aws_events as events,
  aws_events_targets as targets,
  aws_iam as iam,
  aws_sns_subscriptions as subscriptions,
  aws_sqs as sqs,
  aws_ssm as ssm,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { VpceGuard } from '../lib';
import { deployedPolicy } from './policies';

/** Not the guard's default name, so that a run never meets the account's own policy. */
export const INTEG_POLICY_PARAMETER_NAME = '/vpce-guard-integ/policy';
/**
 * The guard's sweep, an hour apart: during a run, which lasts less, the decisions come from
 * the event paths under test (the connection's hints, the policy's changes), not from a sweep.
 */
export const INTEG_SWEEP = Duration.minutes(60);
/** The CloudTrail events the recorder keeps. */
export const RECORDED_CLOUDTRAIL_EVENTS = [
  'CreateVpcEndpoint',
  'CreateVpcEndpointServiceConfiguration',
];

/** What the run script and the assertions read from the stack, by output name. */
export const OUTPUTS = {
  account: 'Account',
  region: 'Region',
  vpcId: 'VpcId',
  rejectedServiceId: 'RejectedServiceId',
  acceptedServiceId: 'AcceptedServiceId',
  rejectedEndpointId: 'RejectedEndpointId',
  acceptedEndpointId: 'AcceptedEndpointId',
  notificationRecorderUrl: 'NotificationRecorderUrl',
  cloudTrailRecorderUrl: 'CloudTrailRecorderUrl',
  alarmRecorderUrl: 'AlarmRecorderUrl',
  guardFunctionName: 'GuardFunctionName',
  guardLogGroupName: 'GuardLogGroupName',
  policyParameterName: 'PolicyParameterName',
} as const;

/** A service the guard protects and the consumer endpoint that asks to connect to it. */
interface ServiceAndEndpoint {
  readonly service: ec2.VpcEndpointService;
  readonly endpoint: ec2.InterfaceVpcEndpoint;
}

export class GuardIntegStack extends Stack {
  readonly guard: VpceGuard;
  /** The account's request here waits, until the first policy edit rejects it. */
  readonly rejected: ServiceAndEndpoint;
  /** The deployed policy accepts the request here, until the second edit revokes it. */
  readonly accepted: ServiceAndEndpoint;
  /** SNS envelopes of the endpoint connection notifications, as the hint queue gets them. */
  readonly notificationRecorder: sqs.Queue;
  /** The CloudTrail events of RECORDED_CLOUDTRAIL_EVENTS, as EventBridge delivers them. */
  readonly cloudTrailRecorder: sqs.Queue;
  /** What CloudWatch publishes to the guard's alarm topic, as SNS delivers it. */
  readonly alarmRecorder: sqs.Queue;
  /**
   * The stack's own Connect notification of the rejected service: the assertions delete it, so
   * that the guard creates one (ec2:CreateVpcEndpointConnectionNotification with its role), and
   * the stack's deletion removes the guard's (ec2:DeleteVpcEndpointConnectionNotifications).
   */
  readonly rejectedServiceNotification: ec2.CfnVPCEndpointConnectionNotification;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, {
      description: 'vpce-guard integration test: the guard, two throwaway endpoint services',
      ...props,
    });

    // One Availability Zone and isolated subnets: no NAT gateway, no public address. The
    // default security group is not restricted: that would add a custom resource.
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 1,
      natGateways: 0,
      subnetConfiguration: [
        { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      restrictDefaultSecurityGroup: false,
    });
    const rejectedService = endpointService(this, 'RejectedService', vpc);
    const acceptedService = endpointService(this, 'AcceptedService', vpc);

    const policy = new ssm.StringParameter(this, 'Policy', {
      parameterName: INTEG_POLICY_PARAMETER_NAME,
      description: 'vpce-guard integration test policy; deleted with the test stack',
      stringValue: this.toJsonString(
        deployedPolicy({
          acceptedServiceId: acceptedService.vpcEndpointServiceId,
          account: Aws.ACCOUNT_ID,
        }),
      ),
    });

    this.guard = new VpceGuard(this, 'Guard', {
      protectedServiceIds: [
        rejectedService.vpcEndpointServiceId,
        acceptedService.vpcEndpointServiceId,
      ],
      useExistingPolicyParameter: true,
      policyParameterName: INTEG_POLICY_PARAMETER_NAME,
      reconcileSchedule: INTEG_SWEEP,
    });
    // The guard's first sweep must find the policy.
    this.guard.node.addDependency(policy);

    // SQS-managed encryption: SNS and EventBridge need no key grant to deliver. (The topic's
    // own key is the guard's; SNS decrypts with it before delivering.)
    this.notificationRecorder = recorder(this, 'NotificationRecorder');
    this.guard.notificationTopic.addSubscription(
      new subscriptions.SqsSubscription(this.notificationRecorder, { rawMessageDelivery: false }),
    );
    // The alarm topic is under the guard's key, whose policy admits CloudWatch only with
    // aws:SourceAccount and aws:SourceArn conditions: this recorder proves an alarm arrives.
    this.alarmRecorder = recorder(this, 'AlarmRecorder');
    this.guard.alarmTopic.addSubscription(
      new subscriptions.SqsSubscription(this.alarmRecorder, { rawMessageDelivery: false }),
    );
    this.cloudTrailRecorder = recorder(this, 'CloudTrailRecorder');
    const cloudTrailRule = new events.Rule(this, 'CloudTrailRecorderRule', {
      description: 'vpce-guard integration test: keep the CloudTrail events of the test',
      eventPattern: {
        source: ['aws.ec2'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['ec2.amazonaws.com'], eventName: RECORDED_CLOUDTRAIL_EVENTS },
      },
      targets: [new targets.SqsQueue(this.cloudTrailRecorder)],
    });
    // The services' own creation is an event the recorder keeps.
    for (const service of [rejectedService, acceptedService]) {
      service.node.addDependency(cloudTrailRule, this.cloudTrailRecorder);
    }

    // The consumers ask to connect only once the guard, its notifications and the recorders
    // are in place, so that the acceptance comes from a hint (the notification, or the
    // CloudTrail event where the account has a trail).
    const consumerEndpoint = (endpointId: string, service: ec2.VpcEndpointService) => {
      const endpoint = new ec2.InterfaceVpcEndpoint(this, endpointId, {
        vpc,
        service: new ec2.InterfaceVpcEndpointService(service.vpcEndpointServiceName),
        privateDnsEnabled: false,
        subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      });
      endpoint.node.addDependency(
        this.guard,
        this.notificationRecorder,
        this.alarmRecorder,
        cloudTrailRule,
        service,
      );
      return endpoint;
    };
    this.rejected = {
      service: rejectedService,
      endpoint: consumerEndpoint('RejectedEndpoint', rejectedService),
    };
    this.accepted = {
      service: acceptedService,
      endpoint: consumerEndpoint('AcceptedEndpoint', acceptedService),
    };

    const notifications = this.guard.node
      .findAll()
      .filter((c) => c instanceof ec2.CfnVPCEndpointConnectionNotification);
    const rejectedServiceNotification = notifications.find(
      (n) => n.serviceId === rejectedService.vpcEndpointServiceId,
    );
    if (!rejectedServiceNotification) throw new Error('the guard made no notification to delete');
    this.rejectedServiceNotification = rejectedServiceNotification;

    const outputs: Record<keyof typeof OUTPUTS, string> = {
      account: Aws.ACCOUNT_ID,
      region: Aws.REGION,
      vpcId: vpc.vpcId,
      rejectedServiceId: rejectedService.vpcEndpointServiceId,
      acceptedServiceId: acceptedService.vpcEndpointServiceId,
      rejectedEndpointId: this.rejected.endpoint.vpcEndpointId,
      acceptedEndpointId: this.accepted.endpoint.vpcEndpointId,
      notificationRecorderUrl: this.notificationRecorder.queueUrl,
      cloudTrailRecorderUrl: this.cloudTrailRecorder.queueUrl,
      alarmRecorderUrl: this.alarmRecorder.queueUrl,
      guardFunctionName: this.guard.guardFunction.functionName,
      guardLogGroupName: this.guard.logGroup.logGroupName,
      policyParameterName: policy.parameterName,
    };
    for (const [key, value] of Object.entries(outputs)) {
      new CfnOutput(this, OUTPUTS[key as keyof typeof OUTPUTS], { value });
    }

    // A test leaves nothing behind: the log groups the construct retains by default included.
    RemovalPolicies.of(this).destroy();
  }
}

/**
 * An endpoint service that requires acceptance, behind an internal Network Load Balancer of
 * its own (a load balancer serves one endpoint service only), open to this account. It needs
 * no listener: no traffic ever flows, the test only watches the connections' states.
 */
function endpointService(scope: Construct, id: string, vpc: ec2.IVpc): ec2.VpcEndpointService {
  const loadBalancer = new elbv2.NetworkLoadBalancer(scope, `${id}LoadBalancer`, {
    vpc,
    internetFacing: false,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
  });
  return new ec2.VpcEndpointService(scope, id, {
    vpcEndpointServiceLoadBalancers: [loadBalancer],
    acceptanceRequired: true,
    allowedPrincipals: [new iam.ArnPrincipal(`arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:root`)],
  });
}

/** A queue that keeps what it is sent for a day, for the run script to read. */
function recorder(scope: Construct, id: string): sqs.Queue {
  return new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(1),
  });
}
