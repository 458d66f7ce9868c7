/**
 * A fake SSM Parameter Store endpoint (awsJson1_1) on 127.0.0.1 that tells accounts and Regions
 * apart: one parameter store per account and Region, the caller's Region taken from the
 * request's SigV4 credential scope and its account from its access key ID. Plain parameters,
 * no history. A parameter of another account is readable by its full ARN when it is shared
 * with the caller's account: by `share()` (a list of accounts on the parameter), or through a
 * share of the RAM fake (fakes/ram.ts) that `addSharing` plugs in.
 */
import type { IncomingMessage } from 'node:http';
import { AwsError } from './aws-error';
import { JsonRpcFake, type JsonObject } from './json-rpc';
import { TokenBucket } from './token-bucket';

export type SsmOperation =
  | 'GetParameter'
  | 'GetParameters'
  | 'GetParametersByPath'
  | 'PutParameter'
  | 'DeleteParameter'
  | 'DeleteParameters'
  | 'DescribeParameters';
export type ParameterType = 'String' | 'StringList' | 'SecureString';
export type ParameterTier = 'Standard' | 'Advanced';

const TYPES: readonly ParameterType[] = ['String', 'StringList', 'SecureString'];
const isParameterType = (type: unknown): type is ParameterType =>
  TYPES.includes(type as ParameterType);

/** Largest value per tier, in bytes (Standard 4 KB, Advanced 8 KB). */
const MAX_VALUE_BYTES: Readonly<Record<ParameterTier, number>> = { Standard: 4096, Advanced: 8192 };

/** The key SSM encrypts a SecureString with when `PutParameter` names none. */
const DEFAULT_KEY_ID = 'alias/aws/ssm';
/** DescribeParameters' `MaxResults`: 1 to 50. */
const MAX_DESCRIBE_RESULTS = 50;
/** GetParameters, DeleteParameters: 1 to 10 names; GetParametersByPath: 1 to 10 results. */
const MAX_NAMES = 10;
/** The reads that share Parameter Store's throughput. */
const THROTTLED: ReadonlySet<SsmOperation> = new Set([
  'GetParameter',
  'GetParameters',
  'GetParametersByPath',
]);

export interface StoredParameter {
  name: string;
  type: ParameterType;
  value: string;
  version: number;
  tier: ParameterTier;
  lastModifiedDate: Date;
  /** A SecureString's KMS key, as `PutParameter` named it (else SSM's default key). */
  keyId?: string;
  /** Accounts a RAM share gives read access to, by full ARN. */
  sharedWith: string[];
}

/** An account and a Region; either, absent, is the fake's default. */
export interface Where {
  region?: string;
  account?: string;
}

export interface FakeSsmOptions {
  /** The Region of a request without a SigV4 signature, and of helpers given no Region. */
  region: string;
  /** The account of an access key ID not in `accessKeys`, and of helpers given no account. */
  accountId: string;
  /** Access key ID → account: who signed a request. */
  accessKeys?: Record<string, string>;
  /**
   * Parameter Store's throughput, per account and Region: GetParameter, GetParameters and
   * GetParametersByPath share a bucket of this many, refilled at this many per second, and an
   * empty bucket answers ThrottlingException. Absent: unlimited.
   */
  throughput?: number;
  /**
   * Most results a GetParametersByPath page holds, whatever MaxResults asks: AWS documents that
   * a page may hold fewer. @default 10
   */
  maxPathPageSize?: number;
}

/** The caller of one request: its account, and the Region it signed for. */
export interface Caller {
  readonly account: string;
  readonly region: string;
}

/** `Credential=<access key>/<date>/<region>/<service>/aws4_request` in SigV4's header. */
const CREDENTIAL_SCOPE = /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\/[^/,\s]+\/aws4_request/;
const PARAMETER_ARN = /^arn:aws[a-z-]*:ssm:([^:]*):(\d{12}):parameter\/(.+)$/;

/** What else lets another account read a parameter: the RAM fake's shares (fakes/ram.ts). */
export interface ParameterSharing {
  /** Whether `account` may read the parameter whose ARN is `arn`. */
  grants(arn: string, account: string): boolean;
}

export class FakeSsm extends JsonRpcFake<SsmOperation> {
  /** `<account>/<region>` → that store's parameters by name. */
  private readonly stores = new Map<string, Map<string, StoredParameter>>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly accessKeys: Map<string, string>;
  private readonly sharings: ParameterSharing[] = [];

