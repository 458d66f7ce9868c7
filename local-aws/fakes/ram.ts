/**
 * A fake AWS RAM endpoint on 127.0.0.1 for resource shares of SSM parameters, in RAM's
 * REST-JSON protocol as @aws-sdk/client-ram sends it: `POST /<operation, lower case>` with the
 * input's members, camelCase, in a JSON body; timestamps in epoch seconds; an error is an HTTP
 * status with its code in the `x-amzn-errortype` header and `{"message"}` in the body.
 *
 * A share belongs to an account and a Region: the caller's, told apart by the SSM fake's own
 * access keys and SigV4 scopes (`FakeSsm.callerOf`). RAM's associations are asynchronous: one
 * starts ASSOCIATING and settles (ASSOCIATED, or FAILED with a status message) once
 * GetResourceShareAssociations has reported it `settleAfterReads` times, or at `settle()`.
 * Once ASSOCIATED, every account principal of the share reads the parameter by ARN from the
 * SSM fake (wired with `FakeSsm.addSharing`); a disassociation revokes that at once.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AwsError } from './aws-error';
import { listen, newRequestId, type Listening, type Reply } from './http';
import { CallLog, type CallRecord, type Fault, FaultPlan, faultError } from './instrumentation';
import type { JsonObject } from './json-rpc';
import type { Caller, FakeSsm, Where } from './ssm';

export type RamOperation =
  | 'GetResourceShares'
  | 'GetResourceShareAssociations'
  | 'AssociateResourceShare'
  | 'DisassociateResourceShare';

/** The request path of each operation, as the SDK's schema (`http` trait) names it. */
const PATHS: Readonly<Record<string, RamOperation>> = {
  '/getresourceshares': 'GetResourceShares',
  '/getresourceshareassociations': 'GetResourceShareAssociations',
  '/associateresourceshare': 'AssociateResourceShare',
  '/disassociateresourceshare': 'DisassociateResourceShare',
};

export type AssociationStatus =
  'ASSOCIATING' | 'ASSOCIATED' | 'FAILED' | 'DISASSOCIATING' | 'DISASSOCIATED';

export interface FakeShare {
  readonly arn: string;
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly status: 'ACTIVE' | 'DELETED';
  /** Account IDs (the only principals that grant access here), organization or OU ARNs. */
  readonly principals: string[];
  readonly allowExternalPrincipals: boolean;
  readonly tags: { key: string; value: string }[];
  readonly created: Date;
}

export interface FakeAssociation {
  readonly shareArn: string;
  readonly resourceArn: string;
  status: AssociationStatus;
  statusMessage?: string;
  readonly created: Date;
  updated: Date;
  /** Reads by GetResourceShareAssociations left before a pending association settles. */
  readsLeft: number;
}

/** AssociateResourceShare: "You can associate up to 100 resources per call" (RAM API reference). */
const MAX_RESOURCES_PER_CALL = 100;
/** "Maximum number of resource associations per resource share": 5,000 (RAM user guide, quotas). */
const MAX_RESOURCES_PER_SHARE = 5000;
/** `maxResults`: 1 to 500 (the API's MaxResults shape). */
const MAX_RESULTS = 500;
const SHARE_ARN = /^arn:aws[a-z-]*:ram:([a-z0-9-]+):(\d{12}):resource-share\/[\w-]+$/;
const ANY_ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{0,12}:.+$/;
const PARAMETER_ARN = /^arn:aws[a-z-]*:ssm:([a-z0-9-]+):(\d{12}):parameter\/(.+)$/;
const LIVE: readonly AssociationStatus[] = ['ASSOCIATING', 'ASSOCIATED'];

export interface FakeRamOptions {
  /** The Parameter Store whose parameters the shares hold, and whose access keys name accounts. */
  readonly ssm: FakeSsm;
  /** Most results a page holds, whatever maxResults asks (RAM may return fewer). @default 500 */
  readonly maxPageSize?: number;
}

