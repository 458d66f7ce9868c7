// Adds the aws-sdk-client-mock matchers (toHaveReceivedCommandWith, …) to expect.
import 'aws-sdk-client-mock-jest';
