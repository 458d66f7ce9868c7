/**
 * Runs the guard's bundle in a child Node.js process, as the Lambda runtime would: one
 * process is one warm container, and each `invoke` is one invocation with a context.
 * Used by the end-to-end tests, the demo and the benchmark.
 */
import { type ChildProcess, fork } from 'child_process';
import * as path from 'path';
import { createInterface } from 'readline';

export interface Invocation {
  readonly result?: unknown;
  readonly error?: { readonly name: string; readonly message: string };
}

/** How an invocation ended, on the container's clock (epoch milliseconds). */
export interface InvocationEnd {
  /** When its time was up: the start plus its timeout. */
  readonly timeoutAt: number;
  /** Its time left when the handler returned; negative: Lambda would have stopped it first. */
  readonly remainingMs: number;
}

type InitMessage =
  | { readonly type: 'ready'; readonly initMs: number }
  | {
      readonly type: 'initError';
      readonly error: { readonly name: string; readonly message: string };
    };

const CHILD = path.join(__dirname, 'lambda-child.mjs');
// Must match lambda-child.mjs: the line that carries an invocation's outcome.
const RESULT_MARKER = '@@local-lambda-result@@';

export class LocalLambda {
  /** The structured log lines the function wrote (Powertools Logger's JSON), as they come. */
  readonly logs: Record<string, unknown>[] = [];
  /** How each invocation ended, in the order they ended. */
  readonly ends: InvocationEnd[] = [];
  private readonly pending = new Map<number, (invocation: Invocation) => void>();
  private nextId = 0;

  private constructor(
    private readonly child: ChildProcess,
    /** How long importing the bundle took in the child (the init phase). */
    readonly initMs: number,
  ) {}

  /**
   * Starts a container with `env` as its whole environment (plus PATH); resolves once init is
   * done. `execArgv` replaces the parent's Node options, which under tsx load its TypeScript hooks
   * into the child too: a benchmark passes `[]` to measure the bundle alone.
   */
  static async start(
    bundle: string,
    env: Record<string, string>,
    options: { execArgv?: readonly string[] } = {},
  ): Promise<LocalLambda> {
    const child = fork(CHILD, [bundle], {
      ...(options.execArgv ? { execArgv: [...options.execArgv] } : {}),
      env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', ...env },
      // The child sends its stderr to stdout, as Lambda does to one log stream.
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    const early: string[] = [];
    const stdout = createInterface({ input: child.stdout! });
    stdout.on('line', (line) => early.push(line));

    const init = await new Promise<InitMessage>((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) =>
        reject(new Error(`the function exited during init (code ${code}): ${early.join('\n')}`)),
      );
    });
    if (init.type !== 'ready') {
      child.kill();
      throw new Error(`init failed: ${init.error.name}: ${init.error.message}`);
    }
    const lambda = new LocalLambda(child, init.initMs);
    stdout.removeAllListeners('line');
    for (const line of early) lambda.onLine(line);
    stdout.on('line', (line) => lambda.onLine(line));
    child.on('exit', (code, signal) =>
      lambda.settleAll(`the container exited (${signal ?? code})`),
    );
    return lambda;
  }

  /** One invocation; `timeoutMs` is what `context.getRemainingTimeInMillis()` starts from. */
  invoke(event: unknown, timeoutMs = 60_000): Promise<Invocation> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.send({ id, event, timeoutMs });
    });
  }

  /** The container's process ID, e.g. to read its peak memory from /proc. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The log lines with this message. */
  logsWith(message: string): Record<string, unknown>[] {
    return this.logs.filter((line) => line.message === message);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill();
    await exited;
  }

  /** A container that dies fails its pending invocations instead of leaving them hanging. */
  private settleAll(message: string): void {
    for (const resolve of this.pending.values())
      resolve({ error: { name: 'ContainerExited', message } });
    this.pending.clear();
  }

  private onLine(line: string): void {
    if (!line.startsWith(RESULT_MARKER)) {
      this.logs.push(parseLogLine(line));
      return;
    }
    const { id, end, ...invocation } = JSON.parse(
      line.slice(RESULT_MARKER.length),
    ) as Invocation & {
      id: number;
      end: InvocationEnd;
    };
    this.ends.push(end);
    this.pending.get(id)?.(invocation);
    this.pending.delete(id);
  }
}

function parseLogLine(line: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : { raw: line };
  } catch {
    return { raw: line };
  }
}
