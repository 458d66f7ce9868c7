// Adds the aws-sdk-client-mock matchers (toHaveReceivedCommandWith, …) to expect.
import 'aws-sdk-client-mock-jest';

// Keep test output readable: tests assert on logger and metrics calls through spies.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
