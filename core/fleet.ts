/**
 * A fleet: guards in several environments (account and Region pairs) that share one policy,
 * kept in one of them, its home (docs/fleet.md). The app (one stack per environment) and the
 * CLI (`--fleet`) read the same cdk.json keys with these rules, so each error names the key.
 */
import { isAccountId, isRegion } from './ids';

/** One account and Region: where a guard runs. */
export interface GuardEnvironment {
  /** The 12-digit account ID. */
  readonly account: string;
  /** The Region, such as `eu-west-1`. */
  readonly region: string;
}

/** An environment of the app's list, with the name of its stack. */
export interface FleetEnvironment extends GuardEnvironment {
  readonly stackName: string;
}

/** The fleet as the app's context describes it. */
export interface Fleet {
  readonly environments: readonly FleetEnvironment[];
  /** Where the policy lives: one of `environments`. */
  readonly home: FleetEnvironment;
}

/** The cdk.json keys of a fleet. */
export const FLEET_KEYS = {
  environments: 'vpce-guard:environments',
  policyHome: 'vpce-guard:policyHome',
} as const;

/** CloudFormation: a letter, then letters, digits and hyphens, at most 128 characters. */
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/** The stack name of an environment when the list gives none: `VpceGuard-eu-west-1-111122223333`. */
export function defaultStackName(environment: GuardEnvironment): string {
  return `VpceGuard-${environment.region}-${environment.account}`;
}

/** `111122223333/eu-west-1`: how the CLI and the errors name an environment. */
export function environmentLabel(environment: GuardEnvironment): string {
  return `${environment.account}/${environment.region}`;
}

export function sameEnvironment(a: GuardEnvironment, b: GuardEnvironment): boolean {
  return a.account === b.account && a.region === b.region;
}

/**
 * The partition of a Region, from the prefixes AWS gives its partitions' Regions (China
 * `cn-`, GovCloud `us-gov-`, the ISO partitions); every other Region is in `aws`.
 */
export function partitionOf(region: string): string {
  const prefixes: readonly (readonly [string, string])[] = [
    ['cn-', 'aws-cn'],
    ['us-gov-', 'aws-us-gov'],
    ['us-isob-', 'aws-iso-b'],
    ['us-isof-', 'aws-iso-f'],
    ['eu-isoe-', 'aws-iso-e'],
    ['us-iso-', 'aws-iso'],
  ];
  return prefixes.find(([prefix]) => region.startsWith(prefix))?.[1] ?? 'aws';
}

