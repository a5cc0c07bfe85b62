import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { captureLogger, snapshotFixture, startInfluxFake, waitFor, type InfluxFake } from '../../../../../test/fakes/influxdb3-fake.js';
import { snapshotLines } from '../influxdb3-lines.js';
import { createInfluxStore } from '../influxdb3.js';
import type { MetricStore } from '../store.js';

const TOKEN = 'apiv3_batching-test-token';
let fake: InfluxFake;
let store: MetricStore | undefined;

beforeEach(async () => { fake = await startInfluxFake({ token: TOKEN }); });
afterEach(async () => { await store?.close(); store = undefined; await fake.close(); });

const fleet = (n: number, ts: number, tick = 0) => Array.from({ length: n }, (_, i) => snapshotFixture(i + 1, ts, tick));
const writes = () => fake.requests.filter((r) => r.path.endsWith('/write') || r.path.endsWith('/write_lp'));

describe('InfluxDB 3 store batching', () => {
  it('splits a 1,000-VM tick into requests of at most BATCH_MAX_LINES lines, without waiting on I/O', async () => {
    const { log } = captureLogger();
    store = createInfluxStore({ url: fake.url, database: 'vmstats', token: TOKEN, batchMaxLines: 2000, batchMaxSec: 0.3, log });
    const ts = Date.now();
    const batch = fleet(1000, ts);
    const linesPerTick = batch.reduce((n, s) => n + snapshotLines(s).length, 0);
    expect(linesPerTick).toBe(9000); // 7 tables + 1 NIC + 1 disk per VM

    const started = performance.now();
    await store.write(batch);
    const enqueueMs = performance.now() - started;
    const writtenAt = Date.now();
    expect(store.status().bufferDepth).toBeGreaterThan(0); // write() returned before the I/O finished

    await waitFor(() => store!.status().bufferDepth === 0 && writes().length === 5, 10_000, 'flush');
    const sizes = writes().map((r) => r.lines);
    expect(sizes).toEqual([2000, 2000, 2000, 2000, 1000]);
    expect(writes().every((r) => r.status === 204 && r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    // Full batches go at once; the remainder waits for BATCH_MAX_SEC in case the next tick tops it up.
    expect(writes()[4]!.at - writtenAt).toBeGreaterThanOrEqual(250);
    expect(fake.table('vmpulse_vm')).toHaveLength(1000);
    expect(fake.rows).toHaveLength(9000);
    expect(store.status()).toMatchObject({ written: 1000, failedWrites: 0, dropped: 0, lastError: null });

    const bytes = batch.reduce((n, s) => n + snapshotLines(s).reduce((b, l) => b + Buffer.byteLength(l) + 1, 0), 0);
    console.info(`[influxdb3] 1,000 VMs: map+enqueue ${enqueueMs.toFixed(1)} ms, ${linesPerTick} lines, ${(bytes / 1024).toFixed(0)} KiB per tick, last write request ${store.status().lastWriteMs} ms`);
  });

  it('holds a small tick for at most BATCH_MAX_SEC and coalesces ticks that arrive meanwhile', async () => {
    const { log } = captureLogger();
    store = createInfluxStore({ url: fake.url, database: 'vmstats', token: TOKEN, batchMaxLines: 2000, batchMaxSec: 0.5, log });
    const t0 = Date.now();
    await store.write(fleet(3, t0, 0));
    await new Promise((r) => setTimeout(r, 150));
    await store.write(fleet(3, t0 + 150, 1));
    await new Promise((r) => setTimeout(r, 200));
    expect(writes()).toHaveLength(0); // 350 ms < BATCH_MAX_SEC
    await waitFor(() => writes().length === 1, 2_000, 'age flush');
    expect(writes()[0]!.at - t0).toBeGreaterThanOrEqual(450);
    expect(writes()[0]!.at - t0).toBeLessThan(1_000);
    expect(writes()[0]!.lines).toBe(2 * 3 * 9);
    expect(fake.table('vmpulse_vm', 2).map((r) => r.fields.timeusr)).toEqual([5_000_000_000n, 5_000_000_001n]);
  });

  it('flushes what is buffered on close() without waiting for BATCH_MAX_SEC', async () => {
    const { log } = captureLogger();
    store = createInfluxStore({ url: fake.url, database: 'vmstats', token: TOKEN, batchMaxLines: 2000, batchMaxSec: 60, log });
    await store.write(fleet(10, Date.now()));
    const started = Date.now();
    await store.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(fake.table('vmpulse_vm')).toHaveLength(10);
    expect(store.status()).toMatchObject({ bufferDepth: 0, written: 10, dropped: 0 });
  });
});
