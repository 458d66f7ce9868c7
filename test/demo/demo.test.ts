/**
 * `npm run demo`, run in-process: its tables must be the truth of the run, row for row, in
 * the order of the story (notification, policy edit, sweep).
 */
import { runDemo, type DemoStep } from '../../demo/demo';
import { ownerLabel } from '../../demo/scenario';
import { captureOutput } from '../../local-aws/cli';

let output: string;
let steps: DemoStep[];

beforeAll(async () => {
  const out = captureOutput();
  steps = await runDemo(out, {});
  output = out.text;
});

/** Each row as [owner's name, decision, final state], in the guard's order. */
const outcomes = (step: DemoStep | undefined) =>
  step?.rows.map((r) => [ownerLabel(r.owner).split(' ')[1], r.decision, r.finalState]);

test('step 1, a notification: the guard settles every pending request of the service', () => {
  expect(steps[0]?.title).toBe('notification');
  expect(outcomes(steps[0])).toEqual([
    ['acme', 'accept', 'available'],
    ['globex', 'keep', 'pendingAcceptance'],
    ['initech', 'keep', 'pendingAcceptance'],
    ['mallory', 'reject', 'rejected'],
  ]);
  // Through the hint queue, as deployed: the guard answers with the SQS batch response.
  expect(steps[0]?.summary).toEqual({ batchItemFailures: [] });
});

test('step 2, a policy edit pushed with the CLI: the waiting requests are decided again', () => {
  expect(steps[1]?.title).toBe('policy edit');
  expect(outcomes(steps[1])).toEqual([
    ['globex', 'accept', 'available'],
    ['initech', 'reject', 'rejected'],
  ]);
  expect(steps[1]?.summary).toMatchObject({ trigger: 'policyChanged', evaluated: 2 });
  expect(output).toContain('  -  "defaultAction": "keep",\n  +  "defaultAction": "reject",\n');
  expect(output).toMatch(/Pushed .*policy\.json to \/vpce-guard\/policy: version 2, Standard tier/);
});

test('step 3, a sweep: requests that came without a notification are found', () => {
  expect(steps[2]?.title).toBe('sweep');
  expect(outcomes(steps[2])).toEqual([
    ['umbrella', 'reject', 'rejected'],
    ['acme', 'reject', 'rejected'],
    ['globex', 'accept', 'available'],
  ]);
  expect(steps[2]?.rows[1]?.reason).toContain('from ap-southeast-2; default action is reject');
  expect(steps[2]?.summary).toMatchObject({ trigger: 'sweep', rejected: 2, accepted: 1 });
});

test('prints every row as a table line, with the guard’s own answer under each table', () => {
  for (const row of steps.flatMap((s) => s.rows)) {
    const cells = [row.endpointId, ownerLabel(row.owner), row.decision, row.finalState, row.reason];
    expect(output.split('\n')).toContainEqual(expect.stringMatching(cellsPattern(cells)));
  }
  expect(output).toContain(
    'ENDPOINT                OWNER                 DECISION  FINAL STATE        REASON\n',
  );
  expect(output).toContain(
    'guard answered the hint queue: no batch item failures, SQS deletes the batch\n',
  );
  expect(output).toContain(
    'guard answered: evaluated 2, rejected 1, accepted 1, kept 0, unsuccessful 0, retries queued 0\n',
  );
  expect(output).not.toContain('\u001b['); // not a terminal: no colours
});

test('after each step, prints the decision events the guard put on the bus: one per decision, a kept request once', () => {
  const summary = (step: DemoStep | undefined) =>
    step?.events.map((e) => [
      ownerLabel(e.owner ?? '').split(' ')[1],
      e.decision,
      e.outcome,
      e.rule,
    ]);
  expect(summary(steps[0])).toEqual([
    ['acme', 'accept', 'done', 'acme-prod'],
    ['globex', 'keep', 'done', 'globex'],
    ['initech', 'keep', 'done', null],
    ['mallory', 'reject', 'done', 'deny'],
  ]);
  expect(summary(steps[1])).toEqual([
    ['globex', 'accept', 'done', 'globex'],
    ['initech', 'reject', 'done', null],
  ]);
  expect(summary(steps[2])).toEqual([
    ['umbrella', 'reject', 'done', null],
    ['acme', 'reject', 'done', null],
    ['globex', 'accept', 'done', 'globex'],
  ]);
  expect(output).toContain(
    'To EventBridge, default bus: 4 "VPC Endpoint Connection Decision" event(s) from vpce-guard\n',
  );
});

function cellsPattern(cells: readonly string[]): RegExp {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${cells.map(escape).join(' {2,}')}$`);
}
