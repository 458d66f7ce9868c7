import {
  AcceptVpcEndpointConnectionsCommand,
  CreateVpcEndpointConnectionNotificationCommand,
  DeleteVpcEndpointConnectionNotificationsCommand,
  DescribeVpcEndpointConnectionNotificationsCommand,
  DescribeVpcEndpointConnectionsCommand,
  DescribeVpcEndpointServiceConfigurationsCommand,
  DescribeVpcEndpointServicePermissionsCommand,
  EC2Client,
  RejectVpcEndpointConnectionsCommand,
  paginateDescribeVpcEndpointConnections,
  paginateDescribeVpcEndpointServiceConfigurations,
  type DescribeVpcEndpointConnectionsCommandInput,
} from '@aws-sdk/client-ec2';
import { FakeEc2 } from '../../../local-aws/fakes/ec2';
import { EC2_BUCKETS } from '../../../local-aws/fakes/ec2-model';

const REGION = 'eu-west-1';
const OWNER = '111122223333';

let ec2: FakeEc2;
let client: EC2Client;

beforeEach(async () => {
  ec2 = await FakeEc2.start({ region: REGION });
  client = new EC2Client({
    endpoint: ec2.url,
    region: REGION,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1, // let throttling and injected faults reach the test instead of being retried
  });
});

afterEach(async () => {
  client.destroy();
  await ec2.close();
});

