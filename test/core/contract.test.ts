import {
  ConfigError,
  DEFAULTS,
  parseGuardEnvironment as loadConfig,
  renderGuardEnvironment,
} from '../../core/contract';

const base = {
  POLICY_PARAMETER_NAME: '/vpce-guard/policy',
  RETRY_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/vpce-guard-retry',
  AWS_REGION: 'eu-west-1',
};

describe('parseGuardEnvironment', () => {
  test('applies the documented defaults to the optional variables', () => {
    expect(loadConfig(base)).toEqual({
      policyParameterName: '/vpce-guard/policy',
      retryQueueUrl: base.RETRY_QUEUE_URL,
      policyCacheSeconds: DEFAULTS.policyCacheSeconds,
      rejectBatchSize: DEFAULTS.rejectBatchSize,
      maxAttempts: DEFAULTS.maxAttempts,
      region: 'eu-west-1',
    });
    expect(DEFAULTS).toEqual({ policyCacheSeconds: 60, rejectBatchSize: 50, maxAttempts: 5 });
  });

  test('reads every optional variable', () => {
    const config = loadConfig({
      ...base,
      DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
      PROTECTED_SERVICE_IDS:
        ' vpce-svc-0123456789abcdef0, vpce-svc-01234567 ,vpce-svc-0123456789abcdef0',
      POLICY_CACHE_SECONDS: '0',
      REJECT_BATCH_SIZE: '25',
      MAX_ATTEMPTS: '8',
    });
    expect(config).toMatchObject({
      deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
      protectedServiceIds: ['vpce-svc-0123456789abcdef0', 'vpce-svc-01234567'],
      policyCacheSeconds: 0,
      rejectBatchSize: 25,
      maxAttempts: 8,
    });
  });

  test('reads the notification topic the guard wires services to', () => {
    const topic = 'arn:aws:sns:eu-west-1:123456789012:VpceGuard-NotificationTopic-1A2B3C';
    expect(loadConfig({ ...base, NOTIFICATION_TOPIC_ARN: topic }).notificationTopicArn).toBe(topic);
    expect(loadConfig(base).notificationTopicArn).toBeUndefined();
  });

  test('reads the decision bus and the announcement table, by name or ARN; absent: the default bus, no table', () => {
    const busArn = 'arn:aws:events:eu-west-1:111122223333:event-bus/security';
    const tableArn = 'arn:aws:dynamodb:eu-west-1:123456789012:table/VpceGuard-Announcements-1A2B';
    expect(
      loadConfig({ ...base, EVENT_BUS_NAME: busArn, ANNOUNCEMENT_TABLE_NAME: tableArn }),
    ).toMatchObject({ eventBusName: busArn, announcementTableName: tableArn });
    expect(
      loadConfig({ ...base, EVENT_BUS_NAME: 'security', ANNOUNCEMENT_TABLE_NAME: 'announcements' }),
    ).toMatchObject({ eventBusName: 'security', announcementTableName: 'announcements' });
    const config = loadConfig(base);
    expect([config.eventBusName, config.announcementTableName]).toEqual([undefined, undefined]);
  });

  test('an empty PROTECTED_SERVICE_IDS means every owned service', () => {
    expect(
      loadConfig({ ...base, PROTECTED_SERVICE_IDS: ' , ' }).protectedServiceIds,
    ).toBeUndefined();
  });

  test.each([
    [{ POLICY_PARAMETER_NAME: undefined }, 'POLICY_PARAMETER_NAME is required but not set'],
    [{ POLICY_PARAMETER_NAME: '  ' }, 'POLICY_PARAMETER_NAME is required but not set'],
    [
      { POLICY_PARAMETER_NAME: 'has spaces in it' },
      'POLICY_PARAMETER_NAME: "has spaces in it" is not an SSM parameter name',
    ],
    [{ RETRY_QUEUE_URL: undefined }, 'RETRY_QUEUE_URL is required but not set'],
    [
      { RETRY_QUEUE_URL: 'vpce-guard-retry' },
      'RETRY_QUEUE_URL: "vpce-guard-retry" is not a queue URL',
    ],
    [
      { DEAD_LETTER_QUEUE_URL: 'arn:aws:sqs:eu-west-1:1:dlq' },
      'DEAD_LETTER_QUEUE_URL: "arn:aws:sqs:eu-west-1:1:dlq" is not a queue URL',
    ],
    [
      { PROTECTED_SERVICE_IDS: 'vpce-svc-0123456789abcdef0,svc-1' },
      'PROTECTED_SERVICE_IDS: "svc-1" is not an endpoint service ID',
    ],
    [
      { POLICY_CACHE_SECONDS: '1.5' },
      'POLICY_CACHE_SECONDS: "1.5" is not a whole number from 0 to 3600',
    ],
    [{ REJECT_BATCH_SIZE: '0' }, 'REJECT_BATCH_SIZE: "0" is not a whole number from 1 to 1000'],
    [
      { REJECT_BATCH_SIZE: '1001' },
      'REJECT_BATCH_SIZE: "1001" is not a whole number from 1 to 1000',
    ],
    [{ MAX_ATTEMPTS: 'five' }, 'MAX_ATTEMPTS: "five" is not a whole number from 1 to 100'],
    [{ AWS_REGION: undefined }, 'AWS_REGION is required but not set'],
    [
      { NOTIFICATION_TOPIC_ARN: 'vpce-guard-notifications' },
      'NOTIFICATION_TOPIC_ARN: "vpce-guard-notifications" is not an SNS topic ARN',
    ],
    [
      { EVENT_BUS_NAME: 'arn:aws:sns:eu-west-1:123456789012:topic' },
      'EVENT_BUS_NAME: "arn:aws:sns:eu-west-1:123456789012:topic" is not an event bus name or ARN',
    ],
    [
      { ANNOUNCEMENT_TABLE_NAME: 'a b' },
      'ANNOUNCEMENT_TABLE_NAME: "a b" is not a DynamoDB table name or ARN',
    ],
    [{ STACK_ID: 'VpceGuard' }, 'STACK_ID: "VpceGuard" is not a CloudFormation stack ID'],
  ])('fails at start-up naming the variable: %o', (override, message) => {
    const env = { ...base, ...override };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('renderGuardEnvironment', () => {
  test('renders what parseGuardEnvironment reads back unchanged', () => {
    const settings = {
      policyParameterName: '/team/vpce-guard/policy',
      retryQueueUrl: base.RETRY_QUEUE_URL,
      deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
      protectedServiceIds: ['vpce-svc-0123456789abcdef0', 'vpce-svc-01234567'],
      policyCacheSeconds: 0,
      rejectBatchSize: 200,
      maxAttempts: 1,
      eventBusName: 'arn:aws:events:eu-west-1:123456789012:event-bus/default',
      announcementTableName: 'VpceGuard-Announcements-1A2B',
      stackId:
        'arn:aws:cloudformation:eu-west-1:123456789012:stack/VpceGuard/1e2f3a4b-5c6d-7e8f-9a0b-1c2d3e4f5a6b',
    };
    const env = { ...renderGuardEnvironment(settings), AWS_REGION: 'eu-west-1' };
    expect(loadConfig(env)).toEqual({ ...settings, region: 'eu-west-1' });
  });

  test('renders the defaults and leaves out what is not set', () => {
    const env = renderGuardEnvironment({
      policyParameterName: '/vpce-guard/policy',
      retryQueueUrl: base.RETRY_QUEUE_URL,
      protectedServiceIds: [],
    });
    expect(env).toMatchObject({
      POLICY_CACHE_SECONDS: '60',
      REJECT_BATCH_SIZE: '50',
      MAX_ATTEMPTS: '5',
      POWERTOOLS_SERVICE_NAME: 'vpce-guard',
      POWERTOOLS_METRICS_NAMESPACE: 'VpceGuard',
    });
    expect(env).not.toHaveProperty('PROTECTED_SERVICE_IDS');
    expect(env).not.toHaveProperty('DEAD_LETTER_QUEUE_URL');
    expect(env).not.toHaveProperty('EVENT_BUS_NAME');
    expect(env).not.toHaveProperty('ANNOUNCEMENT_TABLE_NAME');
    expect(env).not.toHaveProperty('STACK_ID');
  });

  test.each([
    // 1,011 counts the ARN before the name too: 952 leaves room for the longest one.
    ['a name longer than SSM allows', `/${'a'.repeat(952)}`, 'SSM allows 952 (1,011 with the ARN'],
    ['a hierarchy deeper than SSM allows', '/a'.repeat(16), 'at most 15 levels'],
    ['a name SSM reserves', '/ssm/policy', 'which SSM reserves'],
    ['a path without its leading slash', 'vpce-guard/policy', 'is not an SSM parameter name'],
  ])('refuses %s with the rule the construct uses', (_, name, message) => {
    expect(() => loadConfig({ ...base, POLICY_PARAMETER_NAME: name })).toThrow(message);
  });

  test('takes a name of 952 characters: with the longest ARN before it, 1,011', () => {
    const name = `/${'a'.repeat(951)}`;
    expect(loadConfig({ ...base, POLICY_PARAMETER_NAME: name }).policyParameterName).toBe(name);
  });
});
