// A counter's value (libvirt's u64/i64 params, a metric) as a double where one holds it exactly, as
// a BigInt past that: one definition for the collector's mapping, its records and the stats table.

/** v as the double it equals when it is a non-negative integer a double holds exactly (≤ 2^53 − 1); NaN for anything else (absent, negative, a fraction, past 2^53 − 1, not a number). */
export function exactCount(v: unknown): number {
  // Anything past 2^53 − 1 converts to at least 2^53: an exact test with no BigInt comparison.
  const x = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : Number.NaN;
  return Number.isInteger(x) && x >= 0 && x <= Number.MAX_SAFE_INTEGER ? x : Number.NaN;
}

/** v as a counter: its exact double where there is one, else its BigInt (a fraction truncated); undefined when it is none (absent, negative: some drivers report "not supported" as -1, not a number). */
export function countOf(v: unknown): number | bigint | undefined {
  const x = exactCount(v);
  if (x >= 0) return x;
  const b = typeof v === 'bigint' ? v : typeof v === 'number' && Number.isFinite(v) ? BigInt(Math.trunc(v)) : undefined;
  return b !== undefined && b >= 0n ? b : undefined;
}
