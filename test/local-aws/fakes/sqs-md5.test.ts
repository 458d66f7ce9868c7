import { createHash } from 'node:crypto';
import { md5OfMessageAttributes } from '../../../local-aws/fakes/sqs-md5';

test('the attribute digest hashes length-prefixed name, type, transport byte and value', () => {
  // Per attribute, sorted by name: length + name, length + type,
  // 1 (string) or 2 (binary), length + value.
  const a = '00000001 61 00000006 42696e617279 02 00000002 00ff'; // a, Binary, [0x00, 0xff]
  const b = '00000001 62 00000006 537472696e67 01 00000002 c3a9'; // b, String, "é" in UTF-8
  const expected = createHash('md5')
    .update(Buffer.from((a + b).replaceAll(' ', ''), 'hex'))
    .digest('hex');

  const digest = md5OfMessageAttributes({
    b: { DataType: 'String', StringValue: 'é' },
    a: { DataType: 'Binary', BinaryValue: Buffer.from([0, 255]).toString('base64') },
  });

  expect(digest).toBe(expected);
  expect(md5OfMessageAttributes({})).toBeUndefined();
});
