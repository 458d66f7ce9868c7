/**
 * The guard as deployed (its esbuild bundle in a child process, the real SDK over HTTP to the
 * fakes) reading a policy from another Region by its full ARN, with principal sets pushed by
 * the CLI's own writer: every SSM call lands in the ARN's Region, a set's accounts decide as
 * listed ones, an edit of a set reaches the guard through the manifest's Parameter Store
 * Change, and a set that cannot be used changes nothing.
 */
import { DeleteParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { pushPrincipalSet } from '../../cli/principal-sets';
import { policyParameter, setPartName } from '../../core/policy-parameter';
import { parameterStoreChange } from '../../local-aws/events';
import { buildGuardBundle } from '../../local-aws/bundle';
import { type AwsFakes, startAwsFakes } from '../../local-aws/fakes';
import { LocalLambda } from '../../local-aws/local-lambda';

const GUARD_REGION = 'eu-west-1';
const HOME_REGION = 'us-west-2';
const ACCOUNT = '123456789012';
const NAME = '/vpce-guard/policy';
const MEMBER = '111122223333';
const BLOCKED = '999988887777';
const STRANGER = '123412341234';
const NEWCOMER = '444455556666';
/** Many members, so that the set takes several parts and GetParameters calls. */
const GOLD = [MEMBER, ...Array.from({ length: 20_000 }, (_, i) => String(200_000_000_000 + i * 7))];

let bundle: string;
let fakes: AwsFakes;
let guard: LocalLambda | undefined;
let ssm: SSMClient;
const arn = `arn:aws:ssm:${HOME_REGION}:${ACCOUNT}:parameter/vpce-guard/policy`;
const home = { region: HOME_REGION };

beforeAll(async () => {
  bundle = await buildGuardBundle();
});

beforeEach(async () => {
  fakes = await startAwsFakes({ region: GUARD_REGION, accountId: ACCOUNT });
  ssm = new SSMClient({
    region: HOME_REGION,
    endpoint: fakes.ssm.url,
    credentials: { accessKeyId: 'operator', secretAccessKey: 'x' },
  });
  fakes.ssm.setParameter(
    NAME,
    JSON.stringify({
      version: 1,
      defaultAction: 'reject',
      denySets: ['blocked'],
      rules: [{ id: 'gold', principalSets: ['gold'], accept: true }],
    }),
    'String',
    home,
  );
  await push('gold', GOLD);
  await push('blocked', [BLOCKED]);
});

afterEach(async () => {
  await guard?.close();
  guard = undefined;
  ssm.destroy();
  await fakes.close();
});

/** `vpce-guard sets push`'s writer, in the home Region. */
async function push(set: string, accounts: readonly string[]) {
  return pushPrincipalSet(ssm, {
    parameter: policyParameter(arn),
    set,
    accounts,
    storage: { tier: 'Advanced', type: 'String' },
    now: new Date(),
    expectedManifestVersion: fakes.ssm.parameter(`${NAME}/sets/${set}`, home)?.version,
  });
}

async function startGuard() {
  guard = await LocalLambda.start(bundle, {
    ...fakes.env(),
    POLICY_PARAMETER_NAME: arn,
    RETRY_QUEUE_URL: fakes.sqs.createQueue('vpce-guard-retry'),
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  return guard;
}

test('reads the policy and its sets by ARN in the ARN’s Region; set members decide as listed accounts', async () => {
  const serviceId = fakes.ec2.addService();
  const member = fakes.ec2.addConnection({ serviceId, owner: MEMBER });
  const blocked = fakes.ec2.addConnection({ serviceId, owner: BLOCKED });
  const stranger = fakes.ec2.addConnection({ serviceId, owner: STRANGER });
  const start = fakes.ssm.calls.length;
  const guard = await startGuard();

  const invocation = await guard.invoke({ reconcile: 'all' });

  expect(invocation.result).toMatchObject({ evaluated: 3, accepted: 1, rejected: 2 });
  expect(fakes.ec2.connection(member)?.VpcEndpointState).toBe('available');
  expect(fakes.ec2.connection(blocked)?.VpcEndpointState).toBe('rejected');
  expect(fakes.ec2.connection(stranger)?.VpcEndpointState).toBe('rejected');
  const reads = fakes.ssm.calls.slice(start);
  expect(new Set(reads.map((c) => `${c.account}/${c.region}`))).toEqual(
    new Set([`${ACCOUNT}/${HOME_REGION}`]),
  );
  expect(reads[0]).toMatchObject({ action: 'GetParameter', params: { Name: arn } });
  // The policy, both manifests in one call, then the parts: far under 20 calls.
  expect(reads.length).toBeLessThanOrEqual(2 + 4);
  expect(guard.logsWith('Decision')).toContainEqual(
    expect.objectContaining({
      owner: MEMBER,
      reason: 'allowed by rule gold (principal set gold), which accepts',
    }),
  );
});

test('a push of a set reaches the guard through its manifest’s Parameter Store Change', async () => {
  const serviceId = fakes.ec2.addService();
  const guard = await startGuard();
  await guard.invoke({ reconcile: 'all' }); // loads and caches the policy and its sets
  const newcomer = fakes.ec2.addConnection({ serviceId, owner: NEWCOMER });

  await push('gold', [...GOLD, NEWCOMER]);
  const change = parameterStoreChange(
    { name: `${NAME}/sets/gold` },
    { region: HOME_REGION, accountId: ACCOUNT },
  );
  const invocation = await guard.invoke(change);

  expect(invocation.result).toMatchObject({ trigger: 'policyChanged', accepted: 1 });
  expect(fakes.ec2.connection(newcomer)?.VpcEndpointState).toBe('available');
});

test('a set with a part missing is no policy at all: nothing is rejected, and the error names the part', async () => {
  const serviceId = fakes.ec2.addService();
  const stranger = fakes.ec2.addConnection({ serviceId, owner: STRANGER });
  const manifest = JSON.parse(fakes.ssm.parameter(`${NAME}/sets/gold`, home)!.value) as {
    version: string;
  };
  const part = setPartName(policyParameter(NAME), 'gold', manifest.version, 1);
  await ssm.send(new DeleteParameterCommand({ Name: part }));
  const guard = await startGuard();

  const invocation = await guard.invoke({ reconcile: 'all' });

  expect(invocation.error?.name).toBe('PolicyUnavailableError');
  expect(invocation.error?.message).toContain(
    `rules[0].principalSets[0]: principal set gold: part 1 of`,
  );
  expect(invocation.error?.message).toContain(
    `(${arn}/set-parts/gold/${manifest.version}/1) is missing`,
  );
  expect(fakes.ec2.connection(stranger)?.VpcEndpointState).toBe('pendingAcceptance');
  expect(fakes.ec2.count('RejectVpcEndpointConnections')).toBe(0);
});
