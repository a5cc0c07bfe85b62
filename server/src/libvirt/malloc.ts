// glibc keeps the high-water mark of each malloc arena: a tick's transient native memory (libvirt's
// RPC messages and typed parameters, the addon's stats tables) stays in the process after it is
// freed. This hands their free pages back (bench/README.md, "Memory"; capping the arenas did not help).
import { native } from './native.js';

let lastTrim = Number.NEGATIVE_INFINITY;
let trimming = false;

/** malloc_trim(0) on the libuv pool, at most once per `minGapMs` and never two at once. */
export function trimNativeHeap(minGapMs: number): void {
  const now = performance.now();
  if (trimming || now - lastTrim < minGapMs) return;
  lastTrim = now;
  trimming = true;
  native.mallocTrim().then(
    () => (trimming = false),
    () => (trimming = false),
  );
}