export class FakeRam {
  /**
   * How many GetResourceShareAssociations answers report a pending association before it
   * settles; `Infinity` keeps it pending until `settle()`.
   */
  settleAfterReads = 1;
  private readonly shares: FakeShare[] = [];
  private readonly links: FakeAssociation[] = [];
  private readonly log = new CallLog<RamOperation>('ThrottlingException');
  private readonly faults = new FaultPlan<RamOperation>();
  private readonly associationFaults = new FaultPlan<string>();
  private server!: Listening; // set by start()

  private constructor(private readonly options: FakeRamOptions) {}

  static async start(options: FakeRamOptions): Promise<FakeRam> {
    const fake = new FakeRam(options);
    options.ssm.addSharing({ grants: (arn, account) => fake.grants(arn, account) });
    fake.server = await listen((req, body) => fake.handle(req, body));
    return fake;
  }

  get url(): string {
    return this.server.url;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  get calls(): readonly CallRecord[] {
    return this.log.calls;
  }

  count(operation: RamOperation): number {
    return this.log.count(operation);
  }

  /** The next `times` calls of `operation` fail with `fault` (default HTTP status 400). */
  failNext(operation: RamOperation, fault: Fault, times = 1): void {
    this.faults.add((op) => op === operation, fault, times);
  }

  /** The next `times` associations of a resource that `match`es settle FAILED, saying `why`. */
  failAssociations(match: (resourceArn: string) => boolean, why: string, times = 1): void {
    this.associationFaults.add(match, { code: 'FAILED', message: why }, times);
  }

  /**
   * A share as CloudFormation's `AWS::RAM::ResourceShare` leaves it: ACTIVE, its resources
   * ASSOCIATED. Returns its ARN.
   */
  createShare({
    name,
    principals,
    resourceArns = [],
    tags = [],
    ...where
  }: Where & {
    name: string;
    principals: string[];
    resourceArns?: string[];
    tags?: { key: string; value: string }[];
  }): string {
    const { account, region } = this.options.ssm.locate(where);
    const share: FakeShare = {
      arn: `arn:aws:ram:${region}:${account}:resource-share/${randomUUID()}`,
      name,
      account,
      region,
      status: 'ACTIVE',
      principals: [...principals],
      allowExternalPrincipals: true,
      tags: [...tags],
      created: new Date(),
    };
    this.shares.push(share);
    for (const arn of resourceArns) {
      const problem = this.unshareable(share, arn);
      if (problem) throw new Error(`cannot share ${arn}: ${problem}`);
      const link = this.link(share, arn);
      link.readsLeft = 0;
      this.settleIfDue(link);
    }
    return share.arn;
  }

  /** Settles every pending association and disassociation now. */
  settle(): void {
    for (const link of this.links) if (link.readsLeft > 0) link.readsLeft = 0;
    for (const link of this.links) this.settleIfDue(link);
  }

  /** Copies of the associations of resources (of one share), oldest first. */
  associations(shareArn?: string): FakeAssociation[] {
    return this.links.filter((l) => !shareArn || l.shareArn === shareArn).map((l) => ({ ...l }));
  }

  /** The resources a share holds (ASSOCIATED), sorted. */
  sharedResources(shareArn: string): string[] {
    return this.links
      .filter((l) => l.shareArn === shareArn && l.status === 'ASSOCIATED')
      .map((l) => l.resourceArn)
      .sort();
  }

  /** Whether `account` reads the parameter `arn` through an ACTIVE share that holds it. */
  private grants(arn: string, account: string): boolean {
    return this.links.some(
      (l) =>
        l.resourceArn === arn &&
        l.status === 'ASSOCIATED' &&
        this.shares.some(
          (s) => s.arn === l.shareArn && s.status === 'ACTIVE' && s.principals.includes(account),
        ),
    );
  }

  private async handle(req: IncomingMessage, body: string): Promise<Reply> {
    const headers = { 'content-type': 'application/json', 'x-amzn-requestid': newRequestId() };
    const operation = PATHS[(req.url ?? '').split('?')[0]!];
    const caller = this.options.ssm.callerOf(req);
    const call: CallRecord = {
      action: operation ?? `${req.method} ${req.url}`,
      params: undefined,
      throttled: false,
      at: Date.now(),
      ...caller,
    };
    return this.log.answer(
      call,
      () => {
        if (!operation || req.method !== 'POST') {
          throw new AwsError('UnknownOperationException', `No operation at ${req.url}`, 404);
        }
        const input = parseBody(body);
        call.params = input;
        const fault = this.faults.take(operation);
        if (fault) throw faultError(fault);
        const output = this.answer(operation, input, caller);
        return { status: 200, headers, body: JSON.stringify(output) };
      },
      (err) => ({
        status: err.status,
        headers: { ...headers, 'x-amzn-errortype': err.code },
        body: JSON.stringify({ message: err.message || undefined }),
      }),
    );
  }

  private answer(operation: RamOperation, input: JsonObject, caller: Caller): JsonObject {
    switch (operation) {
      case 'GetResourceShares':
        return this.getShares(input, caller);
      case 'GetResourceShareAssociations':
        return this.getAssociations(input, caller);
      case 'AssociateResourceShare':
        return this.associate(input, caller);
      case 'DisassociateResourceShare':
        return this.disassociate(input, caller);
    }
  }

  /** SELF: the caller's shares; OTHER-ACCOUNTS: the shares whose principals name its account. */
  private getShares(input: JsonObject, caller: Caller): JsonObject {
    const owner = required(input, 'resourceOwner');
    if (owner !== 'SELF' && owner !== 'OTHER-ACCOUNTS') {
      throw new AwsError('InvalidParameterException', `resourceOwner ${owner} is not valid`);
    }
    const arns = stringList(input.resourceShareArns);
    const tagFilters = Array.isArray(input.tagFilters) ? (input.tagFilters as JsonObject[]) : [];
    const found = this.shares.filter(
      (s) =>
        s.region === caller.region &&
        (owner === 'SELF' ? s.account === caller.account : s.principals.includes(caller.account)) &&
        (!arns || arns.includes(s.arn)) &&
        (input.name === undefined || s.name === input.name) &&
        (input.resourceShareStatus === undefined || s.status === input.resourceShareStatus) &&
        // Several tag filters are evaluated as an OR (API reference, TagFilter).
        (tagFilters.length === 0 || tagFilters.some((f) => matchesTag(s, f))),
    );
    const { page, nextToken } = this.page(found, input);
    return {
      resourceShares: page.map((s) => ({
        resourceShareArn: s.arn,
        name: s.name,
        owningAccountId: s.account,
        allowExternalPrincipals: s.allowExternalPrincipals,
        status: s.status,
        tags: s.tags,
        creationTime: s.created.getTime() / 1000,
        lastUpdatedTime: s.created.getTime() / 1000,
        featureSet: 'STANDARD',
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  /** The associations of the caller's shares; a pending one is reported, then maybe settles. */
  private getAssociations(input: JsonObject, caller: Caller): JsonObject {
    const type = required(input, 'associationType');
    if (type !== 'RESOURCE' && type !== 'PRINCIPAL') {
      throw new AwsError('InvalidParameterException', `associationType ${type} is not valid`);
    }
    if (type === 'PRINCIPAL' && input.resourceArn !== undefined) {
      throw new AwsError(
        'InvalidParameterException',
        'resourceArn cannot be specified with associationType PRINCIPAL',
      );
    }
    if (type === 'RESOURCE' && input.principal !== undefined) {
      throw new AwsError(
        'InvalidParameterException',
        'principal cannot be specified with associationType RESOURCE',
      );
    }
    const arns = stringList(input.resourceShareArns);
    const owned = this.shares.filter(
      (s) =>
        s.account === caller.account &&
        s.region === caller.region &&
        (!arns || arns.includes(s.arn)),
    );
    if (type !== 'RESOURCE') {
      throw new AwsError(
        'InvalidParameterException',
        'associationType PRINCIPAL is not served by this fake (it lists RESOURCE associations only)',
      );
    }
    const rows = this.links.filter(
      (l) =>
        owned.some((s) => s.arn === l.shareArn) &&
        (input.resourceArn === undefined || l.resourceArn === input.resourceArn) &&
        (input.associationStatus === undefined || l.status === input.associationStatus),
    );
    const { page, nextToken } = this.page(rows, input);
    const answer = page.map((l) =>
      associationOf(
        this.shares.find((s) => s.arn === l.shareArn)!,
        l,
      ),
    );
    for (const link of page) {
      if (link.readsLeft > 0) link.readsLeft -= 1;
      this.settleIfDue(link);
    }
    return { resourceShareAssociations: answer, ...(nextToken ? { nextToken } : {}) };
  }

  private associate(input: JsonObject, caller: Caller): JsonObject {
    const share = this.ownShare(required(input, 'resourceShareArn'), caller);
    const resources = stringList(input.resourceArns) ?? [];
    if (input.principals !== undefined) {
      throw new AwsError(
        'InvalidParameterException',
        'principals are not served by this fake (it associates resources only)',
      );
    }
    if (resources.length > MAX_RESOURCES_PER_CALL) {
      throw new AwsError(
        'ResourceShareLimitExceededException',
        `You can associate up to ${MAX_RESOURCES_PER_CALL} resources per call.`,
      );
    }
    for (const arn of resources) {
      if (!ANY_ARN.test(arn)) throw new AwsError('MalformedArnException', `Malformed ARN: ${arn}`);
    }
    const live = this.links.filter((l) => l.shareArn === share.arn && LIVE.includes(l.status));
    const added = resources.filter((arn) => !live.some((l) => l.resourceArn === arn));
    if (live.length + added.length > MAX_RESOURCES_PER_SHARE) {
      throw new AwsError(
        'ResourceShareLimitExceededException',
        `The resource share would hold more than ${MAX_RESOURCES_PER_SHARE} resources.`,
      );
    }
    const links = resources.map((arn) => this.link(share, arn));
    return { resourceShareAssociations: links.map((l) => associationOf(share, l)) };
  }

  private disassociate(input: JsonObject, caller: Caller): JsonObject {
    const share = this.ownShare(required(input, 'resourceShareArn'), caller);
    const resources = stringList(input.resourceArns) ?? [];
    if (resources.length > MAX_RESOURCES_PER_CALL) {
      throw new AwsError(
        'ResourceShareLimitExceededException',
        `You can disassociate up to ${MAX_RESOURCES_PER_CALL} resources per call.`,
      );
    }
    const links = resources.map((arn) => {
      const link = this.links.find(
        (l) => l.shareArn === share.arn && l.resourceArn === arn && LIVE.includes(l.status),
      );
      // AWS does not document the answer for a resource the share does not hold: a guess.
      if (!link) {
        throw new AwsError('UnknownResourceException', `${arn} is not in ${share.arn}`);
      }
      return link;
    });
    for (const link of links) {
      // Access ends at once, not when RAM reports DISASSOCIATED: the worst case for readers.
      link.status = 'DISASSOCIATING';
      link.statusMessage = undefined;
      link.updated = new Date();
      link.readsLeft = this.settleAfterReads;
      this.settleIfDue(link);
    }
    return { resourceShareAssociations: links.map((l) => associationOf(share, l)) };
  }

  /** The association of `arn` with `share`: an ASSOCIATED or pending one stays as it is. */
  private link(share: FakeShare, arn: string): FakeAssociation {
    let link = this.links.find((l) => l.shareArn === share.arn && l.resourceArn === arn);
    if (link && LIVE.includes(link.status)) return link;
    const now = new Date();
    if (!link) {
      link = {
        shareArn: share.arn,
        resourceArn: arn,
        status: 'ASSOCIATING',
        created: now,
        updated: now,
        readsLeft: 0,
      };
      this.links.push(link);
    }
    link.status = 'ASSOCIATING';
    link.statusMessage = undefined;
    link.updated = now;
    link.readsLeft = this.settleAfterReads;
    this.settleIfDue(link);
    return link;
  }

  private settleIfDue(link: FakeAssociation): void {
    if (link.readsLeft > 0) return;
    if (link.status === 'DISASSOCIATING') {
      link.status = 'DISASSOCIATED';
      link.updated = new Date();
    } else if (link.status === 'ASSOCIATING') {
      const share = this.shares.find((s) => s.arn === link.shareArn)!;
      const problem =
        this.unshareable(share, link.resourceArn) ??
        this.associationFaults.take(link.resourceArn)?.message;
      link.status = problem ? 'FAILED' : 'ASSOCIATED';
      if (problem) link.statusMessage = problem;
      link.updated = new Date();
    }
  }

  /**
   * Why RAM would not share `arn` in `share`, or undefined. AWS documents that only Advanced
   * parameters can be shared, by their owner, in their Region; how RAM reports it (a FAILED
   * association, and its message) is not documented, so the messages are the fake's own.
   */
  private unshareable(share: FakeShare, arn: string): string | undefined {
    const parsed = PARAMETER_ARN.exec(arn);
    if (!parsed) return 'the fake shares SSM parameters only';
    const [, region, account] = parsed;
    if (region !== share.region || account !== share.account) {
      return `the resource is not owned by ${share.account} in ${share.region}`;
    }
    const parameter = this.options.ssm.parameterAt(arn)?.parameter;
    if (!parameter) return 'the resource does not exist';
    if (parameter.tier !== 'Advanced') return 'only advanced parameters can be shared';
    return undefined;
  }

  private ownShare(arn: string, caller: Caller): FakeShare {
    if (!SHARE_ARN.test(arn)) throw new AwsError('MalformedArnException', `Malformed ARN: ${arn}`);
    const share = this.shares.find(
      (s) =>
        s.arn === arn &&
        s.account === caller.account &&
        s.region === caller.region &&
        s.status === 'ACTIVE',
    );
    if (!share) {
      throw new AwsError('UnknownResourceException', `ResourceShare ${arn} could not be found.`);
    }
    return share;
  }

  /** One page of `rows`: `maxResults` (1–500) capped at `maxPageSize`, after `nextToken`. */
  private page<T>(rows: readonly T[], input: JsonObject): { page: T[]; nextToken?: string } {
    const max = input.maxResults ?? MAX_RESULTS;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > MAX_RESULTS) {
      throw new AwsError(
        'InvalidMaxResultsException',
        `maxResults must be from 1 to ${MAX_RESULTS}`,
      );
    }
    const size = Math.min(max, this.options.maxPageSize ?? MAX_RESULTS);
    let start = 0;
    if (input.nextToken !== undefined) {
      const match = /^offset:(\d+)$/.exec(
        Buffer.from(String(input.nextToken), 'base64url').toString(),
      );
      if (!match)
        throw new AwsError('InvalidNextTokenException', 'The specified token is not valid.');
      start = Number(match[1]);
    }
    const page = rows.slice(start, start + size);
    const next = start + size;
    return next < rows.length
      ? { page, nextToken: Buffer.from(`offset:${next}`).toString('base64url') }
      : { page };
  }
}

function matchesTag(share: FakeShare, filter: JsonObject): boolean {
  const values = stringList(filter.tagValues) ?? [];
  return share.tags.some(
    (t) => t.key === filter.tagKey && (values.length === 0 || values.includes(t.value)),
  );
}

function parseBody(body: string): JsonObject {
  try {
    const input: unknown = JSON.parse(body || '{}');
    if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
      return input as JsonObject;
    }
  } catch {
    // answered below
  }
  throw new AwsError('InvalidParameterException', 'The request body is not a JSON object');
}

function required(input: JsonObject, member: string): string {
  const value = input[member];
  if (typeof value === 'string' && value !== '') return value;
  throw new AwsError('MissingRequiredParameterException', `${member} is required`);
}

function stringList(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new AwsError('InvalidParameterException', 'expected a list of strings');
  }
  return value as string[];
}

/** An association as RAM's answers describe it (timestamps in epoch seconds). */
function associationOf(share: FakeShare, link: FakeAssociation): JsonObject {
  return {
    resourceShareArn: share.arn,
    resourceShareName: share.name,
    associatedEntity: link.resourceArn,
    associationType: 'RESOURCE',
    status: link.status,
    ...(link.statusMessage ? { statusMessage: link.statusMessage } : {}),
    creationTime: link.created.getTime() / 1000,
    lastUpdatedTime: link.updated.getTime() / 1000,
    external: false,
  };
}
