// The cold-start floor of the guard's dependencies: every AWS SDK client and Powertools
// utility the guard constructs (lambda/handler.ts, lambda/telemetry.ts), and none of its own
// code. Bundled with the guard's settings, so guard / clients is what the guard's code adds
// and clients / floor what its choice of clients costs. cold-start.ts checks that this list
// covers every client package the guard's bundle holds.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const clients = [
  new EC2Client({}),
  new SSMClient({}),
  new SQSClient({}),
  new EventBridgeClient({}),
  new DynamoDBClient({}),
  new Logger(),
  new Metrics({ namespace: 'bench' }),
];
