// A scavenge (V8's young-generation collection) copies every young object still alive, and it
// comes when the young generation is full: often in the middle of a collector tick, when the
// tick's stats tables, the snapshots being built and the previous tick's snapshots are all alive
// (5-9 MB copied at ~250 MB/s on our 2-core machines: pauses of 25-45 ms). Asked for just before a
// tick, when only the previous tick's state is alive, it copies ~1.5 MB at 1,000 VMs (5-13 ms), and
// the tick's own garbage then fits in the emptied young generation (bench/README.md, "A scavenge
// before each tick"). Needs `node --expose-gc` (pnpm start has it); without it, nothing happens.

let last = Number.NEGATIVE_INFINITY;

/** A scavenge now, unless one was asked for less than `minGapMs` ago (many hosts: one per interval). */
export function collectYoungGeneration(minGapMs: number): void {
  if (!globalThis.gc) return;
  const now = performance.now();
  if (now - last < minGapMs) return;
  last = now;
  globalThis.gc({ type: 'minor' });
}
