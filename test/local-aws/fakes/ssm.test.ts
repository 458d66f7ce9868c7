import {
  DeleteParameterCommand,
  DescribeParametersCommand,
  type DescribeParametersCommandInput,
  GetParameterCommand,
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