  private constructor(private readonly options: FakeSsmOptions) {
    super('ThrottlingException');
    this.accessKeys = new Map(Object.entries(options.accessKeys ?? {}));
  }

  static async start(options: FakeSsmOptions): Promise<FakeSsm> {
    const fake = new FakeSsm(options);
    const as = (
      operation: SsmOperation,
      handle: (input: JsonObject, caller: Caller) => JsonObject,
    ) => {
      return (input: JsonObject, req: IncomingMessage) => {
        const caller = fake.callerOf(req);
        fake.spendThroughput(operation, caller);
        return handle(input, caller);
      };
    };
    await fake.serve({
      target: 'AmazonSSM',
      version: '1.1',
      operations: {
        GetParameter: as('GetParameter', (input, caller) => fake.get(input, caller)),
        GetParameters: as('GetParameters', (input, caller) => fake.getMany(input, caller)),
        GetParametersByPath: as('GetParametersByPath', (input, caller) =>
          fake.getByPath(input, caller),
        ),
        PutParameter: as('PutParameter', (input, caller) => fake.put(input, caller)),
        DeleteParameter: as('DeleteParameter', (input, caller) => fake.delete(input, caller)),
        DeleteParameters: as('DeleteParameters', (input, caller) => fake.deleteMany(input, caller)),
        DescribeParameters: as('DescribeParameters', (input, caller) =>
          fake.describe(input, caller),
        ),
      },
      // SSM names errors by their bare shape name and leaves `message` out when it has none.
      renderError: (err) => ({ body: { __type: err.code, message: err.message || undefined } }),
      caller: (req) => fake.callerOf(req),
    });
    return fake;
  }

  /** Requests signed with `accessKeyId` come from `account`. */
  addAccessKey(accessKeyId: string, account: string): void {
    this.accessKeys.set(accessKeyId, account);
  }

  /** Lets `sharing` (a RAM fake) grant other accounts read access to parameters by ARN. */
  addSharing(sharing: ParameterSharing): void {
    this.sharings.push(sharing);
  }

  /** Creates or overwrites a parameter, as `PutParameter` with `Overwrite: true` would. */
  setParameter(
    name: string,
    value: string,
    type: ParameterType = 'String',
    where: Where & { tier?: ParameterTier } = {},
  ): void {
    this.put(
      { Name: name, Value: value, Type: type, Overwrite: true, Tier: where.tier },
      this.at(where),
    );
  }

  /** A copy of a parameter, if it exists. */
  parameter(name: string, where: Where = {}): StoredParameter | undefined {
    const stored = this.store(this.at(where)).get(name);
    return stored && { ...stored, sharedWith: [...stored.sharedWith] };
  }

  /** The names of a store's parameters, sorted. */
  parameterNames(where: Where = {}): string[] {
    return [...this.store(this.at(where)).keys()].sort();
  }

  /**
   * Shares an Advanced parameter with another account, as a RAM resource share does: that
   * account may then read it by its full ARN. RAM refuses a Standard parameter, and so does this.
   */
  share(name: string, withAccount: string, where: Where = {}): void {
    const stored = this.store(this.at(where)).get(name);
    if (!stored) throw new Error(`no parameter ${name} to share`);
    if (stored.tier !== 'Advanced') {
      throw new Error(`only Advanced parameters can be shared; ${name} is Standard`);
    }
    if (!stored.sharedWith.includes(withAccount)) stored.sharedWith.push(withAccount);
  }

  /** The full ARN of a parameter of `where`'s store. */
  /**
   * The parameter an ARN names, in its owner's store, and that owner (account and Region from
   * the ARN); undefined when the ARN is not a parameter's or names none. A stored name may
   * have its leading `/` or not, as the ARN drops it.
   */
  parameterAt(arn: string): { parameter: StoredParameter; owner: Caller } | undefined {
    const parsed = PARAMETER_ARN.exec(arn);
    if (!parsed) return undefined;
    const [, region = '', account = '', resource = ''] = parsed;
    const owner = { account, region };
    const store = this.store(owner);
    const parameter = store.get(`/${resource}`) ?? store.get(resource);
    return parameter && { parameter, owner };
  }

  arnOf(name: string, where: Where = {}): string {
    const { account, region } = this.at(where);
    return `arn:aws:ssm:${region}:${account}:parameter/${name.replace(/^\//, '')}`;
  }

