import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startInfluxFake, type InfluxFake } from '../../../../../test/fakes/influxdb3-fake.js';
import { snapshotLines } from '../influxdb3-lines.js';
import { createInfluxStore } from '../influxdb3.js';
import type { MetricStore } from '../store.js';
import { captureLogger, snapshotFixture, waitFor } from './influxdb3-fixtures.js';

const TOKEN = 'apiv3_batching-test-token';
let fake: InfluxFake;
let store: MetricStore | undefined;

beforeEach(async () => { fake = await startInfluxFake({ token: TOKEN }); });
afterEach(async () => { await store?.close(); store = undefined; await fake.close(); });

const fleet = (n: number, ts: number, tick = 0) => Array.from({ length: n }, (_, i) => snapshotFixture(i + 1, ts, tick));
const writes = () => fake.requests.filter((r) => r.path === '/api/v3/write_lp');
const LINES = snapshotLines(snapshotFixture(1, Date.now())).length; // per VM per tick

describe('InfluxDB 3 store batching', () => {
  it('splits a 1,000-VM tick into requests of at most BATCH_MAX_LINES lines, without waiting on I/O', async () => {
    const { log } = captureLogger();
    store = createInfluxStore({ url: fake.url, database: 'vmstats', token: TOKEN, batchMaxLines: 5000, batchMaxSec: 0.3, log });
    const ts = Math.floor(Date.now() / 60_000) * 60_000 + 20_000; // no rollup bucket closes in this test
    const batch = fleet(1000, ts);
    const linesPerTick = batch.reduce((n, s) => n + snapshotLines(s).length, 0);
    expect(linesPerTick).toBe(12_000); // wide row + Telegraf: state, cpu, cache monitor total, balloon, vcpu total, 2 vCPUs, net total, 1 NIC, block total, 1 disk

    const started = performance.now();
    await store.write(batch);
    const enqueueMs = performance.now() - started;
    const writtenAt = Date.now();
    expect(store.status().bufferDepth).toBeGreaterThan(0); // write() returned before the I/O finished

    await waitFor(() => store!.status().bufferDepth === 0 && writes().length === 3, 10_000, 'flush');
    const sizes = writes().map((r) => r.lines);
    expect(sizes).toEqual([5000, 5000, 2000]);
    expect(writes().every((r) => r.status === 204 && r.authorization === `Bearer ${TOKEN}` && r.gzip)).toBe(true);
    // Full batches go at once; the remainder waits for BATCH_MAX_SEC in case the next tick tops it up.
    expect(writes()[2]!.at - writtenAt).toBeGreaterThanOrEqual(250);
    expect(fake.table('vmpulse_vm')).toHaveLength(1000);
    expect(fake.table('libvirt_vcpu')).toHaveLength(2000);
    expect(store.status()).toMatchObject({ written: 1000, failedWrites: 0, dropped: 0, rejectedLines: 0, lastError: null });

    const bytes = batch.reduce((n, s) => n + snapshotLines(s).reduce((b, l) => b + Buffer.byteLength(l) + 1, 0), 0);
    const sent = writes().reduce((n, w) => n + w.bytes, 0);
    console.info(`[influxdb3] 1,000 VMs: map+enqueue ${enqueueMs.toFixed(1)} ms, ${linesPerTick} lines, ${(bytes / 1024).toFixed(0)} KiB per tick (${(sent / 1024).toFixed(0)} KiB gzipped), last write request ${store.status().lastWriteMs} ms`);
  });

  it('holds a small tick for at most BATCH_MAX_SEC and coalesces ticks that arrive meanwhile', async () => {
    const { log } = captureLogger();
    store = createInfluxStore({ url: fake.url, database: 'vmstats', token: TOKEN, batchMaxLines: 2000, batchMaxSec: 0.5, log });
    const t0 = Date.now();
    const ts = 1_700_000_000_000; // data time 20 s into a minute: no rollup bucket closes
    await store.write(fleet(3, ts, 0));
    await new Promise((r) => setTimeout(r, 150));
    await store.write(fleet(3, ts + 150, 1));
    await new Promise((r) => setTimeout(r, 200));
    expect(writes()).toHaveLength(0); // 350 ms < BATCH_MAX_SEC
    await waitFor(() => writes().length === 1, 2_000, 'age flush');
    expect(writes()[0]!.at - t0).toBeGreaterThanOrEqual(450);
    expect(writes()[0]!.at - t0).toBeLessThan(1_000);
    expect(writes()[0]!.lines).toBe(2 * 3 * LINES);
    expect(fake.table('vmpulse_vm', 2).map((r) => r.fields.timeusr)).toEqual([5_000_000_000n, 5_000_000_001n]);
  });

  it('flushes what is buffered on close() without waiting for BATCH_MAX_SEC', async () => {
    const { log } = captureLogger();
    store = createInfluxStore({ url: fake.url, database: 'vmstats', token: TOKEN, batchMaxLines: 2000, batchMaxSec: 60, log });
    const ts = Date.now();
    await store.write(fleet(10, ts));
    const started = Date.now();
    await store.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(fake.table('vmpulse_vm')).toHaveLength(10);
    // the open rollup buckets are written too: this minute's and this hour's
    expect(fake.table('vmpulse_vm_1m').map((r) => Number(r.timeNs / 1_000_000n))).toEqual(Array(10).fill(Math.floor(ts / 60_000) * 60_000));
    expect(fake.table('vmpulse_vm_1h')).toHaveLength(10);
    expect(store.status()).toMatchObject({ bufferDepth: 0, written: 10, dropped: 0 });
  });
});
