/** A fake SSM Parameter Store endpoint (awsJson1_1) on 127.0.0.1: plain parameters, no history. */
import { AwsError } from './aws-error';
import { JsonRpcFake, type JsonObject } from './json-rpc';

export type SsmOperation =
  'GetParameter' | 'PutParameter' | 'DeleteParameter' | 'DescribeParameters';
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

export interface StoredParameter {
  name: string;
  type: ParameterType;
  value: string;
  version: number;
  tier: ParameterTier;
  lastModifiedDate: Date;
  /** A SecureString's KMS key, as `PutParameter` named it (else SSM's default key). */
  keyId?: string;
}

export interface FakeSsmOptions {
  region: string;
  accountId: string;
}

export class FakeSsm extends JsonRpcFake<SsmOperation> {
  private readonly parameters = new Map<string, StoredParameter>();

  private constructor(private readonly options: FakeSsmOptions) {
    super('ThrottlingException');
  }

  static async start(options: FakeSsmOptions): Promise<FakeSsm> {
    const fake = new FakeSsm(options);
    await fake.serve({
      target: 'AmazonSSM',
      version: '1.1',
      operations: {
        GetParameter: (input) => fake.get(input),
        PutParameter: (input) => fake.put(input),
        DeleteParameter: (input) => fake.delete(input),
        DescribeParameters: (input) => fake.describe(input),
      },
      // SSM names errors by their bare shape name and leaves `message` out when it has none.
      renderError: (err) => ({ body: { __type: err.code, message: err.message || undefined } }),
    });
    return fake;
  }

  /** Creates or overwrites a parameter, as `PutParameter` with `Overwrite: true` would. */
  setParameter(name: string, value: string, type: ParameterType = 'String'): void {
    this.put({ Name: name, Value: value, Type: type, Overwrite: true });
  }

  /** A copy of a parameter, if it exists. */
  parameter(name: string): StoredParameter | undefined {
    const stored = this.parameters.get(name);
    return stored && { ...stored };
  }

  private get(input: JsonObject): JsonObject {
    const p = this.existing(requiredString(input, 'Name'));
    // Without decryption AWS returns the KMS ciphertext; base64 of the value stands in for it.
    const encrypted = p.type === 'SecureString' && input.WithDecryption !== true;
    return {
      Parameter: {
        Name: p.name,
        Type: p.type,
        Value: encrypted ? Buffer.from(p.value).toString('base64') : p.value,
        Version: p.version,
        LastModifiedDate: p.lastModifiedDate.getTime() / 1000,
        ARN: this.arn(p.name),
        DataType: 'text',
      },
    };
  }

  private put(input: JsonObject): JsonObject {
    const name = requiredString(input, 'Name');
    const value = requiredString(input, 'Value');
    const existing = this.parameters.get(name);
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
    };
    this.parameters.set(name, stored);
    return { Version: stored.version, Tier: tier };
  }

  private delete(input: JsonObject): JsonObject {
    this.parameters.delete(this.existing(requiredString(input, 'Name')).name);
    return {};
  }

  /** Metadata without values, sorted by name; the only filter is `Name` (`Equals`, `BeginsWith`). */
  private describe(input: JsonObject): JsonObject {
    const matches = nameFilters(input.ParameterFilters);
    const size = describePageSize(input.MaxResults);
    const after = typeof input.NextToken === 'string' ? decodeNameToken(input.NextToken) : '';
    const found = [...this.parameters.values()]
      .filter((p) => p.name > after && matches(p.name))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const page = found.slice(0, size);
    const last = page[page.length - 1];
    return {
      Parameters: page.map((p) => ({
        Name: p.name,
        ARN: this.arn(p.name),
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

  private arn(name: string): string {
    return `arn:aws:ssm:${this.options.region}:${this.options.accountId}:parameter/${name.replace(/^\//, '')}`;
  }

  private existing(name: string): StoredParameter {
    const stored = this.parameters.get(name);
    // AWS answers ParameterNotFound without a message: the SDK then reports "UnknownError".
    if (!stored) throw new AwsError('ParameterNotFound');
    return stored;
  }
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

function describePageSize(value: unknown): number {
  if (value === undefined) return MAX_DESCRIBE_RESULTS;
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > MAX_DESCRIBE_RESULTS
  ) {
    throw new AwsError(
      'ValidationException',
      `1 validation error detected: Value '${String(value)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${MAX_DESCRIBE_RESULTS}`,
    );
  }
  return value;
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
