/**
 * Builds vpce-guard stacks for the tests: with cdk.json's context (its feature flags and
 * configuration), and without esbuild unless a test asks for a real bundle.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { VpceGuard, VpceGuardStack, type VpceGuardProps } from '../../lib';

export const ROOT = path.join(__dirname, '..', '..');
export const EXAMPLE_POLICY = path.join(ROOT, 'examples', 'policy.example.json');
export const fixture = (name: string) => path.join(ROOT, 'test', 'fixtures', name);

export const SERVICE_A = 'vpce-svc-0123456789abcdef0';
export const SERVICE_B = 'vpce-svc-0fedcba9876543210';

function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
}

/** An app with cdk.json's context and `context` on top; CDK skips esbuild (no bundling stacks). */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], ...context },
  });
}

/** The app's stack, configured through context as cdk.json and `cdk -c` configure it. */
export function synthStack(context: Record<string, unknown> = {}) {
  const stack = new VpceGuardStack(testApp(context), 'VpceGuard');
  return { stack, guard: stack.guard, template: Template.fromStack(stack) };
}

/** A VpceGuard in a bare stack, configured through props (or props made in the stack). */
export function guardInStack(
  props: VpceGuardProps | ((stack: Stack) => VpceGuardProps) = {
    initialPolicyFile: EXAMPLE_POLICY,
  },
) {
  const stack = new Stack(testApp(), 'Test');
  const guard = new VpceGuard(stack, 'Guard', typeof props === 'function' ? props(stack) : props);
  return { stack, guard, template: Template.fromStack(stack) };
}

/** A file in a fresh temporary directory. */
export function tempFile(name: string, text: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vpce-guard-')), name);
  fs.writeFileSync(file, text);
  return file;
}

/** Synthesized CloudFormation: JSON whose shape each test knows from the resource type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** The resource's Properties, looked up by the construct that holds it. */
export function propertiesOf(stack: Stack, template: Template, cfn: unknown): Json {
  const logicalId = stack.getLogicalId(cfn as never);
  return template.toJSON().Resources[logicalId].Properties;
}

/** The pieces of CloudFormation that ARNs in an environment-agnostic template are made of. */
export const PARTITION = { Ref: 'AWS::Partition' };
export const ACCOUNT = { Ref: 'AWS::AccountId' };
export const join = (...parts: unknown[]) => ({ 'Fn::Join': ['', parts] });

/** `arn:<partition>:<service>:<region>:<account>:<resource>` as CDK synthesizes it. */
export const arnOf = (service: string, resource: string) =>
  join('arn:', PARTITION, `:${service}:`, { Ref: 'AWS::Region' }, ':', ACCOUNT, `:${resource}`);
export const serviceArn = (id: string) => arnOf('ec2', `vpc-endpoint-service/${id}`);

/** The seven queues of a guard, by role. */
export function guardQueues(guard: VpceGuard) {
  return {
    hint: guard.hintQueue,
    hintDeadLetter: guard.hintDeadLetterQueue,
    retry: guard.retryQueue,
    retryDeadLetter: guard.deadLetterQueue,
    eventsDeadLetter: guard.eventsDeadLetterQueue,
    invocationFailure: guard.invocationFailureQueue,
    subscriptionDeadLetter: guard.subscriptionDeadLetterQueue,
  };
}