  private get(input: JsonObject, caller: Caller): JsonObject {
    const id = requiredString(input, 'Name');
    const found = this.readable(id, caller);
    if (!found) throw this.unreadable(id, caller);
    return { Parameter: this.answer(found, input.WithDecryption === true) };
  }

  /** Found parameters in name order, as AWS documents; the others listed as asked. */
  private getMany(input: JsonObject, caller: Caller): JsonObject {
    const ids = requiredNames(input);
    const found: JsonObject[] = [];
    const invalid: string[] = [];
    for (const id of ids) {
      const p = this.readable(id, caller);
      if (p) found.push(this.answer(p, input.WithDecryption === true));
      else invalid.push(id);
    }
    found.sort((a, b) => (String(a.Name) < String(b.Name) ? -1 : 1));
    return { Parameters: found, InvalidParameters: invalid };
  }

  /** The caller's own parameters under `Path` (a path, never an ARN), in name order, paged. */
  private getByPath(input: JsonObject, caller: Caller): JsonObject {
    const path = requiredString(input, 'Path');
    if (!path.startsWith('/')) {
      throw new AwsError(
        'ValidationException',
        'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/".',
      );
    }
    const prefix = path.endsWith('/') ? path : `${path}/`;
    const recursive = input.Recursive === true;
    const size = Math.min(
      pageSize(input.MaxResults, MAX_NAMES, 'maxResults'),
      this.options.maxPathPageSize ?? MAX_NAMES,
    );
    const after = typeof input.NextToken === 'string' ? decodeNameToken(input.NextToken) : '';
    const found = [...this.store(caller).values()]
      .filter(
        (p) =>
          p.name.startsWith(prefix) &&
          p.name > after &&
          (recursive || !p.name.slice(prefix.length).includes('/')),
      )
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const page = found.slice(0, size);
    const last = page[page.length - 1];
    return {
      Parameters: page.map((p) =>
        this.answer({ parameter: p, owner: caller }, input.WithDecryption === true),
      ),
      ...(found.length > size && last ? { NextToken: encodeNameToken(last.name) } : {}),
    };
  }

  private put(input: JsonObject, caller: Caller): JsonObject {
    const name = ownName(requiredString(input, 'Name'));
    const value = requiredString(input, 'Value');
    const store = this.store(caller);
    const existing = store.get(name);
    if (existing && input.Overwrite !== true) {
      throw new AwsError(
        'ParameterAlreadyExists',
        'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
      );
    }
    const type = input.Type ?? existing?.type;
    if (type === undefined) {
      throw new AwsError(
        'ValidationException',
        'A parameter type is required when you create a parameter.',
      );
    }
    if (!isParameterType(type)) {
      throw new AwsError(
        'ValidationException',
        `1 validation error detected: Value '${String(type)}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`,
      );
    }
    const tier = chooseTier(input.Tier, existing?.tier, Buffer.byteLength(value));
    const stored: StoredParameter = {
      name,
      type,
      value,
      version: (existing?.version ?? 0) + 1,
      tier,
      lastModifiedDate: new Date(),
      // Like SSM, an overwrite that names no key goes back to the default key.
      ...(type === 'SecureString'
        ? { keyId: typeof input.KeyId === 'string' ? input.KeyId : DEFAULT_KEY_ID }
        : {}),
      sharedWith: existing?.sharedWith ?? [],
    };
    store.set(name, stored);
    return { Version: stored.version, Tier: tier };
  }

  private delete(input: JsonObject, caller: Caller): JsonObject {
    const name = ownName(requiredString(input, 'Name'));
    // AWS answers ParameterNotFound without a message: the SDK then reports "UnknownError".
    if (!this.store(caller).delete(name)) throw new AwsError('ParameterNotFound');
    return {};
  }

  private deleteMany(input: JsonObject, caller: Caller): JsonObject {
    const names = requiredNames(input).map(ownName);
    const store = this.store(caller);
    const deleted = names.filter((name) => store.delete(name));
    return {
      DeletedParameters: deleted,
      InvalidParameters: names.filter((name) => !deleted.includes(name)),
    };
  }

