// What InfluxDB 3 refuses for good: lines in a partial write, catalog limits, a database it cannot create,
// requests over its size limit. Refused lines are counted (rejectedLines, also in dropped), never retried,
// never cost the other lines of their batch; the reason is in lastError and logged once, not per batch.
import { afterEach, describe, expect, it } from 'vitest';
import { startInfluxFake, type FakeOptions, type InfluxFake } from '../../../../../test/fakes/influxdb3-fake.js';
import { snapshotLines } from '../influxdb3-lines.js';
import { createInfluxStore, type InfluxStoreOptions } from '../influxdb3.js';
import type { MetricStore } from '../store.js';
import { captureLogger, snapshotFixture, waitFor } from './influxdb3-fixtures.js';

const TOKEN = 'apiv3_rejections';
const T0 = 1_700_000_000_000;
const LINES = snapshotLines(snapshotFixture(1, T0)).length;
let fake: InfluxFake | undefined;
let store: MetricStore | undefined;
let logs: string[] = [];

afterEach(async () => {
  await store?.close();
  store = undefined;
  await fake?.close();
  fake = undefined;
});

async function open(fakeOpts: FakeOptions = {}, over: Partial<InfluxStoreOptions> = {}): Promise<{ fake: InfluxFake; store: MetricStore }> {
  fake = await startInfluxFake({ token: TOKEN, ...fakeOpts });
  const { log, output } = captureLogger();
  logs = output;
  store = createInfluxStore({ url: fake.url, database: 'vmstats', token: TOKEN, batchMaxLines: 5000, batchMaxSec: 0.02, log, retryBaseMs: 40, closeTimeoutMs: 500, ...over });
  return { fake, store };
}
const tick = (vms: number, i: number) => Array.from({ length: vms }, (_, v) => snapshotFixture(v + 1, T0 + i * 1000, i));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** the store's writes (the tests' own seeding writes say precision=ms) */
const writes = () => fake!.requests.filter((r) => r.path === '/api/v3/write_lp' && r.params.precision === 'millisecond');
const errorLogs = () => logs.filter((l) => l.includes('"level":50'));

