/** `npm run demo`: runs the demo on this terminal (see demo.ts). */
import { runDemo } from './demo';

// The SDK's notice that its 2027 releases need Node 22 says nothing about the demo; the
// operator's CLI still shows it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

runDemo(process.stdout).catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
