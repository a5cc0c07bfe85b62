// Faults between vmpulse and InfluxDB: the server away, overloaded (429, 5xx), hanging, refusing the token.
// Lines are kept and retried with backoff; nothing is lost silently; the token never shows.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startInfluxFake, type InfluxFake } from '../../../../../test/fakes/influxdb3-fake.js';
import { snapshotLines } from '../influxdb3-lines.js';
import { createInfluxStore, type InfluxStoreOptions } from '../influxdb3.js';
import type { MetricStore } from '../store.js';
import { captureLogger, snapshotFixture, waitFor } from './influxdb3-fixtures.js';

const TOKEN = 'apiv3_0utage-T0ken-must-never-leak';
const T0 = 1_700_000_000_000; // 20 s past a minute: no rollup bucket closes within these ticks
let fake: InfluxFake;
let store: MetricStore | undefined;
let logs: string[];

beforeEach(async () => { fake = await startInfluxFake({ token: TOKEN }); });
afterEach(async () => {
  await store?.close();
  store = undefined;
  await fake.close();
  for (const line of logs) expect(line).not.toContain(TOKEN);
});

function open(over: Partial<InfluxStoreOptions> = {}): MetricStore {
  const { log, output } = captureLogger();
  logs = output;
  store = createInfluxStore({
    url: fake.url, database: 'vmstats', token: TOKEN, batchMaxLines: 500, batchMaxSec: 0.02, log,
    retryBaseMs: 40, retryMaxMs: 200, closeTimeoutMs: 300, ...over,
  });
  return store;
}
const tick = (vms: number, i: number) => Array.from({ length: vms }, (_, v) => snapshotFixture(v + 1, T0 + i * 1000, i));
const LINES = snapshotLines(snapshotFixture(1, T0)).length; // per VM per tick
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const writeAttempts = () => fake.requests.filter((r) => r.path === '/api/v3/write_lp');

