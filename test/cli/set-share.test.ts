/**
 * cli/set-share.ts on the shapes RAM documents but the fake does not produce: an empty page
 * that is not the last, several records of one resource, and the bounded wait's timing, on a
 * clock the test drives.
 */
import {
  AssociateResourceShareCommand,
  GetResourceShareAssociationsCommand,
  RAMClient,
} from '@aws-sdk/client-ram';
import { mockClient } from 'aws-sdk-client-mock';
import type { Clock } from '../../core/clock';
import { findPolicyShares, setSharing } from '../../cli/set-share';

const SHARE = { arn: 'arn:aws:ram:eu-west-1:111111111111:resource-share/abc', name: 'policy' };
const POLICY_ARN = 'arn:aws:ssm:eu-west-1:111111111111:parameter/vpce-guard/policy';
const PART = '/vpce-guard/policy/set-parts/gold/v1/1';
const PART_ARN = `${POLICY_ARN}/set-parts/gold/v1/1`;

const ram = mockClient(RAMClient);
afterEach(() => ram.reset());

/** A clock whose sleeps pass at once, and are recorded. */
function steppedClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

const record = (status: string, updated: number) => ({
  resourceShareArn: SHARE.arn,
  associatedEntity: PART_ARN,
  associationType: 'RESOURCE' as const,
  status: status as 'ASSOCIATED',
  lastUpdatedTime: new Date(updated),
});

test('an empty page with a nextToken is not the end; the newest record of a resource counts', async () => {
  ram
    .on(GetResourceShareAssociationsCommand)
    .resolvesOnce({ resourceShareAssociations: [], nextToken: 'more' })
    .resolvesOnce({
      resourceShareAssociations: [record('ASSOCIATED', 2000), record('DISASSOCIATED', 1000)],
    });
  const sharing = setSharing(
    new RAMClient({ region: 'eu-west-1' }),
    [SHARE],
    { arn: POLICY_ARN, key: 'vpce-guard/policy' },
    { timeoutMs: 0, clock: steppedClock() },
  );

  expect(await sharing.sharedUnder('/vpce-guard/policy/set-parts/gold/')).toEqual([PART]);
  const pages = ram.commandCalls(GetResourceShareAssociationsCommand).map((c) => c.args[0].input);
  expect(pages).toEqual([
    { associationType: 'RESOURCE', resourceShareArns: [SHARE.arn], maxResults: 500 },
    {
      associationType: 'RESOURCE',
      resourceShareArns: [SHARE.arn],
      maxResults: 500,
      nextToken: 'more',
    },
  ]);
});

test('the wait reads RAM at doubling intervals up to 5 s, says so every 15 s, and stops at its bound', async () => {
  ram
    .on(GetResourceShareAssociationsCommand)
    .resolves({ resourceShareAssociations: [record('ASSOCIATING', 1000)] });
  ram.on(AssociateResourceShareCommand).resolves({});
  const clock = steppedClock();
  const notes: string[] = [];
  const sharing = setSharing(
    new RAMClient({ region: 'eu-west-1' }),
    [SHARE],
    { arn: POLICY_ARN, key: 'vpce-guard/policy' },
    { timeoutMs: 30_000, clock, onWait: (note) => notes.push(note) },
  );

  await expect(sharing.share([PART])).rejects.toThrow(
    `RAM had not added 1 of 1 parameters to its share policy after 30 s (${PART_ARN}: ASSOCIATING)`,
  );
  // Already ASSOCIATING: not associated again, only waited for.
  expect(ram.commandCalls(AssociateResourceShareCommand)).toHaveLength(0);
  expect(clock.slept).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000, 5000, 5000, 2250]);
  expect(notes).toEqual([
    'waiting for RAM to add 1 parameter to its share policy',
    'still waiting for RAM to add 1 of 1 parameters to its share policy (18 s)',
  ]);
});

test('the policy’s shares: those whose newest record of it is ASSOCIATED', async () => {
  const other = { arn: `${SHARE.arn.slice(0, -3)}def`, name: 'old' };
  const of = (share: typeof SHARE, status: string, updated: number) => ({
    resourceShareArn: share.arn,
    resourceShareName: share.name,
    associatedEntity: POLICY_ARN,
    associationType: 'RESOURCE' as const,
    status: status as 'ASSOCIATED',
    lastUpdatedTime: new Date(updated),
  });
  ram.on(GetResourceShareAssociationsCommand).resolves({
    resourceShareAssociations: [
      of(other, 'ASSOCIATED', 1000),
      of(SHARE, 'ASSOCIATED', 1000),
      of(other, 'DISASSOCIATED', 2000),
    ],
  });

  expect(await findPolicyShares(new RAMClient({ region: 'eu-west-1' }), POLICY_ARN)).toEqual([
    SHARE,
  ]);
  expect(ram.commandCalls(GetResourceShareAssociationsCommand)[0]?.args[0].input).toEqual({
    associationType: 'RESOURCE',
    resourceArn: POLICY_ARN,
    maxResults: 500,
  });
});
