/**
 * A fake Amazon DynamoDB endpoint (awsJson1_0, `DynamoDB_20120810.*`) on 127.0.0.1: tables
 * with a string partition key, and `PutItem` with the condition expressions the guard writes
 * (`attribute_not_exists(…)`, comparisons, `AND`, `OR`), failing as DynamoDB does with
 * `ConditionalCheckFailedException`. No TTL deletion: as on AWS, an expired item stays until
 * it is deleted, and only a condition on its TTL attribute tells it apart.
 */
import { AwsError } from './aws-error';
import { JsonRpcFake, type JsonObject } from './json-rpc';

export type DynamoDbOperation = 'PutItem';

/** An attribute value in DynamoDB's JSON: `{ "S": "…" }`, `{ "N": "42" }`, … */
export type AttributeValue = Record<string, unknown>;
export type Item = Record<string, AttributeValue>;

interface Table {
  readonly partitionKey: string;
  readonly items: Map<string, Item>;
}

export class FakeDynamoDb extends JsonRpcFake<DynamoDbOperation> {
  private readonly tables = new Map<string, Table>();

  private constructor() {
    super('ThrottlingException');
  }

  static async start(): Promise<FakeDynamoDb> {
    const fake = new FakeDynamoDb();
    await fake.serve({
      target: 'DynamoDB_20120810',
      version: '1.0',
      operations: { PutItem: (input) => fake.putItem(input) },
      // DynamoDB qualifies the error's type with its namespace; the SDK reads what follows `#`.
      renderError: (err) => ({
        body: {
          __type: `com.amazonaws.dynamodb.v20120810#${err.code}`,
          message: err.message,
          ...(err instanceof ConditionalCheckFailed && err.item ? { Item: err.item } : {}),
        },
      }),
    });
    return fake;
  }

  /** Creates a table whose items are keyed by the string attribute `partitionKey`. */
  createTable(name: string, partitionKey: string): void {
    if (this.tables.has(name)) throw new Error(`table ${name} already exists`);
    this.tables.set(name, { partitionKey, items: new Map() });
  }

  /** A copy of the item whose partition key is `key`, if there is one. */
  item(table: string, key: string): Item | undefined {
    const found = this.table(table).items.get(key);
    return found && structuredClone(found);
  }

  /** Every item of a table, in the order they were first written. */
  items(table: string): Item[] {
    return [...this.table(table).items.values()].map((i) => structuredClone(i));
  }

  private putItem(input: JsonObject): JsonObject {
    const table = this.table(String(input.TableName ?? ''));
    const item = input.Item as Item | undefined;
    const key = item?.[table.partitionKey]?.S;
    if (typeof key !== 'string' || key === '') {
      throw new AwsError(
        'ValidationException',
        `One or more parameter values were invalid: Missing the key ${table.partitionKey} in the item`,
      );
    }
    if (typeof input.ConditionExpression === 'string') {
      const condition = new Condition(
        input.ConditionExpression,
        (input.ExpressionAttributeNames ?? {}) as Record<string, string>,
        (input.ExpressionAttributeValues ?? {}) as Record<string, AttributeValue>,
      );
      const existing = table.items.get(key);
      if (!condition.holdsFor(existing)) {
        const returnOld = input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD';
        throw new ConditionalCheckFailed(returnOld ? existing : undefined);
      }
    }
    table.items.set(key, structuredClone(item!));
    return {};
  }

  /** A table by name or ARN (`arn:aws:dynamodb:<region>:<account>:table/<name>`). */
  private table(nameOrArn: string): Table {
    const name = /:table\/([^/]+)$/.exec(nameOrArn)?.[1] ?? nameOrArn;
    const table = this.tables.get(name);
    if (!table) throw new AwsError('ResourceNotFoundException', 'Requested resource not found');
    return table;
  }
}

/** With `ReturnValuesOnConditionCheckFailure: ALL_OLD`, the failure carries the item it met. */
class ConditionalCheckFailed extends AwsError {
  constructor(readonly item: Item | undefined) {
    super('ConditionalCheckFailedException', 'The conditional request failed');
  }
}

const COMPARISONS = ['<=', '>=', '<>', '<', '>', '='] as const;
type Comparison = (typeof COMPARISONS)[number];

/**
 * The condition expressions the fake understands: terms joined by `OR` and `AND` (AND binds
 * tighter; no parentheses, no NOT), each `attribute_not_exists(path)`,
 * `attribute_exists(path)` or `path <op> :value`, with paths as names or `#placeholders`. Any
 * other expression is refused with a ValidationException that says so.
 */
class Condition {
  constructor(
    private readonly expression: string,
    private readonly names: Record<string, string>,
    private readonly values: Record<string, AttributeValue>,
  ) {}

  holdsFor(item: Item | undefined): boolean {
    return this.expression
      .split(/\s+OR\s+/i)
      .some((any) => any.split(/\s+AND\s+/i).every((term) => this.term(term.trim(), item)));
  }

  private term(term: string, item: Item | undefined): boolean {
    const fn = /^attribute_(not_)?exists\(\s*([#\w]+)\s*\)$/.exec(term);
    if (fn) {
      const exists = item?.[this.name(fn[2]!)] !== undefined;
      return fn[1] ? !exists : exists;
    }
    const op = COMPARISONS.find((c) => term.includes(c));
    const [left, right] = op ? term.split(op).map((s) => s.trim()) : [];
    if (!op || !left || !right?.startsWith(':')) {
      throw new AwsError(
        'ValidationException',
        `Invalid ConditionExpression: the fake does not support "${term}"`,
      );
    }
    const value = this.values[right];
    if (!value) {
      throw new AwsError(
        'ValidationException',
        `Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: ${right}`,
      );
    }
    const attribute = item?.[this.name(left)];
    return attribute !== undefined && compare(attribute, op, value);
  }

  private name(path: string): string {
    if (!path.startsWith('#')) return path;
    const name = this.names[path];
    if (name === undefined) {
      throw new AwsError(
        'ValidationException',
        `Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: ${path}`,
      );
    }
    return name;
  }
}

/** Numbers compare as numbers, strings as strings; values of different types never match. */
function compare(a: AttributeValue, op: Comparison, b: AttributeValue): boolean {
  let order: number;
  if (typeof a.N === 'string' && typeof b.N === 'string') order = Number(a.N) - Number(b.N);
  else if (typeof a.S === 'string' && typeof b.S === 'string')
    order = a.S < b.S ? -1 : a.S > b.S ? 1 : 0;
  else return op === '<>';
  switch (op) {
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
    case '=':
      return order === 0;
    case '<>':
      return order !== 0;
  }
}
