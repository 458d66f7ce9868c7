/**
 * The EC2 model as the guard's unit tests use it: directly, in the SDK's shapes, without HTTP.
 * (ec2.test.ts covers the same model through the wire fake and the real SDK.)
 */
import { AwsError } from '../../../local-aws/fakes/aws-error';
import { Ec2Model } from '../../../local-aws/fakes/ec2-model';

const OWNER = '111122223333';

test('maxPageSize cuts pages smaller than MaxResults asks, and the token reads on', () => {
  const model = new Ec2Model({ region: 'eu-west-1', maxPageSize: 2 });
  const serviceId = model.addService();
  const ids = Array.from({ length: 5 }, () => model.addConnection({ serviceId, owner: OWNER }));

  const pages: string[][] = [];
  let NextToken: string | undefined;
  do {
    const page = model.describeConnections({ MaxResults: 1000, NextToken });
    pages.push(page.VpcEndpointConnections.map((c) => c.VpcEndpointId));
    NextToken = page.NextToken;
  } while (NextToken);

  expect(pages).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);
});

test('keeps a state as it was spelled, and answers it so', () => {
  const model = new Ec2Model({ region: 'eu-west-1' });
  const serviceId = model.addService();
  const pascal = model.addConnection({ serviceId, owner: OWNER, state: 'PendingAcceptance' });

  const { VpcEndpointConnections } = model.describeConnections({
    Filters: [{ Name: 'vpc-endpoint-state', Values: ['pendingAcceptance'] }],
  });

  expect(VpcEndpointConnections.map((c) => [c.VpcEndpointId, c.VpcEndpointState])).toEqual([
    [pascal, 'PendingAcceptance'],
  ]);
});

test('throws errors named by their code, as the SDK names the exceptions it parses', () => {
  const model = new Ec2Model({ region: 'eu-west-1' });
  const serviceId = model.addService();
  const endpointId = model.addConnection({ serviceId, owner: OWNER });

  const dryRun = () =>
    model.rejectConnections({ ServiceId: serviceId, VpcEndpointIds: [endpointId], DryRun: true });

  expect(dryRun).toThrow(AwsError);
  expect(dryRun).toThrow(
    expect.objectContaining({ name: 'DryRunOperation', code: 'DryRunOperation', status: 412 }),
  );
  expect(model.connection(endpointId)?.VpcEndpointState).toBe('pendingAcceptance');
});
