import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { collectYoungGeneration } from '../young-gc.js';

/** Runs fn and answers the kinds of the GCs that started while it ran (Node's 'gc' performance entries). */
async function gcsDuring(fn: () => void): Promise<number[]> {
  const seen: PerformanceEntry[] = [];
  const obs = new PerformanceObserver((list) => seen.push(...list.getEntries()));
  obs.observe({ entryTypes: ['gc'] });
  const t0 = performance.now();
  fn();
  const t1 = performance.now();
  await new Promise((r) => setTimeout(r, 50)); // entries are delivered asynchronously
  obs.disconnect();
  return seen.filter((e) => e.startTime >= t0 && e.startTime <= t1).map((e) => (e as PerformanceEntry & { detail: { kind: number } }).detail.kind);
}

describe('collectYoungGeneration', () => {
  const exposed = globalThis.gc;
  afterAll(() => {
    globalThis.gc = exposed;
  });

  it('without --expose-gc it does nothing and does not throw', async () => {
    globalThis.gc = undefined;
    expect(await gcsDuring(() => collectYoungGeneration(0))).toEqual([]);
  });

  it('with it: one scavenge (a minor GC, not a full one), then none until the gap has passed', async () => {
    setFlagsFromString('--expose-gc');
    globalThis.gc = runInNewContext('gc'); // what `node --expose-gc` puts on globalThis
    expect(await gcsDuring(() => collectYoungGeneration(0))).toEqual([constants.NODE_PERFORMANCE_GC_MINOR]);
    expect(await gcsDuring(() => collectYoungGeneration(60_000))).toEqual([]);
    expect(await gcsDuring(() => collectYoungGeneration(10))).toEqual([constants.NODE_PERFORMANCE_GC_MINOR]);
  });
});
