/** The policy: its model, its JSON format and the decision (docs/policy.md). */
export * from './model';
export { formatPolicyErrors, MAX_DESCRIPTION, parsePolicy, validatePolicy } from './parse';
export { decide } from './decide';
