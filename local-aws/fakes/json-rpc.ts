/**
 * AWS's JSON RPC protocols, as `AwsJson1_0Protocol` / `AwsJson1_1Protocol` in @aws-sdk/core
 * speak them: `POST /` with `X-Amz-Target: <Service>.<Operation>` and a JSON body, whose
 * member names are the shapes' own (PascalCase); timestamps are epoch seconds; an error is an
 * HTTP status >= 300 with `{"__type": …, "message": …}`.
 */
import type { IncomingMessage } from 'node:http';
import { AwsError, newRequestId, type Handler } from './http';
import { faultError, type CallLog, type CallRecord, type FaultPlan } from './instrumentation';

export type JsonObject = Record<string, unknown>;

export interface RenderedError {
  headers?: Record<string, string>;
  body: JsonObject;
}

export interface JsonRpcService<Op extends string> {
  /** The `X-Amz-Target` prefix: `AmazonSSM`, `AmazonSQS`. */
  target: string;
  version: '1.0' | '1.1';
  operations: Record<Op, (input: JsonObject) => unknown>;
  log: CallLog<Op>;
  faults: FaultPlan<Op>;
  /** The code this service throttles with, so that the call log can flag it. */
  throttlingCode: string;
  renderError(err: AwsError, req: IncomingMessage): RenderedError;
}

export function jsonRpcHandler<Op extends string>(service: JsonRpcService<Op>): Handler {
  const isOperation = (name: string): name is Op => Object.hasOwn(service.operations, name);
  const contentType = `application/x-amz-json-${service.version}`;
  return async (req, body) => {
    const headers = { 'content-type': contentType, 'x-amzn-requestid': newRequestId() };
    const target = String(req.headers['x-amz-target'] ?? '');
    const action = target.slice(target.indexOf('.') + 1);
    const call: CallRecord = { action, params: undefined, throttled: false, at: Date.now() };
    try {
      if (!target.startsWith(`${service.target}.`) || !isOperation(action)) {
        throw new AwsError('UnknownOperationException', `Unknown operation ${target}`);
      }
      const input = parseInput(body);
      call.params = input;
      const fault = service.faults.take(action);
      if (fault) throw faultError(fault);
      const output = await service.operations[action](input);
      return { status: 200, headers, body: JSON.stringify(output ?? {}) };
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      call.error = err.code;
      call.throttled = err.code === service.throttlingCode;
      const rendered = service.renderError(err, req);
      return {
        status: err.status,
        headers: { ...headers, ...rendered.headers },
        body: JSON.stringify(rendered.body),
      };
    } finally {
      service.log.record(call);
    }
  };
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
