import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a fake answers to one request. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type Handler = (req: IncomingMessage, body: string) => Promise<Reply>;

/** The request ID AWS puts in `x-amzn-RequestId` (and EC2 also in the body). */
export const newRequestId = (): string => randomUUID();

export interface Listening {
  /** `http://127.0.0.1:<port>`: the value for `endpoint` or `AWS_ENDPOINT_URL_<SERVICE>`. */
  readonly url: string;
  /** Stops the server and drops its connections; calling it again is harmless. */
  close(): Promise<void>;
}

/** Serves `handler` on an ephemeral port of the loopback interface only. */
export async function listen(handler: Handler): Promise<Listening> {
  const server = createServer((req, res) => {
    readBody(req)
      .then((body) => handler(req, body))
      .then(
        (reply) => {
          res.writeHead(reply.status, {
            ...reply.headers,
            'content-length': String(Buffer.byteLength(reply.body)),
          });
          res.end(reply.body);
        },
        // Protocol modules render every AwsError themselves; reaching here is a bug in a fake.
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`fake AWS failed: ${err instanceof Error ? err.stack : String(err)}`);
        },
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // The benchmark fires bursts of 1,000 requests; Node's default backlog (511) would refuse some.
    server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return { url: `http://127.0.0.1:${port}`, close: () => (closed ??= close(server)) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    // The SDK keeps sockets alive; without this, close() would wait for them to time out.
    server.closeAllConnections();
  });
}
