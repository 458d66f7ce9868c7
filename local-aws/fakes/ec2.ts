/**
 * A fake EC2 endpoint on 127.0.0.1: the EC2 model (ec2-model.ts) served over EC2's Query
 * protocol (ec2-wire.ts), with a log of the calls it received.
 */
import { AwsError } from './aws-error';
import { Ec2Model, isEc2Action, type Ec2Action, type Ec2ModelOptions } from './ec2-model';
import { decodeQuery, ec2ErrorReply, ec2Reply, objects, text, texts } from './ec2-wire';
import type { QueryObject, QueryValue } from './ec2-wire';
import { listen, newRequestId, type Listening, type Reply } from './http';
import { CallLog, type CallRecord } from './instrumentation';

export class FakeEc2 extends Ec2Model {
  private server!: Listening; // set by start(), before any request can arrive
  private readonly log = new CallLog<Ec2Action>('RequestLimitExceeded');

  private constructor(options: Ec2ModelOptions) {
    super(options);
  }

  static async start(options: Ec2ModelOptions): Promise<FakeEc2> {
    const fake = new FakeEc2(options);
    fake.server = await listen(async (_req, body) => fake.handle(body));
    return fake;
  }

  get url(): string {
    return this.server.url;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  get calls(): readonly CallRecord[] {
    return this.log.calls;
  }

  count(action: Ec2Action): number {
    return this.log.count(action);
  }

  get throttledCount(): number {
    return this.log.throttledCount;
  }

  private handle(body: string): Promise<Reply> {
    const params = decodeQuery(body);
    const action = text(params.Action) ?? '';
    delete params.Action;
    delete params.Version;
    const requestId = newRequestId();
    const call: CallRecord = { action, params, throttled: false, at: Date.now() };
    return this.log.answer(
      call,
      () => ec2Reply(action, requestId, this.dispatch(action, params)),
      (err) => ec2ErrorReply(err, requestId),
    );
  }

  /** The model's answer to the request, decoded into the SDK's request shape. */
  private dispatch(action: string, params: QueryObject): object {
    if (!isEc2Action(action)) {
      throw new AwsError(
        'InvalidAction',
        `The action ${action} is not valid for this web service.`,
      );
    }
    const DryRun = text(params.DryRun) === 'true';
    switch (action) {
      case 'DescribeVpcEndpointConnections':
        return this.describeConnections({
          DryRun,
          Filters: filters(params.Filter),
          ...page(params),
        });
      case 'DescribeVpcEndpointServiceConfigurations':
        return this.describeServices({
          DryRun,
          ServiceIds: texts(params.ServiceId),
          Filters: params.Filter === undefined ? undefined : filters(params.Filter),
          ...page(params),
        });
      case 'DescribeVpcEndpointServicePermissions':
        return this.describeServicePermissions({
          DryRun,
          ServiceId: text(params.ServiceId),
          Filters: params.Filter === undefined ? undefined : filters(params.Filter),
          ...page(params),
        });
      case 'DescribeVpcEndpointConnectionNotifications':
        return this.describeNotifications({
          DryRun,
          ConnectionNotificationId: text(params.ConnectionNotificationId),
          Filters: filters(params.Filter),
          ...page(params),
        });
      case 'CreateVpcEndpointConnectionNotification':
        return this.createNotification({
          DryRun,
          ServiceId: text(params.ServiceId),
          VpcEndpointId: text(params.VpcEndpointId),
          ConnectionNotificationArn: text(params.ConnectionNotificationArn),
          ConnectionEvents: texts(params.ConnectionEvents),
          ClientToken: text(params.ClientToken),
        });
      case 'DeleteVpcEndpointConnectionNotifications':
        // The SDK's `ConnectionNotificationIds` go on the wire as `ConnectionNotificationId.N`.
        return this.deleteNotifications({
          DryRun,
          ConnectionNotificationIds: texts(params.ConnectionNotificationId),
        });
      case 'RejectVpcEndpointConnections':
        return this.rejectConnections({ DryRun, ...endpoints(params) });
      case 'AcceptVpcEndpointConnections':
        return this.acceptConnections({ DryRun, ...endpoints(params) });
    }
  }
}

/** `Filter.N.Name` and `Filter.N.Value.M` as the SDK's `Filters`. */
const filters = (value: QueryValue | undefined) =>
  objects(value).map((f) => ({ Name: text(f.Name) ?? '', Values: texts(f.Value) }));

/** `MaxResults` and `NextToken`; a `MaxResults` that is not a number is left for the model to refuse. */
const page = (params: QueryObject) => ({
  MaxResults: params.MaxResults === undefined ? undefined : Number(text(params.MaxResults)),
  NextToken: text(params.NextToken),
});

/** The service and endpoints that Reject and Accept name. */
const endpoints = (params: QueryObject) => ({
  ServiceId: text(params.ServiceId),
  VpcEndpointIds: texts(params.VpcEndpointId),
});
