import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  type PutItemCommandInput,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { FakeDynamoDb } from '../../../local-aws/fakes/dynamodb';

let fake: FakeDynamoDb;
let client: DynamoDBClient;

beforeEach(async () => {
  fake = await FakeDynamoDb.start();
  fake.createTable('announcements', 'id');
  client = new DynamoDBClient({
    endpoint: fake.url,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
});

afterEach(async () => {
  client.destroy();
  await fake.close();
});

const put = (id: string, expiresAt: number, extra: Partial<PutItemCommandInput> = {}) =>
  client.send(
    new PutItemCommand({
      TableName: 'announcements',
      Item: { id: { S: id }, expiresAt: { N: String(expiresAt) } },
      ...extra,
    }),
  );

const claim = (id: string, expiresAt: number, now: number) =>
  put(id, expiresAt, {
    ConditionExpression: 'attribute_not_exists(#id) OR #expiresAt < :now',
    ExpressionAttributeNames: { '#id': 'id', '#expiresAt': 'expiresAt' },
    ExpressionAttributeValues: { ':now': { N: String(now) } },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  });

test('PutItem stores the item, by table name or ARN', async () => {
  await put('a', 100);
  await client.send(
    new PutItemCommand({
      TableName: 'arn:aws:dynamodb:eu-west-1:111122223333:table/announcements',
      Item: { id: { S: 'b' }, expiresAt: { N: '200' } },
    }),
  );
  expect(fake.items('announcements')).toEqual([
    { id: { S: 'a' }, expiresAt: { N: '100' } },
    { id: { S: 'b' }, expiresAt: { N: '200' } },
  ]);
});

test('attribute_not_exists lets the first write through and refuses the second with ConditionalCheckFailedException, returning the item it met', async () => {
  await claim('a', 500, 100);

  const error = await claim('a', 600, 200).catch((e: unknown) => e);

  expect(error).toBeInstanceOf(ConditionalCheckFailedException);
  expect(error).toMatchObject({
    message: 'The conditional request failed',
    $metadata: { httpStatusCode: 400 },
    Item: { id: { S: 'a' }, expiresAt: { N: '500' } },
  });
  expect(fake.item('announcements', 'a')).toEqual({ id: { S: 'a' }, expiresAt: { N: '500' } });
});

test('an item whose TTL has passed is still there, and only a condition on it lets a write through', async () => {
  await claim('a', 500, 100);
  await expect(claim('a', 900, 499)).rejects.toBeInstanceOf(ConditionalCheckFailedException);

  await claim('a', 900, 501);

  expect(fake.item('announcements', 'a')?.expiresAt).toEqual({ N: '900' });
});

test('the failure omits the item unless ReturnValuesOnConditionCheckFailure asks for it', async () => {
  await put('a', 500);
  const error = await put('a', 600, { ConditionExpression: 'attribute_not_exists(id)' }).catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConditionalCheckFailedException);
  expect((error as ConditionalCheckFailedException).Item).toBeUndefined();
});

test('AND, OR, comparisons and attribute_exists evaluate as DynamoDB does', async () => {
  await put('a', 500);
  const condition = (expression: string) =>
    put('a', 500, {
      ConditionExpression: expression,
      ExpressionAttributeValues: { ':v': { N: '500' } },
    }).then(
      () => true,
      () => false,
    );
  expect(await condition('expiresAt = :v')).toBe(true);
  expect(await condition('expiresAt <> :v')).toBe(false);
  expect(await condition('expiresAt >= :v AND attribute_exists(id)')).toBe(true);
  expect(await condition('expiresAt > :v AND attribute_exists(id)')).toBe(false);
  expect(await condition('expiresAt > :v OR attribute_exists(id)')).toBe(true);
  expect(await condition('attribute_not_exists(missing) AND expiresAt <= :v')).toBe(true);
});

test('an unknown table is ResourceNotFoundException; an item without its key, or an expression the fake does not know, a ValidationException', async () => {
  await expect(
    client.send(new PutItemCommand({ TableName: 'nope', Item: { id: { S: 'a' } } })),
  ).rejects.toBeInstanceOf(ResourceNotFoundException);
  await expect(
    client.send(new PutItemCommand({ TableName: 'announcements', Item: { other: { S: 'a' } } })),
  ).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('id') });
  await expect(put('a', 1, { ConditionExpression: 'begins_with(id, :p)' })).rejects.toMatchObject({
    name: 'ValidationException',
    message: expect.stringContaining('fake'),
  });
  await expect(put('a', 1, { ConditionExpression: '#x < :v' })).rejects.toMatchObject({
    name: 'ValidationException',
  });
});
