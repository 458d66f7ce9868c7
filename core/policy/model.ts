/**
 * The allowlist policy as the guard holds it once parsed, and what a decision says.
 * See docs/policy.md for the JSON format and its semantics.
 */

export const POLICY_VERSION = 1;

export type Mode = 'enforce' | 'dryRun';
export type DefaultAction = 'reject' | 'keep';
/** What the guard does with one connection. `skip`: not in a state the guard acts on. */
export type Action = 'reject' | 'accept' | 'keep' | 'skip';

/** `'*'` matches everything; otherwise the set of allowed values. */
export type Matcher = '*' | ReadonlySet<string>;

export interface Rule {
  readonly id: string;
  readonly services: Matcher;
  /**
   * 12-digit account IDs listed in the rule (account root ARNs are normalised to their
   * account ID); empty when the rule names only principal sets.
   */
  readonly principals: Matcher;
  /** Principal sets whose accounts the rule also allows, by name (docs/policy.md#principal-sets). */
  readonly principalSets?: readonly string[];
  /** Absent: any Region. */
  readonly regions?: ReadonlySet<string>;
  readonly expires?: Date;
  readonly accept: boolean;
}

export interface Policy {
  readonly version: typeof POLICY_VERSION;
  readonly mode: Mode;
  readonly defaultAction: DefaultAction;
  readonly revoke: boolean;
  /** 12-digit account IDs that are always rejected. */
  readonly deny: ReadonlySet<string>;
  /** Principal sets whose accounts are always rejected, by name. */
  readonly denySets?: readonly string[];
  readonly rules: readonly Rule[];
  /**
   * The accounts of every principal set the policy names, once loaded from Parameter Store
   * (`withPrincipalSets`). `decide` refuses a policy whose sets are not loaded: it would
   * otherwise treat their accounts as strangers.
   */
  readonly principalSets?: ReadonlyMap<string, ReadonlySet<string>>;
}

/** One validation error: where (a JSON path such as `rules[2].principals[0]`) and what. */
export interface PolicyError {
  readonly path: string;
  readonly message: string;
}

export type PolicyParseResult =
  | { readonly ok: true; readonly policy: Policy }
  | { readonly ok: false; readonly errors: readonly PolicyError[] };

export interface Decision {
  readonly action: Action;
  /** One sentence for a human: why this action. */
  readonly reason: string;
  /** What decided: a rule's id, `deny`, `defaultAction`, or `state` for a skip. */
  readonly rule: string;
}

/** The principal sets a policy names, each once, in the order they first appear. */
export function principalSetNames(policy: Policy): string[] {
  return [...principalSetReferences(policy).keys()];
}

/**
 * Where the policy first names each of its principal sets, as a JSON path
 * (`rules[2].principalSets[0]`): the place an error about the set points to.
 */
export function principalSetReferences(policy: Policy): Map<string, string> {
  const references = new Map<string, string>();
  const add = (names: readonly string[] | undefined, path: string) =>
    names?.forEach((name, i) => {
      if (!references.has(name)) references.set(name, `${path}[${i}]`);
    });
  add(policy.denySets, 'denySets');
  policy.rules.forEach((rule, i) => add(rule.principalSets, `rules[${i}].principalSets`));
  return references;
}

/** The policy with its principal sets' accounts, ready for `decide`. */
export function withPrincipalSets(
  policy: Policy,
  sets: ReadonlyMap<string, ReadonlySet<string>>,
): Policy {
  return { ...policy, principalSets: sets };
}