  /** Metadata without values, sorted by name; the only filter is `Name` (`Equals`, `BeginsWith`). */
  private describe(input: JsonObject, caller: Caller): JsonObject {
    const matches = nameFilters(input.ParameterFilters);
    const size = pageSize(input.MaxResults, MAX_DESCRIBE_RESULTS, 'maxResults');
    const after = typeof input.NextToken === 'string' ? decodeNameToken(input.NextToken) : '';
    const found = [...this.store(caller).values()]
      .filter((p) => p.name > after && matches(p.name))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const page = found.slice(0, size);
    const last = page[page.length - 1];
    return {
      Parameters: page.map((p) => ({
        Name: p.name,
        ARN: this.arnOf(p.name, caller),
        Type: p.type,
        ...(p.keyId ? { KeyId: p.keyId } : {}),
        LastModifiedDate: p.lastModifiedDate.getTime() / 1000,
        Version: p.version,
        Tier: p.tier,
        Policies: [],
        DataType: 'text',
      })),
      ...(found.length > size && last ? { NextToken: encodeNameToken(last.name) } : {}),
    };
  }

  /**
   * The parameter `id` names, if the caller may read it: its own by name or ARN, or another
   * account's by ARN when shared with it. SSM does not route by the Region in an ARN: an ARN
   * of another Region than the request's is refused (ValidationException: AWS does not
   * document the code; the point is that such a read fails).
   */
  private readable(
    id: string,
    caller: Caller,
  ): { parameter: StoredParameter; owner: Caller } | undefined {
    const region = PARAMETER_ARN.exec(id)?.[1];
    if (region === undefined) {
      const parameter = this.store(caller).get(id);
      return parameter && { parameter, owner: caller };
    }
    if (region !== caller.region) {
      throw new AwsError(
        'ValidationException',
        `The ARN ${id} is in Region ${region}, but the request was made in ${caller.region}.`,
      );
    }
    const found = this.parameterAt(id);
    if (!found) return undefined;
    const { parameter, owner } = found;
    if (
      owner.account === caller.account ||
      parameter.sharedWith.includes(caller.account) ||
      this.sharings.some((s) => s.grants(this.arnOf(parameter.name, owner), caller.account))
    ) {
      return { parameter, owner };
    }
    return undefined;
  }

  /**
   * Not readable: missing, or another account's that is not shared with the caller. AWS does
   * not document the second case's code; the fake answers AccessDeniedException for it.
   */
  private unreadable(id: string, caller: Caller): AwsError {
    const found = this.parameterAt(id);
    if (found && found.owner.account !== caller.account) {
      return new AwsError(
        'AccessDeniedException',
        `User in account ${caller.account} is not authorized to read ${id}: it is not shared with this account`,
      );
    }
    return new AwsError('ParameterNotFound');
  }

  /** A parameter as GetParameter* answers it. */
  private answer(
    { parameter: p, owner }: { parameter: StoredParameter; owner: Caller },
    withDecryption: boolean,
  ): JsonObject {
    // Without decryption AWS returns the KMS ciphertext; base64 of the value stands in for it.
    const encrypted = p.type === 'SecureString' && !withDecryption;
    return {
      Name: p.name,
      Type: p.type,
      Value: encrypted ? Buffer.from(p.value).toString('base64') : p.value,
      Version: p.version,
      LastModifiedDate: p.lastModifiedDate.getTime() / 1000,
      ARN: this.arnOf(p.name, owner),
      DataType: 'text',
    };
  }

  /**
   * Who signed the request: the Region of its credential scope, the account of its key. The
   * RAM fake asks too, so that both tell accounts apart by the same access keys.
   */
  callerOf(req: IncomingMessage): Caller {
    const scope = CREDENTIAL_SCOPE.exec(String(req.headers.authorization ?? ''));
    return {
      account: (scope && this.accessKeys.get(scope[1]!)) ?? this.options.accountId,
      region: scope?.[2] ?? this.options.region,
    };
  }

  private spendThroughput(operation: SsmOperation, caller: Caller): void {
    const tps = this.options.throughput;
    if (tps === undefined || !THROTTLED.has(operation)) return;
    const key = storeKey(caller);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket({ capacity: tps, refillPerSecond: tps });
      this.buckets.set(key, bucket);
    }
    if (!bucket.tryTake()) throw new AwsError('ThrottlingException', 'Rate exceeded');
  }

  /** The account and Region `where` names, the fake's own filling in what it leaves out. */
  locate(where: Where = {}): Caller {
    return this.at(where);
  }

  private at(where: Where): Caller {
    return {
      account: where.account ?? this.options.accountId,
      region: where.region ?? this.options.region,
    };
  }

  private store(caller: Caller): Map<string, StoredParameter> {
    const key = storeKey(caller);
    let store = this.stores.get(key);
    if (!store) {
      store = new Map();
      this.stores.set(key, store);
    }
    return store;
  }
}

