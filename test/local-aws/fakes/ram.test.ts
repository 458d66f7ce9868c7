import {
  AssociateResourceShareCommand,
  DisassociateResourceShareCommand,
  GetResourceShareAssociationsCommand,
  GetResourceSharesCommand,
  InvalidMaxResultsException,
  RAMClient,
  ResourceShareLimitExceededException,
  UnknownResourceException,
} from '@aws-sdk/client-ram';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { FakeRam } from '../../../local-aws/fakes/ram';
import { FakeSsm } from '../../../local-aws/fakes/ssm';

const OWNER = '111111111111';
const READER = '222222222222';
const STRANGER = '333333333333';
const REGION = 'eu-west-1';

let ssm: FakeSsm;
let ram: FakeRam;
const clients: { destroy(): void }[] = [];

beforeEach(async () => {
  ssm = await FakeSsm.start({
    region: REGION,
    accountId: OWNER,
    accessKeys: { 'owner-key': OWNER, 'reader-key': READER, 'stranger-key': STRANGER },
  });
  ram = await FakeRam.start({ ssm });
});

afterEach(async () => {
  clients.splice(0).forEach((c) => c.destroy());
  await Promise.all([ram.close(), ssm.close()]);
});

const config = (accessKeyId: string, region = REGION) => ({
  region,
  credentials: { accessKeyId, secretAccessKey: 'x' },
  maxAttempts: 1,
});
function ramAs(accessKeyId = 'owner-key', region = REGION): RAMClient {
  const client = new RAMClient({ ...config(accessKeyId, region), endpoint: ram.url });
  clients.push(client);
  return client;
}
function ssmAs(accessKeyId: string): SSMClient {
  const client = new SSMClient({ ...config(accessKeyId), endpoint: ssm.url });
  clients.push(client);
  return client;
}
const read = (accessKeyId: string, arn: string) =>
  ssmAs(accessKeyId)
    .send(new GetParameterCommand({ Name: arn }))
    .then((out) => out.Parameter?.Value);

/** The policy, Advanced, and the share the stack would make of it, to the reader. */
function homeShare(): { shareArn: string; policyArn: string } {
  ssm.setParameter('/vpce-guard/policy', '{}', 'String', { tier: 'Advanced' });
  const policyArn = ssm.arnOf('/vpce-guard/policy');
  const shareArn = ram.createShare({
    name: 'VpceGuard-policy',
    principals: [READER],
    resourceArns: [policyArn],
    tags: [{ key: 'app', value: 'vpce-guard' }],
  });
  return { shareArn, policyArn };
}

test('a share the stack made: found by name, tag or ARN; its principal reads the parameter by ARN', async () => {
  const { shareArn, policyArn } = homeShare();

  const byName = await ramAs().send(
    new GetResourceSharesCommand({ resourceOwner: 'SELF', name: 'VpceGuard-policy' }),
  );
  expect(byName.resourceShares).toEqual([
    expect.objectContaining({
      resourceShareArn: shareArn,
      name: 'VpceGuard-policy',
      owningAccountId: OWNER,
      status: 'ACTIVE',
      tags: [{ key: 'app', value: 'vpce-guard' }],
      creationTime: expect.any(Date),
    }),
  ]);
  const byTag = await ramAs().send(
    new GetResourceSharesCommand({
      resourceOwner: 'SELF',
      tagFilters: [{ tagKey: 'other' }, { tagKey: 'app', tagValues: ['vpce-guard'] }],
    }),
  );
  expect(byTag.resourceShares?.map((s) => s.resourceShareArn)).toEqual([shareArn]);
  const theirs = await ramAs('reader-key').send(
    new GetResourceSharesCommand({ resourceOwner: 'OTHER-ACCOUNTS' }),
  );
  expect(theirs.resourceShares?.map((s) => s.resourceShareArn)).toEqual([shareArn]);
  expect(
    (await ramAs('reader-key').send(new GetResourceSharesCommand({ resourceOwner: 'SELF' })))
      .resourceShares,
  ).toEqual([]);

  const held = await ramAs().send(
    new GetResourceShareAssociationsCommand({
      associationType: 'RESOURCE',
      resourceArn: policyArn,
    }),
  );
  expect(held.resourceShareAssociations).toEqual([
    expect.objectContaining({
      resourceShareArn: shareArn,
      resourceShareName: 'VpceGuard-policy',
      associatedEntity: policyArn,
      associationType: 'RESOURCE',
      status: 'ASSOCIATED',
    }),
  ]);
  expect(await read('reader-key', policyArn)).toBe('{}');
  await expect(read('stranger-key', policyArn)).rejects.toMatchObject({
    name: 'AccessDeniedException',
  });
});

