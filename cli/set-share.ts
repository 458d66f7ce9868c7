/**
 * The principal sets' parameters in the policy's AWS RAM share, for a fleet whose guards in
 * other accounts read the policy through that share (docs/fleet.md#principal-sets-across-accounts).
 *
 * Another account reads a parameter only once RAM has associated it with a share that names
 * that account, and RAM associates asynchronously ("it can take a few minutes", RAM user guide):
 * so a push adds what it wrote to the share and waits, bounded, until RAM reports every one
 * ASSOCIATED before it commits; a FAILED association, or one still pending at the deadline,
 * stops the push. Old parts leave the share before they are deleted, as RAM recommends for a
 * resource that is to be deleted.
 *
 * Which share: the one `--share` names, or every share of this account, in the policy's
 * Region, that holds the policy parameter itself (GetResourceShareAssociations by the policy's
 * ARN): whoever may read the policy must read its sets too, or their guard cannot use it. This
 * finds the stack's share (`<stack>-policy`) without knowing the stack, and a share made by
 * hand alike. A Standard policy is in no share (RAM shares only Advanced parameters), so a
 * single-account setup makes no RAM call.
 */
import {
  AssociateResourceShareCommand,
  DisassociateResourceShareCommand,
  GetResourceShareAssociationsCommand,
  GetResourceSharesCommand,
  type RAMClient,
  type ResourceShareAssociation,
} from '@aws-sdk/client-ram';
import type { Clock } from '../core/clock';
import { CliError, describeError } from './errors';
import { plural } from './policy-file';
import type { SetSharing } from './principal-sets';

/**
 * AssociateResourceShare and DisassociateResourceShare: "You can associate up to 100
 * resources per call" (RAM API reference, ResourceShareLimitExceededException).
 */
const RESOURCES_PER_CALL = 100;
/** GetResourceShares and GetResourceShareAssociations: `maxResults` 1 to 500. */
const PAGE_SIZE = 500;
/** The first wait between two reads of RAM's associations, doubled up to the longest. */
const FIRST_POLL_MS = 250;
const LONGEST_POLL_MS = 5000;
/** How often a wait says it is still waiting. */
const NOTE_EVERY_MS = 15_000;
/** How long a push waits for RAM by default (`--share-wait`): RAM says "a few minutes". */
export const DEFAULT_SHARE_WAIT_SECONDS = 300;

const SHARE_ARN = /^arn:aws[a-z-]*:ram:([a-z0-9-]+):(\d{12}):resource-share\/[A-Za-z0-9-]+$/;
/** An association that holds, or is about to hold, its resource in the share. */
const LIVE = new Set(['ASSOCIATED', 'ASSOCIATING']);
const IAM_HINT =
  'the CLI needs ram:GetResourceShareAssociations, ram:AssociateResourceShare and ram:DisassociateResourceShare (docs/cli.md)';

export interface PolicyShare {
  readonly arn: string;
  readonly name: string;
}

/** Why `value` is not a RAM resource share ARN, or undefined. */
export function shareArnProblem(value: string): string | undefined {
  return SHARE_ARN.test(value)
    ? undefined
    : 'is not a RAM resource share ARN (arn:<partition>:ram:<region>:<account>:resource-share/<id>)';
}

/** The Region and account a resource share ARN names. */
export function shareLocation(arn: string): { readonly region: string; readonly account: string } {
  const [, region = '', account = ''] = SHARE_ARN.exec(arn) ?? [];
  return { region, account };
}

/** The shares of this account, in the client's Region, that hold `policyArn` (ASSOCIATED). */
export async function findPolicyShares(ram: RAMClient, policyArn: string): Promise<PolicyShare[]> {
  const latest = new Map<string, ResourceShareAssociation>();
  try {
    for await (const a of associations(ram, { resourceArn: policyArn })) {
      if (a.resourceShareArn) keepNewest(latest, a.resourceShareArn, a);
    }
  } catch (error) {
    throw new CliError(
      `could not look for the RAM share that holds the policy (${describeError(error)}): ${IAM_HINT}; or name the share with --share <arn>, or pass --share none if no other account reads the policy`,
    );
  }
  return [...latest.values()]
    .filter((a) => a.status === 'ASSOCIATED')
    .map((a) => ({ arn: a.resourceShareArn!, name: a.resourceShareName ?? a.resourceShareArn! }));
}

