/** The consumer accounts of the benchmarks, as the benchmark policies treat them. */

/** On the policy's deny list. */
export const DENIED = '999988887777';
/** Matched by no rule: rejected by `defaultAction`. */
export const STRANGER = '123412341234';
/** Allowed by a rule, and kept. */
export const ALLOWED = '111122223333';
/** Denied owners alternate between the two ways a policy denies. */
export const deniedOwner = (i: number): string => (i % 2 === 0 ? DENIED : STRANGER);