test('an association is asynchronous: ASSOCIATING when made, ASSOCIATED once reported, readable then', async () => {
  const { shareArn } = homeShare();
  ssm.setParameter('/vpce-guard/policy/sets/gold', 'm', 'String', { tier: 'Advanced' });
  const arn = ssm.arnOf('/vpce-guard/policy/sets/gold');

  const made = await ramAs().send(
    new AssociateResourceShareCommand({ resourceShareArn: shareArn, resourceArns: [arn] }),
  );
  expect(made.resourceShareAssociations).toEqual([
    expect.objectContaining({ associatedEntity: arn, status: 'ASSOCIATING' }),
  ]);
  await expect(read('reader-key', arn)).rejects.toMatchObject({ name: 'AccessDeniedException' });

  const status = async () =>
    (
      await ramAs().send(
        new GetResourceShareAssociationsCommand({
          associationType: 'RESOURCE',
          resourceShareArns: [shareArn],
          resourceArn: arn,
        }),
      )
    ).resourceShareAssociations?.map((a) => a.status);
  expect(await status()).toEqual(['ASSOCIATING']);
  expect(await status()).toEqual(['ASSOCIATED']);
  expect(await read('reader-key', arn)).toBe('m');

  await ramAs().send(
    new DisassociateResourceShareCommand({ resourceShareArn: shareArn, resourceArns: [arn] }),
  );
  // Access ends at once; RAM reports DISASSOCIATING, then DISASSOCIATED.
  await expect(read('reader-key', arn)).rejects.toMatchObject({ name: 'AccessDeniedException' });
  expect(await status()).toEqual(['DISASSOCIATING']);
  expect(await status()).toEqual(['DISASSOCIATED']);
});

test('a Standard, missing or injected-fault parameter settles FAILED with a status message', async () => {
  const { shareArn } = homeShare();
  ssm.setParameter('/standard', 's');
  ssm.setParameter('/advanced', 'a', 'String', { tier: 'Advanced' });
  ram.failAssociations((arn) => arn.endsWith('/advanced'), 'The resource is not shareable now');
  ram.settleAfterReads = Infinity;
  const arns = ['/standard', '/missing', '/advanced'].map((n) => ssm.arnOf(n));

  await ramAs().send(
    new AssociateResourceShareCommand({ resourceShareArn: shareArn, resourceArns: arns }),
  );
  const pending = await ramAs().send(
    new GetResourceShareAssociationsCommand({
      associationType: 'RESOURCE',
      associationStatus: 'ASSOCIATING',
    }),
  );
  expect(pending.resourceShareAssociations).toHaveLength(3);
  ram.settle();

  expect(ram.associations(shareArn).map((a) => [a.resourceArn, a.status, a.statusMessage])).toEqual(
    [
      [ssm.arnOf('/vpce-guard/policy'), 'ASSOCIATED', undefined],
      [arns[0], 'FAILED', 'only advanced parameters can be shared'],
      [arns[1], 'FAILED', 'the resource does not exist'],
      [arns[2], 'FAILED', 'The resource is not shareable now'],
    ],
  );
  expect(ram.sharedResources(shareArn)).toEqual([ssm.arnOf('/vpce-guard/policy')]);
});

test('RAM’s limits and errors, as the SDK names them', async () => {
  const { shareArn } = homeShare();
  const arns = Array.from({ length: 101 }, (_, i) => ssm.arnOf(`/p${i}`));

  await expect(
    ramAs().send(
      new AssociateResourceShareCommand({ resourceShareArn: shareArn, resourceArns: arns }),
    ),
  ).rejects.toBeInstanceOf(ResourceShareLimitExceededException);
  // Another account's share, or the share from another Region, is not the caller's to change.
  for (const client of [ramAs('reader-key'), ramAs('owner-key', 'us-east-1')]) {
    await expect(
      client.send(
        new AssociateResourceShareCommand({ resourceShareArn: shareArn, resourceArns: [] }),
      ),
    ).rejects.toBeInstanceOf(UnknownResourceException);
  }
  await expect(
    ramAs().send(new GetResourceSharesCommand({ resourceOwner: 'SELF', maxResults: 501 })),
  ).rejects.toBeInstanceOf(InvalidMaxResultsException);
  ram.failNext('GetResourceShares', { code: 'AccessDeniedException', message: 'no', status: 403 });
  await expect(
    ramAs().send(new GetResourceSharesCommand({ resourceOwner: 'SELF' })),
  ).rejects.toMatchObject({ name: 'AccessDeniedException', message: 'no' });
  expect(ram.calls.map((c) => [c.action, c.account, c.region, c.error])).toEqual([
    ['AssociateResourceShare', OWNER, REGION, 'ResourceShareLimitExceededException'],
    ['AssociateResourceShare', READER, REGION, 'UnknownResourceException'],
    ['AssociateResourceShare', OWNER, 'us-east-1', 'UnknownResourceException'],
    ['GetResourceShares', OWNER, REGION, 'InvalidMaxResultsException'],
    ['GetResourceShares', OWNER, REGION, 'AccessDeniedException'],
  ]);
});

test('pages: maxResults, and fewer than asked when the fake is told to, until nextToken is absent', async () => {
  await ram.close();
  ram = await FakeRam.start({ ssm, maxPageSize: 2 });
  const { shareArn } = homeShare();
  const names = ['/a', '/b', '/c', '/d'];
  for (const name of names) ssm.setParameter(name, name, 'String', { tier: 'Advanced' });
  ram.settleAfterReads = 0;
  await ramAs().send(
    new AssociateResourceShareCommand({
      resourceShareArn: shareArn,
      resourceArns: names.map((n) => ssm.arnOf(n)),
    }),
  );

  const seen: string[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await ramAs().send(
      new GetResourceShareAssociationsCommand({
        associationType: 'RESOURCE',
        resourceShareArns: [shareArn],
        maxResults: 500,
        nextToken,
      }),
    );
    pages += 1;
    seen.push(...(page.resourceShareAssociations ?? []).map((a) => a.associatedEntity!));
    nextToken = page.nextToken;
  } while (nextToken);

  expect(pages).toBe(3);
  expect(seen).toEqual([ssm.arnOf('/vpce-guard/policy'), ...names.map((n) => ssm.arnOf(n))]);
});