/** The ACTIVE share of this account `arn` names; a CliError when there is none. */
export async function namedShare(ram: RAMClient, arn: string): Promise<PolicyShare> {
  const { resourceShares = [] } = await ram
    .send(new GetResourceSharesCommand({ resourceOwner: 'SELF', resourceShareArns: [arn] }))
    .catch((error: unknown) => {
      throw new CliError(
        `could not read the RAM share ${arn} (${describeError(error)}): the CLI needs ram:GetResourceShares for --share`,
      );
    });
  const share = resourceShares.find((s) => s.resourceShareArn === arn);
  if (!share) {
    throw new CliError(
      `--share: this account has no RAM share ${arn} in ${await ram.config.region()} (aws ram get-resource-shares --resource-owner SELF lists them)`,
    );
  }
  if (share.status !== 'ACTIVE') {
    throw new CliError(
      `--share: the RAM share ${share.name ?? arn} is ${share.status}, not ACTIVE`,
    );
  }
  return { arn, name: share.name ?? arn };
}

export interface ShareWait {
  /** How long to wait for RAM to settle the associations (0: read them once). */
  readonly timeoutMs: number;
  readonly clock: Clock;
  /** Told, now and then, what is still pending. */
  readonly onWait?: (note: string) => void;
}

/**
 * The sets' parameters in `shares`. Parameters beside the policy are named as the policy is
 * (`<policy>/sets/gold`) and have ARNs beside its ARN (`<policy ARN>/sets/gold`).
 */
export function setSharing(
  ram: RAMClient,
  shares: readonly PolicyShare[],
  policy: { readonly arn: string; readonly key: string },
  wait: ShareWait,
): SetSharing {
  const namePrefix = `/${policy.key}`;
  const arnOf = (name: string) => `${policy.arn}${name.slice(namePrefix.length)}`;
  const nameOf = (arn: string) => `${namePrefix}${arn.slice(policy.arn.length)}`;
  const label = shares.map((s) => `RAM share ${s.name} (${s.arn})`).join(' and ');
  return {
    label,
    async share(names) {
      if (names.length === 0) return 0;
      const arns = names.map(arnOf);
      let added = 0;
      for (const share of shares) {
        const now = await statuses(ram, share);
        const missing = arns.filter((arn) => !LIVE.has(now.get(arn)?.status ?? ''));
        await inBatches(missing, (batch) =>
          call(`AssociateResourceShare on ${share.name}`, () =>
            ram.send(
              new AssociateResourceShareCommand({
                resourceShareArn: share.arn,
                resourceArns: batch,
              }),
            ),
          ),
        );
        await waitFor(ram, share, arns, 'shared', wait);
        added += missing.length;
      }
      return added;
    },
    async unshare(names) {
      if (names.length === 0) return;
      const arns = names.map(arnOf);
      for (const share of shares) {
        const now = await statuses(ram, share);
        const held = arns.filter((arn) => LIVE.has(now.get(arn)?.status ?? ''));
        if (held.length === 0) continue;
        await inBatches(held, (batch) =>
          call(`DisassociateResourceShare on ${share.name}`, () =>
            ram.send(
              new DisassociateResourceShareCommand({
                resourceShareArn: share.arn,
                resourceArns: batch,
              }),
            ),
          ),
        );
        await waitFor(ram, share, held, 'unshared', wait);
      }
    },
    async unshared(names) {
      const missing = new Set<string>();
      for (const share of shares) {
        const now = await statuses(ram, share);
        for (const name of names) {
          if (!LIVE.has(now.get(arnOf(name))?.status ?? '')) missing.add(name);
        }
      }
      return names.filter((name) => missing.has(name));
    },
    async sharedUnder(prefix) {
      const arnPrefix = arnOf(prefix);
      const found = new Set<string>();
      for (const share of shares) {
        for (const [arn, { status }] of await statuses(ram, share)) {
          if (LIVE.has(status) && arn.startsWith(arnPrefix)) found.add(nameOf(arn));
        }
      }
      return [...found].sort();
    },
  };
}

interface Status {
  readonly status: string;
  readonly message?: string;
}

/**
 * Each resource of the share and its association's status. The listing holds past
 * associations too (DISASSOCIATED, FAILED); AWS does not document whether a resource
 * associated again gets a second record, so a resource's most recently updated one counts.
 */
