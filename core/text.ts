/** Text as operators' editors save it. */

/**
 * Text without the UTF-8 byte-order mark (U+FEFF) that some editors put first: it is not part
 * of the content, and a JSON parser would refuse it as an invisible unexpected character.
 */
export function stripByteOrderMark(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
