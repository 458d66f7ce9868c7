import {
  isPolicyChange,
  parameterRegion,
  parsePolicyParameter,
  policyParameter,
  policyParameterProblem,
  setManifestId,
  setManifestName,
  setManifestPrefix,
  setPartId,
  setPartName,
  setStorageProblem,
  smallestTier,
} from '../../core/policy-parameter';

// The one rule for "a parameter name or its full ARN", and where a policy's principal sets
// live beside it (docs/policy.md#principal-sets).

const ARN = 'arn:aws:ssm:us-west-2:111122223333:parameter/vpce-guard/policy';

describe('parsePolicyParameter', () => {
  test.each([
    [
      'a hierarchical name',
      '/vpce-guard/policy',
      { name: '/vpce-guard/policy', key: 'vpce-guard/policy', id: '/vpce-guard/policy' },
    ],
    ['a one-level name', 'policy', { name: 'policy', key: 'policy', id: 'policy' }],
    [
      'an ARN, whose resource drops the name’s leading "/"',
      ARN,
      {
        name: '/vpce-guard/policy',
        key: 'vpce-guard/policy',
        id: ARN,
        location: { partition: 'aws', region: 'us-west-2', accountId: '111122223333' },
      },
    ],
    [
      'an ARN of a one-level name, in another partition',
      'arn:aws-cn:ssm:cn-north-1:111122223333:parameter/policy',
      {
        name: 'policy',
        key: 'policy',
        id: 'arn:aws-cn:ssm:cn-north-1:111122223333:parameter/policy',
        location: { partition: 'aws-cn', region: 'cn-north-1', accountId: '111122223333' },
      },
    ],
  ])('reads %s', (_case, value, parameter) => {
    expect(parsePolicyParameter(value)).toEqual({ parameter });
  });

  test.each([
    ['a name with a space', 'vpce guard', /is not an SSM parameter name/],
    ['a path without its leading "/"', 'vpce-guard/policy', /is not an SSM parameter name/],
    ['a reserved prefix', '/aws/policy', /reserves/],
    ['an ARN of another service', 'arn:aws:s3:::bucket', /is not an SSM parameter ARN/],
    [
      'an ARN without a Region',
      'arn:aws:ssm::111122223333:parameter/p',
      /is not an SSM parameter ARN/,
    ],
    [
      'an ARN with a short account',
      'arn:aws:ssm:us-west-2:1111:parameter/p',
      /is not an SSM parameter ARN/,
    ],
    [
      'an ARN of a reserved name',
      'arn:aws:ssm:us-west-2:111122223333:parameter/ssm/p',
      /names a parameter that starts with "aws" or "ssm"/,
    ],
    [
      'an ARN with an empty name',
      'arn:aws:ssm:us-west-2:111122223333:parameter/',
      /names a parameter that is not/,
    ],
  ])('refuses %s, saying why', (_case, value, problem) => {
    expect(policyParameterProblem(value)).toMatch(problem);
  });

  test('the SSM client reads an ARN in its Region, and a name in its own', () => {
    expect(parameterRegion(ARN)).toEqual({ region: 'us-west-2' });
    expect(parameterRegion('/vpce-guard/policy')).toEqual({});
  });
});

describe('principal sets live under the policy’s path', () => {
  const byName = parsePolicyParameter('/vpce-guard/policy');
  const byArn = parsePolicyParameter(ARN);
  const flat = parsePolicyParameter('policy');
  if (!('parameter' in byName && 'parameter' in byArn && 'parameter' in flat)) throw new Error();

  test('the manifest at <policy>/sets/<set>, the parts at <policy>/set-parts/<set>/<version>/<n>', () => {
    expect(setManifestName(byName.parameter, 'gold')).toBe('/vpce-guard/policy/sets/gold');
    expect(setPartName(byName.parameter, 'gold', 'v1', 3)).toBe(
      '/vpce-guard/policy/set-parts/gold/v1/3',
    );
    // A one-level policy name becomes a path: a name with a "/" must start with one.
    expect(setManifestName(flat.parameter, 'gold')).toBe('/policy/sets/gold');
  });

  test('a reader names them as it names the policy: by name, or by ARN beside the policy’s', () => {
    expect(setManifestId(byName.parameter, 'gold')).toBe('/vpce-guard/policy/sets/gold');
    expect(setManifestId(byArn.parameter, 'gold')).toBe(`${ARN}/sets/gold`);
    expect(setPartId(byArn.parameter, 'gold', 'v1', 1)).toBe(`${ARN}/set-parts/gold/v1/1`);
    expect(setManifestPrefix(byArn.parameter)).toBe('/vpce-guard/policy/sets/');
  });

  test('a policy too deep for its sets’ four more levels is refused, naming the limit', () => {
    const deep = parsePolicyParameter(
      `/${Array.from({ length: 12 }, (_, i) => `l${i}`).join('/')}`,
    );
    if (!('parameter' in deep)) throw new Error();
    expect(setStorageProblem(deep.parameter)).toMatch(
      /has 12 levels; .* need 4 more and SSM allows 15/,
    );
    expect(setStorageProblem(byName.parameter)).toBeUndefined();
  });

  test.each([
    ['/vpce-guard/policy', true],
    ['vpce-guard/policy', true],
    ['/vpce-guard/policy/sets/gold', true],
    ['/vpce-guard/policy/set-parts/gold/v1/1', false],
    ['/vpce-guard/policy2', false],
    ['/vpce-guard/policy/other', false],
  ])('a change of %s concerns the policy: %s', (name, expected) => {
    expect(isPolicyChange(policyParameter('/vpce-guard/policy'), name)).toBe(expected);
    expect(isPolicyChange(policyParameter(ARN), name)).toBe(expected);
  });
});

test('the smallest tier that holds a value', () => {
  expect([4096, 4097, 8192, 8193].map(smallestTier)).toEqual([
    'Standard',
    'Advanced',
    'Advanced',
    undefined,
  ]);
});
