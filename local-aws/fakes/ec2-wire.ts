/**
 * EC2's Query protocol, as `AwsEc2QueryProtocol` in @aws-sdk/core speaks it: requests are
 * form-encoded with 1-based flattened lists (`Filter.1.Value.1=…`, `VpcEndpointId.2=…`);
 * answers are XML whose element names are the shapes' `xmlName`s (camelCase, lists of `<item>`),
 * directly under `<ActionResponse>`, without the `<ActionResult>` wrapper of plain Query.
 */
import type { AwsError } from './aws-error';
import type { Reply } from './http';

export type QueryValue = string | QueryValue[] | QueryObject;
export interface QueryObject {
  [key: string]: QueryValue;
}

interface Tree {
  [key: string]: string | Tree;
}

/** `Filter.1.Name=a&Filter.1.Value.1=b` → `{ Filter: [{ Name: 'a', Value: ['b'] }] }`. */
export function decodeQuery(body: string): QueryObject {
  const root: Tree = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const path = key.split('.');
    if (path.includes('__proto__')) continue;
    let node = root;
    for (const segment of path.slice(0, -1)) {
      const child = node[segment];
      node = typeof child === 'object' ? child : (node[segment] = {});
    }
    node[path[path.length - 1] as string] = value;
  }
  return listify(root) as QueryObject;
}

/** Objects whose keys are all list positions become arrays, in position order. */
function listify(node: string | Tree): QueryValue {
  if (typeof node === 'string') return node;
  const entries = Object.entries(node).map(([key, child]) => [key, listify(child)] as const);
  if (entries.length > 0 && entries.every(([key]) => /^\d+$/.test(key))) {
    return entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, child]) => child);
  }
  return Object.fromEntries(entries);
}

export const text = (value: QueryValue | undefined): string | undefined =>
  typeof value === 'string' ? value : undefined;

/** The strings of a flattened list (`VpcEndpointId.N`, `Value.N`). */
export const texts = (value: QueryValue | undefined): string[] =>
  (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter(
    (v): v is string => typeof v === 'string',
  );

export const objects = (value: QueryValue | undefined): QueryObject[] =>
  (Array.isArray(value) ? value : []).filter(
    (v): v is QueryObject => typeof v === 'object' && !Array.isArray(v),
  );

/**
 * EC2's element names for the SDK's members: the member name with a lower-case first letter,
 * except for the lists that EC2's model names otherwise (their `ec2QueryName`).
 */
const LIST_ELEMENTS: Readonly<Record<string, string>> = {
  VpcEndpointConnections: 'vpcEndpointConnectionSet',
  ServiceConfigurations: 'serviceConfigurationSet',
};
const elementName = (member: string): string =>
  LIST_ELEMENTS[member] ?? member.charAt(0).toLowerCase() + member.slice(1);

const XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/**
 * The answer to `action`: `output` in the SDK's shape (members as the SDK names them), written
 * with EC2's element names.
 */
export function ec2Reply(action: string, requestId: string, output: object): Reply {
  const body = `${XML_DECLARATION}<${action}Response xmlns="${XMLNS}"><requestId>${requestId}</requestId>${xml(output, elementName)}</${action}Response>`;
  return { status: 200, headers: headers(requestId), body };
}

/** EC2's error document; the SDK reads `Errors.Error.Code` and `Message` from it. */
export function ec2ErrorReply(err: AwsError, requestId: string): Reply {
  const error = xml({ Errors: { Error: { Code: err.code, Message: err.message } } });
  const body = `${XML_DECLARATION}<Response>${error}<RequestID>${requestId}</RequestID></Response>`;
  return { status: err.status, headers: headers(requestId), body };
}

const headers = (requestId: string) => ({
  'content-type': 'text/xml;charset=UTF-8',
  'x-amzn-requestid': requestId,
});

/**
 * Objects become elements named by `name(key)`; arrays become lists of `<item>`; dates are
 * written in ISO 8601 (EC2's timestamp format); undefined members are left out.
 */
function xml(value: unknown, name: (key: string) => string = (key) => key): string {
  if (value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => `<item>${xml(item, name)}</item>`).join('');
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value)
      .filter(([, child]) => child !== undefined)
      .map(([key, child]) => `<${name(key)}>${xml(child, name)}</${name(key)}>`)
      .join('');
  }
  return escape(String(value));
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};
const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
