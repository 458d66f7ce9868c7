import {
  DeleteParameterCommand,
  DeleteParametersCommand,
  DescribeParametersCommand,
  type DescribeParametersCommandInput,
  GetParameterCommand,
  GetParametersByPathCommand,
  type GetParametersByPathCommandInput,
  GetParametersCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
  type PutParameterCommandInput,
} from '@aws-sdk/client-ssm';
import { FakeSsm } from '../../../local-aws/fakes/ssm';

let ssm: FakeSsm;
let client: SSMClient;

beforeEach(async () => {
  ssm = await FakeSsm.start({ region: 'eu-west-1', accountId: '999988887777' });
  client = new SSMClient({
    endpoint: ssm.url,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
});

afterEach(async () => {
  client.destroy();
  await ssm.close();
});

const put = (input: Omit<PutParameterCommandInput, 'Name'>) =>
  client.send(new PutParameterCommand({ Name: '/vpce-guard/policy', ...input }));

test('GetParameter returns the parameter as the SDK models it', async () => {
  ssm.setParameter('/vpce-guard/policy', '{"version":1}');

  const { Parameter } = await client.send(new GetParameterCommand({ Name: '/vpce-guard/policy' }));

  expect(Parameter).toEqual({
    Name: '/vpce-guard/policy',
    Type: 'String',
    Value: '{"version":1}',
    Version: 1,
    LastModifiedDate: expect.any(Date),
    ARN: 'arn:aws:ssm:eu-west-1:999988887777:parameter/vpce-guard/policy',
    DataType: 'text',
  });
  expect(Math.abs((Parameter?.LastModifiedDate?.getTime() ?? 0) - Date.now())).toBeLessThan(5000);
});

test('a missing parameter is ParameterNotFound (HTTP 400), without a message as on AWS', async () => {
  const error = await client
    .send(new GetParameterCommand({ Name: '/missing' }))
    .catch((e: unknown) => e);

  expect(error).toBeInstanceOf(ParameterNotFound);
  expect(error).toMatchObject({ $metadata: { httpStatusCode: 400 }, message: 'UnknownError' });
  await expect(
    client.send(new DeleteParameterCommand({ Name: '/missing' })),
  ).rejects.toBeInstanceOf(ParameterNotFound);
});

test('PutParameter creates, refuses to overwrite unless asked, and counts versions', async () => {
  expect(await put({ Value: 'a', Type: 'String' })).toMatchObject({ Version: 1, Tier: 'Standard' });
  await expect(put({ Value: 'b', Type: 'String' })).rejects.toBeInstanceOf(ParameterAlreadyExists);
  expect(await put({ Value: 'c', Overwrite: true })).toMatchObject({ Version: 2 });

  expect(ssm.parameter('/vpce-guard/policy')).toMatchObject({
    value: 'c',
    type: 'String',
    version: 2,
  });
  expect(ssm.count('PutParameter')).toBe(3);
});

test.each([
  ['a new parameter without a type', { Value: 'a' }],
  ['a Standard value over 4096 bytes', { Value: 'é'.repeat(2049), Type: 'String' }],
  ['any value over 8192 bytes', { Value: 'x'.repeat(8193), Type: 'String', Tier: 'Advanced' }],
] as const)('PutParameter refuses %s with ValidationException', async (_case, input) => {
  await expect(put(input)).rejects.toMatchObject({
    name: 'ValidationException',
    $metadata: { httpStatusCode: 400 },
  });
});

test('larger values fit the Advanced tier, which Intelligent-Tiering picks by itself', async () => {
  expect(await put({ Value: 'x'.repeat(8192), Type: 'String', Tier: 'Advanced' })).toMatchObject({
    Tier: 'Advanced',
  });
  await client.send(new DeleteParameterCommand({ Name: '/vpce-guard/policy' }));
  expect(
    await put({ Value: 'x'.repeat(5000), Type: 'String', Tier: 'Intelligent-Tiering' }),
  ).toMatchObject({ Tier: 'Advanced' });
});

test('a SecureString is only readable in clear WithDecryption', async () => {
  ssm.setParameter('/secret', 'hunter2', 'SecureString');
  const read = async (WithDecryption: boolean) =>
    (await client.send(new GetParameterCommand({ Name: '/secret', WithDecryption }))).Parameter
      ?.Value;

  expect(await read(false)).not.toBe('hunter2');
  expect(await read(true)).toBe('hunter2');
});

test('DeleteParameter removes the parameter', async () => {
  ssm.setParameter('/vpce-guard/policy', '{}');
  await client.send(new DeleteParameterCommand({ Name: '/vpce-guard/policy' }));
  expect(ssm.parameter('/vpce-guard/policy')).toBeUndefined();
});

test('failNext injects an error into the next calls of an operation', async () => {
  ssm.setParameter('/vpce-guard/policy', '{}');
  ssm.failNext('GetParameter', { code: 'ThrottlingException', message: 'Rate exceeded' });
  const get = () => client.send(new GetParameterCommand({ Name: '/vpce-guard/policy' }));

  await expect(get()).rejects.toMatchObject({
    name: 'ThrottlingException',
    message: 'Rate exceeded',
  });
  await get();

  expect(ssm.count('GetParameter')).toBe(2);
  expect(ssm.calls.map((c) => [c.action, c.throttled])).toEqual([
    ['GetParameter', true],
    ['GetParameter', false],
  ]);
});

const describeParameters = (input: DescribeParametersCommandInput) =>
  client.send(new DescribeParametersCommand(input));

test('DescribeParameters returns the metadata of the named parameter, without its value', async () => {
  ssm.setParameter('/vpce-guard/policy', '{}');
  await client.send(
    new PutParameterCommand({
      Name: '/vpce-guard/policy',
      Value: 'x'.repeat(5000),
      Tier: 'Advanced',
      Overwrite: true,
    }),
  );
  ssm.setParameter('/vpce-guard/policy-old', '{}');

  const { Parameters, NextToken } = await describeParameters({
    ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: ['/vpce-guard/policy'] }],
  });

  expect(NextToken).toBeUndefined();
  expect(Parameters).toEqual([
    {
      Name: '/vpce-guard/policy',
      ARN: 'arn:aws:ssm:eu-west-1:999988887777:parameter/vpce-guard/policy',
      Type: 'String',
      LastModifiedDate: expect.any(Date),
      Version: 2,
      Tier: 'Advanced',
      Policies: [],
      DataType: 'text',
    },
  ]);
});