/** The ARN of the policy parameter `name` (a name, not an ARN) in `home`. */
export function parameterArnIn(home: GuardEnvironment, name: string): string {
  const resource = name.replace(/^\//, '');
  return `arn:${partitionOf(home.region)}:ssm:${home.region}:${home.account}:parameter/${resource}`;
}

/** The account's default event bus, in every Region. */
export const DEFAULT_EVENT_BUS = 'default';

/** The default event bus of an environment. */
export function defaultBusArn(environment: GuardEnvironment): string {
  const { account, region } = environment;
  return `arn:${partitionOf(region)}:events:${region}:${account}:event-bus/${DEFAULT_EVENT_BUS}`;
}

/**
 * Whether a cdk.json value is unset: absent, `null`, `""` or an empty list all mean the
 * key's default (docs/configuration.md).
 */
export function isUnsetValue(raw: unknown): boolean {
  return (
    raw === undefined || raw === null || raw === '' || (Array.isArray(raw) && raw.length === 0)
  );
}

/**
 * The fleet the two keys describe, or undefined when `environments` is unset (a lone guard).
 * `environments`: a JSON list of `{ "account", "region", "stackName"? }`, or (from `-c`) a
 * comma-separated list of `account/region`. `policyHome`: `account/region`, default the first.
 * Throws an error that names the key and what is wrong.
 */
export function parseFleet(rawEnvironments: unknown, rawHome: unknown): Fleet | undefined {
  if (isUnsetValue(rawEnvironments)) {
    if (!isUnsetValue(rawHome)) {
      throw new Error(
        `${FLEET_KEYS.policyHome}: there is no ${FLEET_KEYS.environments} to choose the home from`,
      );
    }
    return undefined;
  }
  const environments = parseEnvironments(rawEnvironments);
  const home = isUnsetValue(rawHome) ? environments[0]! : findHome(environments, rawHome);
  return { environments, home };
}

function parseEnvironments(raw: unknown): FleetEnvironment[] {
  const key = FLEET_KEYS.environments;
  const items: unknown[] =
    typeof raw === 'string'
      ? raw
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean)
      : Array.isArray(raw)
        ? raw
        : fail(
            key,
            `${JSON.stringify(raw)} is not a list of environments ([{ "account": "111122223333", "region": "eu-west-1" }], or "111122223333/eu-west-1,…" from -c)`,
          );
  if (items.length === 0) fail(key, 'the list is empty: name at least one environment');
  const environments = items.map((item, index) => parseEnvironment(item, `${key}[${index}]`));

  const seen = new Map<string, string>();
  const names = new Map<string, string>();
  environments.forEach((environment, index) => {
    const where = `${key}[${index}]`;
    const label = environmentLabel(environment);
    const first = seen.get(label);
    if (first) fail(where, `${label} is listed twice (first at ${first})`);
    seen.set(label, where);
    const sameName = names.get(environment.stackName.toLowerCase());
    if (sameName)
      fail(where, `stack name ${environment.stackName} is used twice (first at ${sameName})`);
    names.set(environment.stackName.toLowerCase(), where);
  });
  const partitions = new Set(environments.map((e) => partitionOf(e.region)));
  if (partitions.size > 1) {
    fail(
      key,
      `the environments span partitions (${[...partitions].join(', ')}): one policy cannot be shared, nor its changes forwarded, across partitions`,
    );
  }
  return environments;
}

function parseEnvironment(item: unknown, where: string): FleetEnvironment {
  if (typeof item === 'string') {
    const [account, region, ...rest] = item.split('/');
    if (rest.length > 0 || account === undefined || region === undefined) {
      fail(where, `"${item}" is not account/region, such as 111122223333/eu-west-1`);
    }
    return checked({ account, region }, where);
  }
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    fail(where, `${JSON.stringify(item)} is not { "account": "…", "region": "…" }`);
  }
  const { account, region, stackName, ...unknown } = item as Record<string, unknown>;
  const extra = Object.keys(unknown);
  if (extra.length > 0) {
    fail(where, `unknown field ${extra.join(', ')} (the fields are account, region, stackName)`);
  }
  if (stackName !== undefined && (typeof stackName !== 'string' || !STACK_NAME.test(stackName))) {
    fail(
      `${where}.stackName`,
      `${JSON.stringify(stackName)} is not a CloudFormation stack name (a letter, then letters, digits and "-", at most 128)`,
    );
  }
  return checked({ account, region, stackName }, where);
}

function checked(
  fields: { account: unknown; region: unknown; stackName?: string },
  where: string,
): FleetEnvironment {
  const { account, region } = fields;
  if (!isAccountId(account)) {
    fail(`${where}.account`, `${JSON.stringify(account)} is not a 12-digit account ID`);
  }
  if (!isRegion(region)) {
    fail(`${where}.region`, `${JSON.stringify(region)} is not a Region name, such as eu-west-1`);
  }
  return { account, region, stackName: fields.stackName ?? defaultStackName({ account, region }) };
}

function findHome(environments: readonly FleetEnvironment[], raw: unknown): FleetEnvironment {
  const key = FLEET_KEYS.policyHome;
  const [account, region, ...rest] = typeof raw === 'string' ? raw.split('/') : [];
  if (rest.length > 0 || !isAccountId(account) || !isRegion(region)) {
    fail(key, `${JSON.stringify(raw)} is not account/region, such as 111122223333/eu-west-1`);
  }
  const home = environments.find((e) => e.account === account && e.region === region);
  if (!home) {
    fail(
      key,
      `${account}/${region} is not one of ${FLEET_KEYS.environments} (${environments.map(environmentLabel).join(', ')})`,
    );
  }
  return home;
}

function fail(where: string, problem: string): never {
  throw new Error(`${where}: ${problem}`);
}
