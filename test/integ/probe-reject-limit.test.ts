/**
 * The Reject probe's search, against the local AWS kit's EC2 model (which answers made-up IDs
 * with `InvalidVpcEndpointId.NotFound` entries, as the guard's tests expect of EC2) behind a
 * client that refuses calls of more than a given number of IDs, as EC2 might.
 */
import { EC2Client, RejectVpcEndpointConnectionsCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsError } from '../../local-aws/fakes/aws-error';
import { Ec2Model } from '../../local-aws/fakes/ec2-model';
import { probeRejectLimit } from '../../integ/probe-reject-limit';

const ACCOUNT = '123456789012';
const noPause = async () => {};

/** An EC2 client answered by the model, refusing calls of more than `limit` IDs. */
function ec2WithLimit(limit: number) {
  const model = new Ec2Model({ region: 'us-east-1' });
  const serviceId = model.addService();
  const rejectedEndpoint = model.addConnection({ serviceId, owner: ACCOUNT, state: 'rejected' });
  const client = new EC2Client({ region: 'us-east-1' });
  const calls: string[][] = [];
  mockClient(client)
    .on(RejectVpcEndpointConnectionsCommand)
    .callsFake((input) => {
      calls.push(input.VpcEndpointIds ?? []);
      if ((input.VpcEndpointIds?.length ?? 0) > limit) {
        throw new AwsError('InvalidParameterValue', `at most ${limit} IDs, please`);
      }
      return model.rejectConnections(input);
    });
  return { client, serviceId, rejectedEndpoint, calls, model };
}

describe('the Reject probe', () => {
  test('finds the largest count EC2 answers by doubling, then halving the gap', async () => {
    const { client, serviceId, rejectedEndpoint, calls, model } = ec2WithLimit(1300);
    const probe = await probeRejectLimit(client, {
      serviceId,
      knownEndpointId: rejectedEndpoint,
      pause: noPause,
    });

    expect(probe).toMatchObject({ largestAnswered: 1300, smallestRefused: 1301 });
    expect(probe.conclusion).toBe(
      'EC2 answers up to 1300 IDs in one call and refuses 1301 (InvalidParameterValue: at most 1300 IDs, please).',
    );
    // 2, then 1000 and 2000, then a bisection of 1000..2000: 10 more calls.
    expect(calls.map((ids) => ids.length).slice(0, 3)).toEqual([2, 1000, 2000]);
    expect(calls).toHaveLength(13);
    // Made-up IDs in EC2's shape, after the known endpoint; nothing changed state.
    for (const ids of calls) {
      expect(ids[0]).toBe(rejectedEndpoint);
      expect(ids.slice(1).every((id) => /^vpce-[0-9a-f]{17}$/.test(id))).toBe(true);
    }
    expect(model.connection(rejectedEndpoint)?.VpcEndpointState).toBe('rejected');
    // What EC2 said of each kind of ID is in the report.
    const answered = probe.attempts.find((a) => a.ids === 1000);
    expect(answered?.unsuccessfulByCode).toEqual({
      'InvalidVpcEndpointId.NotFound': 999,
      InvalidState: 1,
    });
    expect(answered?.knownEndpointEntry).toMatchObject({
      ResourceId: rejectedEndpoint,
      Error: { Code: 'InvalidState' },
    });
  });

  test('bisects below the first large count when EC2 refuses it', async () => {
    const { client, serviceId } = ec2WithLimit(255);
    const probe = await probeRejectLimit(client, { serviceId, pause: noPause });
    expect(probe).toMatchObject({ largestAnswered: 255, smallestRefused: 256 });
  });

  test('says the limit is higher than the ceiling when EC2 answers every count', async () => {
    const { client, serviceId, calls } = ec2WithLimit(Infinity);
    const probe = await probeRejectLimit(client, { serviceId, ceiling: 4000, pause: noPause });
    expect(calls.map((ids) => ids.length)).toEqual([2, 1000, 2000, 4000]);
    expect(probe.largestAnswered).toBe(4000);
    expect(probe.smallestRefused).toBeUndefined();
    expect(probe.conclusion).toMatch(
      /^EC2 answered 4000 IDs in one call, the most the probe tries/,
    );
  });

  test('is inconclusive when EC2 refuses even two IDs, and says why', async () => {
    const { client, calls } = ec2WithLimit(Infinity);
    const probe = await probeRejectLimit(client, {
      serviceId: 'vpce-svc-0000000000000000f', // not in the model: the whole call fails
      pause: noPause,
    });
    expect(calls).toHaveLength(1);
    expect(probe.largestAnswered).toBeUndefined();
    expect(probe.conclusion).toMatch(
      /^Inconclusive: EC2 refused a call of 2 IDs \(InvalidVpcEndpointServiceId\.NotFound: /,
    );
  });
});
