/**
 * AWS's JSON RPC protocols, as `AwsJson1_0Protocol` / `AwsJson1_1Protocol` in @aws-sdk/core
 * speak them: `POST /` with `X-Amz-Target: <Service>.<Operation>` and a JSON body, whose
 * member names are the shapes' own (PascalCase); timestamps are epoch seconds; an error is an
 * HTTP status >= 300 with `{"__type": …, "message": …}`.
 */
import type { IncomingMessage } from 'node:http';
import { AwsError } from './aws-error';
import { listen, newRequestId, type Handler, type Listening } from './http';
import { CallLog, FaultPlan, faultError, type CallRecord, type Fault } from './instrumentation';

export type JsonObject = Record<string, unknown>;

export interface RenderedError {
  headers?: Record<string, string>;
  body: JsonObject;
}

export interface JsonRpcService<Op extends string> {
  /** The `X-Amz-Target` prefix: `AmazonSSM`, `AmazonSQS`. */
  target: string;
  version: '1.0' | '1.1';
  /** Each operation gets its decoded input and the request (whose signature names the caller). */
  operations: Record<Op, (input: JsonObject, req: IncomingMessage) => unknown>;
  renderError(err: AwsError, req: IncomingMessage): RenderedError;
  /** Who called and where, for the call log (a fake that tells accounts and Regions apart). */
  caller?(req: IncomingMessage): Pick<CallRecord, 'region' | 'account'>;
}

/**
 * What the JSON RPC fakes (SSM, SQS) share: a server on 127.0.0.1, the call log and the
 * injected whole-call faults. A subclass serves its operations with `serve()`.
 */
export abstract class JsonRpcFake<Op extends string> {
  private readonly log: CallLog<Op>;
  private readonly faults = new FaultPlan<Op>();
  private server!: Listening; // set by serve(), which start() awaits before handing the fake out

  /** @param throttlingCode the error code the service throttles with, flagged in the call log */
  protected constructor(throttlingCode: string) {
    this.log = new CallLog<Op>(throttlingCode);
  }

  get url(): string {
    return this.server.url;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /**
   * The next `times` calls of `operation` fail with `fault` (HTTP status `fault.status`, default
   * 400).
   */
  failNext(operation: Op, fault: Fault, times = 1): void {
    this.faults.add((op) => op === operation, fault, times);
  }

  get calls(): readonly CallRecord[] {
    return this.log.calls;
  }

  count(operation: Op): number {
    return this.log.count(operation);
  }

  protected async serve(service: JsonRpcService<Op>): Promise<void> {
    this.server = await listen(this.handler(service));
  }

  private handler(service: JsonRpcService<Op>): Handler {
    const isOperation = (name: string): name is Op => Object.hasOwn(service.operations, name);
    const contentType = `application/x-amz-json-${service.version}`;
    return (req, body) => {
      const headers = { 'content-type': contentType, 'x-amzn-requestid': newRequestId() };
      const target = String(req.headers['x-amz-target'] ?? '');
      const action = target.slice(target.indexOf('.') + 1);
      const call: CallRecord = {
        action,
        params: undefined,
        throttled: false,
        at: Date.now(),
        ...service.caller?.(req),
      };
      const respond = async () => {
        if (!target.startsWith(`${service.target}.`) || !isOperation(action)) {
          throw new AwsError('UnknownOperationException', `Unknown operation ${target}`);
        }
        const input = parseInput(body);
        call.params = input;
        const fault = this.faults.take(action);
        if (fault) throw faultError(fault);
        const output = await service.operations[action](input, req);
        return { status: 200, headers, body: JSON.stringify(output ?? {}) };
      };
      return this.log.answer(call, respond, (err) => {
        const rendered = service.renderError(err, req);
        return {
          status: err.status,
          headers: { ...headers, ...rendered.headers },
          body: JSON.stringify(rendered.body),
        };
      });
    };
  }
}

function parseInput(body: string): JsonObject {
  try {
    const input: unknown = JSON.parse(body || '{}');
    if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
      return input as JsonObject;
    }
  } catch {
    // answered below, like any body that is not a JSON object
  }
  throw new AwsError('SerializationException', 'The request body is not a JSON object');
}