/** The error a call throws, to assert on its name and HTTP status. */
async function failure(call: Promise<unknown>): Promise<{ name: string; status?: number }> {
  try {
    await call;
  } catch (err) {
    const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

async function pagesOf(input: DescribeVpcEndpointConnectionsCommandInput, pageSize: number) {
  const pages: string[][] = [];
  for await (const page of paginateDescribeVpcEndpointConnections({ client, pageSize }, input)) {
    pages.push((page.VpcEndpointConnections ?? []).map((c) => c.VpcEndpointId ?? ''));
  }
  return pages;
}

const byService = (serviceId: string) => ({ Name: 'service-id', Values: [serviceId] });
const pendingFilter = { Name: 'vpc-endpoint-state', Values: ['pendingAcceptance'] };

describe('DescribeVpcEndpointConnections', () => {
  test('returns every field the SDK models, parsed', async () => {
    const serviceId = ec2.addService();
    const createdAt = new Date('2026-01-02T03:04:05.000Z');
    const endpointId = ec2.addConnection({
      serviceId,
      owner: OWNER,
      region: 'us-east-1',
      createdAt,
    });

    const { VpcEndpointConnections } = await client.send(
      new DescribeVpcEndpointConnectionsCommand({}),
    );

    expect(VpcEndpointConnections).toEqual([
      {
        ServiceId: serviceId,
        VpcEndpointId: endpointId,
        VpcEndpointOwner: OWNER,
        VpcEndpointState: 'pendingAcceptance',
        VpcEndpointRegion: 'us-east-1',
        CreationTimestamp: createdAt,
        VpcEndpointConnectionId: expect.stringMatching(/^vpce-con-[0-9a-f]{17}$/),
      },
    ]);
    expect(serviceId).toMatch(/^vpce-svc-[0-9a-f]{17}$/);
    expect(endpointId).toMatch(/^vpce-[0-9a-f]{17}$/);
  });

  test('pages through one service, filtered by state case-insensitively', async () => {
    const serviceId = ec2.addService();
    const other = ec2.addService();
    const ids = Array.from({ length: 12 }, (_, i) =>
      ec2.addConnection({
        serviceId,
        owner: OWNER,
        state: i % 3 === 0 ? 'available' : 'PendingAcceptance',
      }),
    );
    ec2.addConnection({ serviceId: other, owner: OWNER });

    const pages = await pagesOf({ Filters: [byService(serviceId), pendingFilter] }, 5);

    expect(pages.map((p) => p.length)).toEqual([5, 3]);
    expect(pages.flat()).toEqual(ids.filter((_, i) => i % 3 !== 0));
  });

  test('a NextToken stays valid while the connections it pages over change state', async () => {
    const serviceId = ec2.addService();
    const ids = Array.from({ length: 10 }, () => ec2.addConnection({ serviceId, owner: OWNER }));
    const Filters = [byService(serviceId), pendingFilter];

    const first = await client.send(
      new DescribeVpcEndpointConnectionsCommand({ Filters, MaxResults: 5 }),
    );
    first.VpcEndpointConnections?.forEach((c) => ec2.setState(c.VpcEndpointId ?? '', 'rejected'));
    const second = await client.send(
      new DescribeVpcEndpointConnectionsCommand({
        Filters,
        MaxResults: 5,
        NextToken: first.NextToken,
      }),
    );

    expect(second.VpcEndpointConnections?.map((c) => c.VpcEndpointId)).toEqual(ids.slice(5));
    expect(second.NextToken).toBeUndefined();
  });

  test('filters by owner, endpoint ID and Region, treating a connection without one as same-Region', async () => {
    const serviceId = ec2.addService();
    const local = ec2.addConnection({ serviceId, owner: OWNER });
    const remote = ec2.addConnection({ serviceId, owner: '444455556666', region: 'us-east-1' });
    const explicit = ec2.addConnection({ serviceId, owner: OWNER, region: REGION });
    const ids = async (Name: string, Values: string[]) =>
      (
        await client.send(
          new DescribeVpcEndpointConnectionsCommand({ Filters: [{ Name, Values }] }),
        )
      ).VpcEndpointConnections?.map((c) => c.VpcEndpointId);

    expect(await ids('vpc-endpoint-owner', [OWNER])).toEqual([local, explicit]);
    expect(await ids('vpc-endpoint-id', [explicit, remote, 'vpce-00000000000000000'])).toEqual([
      remote,
      explicit,
    ]);
    expect(await ids('vpc-endpoint-region', ['cross-region'])).toEqual([remote]);
    expect(await ids('vpc-endpoint-region', [REGION])).toEqual([local, explicit]);
  });

  test.each([
    ['MaxResults below 5', { MaxResults: 4 }, 'InvalidParameterValue'],
    [
      'an unknown filter',
      { Filters: [{ Name: 'tag:team', Values: ['x'] }] },
      'InvalidParameterValue',
    ],
    ['a forged NextToken', { NextToken: 'bm90LWEtdG9rZW4' }, 'InvalidPaginationToken'],
  ])('rejects %s with HTTP 400', async (_case, input, code) => {
    expect(await failure(client.send(new DescribeVpcEndpointConnectionsCommand(input)))).toEqual({
      name: code,
      status: 400,
    });
  });

  test('stays fast on 10,000 connections, capping MaxResults at 1,000 as AWS documents', async () => {
    const serviceId = ec2.addService();
    const other = ec2.addService();
    for (let i = 0; i < 10_000; i++) {
      ec2.addConnection({
        serviceId: i % 2 ? serviceId : other,
        owner: OWNER,
        state: i % 4 < 2 ? 'pendingAcceptance' : 'available',
      });
    }
    const started = Date.now();

    const pages = await pagesOf({ Filters: [byService(serviceId), pendingFilter] }, 5000);

    expect(pages.map((p) => p.length)).toEqual([1000, 1000, 500]);
    expect(new Set(pages.flat()).size).toBe(2500);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('DescribeVpcEndpointServiceConfigurations', () => {
  test('pages through the services, or returns the ones asked for', async () => {
    const ids = Array.from({ length: 7 }, () => ec2.addService());

    const pages: string[][] = [];
    for await (const page of paginateDescribeVpcEndpointServiceConfigurations(
      { client, pageSize: 5 },
      {},
    )) {
      pages.push((page.ServiceConfigurations ?? []).map((s) => s.ServiceId ?? ''));
    }
    const asked = await client.send(
      new DescribeVpcEndpointServiceConfigurationsCommand({ ServiceIds: [ids[3] ?? ''] }),
    );

    expect(pages).toEqual([ids.slice(0, 5), ids.slice(5)]);
    expect(asked.ServiceConfigurations).toEqual([
      {
        ServiceType: [{ ServiceType: 'Interface' }],
        ServiceId: ids[3],
        ServiceName: `com.amazonaws.vpce.${REGION}.${ids[3]}`,
        ServiceState: 'Available',
        AcceptanceRequired: true,
        ManagesVpcEndpoints: false,
      },
    ]);
  });

  test('an unknown service ID is InvalidVpcEndpointServiceId.NotFound', async () => {
    const call = client.send(
      new DescribeVpcEndpointServiceConfigurationsCommand({
        ServiceIds: ['vpce-svc-00000000000000000'],
      }),
    );
    expect(await failure(call)).toEqual({
      name: 'InvalidVpcEndpointServiceId.NotFound',
      status: 400,
    });
  });
});

describe('RejectVpcEndpointConnections and AcceptVpcEndpointConnections', () => {
  test('change the states they may, and report the rest in Unsuccessful inside a 200', async () => {
    const serviceId = ec2.addService();
    const otherService = ec2.addService();
    const pending = ec2.addConnection({ serviceId, owner: OWNER });
    const available = ec2.addConnection({ serviceId, owner: OWNER, state: 'available' });
    const rejected = ec2.addConnection({ serviceId, owner: OWNER, state: 'rejected' });
    const elsewhere = ec2.addConnection({ serviceId: otherService, owner: OWNER });
    const unknown = 'vpce-00000000000000000';

    const result = await client.send(
      new RejectVpcEndpointConnectionsCommand({
        ServiceId: serviceId,
        VpcEndpointIds: [pending, available, rejected, elsewhere, unknown],
      }),
    );

    expect(result.$metadata.httpStatusCode).toBe(200);
    expect(result.Unsuccessful).toEqual([
      {
        ResourceId: rejected,
        Error: { Code: 'InvalidState', Message: expect.stringContaining('rejected') },
      },
      {
        ResourceId: elsewhere,
        Error: { Code: 'InvalidVpcEndpointId.NotFound', Message: expect.any(String) },
      },
      {
        ResourceId: unknown,
        Error: { Code: 'InvalidVpcEndpointId.NotFound', Message: expect.any(String) },
      },
    ]);
    expect(ec2.connections(serviceId).map((c) => c.VpcEndpointState)).toEqual([
      'rejected',
      'rejected',
      'rejected',
    ]);
    expect(ec2.connection(elsewhere)?.VpcEndpointState).toBe('pendingAcceptance');
  });

  test('accept moves pendingAcceptance to available and nothing else', async () => {
    const serviceId = ec2.addService();
    const pending = ec2.addConnection({ serviceId, owner: OWNER });
    const rejected = ec2.addConnection({ serviceId, owner: OWNER, state: 'rejected' });

    const result = await client.send(
      new AcceptVpcEndpointConnectionsCommand({
        ServiceId: serviceId,
        VpcEndpointIds: [pending, rejected],
      }),
    );

    expect(result.Unsuccessful?.map((u) => [u.ResourceId, u.Error?.Code])).toEqual([
      [rejected, 'InvalidState'],
    ]);
    expect(ec2.connection(pending)?.VpcEndpointState).toBe('available');
  });

  test('changedAt tells when a call changed a state, and only a call', async () => {
    const serviceId = ec2.addService();
    const pending = ec2.addConnection({ serviceId, owner: OWNER });
    const deleted = ec2.addConnection({ serviceId, owner: OWNER });
    ec2.setState(deleted, 'deleted');
    const before = Date.now();

    await client.send(
      new RejectVpcEndpointConnectionsCommand({
        ServiceId: serviceId,
        VpcEndpointIds: [pending, deleted],
      }),
    );

    expect(ec2.changedAt(pending)?.getTime()).toBeGreaterThanOrEqual(before);
    expect(ec2.changedAt(deleted)).toBeUndefined();
  });

  test('an empty Unsuccessful parses as an empty list', async () => {
    const serviceId = ec2.addService();
    const pending = ec2.addConnection({ serviceId, owner: OWNER });
    const result = await client.send(
      new RejectVpcEndpointConnectionsCommand({ ServiceId: serviceId, VpcEndpointIds: [pending] }),
    );
    expect(result.Unsuccessful).toEqual([]);
  });

  test('an unknown service fails the whole call with HTTP 400', async () => {
    const call = client.send(
      new RejectVpcEndpointConnectionsCommand({
        ServiceId: 'vpce-svc-00000000000000000',
        VpcEndpointIds: ['vpce-00000000000000000'],
      }),
    );
    expect(await failure(call)).toEqual({
      name: 'InvalidVpcEndpointServiceId.NotFound',
      status: 400,
    });
  });

  test('DryRun answers DryRunOperation (412) and changes nothing; UnauthorizedOperation (403) when denied', async () => {
    const serviceId = ec2.addService();
    const pending = ec2.addConnection({ serviceId, owner: OWNER });
    const dryRun = () =>
      client.send(
        new RejectVpcEndpointConnectionsCommand({
          ServiceId: serviceId,
          VpcEndpointIds: [pending],
          DryRun: true,
        }),
      );

    expect(await failure(dryRun())).toEqual({ name: 'DryRunOperation', status: 412 });
    ec2.unauthorized.add('RejectVpcEndpointConnections');
    expect(await failure(dryRun())).toEqual({ name: 'UnauthorizedOperation', status: 403 });
    expect(ec2.connection(pending)?.VpcEndpointState).toBe('pendingAcceptance');
  });

  test('failEndpoint reports an endpoint in Unsuccessful the given number of times', async () => {
    const serviceId = ec2.addService();
    const pending = ec2.addConnection({ serviceId, owner: OWNER });
    ec2.failEndpoint(pending, { code: 'InternalError', message: 'try again' }, 1);
    const reject = () =>
      client.send(
        new RejectVpcEndpointConnectionsCommand({
          ServiceId: serviceId,
          VpcEndpointIds: [pending],
        }),
      );

    expect((await reject()).Unsuccessful).toEqual([
      { ResourceId: pending, Error: { Code: 'InternalError', Message: 'try again' } },
    ]);
    expect(ec2.connection(pending)?.VpcEndpointState).toBe('pendingAcceptance');
    expect((await reject()).Unsuccessful).toEqual([]);
    expect(ec2.connection(pending)?.VpcEndpointState).toBe('rejected');
  });

  test('failNext fails the next calls of an action, and the call log records them', async () => {
    const serviceId = ec2.addService();
    const pending = ec2.addConnection({ serviceId, owner: OWNER });
    ec2.failNext('RejectVpcEndpointConnections', { code: 'InternalError', status: 500 }, 2);
    const reject = () =>
      client.send(
        new RejectVpcEndpointConnectionsCommand({
          ServiceId: serviceId,
          VpcEndpointIds: [pending],
        }),
      );

    expect(await failure(reject())).toEqual({ name: 'InternalError', status: 500 });
    expect(await failure(reject())).toEqual({ name: 'InternalError', status: 500 });
    await reject();

    expect(ec2.count('RejectVpcEndpointConnections')).toBe(3);
    expect(ec2.calls.map((c) => c.error)).toEqual(['InternalError', 'InternalError', undefined]);
    expect(ec2.calls[2]).toEqual({
      action: 'RejectVpcEndpointConnections',
      params: { ServiceId: serviceId, VpcEndpointId: [pending] },
      throttled: false,
      at: expect.any(Number),
    });
  });
});

describe('throttling', () => {
  const reject = (serviceId: string) =>
    client.send(
      new RejectVpcEndpointConnectionsCommand({
        ServiceId: serviceId,
        VpcEndpointIds: ['vpce-00000000000000000'],
      }),
    );
  const accept = (serviceId: string) =>
    client.send(
      new AcceptVpcEndpointConnectionsCommand({
        ServiceId: serviceId,
        VpcEndpointIds: ['vpce-00000000000000000'],
      }),
    );

  test('is off by default', async () => {
    const serviceId = ec2.addService();
    for (let i = 0; i < 15; i++) await reject(serviceId);
    expect(ec2.throttledCount).toBe(0);
  });

  test('Reject and Accept each have a bucket of 10; the 11th call is RequestLimitExceeded (503)', async () => {
    ec2.setThrottling(true);
    const serviceId = ec2.addService();
    await Promise.all(Array.from({ length: 10 }, () => reject(serviceId)));

    expect(await failure(reject(serviceId))).toEqual({ name: 'RequestLimitExceeded', status: 503 });
    await Promise.all(Array.from({ length: 10 }, () => accept(serviceId)));
    expect(await failure(accept(serviceId))).toEqual({ name: 'RequestLimitExceeded', status: 503 });
    await client.send(new DescribeVpcEndpointConnectionsCommand({}));

    expect(ec2.throttledCount).toBe(2);
    expect(ec2.calls.filter((c) => c.throttled).map((c) => c.action)).toEqual([
      'RejectVpcEndpointConnections',
      'AcceptVpcEndpointConnections',
    ]);
  });

  test('all Describe actions share one bucket of 100', async () => {
    // At 20 tokens a second, the bucket would refill while the burst is in flight.
    ec2.setThrottling(true, { describe: { ...EC2_BUCKETS.describe, refillPerSecond: 0 } });
    const describe = (i: number) =>
      client.send(
        i % 2
          ? new DescribeVpcEndpointConnectionsCommand({})
          : new DescribeVpcEndpointServiceConfigurationsCommand({}),
      );
    await Promise.all(Array.from({ length: 100 }, (_, i) => describe(i)));
    expect(await failure(describe(0))).toEqual({ name: 'RequestLimitExceeded', status: 503 });
  });

  test('buckets refill over time at their configured rate', async () => {
    ec2.setThrottling(true, { reject: { capacity: 1, refillPerSecond: 50 } });
    const serviceId = ec2.addService();
    await reject(serviceId);
    expect(await failure(reject(serviceId))).toEqual({ name: 'RequestLimitExceeded', status: 503 });
    await new Promise((resolve) => setTimeout(resolve, 40));
    await reject(serviceId);
  });
});

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:vpce-guard-notifications';

describe('endpoint connection notifications', () => {
  const create = (serviceId: string, ClientToken?: string, events = ['Connect']) =>
    client.send(
      new CreateVpcEndpointConnectionNotificationCommand({
        ServiceId: serviceId,
        ConnectionNotificationArn: TOPIC,
        ConnectionEvents: events,
        ClientToken,
      }),
    );

  test("are created, described by topic and service, and deleted, in the SDK's shapes", async () => {
    const serviceId = ec2.addService();
    const other = ec2.addService();
    ec2.addNotification({ serviceId: other, topicArn: 'arn:aws:sns:eu-west-1:123456789012:other' });

    const created = await create(serviceId, 'token-1');
    expect(created.ClientToken).toBe('token-1');
    expect(created.ConnectionNotification).toEqual({
      ConnectionNotificationId: expect.stringMatching(/^vpce-nfn-[0-9a-f]{17}$/),
      ServiceId: serviceId,
      ConnectionNotificationType: 'Topic',
      ConnectionNotificationArn: TOPIC,
      ConnectionEvents: ['Connect'],
      ConnectionNotificationState: 'Enabled',
    });

    const described = await client.send(
      new DescribeVpcEndpointConnectionNotificationsCommand({
        Filters: [{ Name: 'connection-notification-arn', Values: [TOPIC] }],
      }),
    );
    expect(described.ConnectionNotificationSet).toEqual([created.ConnectionNotification]);
    const id = created.ConnectionNotification!.ConnectionNotificationId!;

    const deleted = await client.send(
      new DeleteVpcEndpointConnectionNotificationsCommand({
        ConnectionNotificationIds: [id, 'vpce-nfn-00000000000000000'],
      }),
    );
    expect(deleted.Unsuccessful).toEqual([
      {
        ResourceId: 'vpce-nfn-00000000000000000',
        Error: { Code: 'InvalidConnectionNotification.NotFound', Message: expect.any(String) },
      },
    ]);
    expect(ec2.notifications().map((n) => n.ServiceId)).toEqual([other]);
    expect(
      ec2.calls.find((c) => c.action === 'DeleteVpcEndpointConnectionNotifications')?.params,
    ).toEqual({ ConnectionNotificationId: [id, 'vpce-nfn-00000000000000000'] });
  });

  test('a repeated client token answers the first call and creates nothing; other parameters fail', async () => {
    const serviceId = ec2.addService();
    const first = await create(serviceId, 'token-1');
    const again = await create(serviceId, 'token-1');
    expect(again.ConnectionNotification).toEqual(first.ConnectionNotification);
    expect(ec2.notifications()).toHaveLength(1);
    expect(await failure(create(serviceId, 'token-1', ['Connect', 'Accept']))).toEqual({
      name: 'IdempotentParameterMismatch',
      status: 400,
    });
    await create(serviceId, 'token-2');
    expect(ec2.notifications()).toHaveLength(2);
  });

  test('an unknown service or event is refused', async () => {
    expect(await failure(create('vpce-svc-00000000000000000'))).toMatchObject({
      name: 'InvalidVpcEndpointServiceId.NotFound',
    });
    const serviceId = ec2.addService();
    expect(await failure(create(serviceId, undefined, ['Knock']))).toMatchObject({
      name: 'InvalidParameterValue',
    });
  });

  test('Create and Delete draw on the mutating bucket of 50', async () => {
    ec2.setThrottling(true, { mutating: { ...EC2_BUCKETS.mutating, refillPerSecond: 0 } });
    const serviceId = ec2.addService();
    await Promise.all(Array.from({ length: 50 }, () => create(serviceId)));
    expect(await failure(create(serviceId))).toEqual({ name: 'RequestLimitExceeded', status: 503 });
  });
});

describe('service posture', () => {
  test('DescribeVpcEndpointServiceConfigurations reports AcceptanceRequired as set', async () => {
    const required = ec2.addService();
    const automatic = ec2.addService(undefined, { acceptanceRequired: false });
    const { ServiceConfigurations } = await client.send(
      new DescribeVpcEndpointServiceConfigurationsCommand({}),
    );
    expect(ServiceConfigurations?.map((s) => [s.ServiceId, s.AcceptanceRequired])).toEqual([
      [required, true],
      [automatic, false],
    ]);
  });

  test('DescribeVpcEndpointServicePermissions lists the allowed principals, * as All', async () => {
    const serviceId = ec2.addService(undefined, {
      allowedPrincipals: ['arn:aws:iam::111122223333:root', '*'],
    });
    const { AllowedPrincipals } = await client.send(
      new DescribeVpcEndpointServicePermissionsCommand({ ServiceId: serviceId }),
    );
    expect(AllowedPrincipals).toEqual([
      {
        PrincipalType: 'Account',
        Principal: 'arn:aws:iam::111122223333:root',
        ServicePermissionId: expect.any(String),
        ServiceId: serviceId,
      },
      {
        PrincipalType: 'All',
        Principal: '*',
        ServicePermissionId: expect.any(String),
        ServiceId: serviceId,
      },
    ]);
    expect(
      await failure(
        client.send(
          new DescribeVpcEndpointServicePermissionsCommand({
            ServiceId: 'vpce-svc-00000000000000000',
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidVpcEndpointServiceId.NotFound' });
  });
});
