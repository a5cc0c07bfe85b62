// glibc keeps the high-water mark of each malloc arena: a tick's transient native memory (libvirt's
// RPC messages and typed parameters, the addon's stats tables) stays in the process after it is
// freed. This hands their free pages back (bench/README.md, "Memory"; capping the arenas did not help).
// Not after every tick: at 1,000 VMs and 1 Hz, side by side, a trim per tick cost 21 ms of CPU per
// tick against none (the trim's walk and madvise calls, and ~1,150 page faults a second taking the
// pages back); once per 10 s cost 5 ms, RSS maximum 350 MiB against 336 (per tick) and 408 (never)
// (bench/README.md, "Trimming the native heap").
import { native } from './native.js';

/** the least time between two trims */
const MIN_GAP_MS = 10_000;
let lastTrim = Number.NEGATIVE_INFINITY;
let trimming = false;

/** malloc_trim(0) on the libuv pool, at most once per MIN_GAP_MS and never two at once. */
export function trimNativeHeap(): void {
  const now = performance.now();
  if (trimming || now - lastTrim < MIN_GAP_MS) return;
  lastTrim = now;
  trimming = true;
  native.mallocTrim().then(
    () => (trimming = false),
    () => (trimming = false),
  );
}
