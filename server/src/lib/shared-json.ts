// Values that many subscribers receive in the same tick (the fleet overview's `rows`: ~135 KB of
// JSON at 1,000 VMs, ~700 KB at 5,000): marked shareable where they are built, JSON-encoded once,
// and spliced as text into each subscriber's message by the graphql-ws edge, instead of being
// encoded again for every socket. A value must not change once it is marked.
const shareable = new WeakSet<object>();
const encoded = new WeakMap<object, string>();

/** Marks `value` (an object or array that will not change) as encoded once for every message it is sent in. */
export function shareJson<T extends object>(value: T): T {
  shareable.add(value);
  return value;
}

export function isSharedJson(value: unknown): value is object {
  return typeof value === 'object' && value !== null && shareable.has(value);
}

/** The JSON text of a shared value, encoded on first use. */
export function sharedJsonText(value: object): string {
  let text = encoded.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    encoded.set(value, text);
  }
  return text;
}