describe('InfluxDB 3 store: what the server refuses for good', () => {
  it("writes to Core's own endpoint: write_lp, partial writes accepted, durable (no_sync off), millisecond precision, gzip", async () => {
    const { store: s } = await open();
    await s.write(tick(50, 0));
    await waitFor(() => s.status().bufferDepth === 0, 3000, 'flush');
    expect(writes()).toHaveLength(1);
    expect(writes()[0]).toMatchObject({ status: 204, gzip: true, params: { db: 'vmstats', precision: 'millisecond', accept_partial: 'true', no_sync: 'false' } });
    expect(s.status()).toMatchObject({ written: 50, rejectedLines: 0, dropped: 0 });
  });

  it('creates its database by writing to it (Core creates a missing database on first write)', async () => {
    const { fake: f, store: s } = await open();
    expect(f.catalog.dbs.has('vmstats')).toBe(false);
    await s.write(tick(1, 0));
    await waitFor(() => s.status().written === 1, 3000, 'write');
    expect(f.catalog.dbs.has('vmstats')).toBe(true);
  });

  it('counts the lines of a partial write (400) one by one, keeps the rest of the batch, does not retry them', async () => {
    const { fake: f, store: s } = await open();
    // Another writer created libvirt_vcpu_total.current as a string: Core then refuses our integer.
    await fetch(`${f.url}/api/v3/write_lp?db=vmstats&precision=ms`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: 'libvirt_vcpu_total,host=x current="two" 1',
    });
    await s.write(tick(5, 0));
    await waitFor(() => s.status().bufferDepth === 0 && s.status().failedWrites === 1, 3000, 'rejection');
    await sleep(150); // longer than the retry backoff: a retry would show up
    expect(writes()).toHaveLength(1);
    expect(writes()[0]!.status).toBe(400);
    expect(s.status()).toMatchObject({ rejectedLines: 5, dropped: 5, written: 5, bufferDepth: 0 });
    expect(s.status().lastError).toMatch(/refused 5 of \d+ lines \(HTTP 400\): line \d+: invalid column type for column 'current', expected iox::column_type::field::string, got iox::column_type::field::integer \(\+4 more\)/);
    expect(f.table('vmpulse_vm')).toHaveLength(5); // the other lines of the request were kept
    expect(f.table('libvirt_cpu')).toHaveLength(5);

    await s.write(tick(5, 1));
    await waitFor(() => writes().length === 2 && s.status().bufferDepth === 0, 3000, 'next tick');
    expect(s.status()).toMatchObject({ rejectedLines: 10, dropped: 10, written: 10 });
    expect(errorLogs().filter((l) => l.includes('invalid column type'))).toHaveLength(1); // logged once, not per batch
  });

  it('treats a catalog limit (422, columns per table) as permanent for those lines only', async () => {
    // A server whose column limit the wide vmpulse_vm row (~90 columns) exceeds; Telegraf's tables fit.
    const { fake: f, store: s } = await open({ limits: { columnsPerTable: 30 } });
    await s.write(tick(3, 0));
    await waitFor(() => s.status().bufferDepth === 0 && s.status().failedWrites === 1, 3000, 'rejection');
    expect(writes()[0]!.status).toBe(422);
    expect(s.status().rejectedLines).toBe(3);
    expect(s.status().lastError).toMatch(/HTTP 422, a catalog limit\): line \d+: Update to schema would exceed number of columns per table limit of 30 columns/);
    expect(f.table('vmpulse_vm')).toHaveLength(0);
    expect(f.table('libvirt_balloon')).toHaveLength(3);
    await sleep(150);
    expect(writes()).toHaveLength(1);
  });

  it('reports a database Core cannot create (database limit, 422 without per-line data) and drops, counted', async () => {
    const { fake: f, store: s } = await open({ limits: { dbs: 1 } });
    await fetch(`${f.url}/api/v3/write_lp?db=other&precision=ms`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: 'm,host=x v=1i 1' });
    await s.write(tick(2, 0));
    await waitFor(() => s.status().failedWrites === 1, 3000, 'rejection');
    expect(s.status()).toMatchObject({ rejectedLines: 2 * LINES, dropped: 2 * LINES, written: 0, bufferDepth: 0 });
    expect(s.status().lastError).toBe('InfluxDB cannot store into database "vmstats" (HTTP 422): Adding a new database would exceed limit of 1 databases');
    expect(errorLogs().some((l) => l.includes('Adding a new database would exceed limit'))).toBe(true);
  });

  it('resends in smaller requests when the server says a request is too large (413), losing nothing', async () => {
    const { fake: f, store: s } = await open({ maxRequestBytes: 64 * 1024 });
    await s.write(tick(100, 0)); // ~100 × 13 lines, ~250 KiB of line protocol, gzipped to less
    await waitFor(() => s.status().bufferDepth === 0, 10_000, 'flush');
    expect(writes().some((w) => w.status === 413)).toBe(true);
    expect(s.status()).toMatchObject({ written: 100, dropped: 0, rejectedLines: 0 });
    expect(f.table('vmpulse_vm')).toHaveLength(100);
    expect(logs.some((l) => l.includes('sending smaller requests'))).toBe(true);
  });

  it('drops and counts a single line larger than the server accepts', async () => {
    const { store: s } = await open({ maxRequestBytes: 2048 }, { batchMaxBytes: 1024 });
    await s.write([snapshotFixture(1, T0, 0, { error: 'x'.repeat(5000), stale: true })]); // a stale snapshot: one line
    await waitFor(() => s.status().failedWrites === 1, 3000, 'rejection');
    expect(s.status()).toMatchObject({ rejectedLines: 1, dropped: 1, bufferDepth: 0 });
    expect(s.status().lastError).toMatch(/HTTP 413/);
  });
});
