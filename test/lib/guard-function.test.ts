import { SERVICE_A, SERVICE_B, propertiesOf, synthStack } from './helpers';

describe('the guard function', () => {
  const { stack, guard, template } = synthStack();
  const fn = propertiesOf(stack, template, guard.guardFunction.node.defaultChild);

  test('runs the bundled ESM handler on Node.js 24, ARM64, for at most a minute', () => {
    expect(fn).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 60,
    });
  });

  test('gets the environment contract of lambda/config.ts, with its defaults', () => {
    expect(stack.resolve(fn.Environment.Variables)).toEqual({
      POLICY_PARAMETER_NAME: '/vpce-guard/policy',
      RETRY_QUEUE_URL: stack.resolve(guard.retryQueue.queueUrl),
      DEAD_LETTER_QUEUE_URL: stack.resolve(guard.deadLetterQueue.queueUrl),
      POLICY_CACHE_SECONDS: '60',
      REJECT_BATCH_SIZE: '50',
      MAX_ATTEMPTS: '5',
      // The topic every protected service's connection notification must point at.
      NOTIFICATION_TOPIC_ARN: stack.resolve(guard.notificationTopic.topicArn),
      // Where decisions are published (the default bus, by ARN), and announced once.
      EVENT_BUS_NAME: stack.resolve(guard.decisionEventBus.eventBusArn),
      ANNOUNCEMENT_TABLE_NAME: stack.resolve(guard.announcementTable.tableName),
      // Its own stack: only its deletion may remove the notifications the guard created.
      STACK_ID: { Ref: 'AWS::StackId' },
      POWERTOOLS_LOG_LEVEL: 'INFO',
      // The guard's name, the dimension its alarms read: unique in an account and Region.
      POWERTOOLS_SERVICE_NAME: 'VpceGuard-Guard',
      POWERTOOLS_METRICS_NAMESPACE: 'VpceGuard',
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  test('gets the configured services and numbers from cdk.json context', () => {
    const configured = synthStack({
      'vpce-guard:protectedServiceIds': [SERVICE_A, SERVICE_B],
      'vpce-guard:rejectBatchSize': 20,
      'vpce-guard:maxAttempts': 3,
      'vpce-guard:policyCacheSeconds': 0,
    });
    const variables = propertiesOf(
      configured.stack,
      configured.template,
      configured.guard.guardFunction.node.defaultChild,
    ).Environment.Variables;
    expect(variables).toMatchObject({
      PROTECTED_SERVICE_IDS: `${SERVICE_A},${SERVICE_B}`,
      REJECT_BATCH_SIZE: '20',
      MAX_ATTEMPTS: '3',
      POLICY_CACHE_SECONDS: '0',
    });
  });

  test('leaves PROTECTED_SERVICE_IDS unset to protect every service', () => {
    expect(fn.Environment.Variables.PROTECTED_SERVICE_IDS).toBeUndefined();
  });

  test('logs to its own log group, kept 90 days by default', () => {
    expect(fn.LoggingConfig).toEqual({ LogGroup: stack.resolve(guard.logGroup.logGroupName) });
    expect(propertiesOf(stack, template, guard.logGroup.node.defaultChild).RetentionInDays).toBe(
      90,
    );
    const week = synthStack({ 'vpce-guard:logRetentionDays': 7 });
    expect(
      propertiesOf(week.stack, week.template, week.guard.logGroup.node.defaultChild)
        .RetentionInDays,
    ).toBe(7);
  });

  test('has no reserved concurrency and no tracing unless configured', () => {
    expect(fn.ReservedConcurrentExecutions).toBeUndefined();
    expect(fn.TracingConfig).toBeUndefined();
    const configured = synthStack({
      'vpce-guard:reservedConcurrency': 5,
      'vpce-guard:tracing': true,
    });
    expect(
      propertiesOf(
        configured.stack,
        configured.template,
        configured.guard.guardFunction.node.defaultChild,
      ),
    ).toMatchObject({ ReservedConcurrentExecutions: 5, TracingConfig: { Mode: 'Active' } });
  });

  test('retries a failed asynchronous invocation twice within an hour, then keeps it in the invocation-failure queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: stack.resolve(guard.guardFunction.functionName),
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: {
        OnFailure: { Destination: stack.resolve(guard.invocationFailureQueue.queueArn) },
      },
    });
  });
});
