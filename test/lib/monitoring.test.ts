import * as fs from 'fs';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { VpceGuard } from '../../lib';
import { ALARMS, DEFAULT_RUNBOOK_BASE_URL, githubAnchor } from '../../lib/alarms';
import {
  EXAMPLE_POLICY,
  ROOT,
  guardInStack,
  guardQueues,
  synthStack,
  testApp,
  type Json,
} from './helpers';

const RUNBOOK = fs.readFileSync(path.join(ROOT, 'docs', 'runbook.md'), 'utf8');

/** The Markdown headings of the runbook, outside code blocks: level and text. */
function runbookHeadings(): { level: number; text: string; line: number }[] {
  const headings: { level: number; text: string; line: number }[] = [];
  let fence: string | undefined;
  RUNBOOK.split('\n').forEach((line, i) => {
    const marker = /^\s*(```|~~~)/.exec(line)?.[1];
    if (marker && (!fence || fence === marker)) fence = fence ? undefined : marker;
    const heading = !fence && /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) headings.push({ level: heading[1]!.length, text: heading[2]!, line: i });
  });
  return headings;
}

/**
 * The anchors GitHub gives the runbook's headings, written here independently of lib/alarms.ts:
 * the rendered text (link targets and backticks dropped), lower case, no punctuation but `-`
 * and `_`, spaces as `-`, and `-1`, `-2`… after a repeated anchor.
 */
function runbookAnchors(): string[] {
  const seen = new Map<string, number>();
  return runbookHeadings().map(({ text }) => {
    const slug = text
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^a-z0-9 _-]/g, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    return count === 0 ? slug : `${slug}-${count}`;
  });
}

/** The text of the runbook's section under `heading`, up to the next heading of its level or above. */
function runbookSection(heading: string): string {
  const headings = runbookHeadings();
  const index = headings.findIndex((h) => h.text === heading);
  if (index < 0) throw new Error(`docs/runbook.md has no heading "${heading}"`);
  const { level, line } = headings[index]!;
  const next = headings.slice(index + 1).find((h) => h.level <= level);
  return RUNBOOK.split('\n').slice(line, next?.line).join('\n');
}

const alarmsOf = (template: ReturnType<typeof synthStack>['template']) =>
  Object.values<Json>(template.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties);

test('two guards in one account and Region each alarm on their own metrics, and emit them', () => {
  const stack = new Stack(testApp(), 'Two');
  const guards = ['GuardA', 'GuardB'].map(
    (id) =>
      new VpceGuard(stack, id, {
        initialPolicyFile: EXAMPLE_POLICY,
        policyParameterName: `/${id}/policy`,
      }),
  );
  const template = Template.fromStack(stack);
  const policyInvalid = alarmsOf(template)
    .filter((a) => a.AlarmName.endsWith('-PolicyInvalid'))
    .map((a) => [a.AlarmName, a.Dimensions]);
  expect(policyInvalid).toEqual([
    ['Two-GuardA-PolicyInvalid', [{ Name: 'service', Value: 'Two-GuardA' }]],
    ['Two-GuardB-PolicyInvalid', [{ Name: 'service', Value: 'Two-GuardB' }]],
  ]);
  // Each function emits its metrics under the service its alarms read.
  const services = guards.map((guard) => {
    const fn =
      template.toJSON().Resources[
        stack.getLogicalId(guard.guardFunction.node.defaultChild as never)
      ];
    return fn.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME;
  });
  expect(services).toEqual(['Two-GuardA', 'Two-GuardB']);
});

describe('the alarms', () => {
  const { stack, guard, template } = synthStack();
  const alarms = alarmsOf(template);
  const resolve = (value: unknown) => stack.resolve(value);
  // The guard's name, as its alarms' names start: two guards never read each other's metrics.
  const guardDimension = [{ Name: 'service', Value: 'VpceGuard-Guard' }];

  const isAge = (alarm: Json) => alarm.MetricName === 'ApproximateAgeOfOldestMessage';

  test('are one per role in ALARMS, each acting on the alarm topic and quiet when there is no data', () => {
    const roles = alarms.map((alarm) => String(alarm.AlarmName).split('-').pop());
    expect(roles.sort()).toEqual(
      Object.values(ALARMS)
        .map((a) => a.role)
        .sort(),
    );
    expect(roles).toContain('DecisionEventsFailed');
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([resolve(guard.alarmTopic.topicArn)]);
      expect(alarm.TreatMissingData).toBe('notBreaching');
    }
    // All but the age of the retry queue's oldest message fire on the first occurrence.
    for (const alarm of alarms.filter((a) => !isAge(a))) {
      expect(alarm.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
      expect(alarm.Threshold).toBe(1);
    }
  });

  test.each([
    ['hint dead-letter queue', 'hintDeadLetterQueue'],
    ['retry dead-letter queue', 'deadLetterQueue'],
    ['events dead-letter queue', 'eventsDeadLetterQueue'],
    ['invocation-failure queue', 'invocationFailureQueue'],
    ['subscription dead-letter queue', 'subscriptionDeadLetterQueue'],
  ] as const)('fire when the %s holds a message', (_, queue) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: resolve(guard[queue].queueName) }],
      Statistic: 'Maximum',
      Period: 300,
      EvaluationPeriods: 1,
    });
  });

  test('fire on any function error', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: resolve(guard.guardFunction.functionName) }],
      Statistic: 'Sum',
      EvaluationPeriods: 1,
    });
  });

  test("fire when the retry queue's oldest record is over an hour old (each is delayed 15 minutes at most)", () => {
    expect(alarms.filter(isAge)).toEqual([
      expect.objectContaining({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: resolve(guard.retryQueue.queueName) }],
        Statistic: 'Maximum',
        Period: 300,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 3600,
        AlarmActions: [resolve(guard.alarmTopic.topicArn)],
      }),
    ]);
  });

  test.each(['PolicyInvalid', 'PolicyUnreadable', 'PermissionDenied'])(
    'fire on any %s, by the name and dimension the guard emits',
    (metricName) => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'VpceGuard',
        MetricName: metricName,
        Dimensions: guardDimension,
        Statistic: 'Sum',
        EvaluationPeriods: 1,
      });
    },
  );

  test('fire when wiring a service fails two sweeps in a row', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'VpceGuard',
      MetricName: 'NotificationWiringFailed',
      Dimensions: guardDimension,
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 2,
    });
  });

  test('fire while a protected service accepts connections automatically (a level: its maximum)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'VpceGuard',
      MetricName: 'ServicesAcceptingAutomatically',
      Dimensions: guardDimension,
      Statistic: 'Maximum',
      EvaluationPeriods: 1,
      Threshold: 1,
    });
  });

  test('fire when RejectUnsuccessful + AcceptUnsuccessful persists three periods of 5 minutes', () => {
    const stat = (metricName: string) => ({
      Metric: { Namespace: 'VpceGuard', MetricName: metricName, Dimensions: guardDimension },
      Period: 300,
      Stat: 'Sum',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      EvaluationPeriods: 3,
      Metrics: [
        Match.objectLike({ Expression: 'FILL(reject, 0) + FILL(accept, 0)', ReturnData: true }),
        { Id: 'reject', MetricStat: stat('RejectUnsuccessful'), ReturnData: false },
        { Id: 'accept', MetricStat: stat('AcceptUnsuccessful'), ReturnData: false },
      ],
    });
  });

  test('are named <stack>-<guard>-<role>: stable, readable, and unique per account and Region', () => {
    expect(alarms.map((a) => a.AlarmName).sort()).toEqual(
      [
        'AnnouncementsUnchecked',
        'DecisionEventsFailed',
        'EventsDeadLetterQueue',
        'FunctionErrors',
        'HintDeadLetterQueue',
        'InvocationFailureQueue',
        'NotificationWiringFailed',
        'PermissionDenied',
        'PolicyInvalid',
        'PolicyUnreadable',
        'RejectsOrAcceptsUnsuccessful',
        'RetryDeadLetterQueue',
        'RetryQueueNotDraining',
        'ServiceAcceptsAutomatically',
        'SubscriptionDeadLetterQueue',
      ].map((role) => `VpceGuard-Guard-${role}`),
    );
    // Plain strings, not tokens: the same in every account and Region (the stack is
    // environment-agnostic) and on every deploy.
    for (const alarm of alarms) expect(typeof alarm.AlarmName).toBe('string');
  });

  test('of two guards in one stack, or of two stacks, have different names', () => {
    const app = testApp();
    const names = (stack: Stack) =>
      Object.values<Json>(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')).map(
        (r) => r.Properties.AlarmName as string,
      );
    const props = { initialPolicyFile: EXAMPLE_POLICY };
    const shared = new Stack(app, 'Shared');
    new VpceGuard(shared, 'Production', props);
    new VpceGuard(new Construct(shared, 'Partners'), 'Guard', props);
    const other = new Stack(app, 'Other');
    new VpceGuard(other, 'Production', props);

    const all = [...names(shared), ...names(other)];
    const perGuard = Object.keys(ALARMS).length;
    expect(all).toHaveLength(3 * perGuard);
    expect(new Set(all).size).toBe(3 * perGuard);
    expect(all).toContain('Shared-Production-PolicyInvalid');
    expect(all).toContain('Shared-Partners-Guard-PolicyInvalid');
    expect(all).toContain('Other-Production-PolicyInvalid');
  });

  test('link each to its own section of docs/runbook.md by an absolute URL', () => {
    const anchors = runbookAnchors();
    const linked = alarms.map((alarm) => {
      const description = JSON.stringify(resolve(alarm.AlarmDescription));
      const links = [...description.matchAll(/Runbook: (https:\/\/[^\s"#]+)#([^\s".]+)/g)];
      expect(links).toHaveLength(1);
      const [, base, anchor] = links[0]!;
      expect(base).toBe(DEFAULT_RUNBOOK_BASE_URL);
      expect(anchors).toContain(anchor);
      return anchor;
    });
    expect(new Set(linked).size).toBe(alarms.length);
    // The runbook's table lists every alarm by the role its name ends with.
    for (const { role } of Object.values(ALARMS)) expect(RUNBOOK).toContain(`| \`${role}\` `);
    // Every section the alarms know of, and only those, is linked.
    expect(new Set(linked)).toEqual(
      new Set(Object.values(ALARMS).map((a) => githubAnchor(a.runbook))),
    );
  });

  test('link to the runbook at runbookBaseUrl when it is set', () => {
    const { template: custom } = guardInStack({
      initialPolicyFile: EXAMPLE_POLICY,
      runbookBaseUrl: 'https://wiki.example.com/netops/vpce-guard-runbook',
    });
    for (const alarm of alarmsOf(custom)) {
      expect(JSON.stringify(alarm.AlarmDescription)).toMatch(
        /Runbook: https:\/\/wiki\.example\.com\/netops\/vpce-guard-runbook#[a-z-]+"/,
      );
    }
  });

  test.each([
    ['an http URL', 'http://wiki.example.com/runbook', 'is not an https URL'],
    ['a relative path', 'docs/runbook.md', 'is not an https URL'],
    [
      'a URL with a fragment',
      'https://wiki.example.com/runbook#alarms',
      "has a #fragment: the alarms append each section's own",
    ],
    [
      'a URL of 265 characters',
      `https://wiki.example.com/${'r'.repeat(240)}`,
      'is 265 characters; at most 256 fit in an alarm description',
    ],
  ])('refuse as runbookBaseUrl %s, naming the prop', (_, url, problem) => {
    expect(() => guardInStack({ initialPolicyFile: EXAMPLE_POLICY, runbookBaseUrl: url })).toThrow(
      `runbookBaseUrl: ${JSON.stringify(url)} ${problem}`,
    );
  });

  test("fit CloudWatch's 1024 characters even with the longest names AWS generates and the longest runbookBaseUrl", () => {
    // A queue URL or ARN with an 80-character queue name, a 64-character function name.
    const longest = 'x'.repeat(135);
    const runbookBaseUrl = `https://wiki.example.com/${'r'.repeat(231)}`;
    expect(runbookBaseUrl).toHaveLength(256);
    const { template: long } = guardInStack({ initialPolicyFile: EXAMPLE_POLICY, runbookBaseUrl });
    for (const alarm of alarmsOf(long)) {
      const parts: unknown[] = alarm.AlarmDescription['Fn::Join']?.[1] ?? [alarm.AlarmDescription];
      const length = parts
        .map((part) => (typeof part === 'string' ? part : longest))
        .join('').length;
      expect(length).toBeLessThanOrEqual(1024);
    }
  });

  test('fail the synth, not the deploy, when a description would not fit', () => {
    expect(() =>
      guardInStack({
        initialPolicyFile: EXAMPLE_POLICY,
        policyParameterName: `/${'p'.repeat(900)}`,
      }),
    ).toThrow(
      /^alarm PolicyInvalid: its description would be \d+ characters, over CloudWatch's 1024/,
    );
  });

  /** The description of the alarm on `queue`'s depth, as JSON text. */
  const descriptionFor = (queue: typeof guard.retryQueue) => {
    const queueId = stack.getLogicalId(queue.node.defaultChild as never);
    const alarm = alarms.find((a) => JSON.stringify(a.Dimensions ?? '').includes(queueId));
    return JSON.stringify(alarm.AlarmDescription);
  };

  /** The description of the alarm on the guard's metric `metricName`, as JSON text. */
  const descriptionOf = (metricName: string) =>
    JSON.stringify(alarms.find((a) => a.MetricName === metricName).AlarmDescription);

  /** A name CloudFormation generates, as the description holds it. */
  const nameOf = (token: string) => JSON.stringify(resolve(token));

  test.each([
    ['hint dead-letter queue', 'hintDeadLetterQueue', 'guardFunction'],
    ['retry dead-letter queue', 'deadLetterQueue', 'guardFunction'],
    ['events dead-letter queue', 'eventsDeadLetterQueue', 'guardFunction'],
    ['invocation-failure queue', 'invocationFailureQueue', 'guardFunction'],
    ['subscription dead-letter queue', 'subscriptionDeadLetterQueue', 'hintQueue'],
  ] as const)('name the %s, and where its messages were going', (_, queue, destination) => {
    const text = descriptionFor(guard[queue]);
    expect(text).toContain(nameOf(guard[queue].queueName));
    expect(text).toContain(
      nameOf(
        destination === 'hintQueue' ? guard.hintQueue.queueName : guard.guardFunction.functionName,
      ),
    );
  });

  test('state the counts and periods the stack is built with', () => {
    // HINT_QUEUE.maxReceiveCount (lib/delivery.ts) and METRIC_PERIOD (lib/metrics.ts).
    expect(descriptionFor(guard.hintDeadLetterQueue)).toContain('failed on 10 times');
    expect(descriptionOf('NotificationWiringFailed')).toContain('For 2 periods of 5 minutes,');
  });

  test('tell a policy whose content is invalid from one the guard could not read', () => {
    const invalid = descriptionOf('PolicyInvalid');
    expect(invalid).toContain(
      'The content of the policy in SSM parameter /vpce-guard/policy is invalid',
    );
    expect(invalid).not.toMatch(/missing|access|throttl/i);
    const unreadable = descriptionOf('PolicyUnreadable');
    expect(unreadable).toContain(
      'could not read SSM parameter /vpce-guard/policy (missing, access denied, or throttled)',
    );
    for (const description of [invalid, unreadable]) {
      expect(description).toContain(nameOf(guard.logGroup.logGroupName));
    }
  });

  describe('runbook', () => {
    test('tells how to check that the policy parameter exists, may be read, and is not throttled', () => {
      const text = runbookSection(ALARMS.policyUnreadable.runbook);
      for (const check of [
        'aws ssm get-parameter --name "$(out PolicyParameterName)"',
        'ssm:GetParameter',
        'kms:Decrypt',
        'policyParameterKeyArn',
        'Throttled',
      ]) {
        expect(text).toContain(check);
      }
    });

    test('tells how to validate a fixed policy before putting it', () => {
      const text = runbookSection(ALARMS.policyInvalid.runbook);
      expect(text).toContain('npm run cli -- policy validate policy.json');
      expect(text).toContain(
        'aws ssm put-parameter --name "$(out PolicyParameterName)" --overwrite',
      );
    });

    test("tells how to check the retry queue's event source", () => {
      expect(runbookSection(ALARMS.retryQueueStuck.runbook)).toContain(
        'aws lambda list-event-source-mappings --function-name "$(out GuardFunctionName)"',
      );
    });

    test('reads dead-letter queues without hiding their messages from the next reader', () => {
      expect(runbookSection('Before you start')).toMatch(
        /peek\(\) \{ aws sqs receive-message --queue-url "\$\(out "\$1"\)" [^}]*--visibility-timeout 0/,
      );
    });

    test('tells how to read the retry dead-letter queue and redrive its records', () => {
      const text = runbookSection(ALARMS.retryDeadLetter.runbook);
      expect(text).toContain('peek RetryDeadLetterQueueUrl');
      expect(text).toContain('aws sqs start-message-move-task --source-arn ');
    });

    test.each([
      [ALARMS.hintDeadLetter.runbook, 'HintDeadLetterQueueUrl'],
      [ALARMS.eventsDeadLetter.runbook, 'EventsDeadLetterQueueUrl'],
      [ALARMS.invocationFailure.runbook, 'InvocationFailureQueueUrl'],
      [ALARMS.subscriptionDeadLetter.runbook, 'SubscriptionDeadLetterQueueUrl'],
    ])(
      '"%s" tells how to read the queue, and to sweep once the cause is fixed',
      (heading, output) => {
        const text = runbookSection(heading);
        expect(text).toContain(`peek ${output}`);
        expect(text).toMatch(/\bsweep\b/);
      },
    );

    test('defines the sweep once', () => {
      expect(runbookSection('Before you start')).toContain(
        `--payload '{"reconcile":"all"}' /dev/stdout`,
      );
    });
  });

  test('e-mail nobody unless alarmEmail is set', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 1); // the hint queue's
    const withEmail = synthStack({ 'vpce-guard:alarmEmail': 'netops@example.com' });
    withEmail.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'netops@example.com',
      TopicArn: withEmail.stack.resolve(withEmail.guard.alarmTopic.topicArn),
    });
  });
});

