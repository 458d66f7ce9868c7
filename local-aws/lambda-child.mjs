// The child side of LocalLambda: loads a bundled handler the way the Lambda runtime does
// (a fresh Node.js process, an ES module import) and invokes it for each message it gets.
// Results go to stdout after the function's own log lines, so the parent has every line of
// an invocation when it sees the result.
import { pathToFileURL } from 'node:url';

// Lambda sends stdout and stderr to one log stream; so does this, keeping their order.
process.stderr.write = process.stdout.write.bind(process.stdout);

const started = performance.now();
let handler;
try {
  ({ handler } = await import(pathToFileURL(process.argv[2]).href));
  process.send({ type: 'ready', initMs: performance.now() - started });
} catch (error) {
  process.send({ type: 'initError', error: { name: error.name, message: error.message } });
  process.exit(1);
}

const RESULT_MARKER = '@@local-lambda-result@@';
let invocations = 0;
process.on('message', async ({ id, event, timeoutMs }) => {
  invocations += 1;
  const deadline = Date.now() + timeoutMs;
  const context = {
    functionName: 'vpce-guard-local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:vpce-guard-local',
    memoryLimitInMB: '256',
    awsRequestId: `local-${invocations}`,
    logGroupName: '/aws/lambda/vpce-guard-local',
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  let outcome;
  try {
    outcome = { id, result: (await handler(event, context)) ?? null };
  } catch (error) {
    outcome = { id, error: { name: error.name, message: error.message } };
  }
  // When the invocation's time was up, and how much of it was left when the handler returned:
  // a real Lambda would have stopped a handler that had none left.
  outcome.end = { timeoutAt: deadline, remainingMs: deadline - Date.now() };
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(outcome)}\n`);
});