const storeKey = (c: Caller): string => `${c.account}/${c.region}`;

/** A name the caller writes: its own, never an ARN (a shared parameter is read-only). */
function ownName(name: string): string {
  if (name.startsWith('arn:')) {
    throw new AwsError(
      'ValidationException',
      'Parameter name: a parameter can be written and deleted only by name, in its own account',
    );
  }
  return name;
}

/** The tier a value is stored in, or the ValidationException AWS gives for it. */
function chooseTier(
  requested: unknown,
  existing: ParameterTier | undefined,
  bytes: number,
): ParameterTier {
  if (requested === 'Standard' && existing === 'Advanced') {
    throw new AwsError(
      'ValidationException',
      "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier.",
    );
  }
  const tier: ParameterTier =
    requested === 'Advanced' ||
    existing === 'Advanced' ||
    (requested === 'Intelligent-Tiering' && bytes > MAX_VALUE_BYTES.Standard)
      ? 'Advanced'
      : 'Standard';
  if (bytes > MAX_VALUE_BYTES.Advanced) {
    throw new AwsError(
      'ValidationException',
      `1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length less than or equal to ${MAX_VALUE_BYTES.Advanced}`,
    );
  }
  if (bytes > MAX_VALUE_BYTES[tier]) {
    throw new AwsError(
      'ValidationException',
      'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.',
    );
  }
  return tier;
}

/** The predicate of DescribeParameters' `ParameterFilters`; this fake knows only the `Name` key. */
function nameFilters(filters: unknown): (name: string) => boolean {
  if (filters === undefined) return () => true;
  if (!Array.isArray(filters)) {
    throw new AwsError('ValidationException', 'ParameterFilters must be a list');
  }
  const predicates = filters.map((filter: JsonObject) => {
    const values = Array.isArray(filter.Values) ? (filter.Values as string[]) : [];
    if (filter.Key !== 'Name') {
      throw new AwsError(
        'InvalidFilterKey',
        `The filter key ${String(filter.Key)} is not supported by this fake`,
      );
    }
    if (filter.Option === 'BeginsWith')
      return (name: string) => values.some((v) => name.startsWith(v));
    if (filter.Option === undefined || filter.Option === 'Equals') {
      return (name: string) => values.includes(name);
    }
    throw new AwsError(
      'InvalidFilterOption',
      `The filter option ${String(filter.Option)} is not valid for Name`,
    );
  });
  return (name) => predicates.every((matches) => matches(name));
}

/** A `MaxResults` from 1 to `max`; absent, `max`. */
function pageSize(value: unknown, max: number, member: string): number {
  if (value === undefined) return max;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new AwsError(
      'ValidationException',
      `1 validation error detected: Value '${String(value)}' at '${member}' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
    );
  }
  return value;
}

/** `Names`: a list of 1 to 10 strings, as GetParameters and DeleteParameters take. */
function requiredNames(input: JsonObject): string[] {
  const names = input.Names;
  if (
    !Array.isArray(names) ||
    names.length < 1 ||
    names.length > MAX_NAMES ||
    !names.every((n) => typeof n === 'string')
  ) {
    throw new AwsError(
      'ValidationException',
      `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to ${MAX_NAMES} and greater than or equal to 1`,
    );
  }
  return names as string[];
}

/** Opaque to clients, like AWS's: the name of the last parameter returned. */
const encodeNameToken = (name: string): string =>
  Buffer.from(`after:${name}`).toString('base64url');

function decodeNameToken(token: string): string {
  const name = /^after:(.+)$/s.exec(Buffer.from(token, 'base64url').toString())?.[1];
  if (name === undefined)
    throw new AwsError('InvalidNextToken', 'The specified token is not valid.');
  return name;
}

/** A required string member, with the error AWS's request validation gives when it is absent. */
function requiredString(input: JsonObject, member: string): string {
  const value = input[member];
  if (typeof value === 'string') return value;
  throw new AwsError(
    'ValidationException',
    `1 validation error detected: Value null at '${member.toLowerCase()}' failed to satisfy constraint: Member must not be null`,
  );
}