describe('githubAnchor', () => {
  // Anchors that GitHub rendered for headings of this project's Markdown.
  test.each([
    ['Invocation-failure queue not empty', 'invocation-failure-queue-not-empty'],
    ["Operators' CLI", 'operators-cli'],
    ['Demo (no AWS account)', 'demo-no-aws-account'],
    [
      'What AWS does not document, and how vpce-guard copes',
      'what-aws-does-not-document-and-how-vpce-guard-copes',
    ],
    ['Rollout: dry run, then enforce', 'rollout-dry-run-then-enforce'],
    ['`maxAttempts` and snake_case', 'maxattempts-and-snake_case'],
  ])('gives %p the anchor %p', (heading, anchor) => {
    expect(githubAnchor(heading)).toBe(anchor);
  });
});

describe('the dashboard', () => {
  const { stack, guard, template } = synthStack();
  const body = JSON.stringify(
    stack.resolve(
      Object.values<Json>(template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties
        .DashboardBody,
    ),
  );

  test.each([
    'ConnectionsEvaluated',
    'ConnectionsRejected',
    'ConnectionsAccepted',
    'DryRunRejects',
    'DryRunAccepts',
    'RejectUnsuccessful',
    'AcceptUnsuccessful',
    'PolicyInvalid',
    'PolicyUnreadable',
    'DecisionEventsFailed',
    'ServicesProtected',
    'ServicesAcceptingAutomatically',
    'ServicesOpenToEveryone',
    'NotificationsCreated',
    'NotificationWiringFailed',
    'Errors',
    'Throttles',
    'Duration',
  ])('graphs %s', (metricName) => {
    expect(body).toContain(`\\"${metricName}\\"`);
  });

  const queueName = (queue: typeof guard.retryQueue) =>
    stack.getLogicalId(queue.node.defaultChild as never);

  test('graphs the depth of the hint and retry queues and of every dead-letter queue', () => {
    for (const queue of Object.values(guardQueues(guard))) {
      expect(body).toMatch(
        new RegExp(`ApproximateNumberOfMessagesVisible.{0,80}${queueName(queue)}`),
      );
    }
  });

  test('graphs the age of the oldest message of the hint and retry queues', () => {
    for (const queue of [guard.hintQueue, guard.retryQueue]) {
      expect(body).toMatch(new RegExp(`ApproximateAgeOfOldestMessage.{0,80}${queueName(queue)}`));
    }
  });

  test('shows every alarm', () => {
    for (const id of Object.keys(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(body).toContain(`"${id}"`);
    }
  });
});
