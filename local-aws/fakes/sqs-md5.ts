/**
 * The digests SQS returns with messages. The SDK checks MD5OfMessageBody / MD5OfBody on every
 * send and receive and throws on a mismatch, so they must be exact.
 */
import { createHash } from 'node:crypto';

export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  /** Base64, as the JSON protocol carries blobs. */
  BinaryValue?: string;
}

export const md5OfBody = (body: string): string =>
  createHash('md5').update(body, 'utf8').digest('hex');

/**
 * SQS's documented digest of message attributes: for each attribute, sorted by name, the
 * length-prefixed (4-byte big-endian) name, data type and value, with a transport byte
 * (1 = string, 2 = binary) before the value. Undefined when there are no attributes.
 */
export function md5OfMessageAttributes(
  attributes: Record<string, MessageAttributeValue>,
): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const hash = createHash('md5');
  const prefixed = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length).update(bytes);
  };
  for (const name of names) {
    const { DataType, StringValue, BinaryValue } = attributes[name] as MessageAttributeValue;
    prefixed(Buffer.from(name, 'utf8'));
    prefixed(Buffer.from(DataType, 'utf8'));
    const binary = BinaryValue !== undefined;
    hash.update(Buffer.of(binary ? 2 : 1));
    prefixed(binary ? Buffer.from(BinaryValue, 'base64') : Buffer.from(StringValue ?? '', 'utf8'));
  }
  return hash.digest('hex');
}
