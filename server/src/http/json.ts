// JSON for every reply the edge writes: a BigInt (64-bit counters) becomes an exact integer
// literal, which JSON.stringify cannot write. The same function serves routes with a response
// schema (the schema documents and types the answer; it is not re-checked on every request: tests
// check real answers against the OpenAPI document) and replies without one.
import { randomBytes } from 'node:crypto';

// A BigInt is first written as a marked string, then the marks are unquoted. The mark holds a
// per-process nonce, so no string from outside (a VM name, say) can pass for a number.
const NONCE = randomBytes(8).toString('hex');
const MARK = `\u0000${NONCE}:`;
const MARKED = new RegExp(`"\\\\u0000${NONCE}:(-?\\d+)"`, 'g');

function replacer(_key: string, value: unknown) {
  return typeof value === 'bigint' ? MARK + value.toString() : value;
}

export function toJson(body: unknown): string {
  // No `includes` check first: nearly every answer holds a counter, and the check is one more scan.
  return (JSON.stringify(body, replacer) ?? 'null').replace(MARKED, '$1');
}

/**
 * The reply serializer: a large answer goes out as one Buffer. Node prepends the headers to a
 * string body by concatenation, which copies a 140 KB live-vms answer once more (~10 % of its
 * cost); a small one stays a string, which Node then sends in a single write.
 */
export const BUFFER_FROM = 16 * 1024;
export function serializeReply(body: unknown): string | Buffer {
  const text = toJson(body);
  return text.length >= BUFFER_FROM ? Buffer.from(text) : text;
}
