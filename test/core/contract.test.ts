import { ConfigError, DEFAULTS, loadConfig } from '../../core/contract';

const base = {
  POLICY_PARAMETER_NAME: '/vpce-guard/policy',
  RETRY_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/vpce-guard-retry',
  AWS_REGION: 'eu-west-1',
};

describe('loadConfig', () => {
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
  ])('fails at start-up naming the variable: %o', (override, message) => {
    const env = { ...base, ...override };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
