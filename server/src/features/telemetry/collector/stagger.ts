// When each host's collection first ticks: the loop staggers hosts over one interval so their CPU
// spreads instead of landing all at once.

/** When host `i` of `n` first ticks: spread evenly over one interval (host 0 at once). */
export function staggerMs(i: number, n: number, intervalMs: number): number {
  return n > 1 ? Math.floor((i * intervalMs) / n) : 0;
}