test('a SecureString keeps the key PutParameter named, and an overwrite without one goes back to the default key', async () => {
  const put = (KeyId?: string) =>
    client.send(
      new PutParameterCommand({
        Name: '/secret',
        Value: 'v',
        Type: 'SecureString',
        Overwrite: true,
        KeyId,
      }),
    );
  const keyId = async () =>
    (await describeParameters({ ParameterFilters: [{ Key: 'Name', Values: ['/secret'] }] }))
      .Parameters?.[0]?.KeyId;

  await put('alias/vpce-guard');
  expect(await keyId()).toBe('alias/vpce-guard');
  await put();
  expect(await keyId()).toBe('alias/aws/ssm');
  expect(ssm.parameter('/secret')?.keyId).toBe('alias/aws/ssm');
});

test('DescribeParameters filters by name prefix and pages in name order', async () => {
  for (const name of ['/b/2', '/a/1', '/b/1', '/b/3']) ssm.setParameter(name, '{}');

  const first = await describeParameters({
    ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/b/'] }],
    MaxResults: 2,
  });
  const second = await describeParameters({
    ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/b/'] }],
    MaxResults: 2,
    NextToken: first.NextToken,
  });

  expect(first.Parameters?.map((p) => p.Name)).toEqual(['/b/1', '/b/2']);
  expect(second.Parameters?.map((p) => p.Name)).toEqual(['/b/3']);
  expect(second.NextToken).toBeUndefined();
  expect(ssm.count('DescribeParameters')).toBe(2);
});

test('DescribeParameters refuses filter keys the fake does not model', async () => {
  await expect(
    describeParameters({ ParameterFilters: [{ Key: 'Type', Values: ['String'] }] }),
  ).rejects.toMatchObject({ name: 'InvalidFilterKey' });
});

// ---------------------------------------------------------------------------------------
// Accounts and Regions: one store each, told apart by the request's signature
// ---------------------------------------------------------------------------------------

