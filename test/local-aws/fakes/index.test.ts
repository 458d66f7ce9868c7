import { DescribeVpcEndpointConnectionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetResourceSharesCommand, RAMClient } from '@aws-sdk/client-ram';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { startAwsFakes, type AwsFakes } from '../../../local-aws/fakes/index';

let fakes: AwsFakes;
const savedEnv = { ...process.env };

beforeAll(async () => {
  fakes = await startAwsFakes({ region: 'ap-southeast-2', accountId: '123456789012' });
});

afterAll(async () => {
  process.env = savedEnv;
  await fakes.close();
});

test('env() points SDK clients configured only by the environment at the fakes', async () => {
  const serviceId = fakes.ec2.addService();
  fakes.ec2.addConnection({ serviceId, owner: '111122223333' });
  fakes.ssm.setParameter('/policy', '{}');
  const queueUrl = fakes.sqs.createQueue('retry');
  process.env = { ...savedEnv, ...fakes.env() };

  const ec2 = new EC2Client({});
  const ssm = new SSMClient({});
  const sqs = new SQSClient({});
  const described = await ec2.send(new DescribeVpcEndpointConnectionsCommand({}));
  const parameter = await ssm.send(new GetParameterCommand({ Name: '/policy' }));
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"retry":true}' }));
  [ec2, ssm, sqs].forEach((client) => client.destroy());

  expect(described.VpcEndpointConnections).toHaveLength(1);
  expect(parameter.Parameter?.ARN).toBe('arn:aws:ssm:ap-southeast-2:123456789012:parameter/policy');
  expect(fakes.sqs.messages(queueUrl).map((m) => m.body)).toEqual([{ retry: true }]);
  expect(queueUrl).toBe(`${fakes.env().AWS_ENDPOINT_URL_SQS}/123456789012/retry`);
});

test('env() points a RAM client at the RAM fake, whose shares hold the SSM fake’s parameters', async () => {
  fakes.ssm.setParameter('/shared', '{}', 'String', { tier: 'Advanced' });
  const shareArn = fakes.ram.createShare({
    name: 'policy',
    principals: ['210987654321'],
    resourceArns: [fakes.ssm.arnOf('/shared')],
  });
  process.env = { ...savedEnv, ...fakes.env() };

  const ram = new RAMClient({});
  const found = await ram.send(new GetResourceSharesCommand({ resourceOwner: 'SELF' }));
  ram.destroy();

  expect(found.resourceShares?.map((s) => s.resourceShareArn)).toEqual([shareArn]);
  expect(shareArn).toMatch(/^arn:aws:ram:ap-southeast-2:123456789012:resource-share\//);
});
