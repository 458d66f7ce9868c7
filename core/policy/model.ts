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
  /** 12-digit account IDs (account root ARNs are normalised to their account ID). */
  readonly principals: Matcher;
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
  readonly rules: readonly Rule[];
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
