/**
 * What SSM checks of a policy and its sets before storing them: how many bytes each takes
 * against the Standard (4 KB) and Advanced (8 KB) tiers, and what loading them costs. The
 * CLI says it before anything is pushed, so that a policy no parameter can hold fails at
 * `policy validate`, not at `PutParameter`.
 */
import { getParametersCalls } from '../core/policy-load';
import { smallestTier, type Tier, TIER_MAX_BYTES } from '../core/policy-parameter';
import { encodePrincipalSet, newSetVersion } from '../core/principal-set';
import { CliError } from './errors';
import { count } from './policy-file';

/** One line on the policy's size; a CliError when no tier holds it. */
export function policySizeLine(where: string, text: string): string {
  const bytes = Buffer.byteLength(text);
  const tier = smallestTier(bytes);
  if (!tier) {
    throw new CliError(
      `${where} is ${count(bytes)} bytes: no SSM parameter holds it (Standard ${count(TIER_MAX_BYTES.Standard)}, Advanced ${count(TIER_MAX_BYTES.Advanced)} bytes)`,
      [
        'move long lists of accounts into principal sets (vpce-guard sets push), and merge rules that differ only in their principals',
      ],
    );
  }
  const fits =
    tier === 'Standard'
      ? `fits the Standard tier (${count(TIER_MAX_BYTES.Standard)})`
      : `needs the Advanced tier (${count(TIER_MAX_BYTES.Advanced)}; over Standard's ${count(TIER_MAX_BYTES.Standard)})`;
  return `policy: ${count(bytes)} bytes: ${fits}`;
}

export interface SetSize {
  readonly tier: Tier;
  readonly parts: number;
  /** The bytes of every part and the manifest. */
  readonly bytes: number;
}

/** A set's parts in each tier, as `sets push` would write them. */
function setSizes(set: string, accounts: readonly string[], now: Date): SetSize[] {
  return (['Advanced', 'Standard'] as const).map((tier) => {
    const encoded = encodePrincipalSet(set, newSetVersion(now), accounts, TIER_MAX_BYTES[tier]);
    const bytes = [encoded.manifestText, ...encoded.parts].reduce(
      (n, text) => n + Buffer.byteLength(text),
      0,
    );
    return { tier, parts: encoded.parts.length, bytes };
  });
}

/** One line on a set's size in both tiers. */
export function setSizeLine(set: string, accounts: readonly string[], now: Date): string {
  const [advanced, standard] = setSizes(set, accounts, now) as [SetSize, SetSize];
  const inTier = (s: SetSize) =>
    `${count(s.parts)} part${s.parts === 1 ? '' : 's'} of at most ${count(TIER_MAX_BYTES[s.tier])} bytes (${s.tier}, ${getParametersCalls(s.parts)} GetParameters to load)`;
  return `set ${set}: ${count(accounts.length)} accounts, ${count(advanced.bytes)} bytes: ${inTier(advanced)}, or ${inTier(standard)}`;
}