async function statuses(ram: RAMClient, share: PolicyShare): Promise<Map<string, Status>> {
  const latest = new Map<string, ResourceShareAssociation>();
  await call(`GetResourceShareAssociations on ${share.name}`, async () => {
    for await (const a of associations(ram, { resourceShareArns: [share.arn] })) {
      if (a.associatedEntity) keepNewest(latest, a.associatedEntity, a);
    }
  });
  return new Map(
    [...latest].map(([arn, a]) => [
      arn,
      { status: a.status ?? '', ...(a.statusMessage ? { message: a.statusMessage } : {}) },
    ]),
  );
}

/** Keeps, under `key`, the most recently updated of the records seen. */
function keepNewest(
  latest: Map<string, ResourceShareAssociation>,
  key: string,
  record: ResourceShareAssociation,
): void {
  const time = (a?: ResourceShareAssociation) => a?.lastUpdatedTime?.getTime() ?? 0;
  const seen = latest.get(key);
  if (!seen || time(record) >= time(seen)) latest.set(key, record);
}

/**
 * Every resource association of this account's shares that `filter` selects, page by page:
 * RAM documents that a page may be empty while more follow, so only an absent `nextToken` ends.
 */
async function* associations(
  ram: RAMClient,
  filter: { readonly resourceArn?: string; readonly resourceShareArns?: string[] },
): AsyncGenerator<ResourceShareAssociation> {
  let nextToken: string | undefined;
  do {
    const page = await ram.send(
      new GetResourceShareAssociationsCommand({
        associationType: 'RESOURCE',
        ...filter,
        maxResults: PAGE_SIZE,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    yield* page.resourceShareAssociations ?? [];
    nextToken = page.nextToken;
  } while (nextToken);
}

/**
 * Reads the share's associations until every one of `arns` is shared (ASSOCIATED) or
 * unshared (no longer held), at growing intervals, for at most `wait.timeoutMs`.
 */
async function waitFor(
  ram: RAMClient,
  share: PolicyShare,
  arns: readonly string[],
  goal: 'shared' | 'unshared',
  wait: ShareWait,
): Promise<void> {
  const started = wait.clock.now();
  let delay = FIRST_POLL_MS;
  let noted = -Infinity;
  for (;;) {
    const now = await statuses(ram, share);
    const status = (arn: string) => now.get(arn)?.status ?? 'absent';
    if (goal === 'shared') {
      const failed = arns.filter((arn) => status(arn) === 'FAILED');
      if (failed.length > 0) {
        throw new CliError(
          `RAM could not add ${failed.length} of ${arns.length} parameters to its share ${share.name} (${share.arn}): ${failed[0]}: ${now.get(failed[0]!)?.message ?? 'FAILED, without a message'}. Check the share in the RAM console (its principals; only Advanced parameters can be shared), then push again`,
        );
      }
    }
    const pending = arns.filter((arn) =>
      goal === 'shared'
        ? status(arn) !== 'ASSOCIATED'
        : LIVE.has(status(arn)) || status(arn) === 'DISASSOCIATING',
    );
    if (pending.length === 0) return;
    const elapsed = wait.clock.now() - started;
    if (elapsed >= wait.timeoutMs) {
      const verb = goal === 'shared' ? 'added' : 'removed';
      throw new CliError(
        `RAM had not ${verb} ${pending.length} of ${arns.length} parameters ${goal === 'shared' ? 'to' : 'from'} its share ${share.name} after ${Math.round(elapsed / 1000)} s (${pending[0]}: ${status(pending[0]!)}). RAM can take a few minutes: run the push again later, or wait longer with --share-wait <seconds>`,
      );
    }
    if (elapsed - noted >= NOTE_EVERY_MS) {
      const change = goal === 'shared' ? 'add' : 'remove';
      const where = `${goal === 'shared' ? 'to' : 'from'} its share ${share.name}`;
      wait.onWait?.(
        noted < 0
          ? `waiting for RAM to ${change} ${plural(pending.length, 'parameter')} ${where}`
          : `still waiting for RAM to ${change} ${pending.length} of ${arns.length} parameters ${where} (${Math.round(elapsed / 1000)} s)`,
      );
      noted = elapsed;
    }
    await wait.clock.sleep(Math.min(delay, wait.timeoutMs - elapsed));
    delay = Math.min(delay * 2, LONGEST_POLL_MS);
  }
}

async function inBatches(
  items: readonly string[],
  send: (batch: string[]) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < items.length; i += RESOURCES_PER_CALL) {
    await send(items.slice(i, i + RESOURCES_PER_CALL));
  }
}

/** Runs a RAM call; its failure becomes a CliError naming the call and the IAM it needs. */
async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`RAM refused ${what}: ${describeError(error)} (${IAM_HINT})`);
  }
}