describe('InfluxDB 3 store during outages', () => {
  it('buffers while the server refuses connections or answers 503, then flushes every tick in order', async () => {
    const s = open();
    let i = 0;
    for (; i < 3; i++) await s.write(tick(20, i));
    await waitFor(() => s.status().bufferDepth === 0, 3000, 'initial flush');

    await fake.setFault('refuse');
    const depths: number[] = [];
    for (; i < 8; i++) { await s.write(tick(20, i)); await sleep(30); depths.push(s.status().bufferDepth); }
    expect(depths.at(-1)).toBeGreaterThan(depths[0]!);
    expect(s.status().lastError).toMatch(/unreachable.*ECONNREFUSED/);
    expect(s.status().failedWrites).toBeGreaterThan(0);

    await fake.setFault(503);
    for (; i < 12; i++) { await s.write(tick(20, i)); await sleep(30); }
    await waitFor(() => /503/.test(s.status().lastError ?? ''), 2000, '503 reported');
    expect(s.status().bufferDepth).toBe((12 - 3) * 20 * LINES);

    await fake.setFault(null);
    await waitFor(() => s.status().bufferDepth === 0, 5000, 'flush after recovery');
    for (let vm = 1; vm <= 20; vm++) {
      const ts = fake.table('vmpulse_vm', vm).map((r) => Number(r.timeNs / 1_000_000n));
      expect(ts).toEqual(Array.from({ length: 12 }, (_, k) => T0 + k * 1000));
      expect(fake.table('libvirt_cpu', vm)).toHaveLength(12);
    }
    expect(s.status()).toMatchObject({ written: 240, dropped: 0, rejectedLines: 0 });
    expect(logs.some((l) => l.includes('recovered'))).toBe(true);
  });

  it('retries 429 (Core sends no Retry-After) with its own exponential backoff', async () => {
    const s = open({ retryBaseMs: 100, retryMaxMs: 1000 });
    await fake.setFault(429);
    await s.write(tick(2, 0));
    await waitFor(() => writeAttempts().length >= 3, 3000, 'three attempts');
    await fake.setFault(null);
    await waitFor(() => s.status().bufferDepth === 0, 3000, 'flush');
    const attempts = writeAttempts();
    expect(attempts.slice(0, 3).map((a) => a.status)).toEqual([429, 429, 429]);
    expect(attempts.at(-1)!.status).toBe(204);
    // waits of 100, 200, 400 ms…: each gap at least the backoff for that failure
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(90);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(190);
    expect(s.status()).toMatchObject({ dropped: 0, written: 2 });
    expect(logs.join('\n')).toContain('this service is overloaded, please try again later');
  });

  it('gives up on a request the server does not answer within the timeout, keeps the lines, and resends', async () => {
    const s = open({ requestTimeoutMs: 150 });
    await fake.setFault('hang');
    await s.write(tick(3, 0));
    await waitFor(() => /no answer within 150 ms/.test(s.status().lastError ?? ''), 3000, 'timeout');
    expect(s.status().bufferDepth).toBe(3 * LINES);
    await fake.setFault(null);
    await waitFor(() => s.status().bufferDepth === 0, 3000, 'flush');
    expect(fake.table('vmpulse_vm')).toHaveLength(3);
  });

  it('drops the oldest lines past the buffer bound and counts them', async () => {
    const s = open({ maxBufferLines: 10 * LINES }); // one tick of 10 VMs
    await fake.setFault('refuse');
    for (let i = 0; i < 5; i++) { await s.write(tick(10, i)); await sleep(20); }
    expect(s.status().bufferDepth).toBeLessThanOrEqual(2 * 10 * LINES); // the bound, plus a batch in flight
    await fake.setFault(null);
    await waitFor(() => s.status().bufferDepth === 0, 3000, 'flush');
    expect(s.status().dropped).toBe(4 * 10 * LINES);
    expect(s.status().rejectedLines).toBe(0); // dropped by us, not refused by the server
    const kept = new Set(fake.table('vmpulse_vm').map((r) => Number(r.timeNs / 1_000_000n)));
    expect([...kept]).toEqual([T0 + 4000]); // only the newest tick survived
  });

  it('reports a refused token clearly, keeps buffering, and never shows the token', async () => {
    const { log, output } = captureLogger();
    logs = output;
    const wrong = 'apiv3_wr0ng-T0ken-also-secret';
    store = createInfluxStore({ url: fake.url, database: 'vmstats', token: wrong, batchMaxLines: 500, batchMaxSec: 0.02, log, retryBaseMs: 40, closeTimeoutMs: 200 });
    await store.write(tick(3, 0));
    await waitFor(() => store!.status().failedWrites >= 2, 2000, 'auth failures');
    const st = store.status();
    expect(st.lastError).toMatch(/refused the credentials \(HTTP 401\).*INFLUX_TOKEN/);
    expect(st.bufferDepth).toBe(3 * LINES);
    expect(writeAttempts()[0]!.status).toBe(401);
    await expect(store.history({ vmId: 1, from: new Date(T0), to: new Date(T0 + 1000), stepSec: 1, fields: ['cputime'] }))
      .rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/refused the credentials for queries \(HTTP 401\)/) });
    for (const text of [...output, st.lastError!]) expect(text).not.toContain(wrong);
  });

  it('close() waits a bounded time when the server is down and counts what it could not send', async () => {
    const s = open({ closeTimeoutMs: 200 });
    await fake.setFault('refuse');
    await s.write(tick(4, 0));
    const started = Date.now();
    await s.close();
    expect(Date.now() - started).toBeLessThan(1000);
    // the 4 VMs' lines plus their open minute buckets, written at close
    expect(s.status()).toMatchObject({ bufferDepth: 0, dropped: 4 * LINES + 4 + 4 });
    expect(s.status().lastError).toMatch(/closed with \d+ lines unsent/);
  });
});