describe('accounts and Regions', () => {
  let fake: FakeSsm;
  const clients: SSMClient[] = [];
  const OWNER = '999988887777';
  const READER = '111122223333';

  beforeEach(async () => {
    fake = await FakeSsm.start({
      region: 'eu-west-1',
      accountId: OWNER,
      accessKeys: { 'reader-key': READER },
    });
  });

  afterEach(async () => {
    clients.splice(0).forEach((c) => c.destroy());
    await fake.close();
  });

  function as(region: string, accessKeyId = 'any-key'): SSMClient {
    const c = new SSMClient({
      endpoint: fake.url,
      region,
      credentials: { accessKeyId, secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    clients.push(c);
    return c;
  }
  const value = async (c: SSMClient, Name: string) =>
    (await c.send(new GetParameterCommand({ Name }))).Parameter?.Value;

  test('the same name in two Regions is two parameters; each call is logged with its Region and account', async () => {
    fake.setParameter('/p', 'ireland');
    fake.setParameter('/p', 'oregon', 'String', { region: 'us-west-2' });

    expect(await value(as('eu-west-1'), '/p')).toBe('ireland');
    expect(await value(as('us-west-2'), '/p')).toBe('oregon');
    await expect(value(as('us-west-2', 'reader-key'), '/p')).rejects.toBeInstanceOf(
      ParameterNotFound,
    );
    expect(fake.calls.map((c) => [c.region, c.account])).toEqual([
      ['eu-west-1', OWNER],
      ['us-west-2', OWNER],
      ['us-west-2', READER],
    ]);
  });

  test('by ARN: read in the ARN’s Region only; the answer carries the owner’s ARN', async () => {
    fake.setParameter('/p', 'oregon', 'String', { region: 'us-west-2' });
    const arn = fake.arnOf('/p', { region: 'us-west-2' });

    const { Parameter } = await as('us-west-2').send(new GetParameterCommand({ Name: arn }));
    expect(Parameter).toMatchObject({ Name: '/p', Value: 'oregon', ARN: arn });
    await expect(value(as('eu-west-1'), arn)).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  test('another account reads an Advanced parameter by ARN once it is shared; never by name, never written', async () => {
    fake.setParameter('/p', 'x', 'String', { tier: 'Advanced' });
    const arn = fake.arnOf('/p');
    const reader = as('eu-west-1', 'reader-key');

    await expect(value(reader, arn)).rejects.toMatchObject({ name: 'AccessDeniedException' });
    fake.share('/p', READER);
    expect(await value(reader, arn)).toBe('x');
    await expect(value(reader, '/p')).rejects.toBeInstanceOf(ParameterNotFound);
    await expect(
      reader.send(new PutParameterCommand({ Name: arn, Value: 'y', Overwrite: true })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    fake.setParameter('/standard', 'x');
    expect(() => fake.share('/standard', READER)).toThrow('only Advanced parameters');
  });

  test('GetParameters: up to 10 names or ARNs; found ones in name order, the others listed as asked', async () => {
    for (const name of ['/b', '/a']) fake.setParameter(name, name);
    const out = await as('eu-west-1').send(
      new GetParametersCommand({ Names: ['/b', '/missing', fake.arnOf('/a')] }),
    );
    expect(out.Parameters?.map((p) => p.Name)).toEqual(['/a', '/b']);
    expect(out.InvalidParameters).toEqual(['/missing']);
    await expect(
      as('eu-west-1').send(
        new GetParametersCommand({ Names: Array.from({ length: 11 }, (_, i) => `/${i}`) }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });

  test('GetParametersByPath: the caller’s own parameters under a path, one level or all, paged', async () => {
    for (const name of ['/s/a', '/s/b', '/s/c', '/s/deep/d', '/t/x']) fake.setParameter(name, name);
    const c = as('eu-west-1');
    const page = (input: Omit<GetParametersByPathCommandInput, 'Path'>) =>
      c.send(new GetParametersByPathCommand({ Path: '/s', ...input }));

    const first = await page({ MaxResults: 2 });
    const second = await page({ MaxResults: 2, NextToken: first.NextToken });
    expect([...first.Parameters!, ...second.Parameters!].map((p) => p.Name)).toEqual([
      '/s/a',
      '/s/b',
      '/s/c',
    ]);
    expect(second.NextToken).toBeUndefined();
    expect((await page({ Recursive: true })).Parameters?.map((p) => p.Name)).toContain('/s/deep/d');
    expect(
      (await as('us-west-2').send(new GetParametersByPathCommand({ Path: '/s' }))).Parameters,
    ).toEqual([]);
  });

  test('GetParametersByPath may return fewer than asked, as AWS documents', async () => {
    const stingy = await FakeSsm.start({
      region: 'eu-west-1',
      accountId: OWNER,
      maxPathPageSize: 1,
    });
    try {
      stingy.setParameter('/s/a', 'a');
      stingy.setParameter('/s/b', 'b');
      const c = new SSMClient({
        endpoint: stingy.url,
        region: 'eu-west-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      });
      const out = await c.send(new GetParametersByPathCommand({ Path: '/s', MaxResults: 10 }));
      c.destroy();
      expect(out.Parameters).toHaveLength(1);
      expect(out.NextToken).toBeDefined();
    } finally {
      await stingy.close();
    }
  });

  test('DeleteParameters: up to 10 names; deleted and missing ones listed apart', async () => {
    fake.setParameter('/a', 'a');
    const out = await as('eu-west-1').send(new DeleteParametersCommand({ Names: ['/a', '/b'] }));
    expect(out).toMatchObject({ DeletedParameters: ['/a'], InvalidParameters: ['/b'] });
    expect(fake.parameterNames()).toEqual([]);
  });

  test('throughput: GetParameter* share a bucket per account and Region; past it, ThrottlingException', async () => {
    const slow = await FakeSsm.start({ region: 'eu-west-1', accountId: OWNER, throughput: 2 });
    try {
      slow.setParameter('/a', 'a');
      const c = new SSMClient({
        endpoint: slow.url,
        region: 'eu-west-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
        maxAttempts: 1,
      });
      await c.send(new GetParameterCommand({ Name: '/a' }));
      await c.send(new GetParametersCommand({ Names: ['/a'] }));
      await expect(c.send(new GetParameterCommand({ Name: '/a' }))).rejects.toMatchObject({
        name: 'ThrottlingException',
      });
      c.destroy();
      expect(slow.calls.map((call) => call.throttled)).toEqual([false, false, true]);
    } finally {
      await slow.close();
    }
  });
});
