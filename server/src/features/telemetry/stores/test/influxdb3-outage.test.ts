import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { captureLogger, snapshotFixture, startInfluxFake, waitFor, type InfluxFake } from '../../../../../test/fakes/influxdb3-fake.js';
import { createInfluxStore, type InfluxStoreOptions } from '../influxdb3.js';
import type { MetricStore } from '../store.js';

const TOKEN = 'apiv3_0utage-T0ken-must-never-leak';
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
const tick = (vms: number, i: number) => Array.from({ length: vms }, (_, v) => snapshotFixture(v + 1, 1_700_000_000_000 + i * 1000, i));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const writeAttempts = () => fake.requests.filter((r) => r.path === '/api/v2/write');

describe('InfluxDB 3 store during outages', () => {
  it('buffers while the server refuses connections or answers 503, then flushes every tick', async () => {
    const s = open();
    let i = 0;
    for (; i < 3; i++) await s.write(tick(20, i));
    await waitFor(() => s.status().bufferDepth === 0, 3000, 'initial flush');

    await fake.setMode('refuse');
    const depths: number[] = [];
    for (; i < 8; i++) { await s.write(tick(20, i)); await sleep(30); depths.push(s.status().bufferDepth); }
    expect(depths.at(-1)).toBeGreaterThan(depths[0]!);
    expect(s.status().lastError).toMatch(/unreachable.*ECONNREFUSED/);
    expect(s.status().failedWrites).toBeGreaterThan(0);

    await fake.setMode(503);
    for (; i < 12; i++) { await s.write(tick(20, i)); await sleep(30); }
    await waitFor(() => /503/.test(s.status().lastError ?? ''), 2000, '503 reported');
    expect(s.status().bufferDepth).toBe(12 * 20 * 9 - 3 * 20 * 9);

    await fake.setMode('ok');
    await waitFor(() => s.status().bufferDepth === 0, 5000, 'flush after recovery');
    for (let vm = 1; vm <= 20; vm++) {
      const ts = fake.table('vmpulse_vm', vm).map((r) => Number(r.timeNs / 1_000_000n));
      expect(ts).toEqual(Array.from({ length: 12 }, (_, k) => 1_700_000_000_000 + k * 1000));
      expect(fake.table('libvirt_cpu', vm)).toHaveLength(12);
    }
    expect(s.status()).toMatchObject({ written: 240, dropped: 0 });
    expect(logs.some((l) => l.includes('recovered'))).toBe(true);
  });

  it('drops the oldest lines past the buffer bound and counts them', async () => {
    const s = open({ maxBufferLines: 90 }); // one tick of 10 VMs
    await fake.setMode('refuse');
    for (let i = 0; i < 5; i++) { await s.write(tick(10, i)); await sleep(20); }
    expect(s.status().bufferDepth).toBeLessThanOrEqual(90);
    expect(s.status().dropped).toBe(4 * 90);
    await fake.setMode('ok');
    await waitFor(() => s.status().bufferDepth === 0, 3000, 'flush');
    const kept = new Set(fake.table('vmpulse_vm').map((r) => Number(r.timeNs / 1_000_000n)));
    expect([...kept]).toEqual([1_700_000_000_000 + 4000]); // only the newest tick survived
    expect(fake.rows).toHaveLength(90);
  });

  it('does not retry lines the server rejects (400), counts them, and keeps writing', async () => {
    // Another writer created libvirt_vcpu_total.current as a string: Core then refuses our integer.
    await fetch(`${fake.url}/api/v3/write_lp?db=vmstats&precision=ms`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: 'libvirt_vcpu_total,host=x current="two" 1',
    });
    const s = open();
    await s.write(tick(5, 0));
    await waitFor(() => s.status().bufferDepth === 0 && s.status().failedWrites === 1, 3000, 'rejection');
    await sleep(150); // longer than the retry backoff: a retry would show up
    expect(writeAttempts()).toHaveLength(1);
    expect(s.status()).toMatchObject({ dropped: 5, written: 5, bufferDepth: 0 });
    expect(s.status().lastError).toMatch(/400: 5 line\(s\) rejected; line \d+: invalid column type for column 'current'/);
    expect(fake.table('vmpulse_vm')).toHaveLength(5); // the valid lines of the request were kept
    expect(fake.table('libvirt_vcpu_total')).toHaveLength(1);

    await s.write(tick(5, 1));
    await waitFor(() => writeAttempts().length === 2 && s.status().bufferDepth === 0, 3000, 'next tick');
    expect(s.status()).toMatchObject({ dropped: 10, written: 10 });
    expect(logs.filter((l) => l.includes('"level":50') && l.includes('invalid column type'))).toHaveLength(2); // once per rejection
  });

  it('honours Retry-After on 429 instead of its own shorter backoff', async () => {
    const s = open();
    await fake.setMode(429, 1);
    await s.write(tick(2, 0));
    await waitFor(() => writeAttempts().length === 1, 2000, 'first attempt');
    await sleep(300);
    await fake.setMode('ok');
    await waitFor(() => s.status().bufferDepth === 0, 3000, 'flush');
    const [first, second] = writeAttempts();
    expect(first!.status).toBe(429);
    expect(second!.status).toBe(204);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
    expect(writeAttempts()).toHaveLength(2);
    expect(s.status().lastError).toMatch(/429/);
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
    expect(st.bufferDepth).toBe(27);
    expect(output.some((l) => l.includes('HTTP 401'))).toBe(true);
    for (const text of [...output, st.lastError!]) expect(text).not.toContain(wrong);
  });

  it('redacts the token even when the server echoes it back', async () => {
    const echo = http.createServer((req, res) => {
      req.resume();
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `bad header ${req.headers.authorization}` }));
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
    try {
      const s = open({ url });
      await s.write(tick(1, 0));
      await waitFor(() => s.status().failedWrites >= 1, 2000, 'failure');
      expect(s.status().lastError).toMatch(/\(HTTP 500\): bad header Bearer \*\*\*/);
      await expect(s.history({ vmId: 1, from: new Date(0), to: new Date(), stepSec: 60, fields: ['cputime'] })).rejects.toThrow(/Bearer \*\*\*/);
      expect(logs.join('\n')).toContain('Bearer ***');
    } finally {
      await store?.close();
      store = undefined;
      echo.closeAllConnections();
      await new Promise((r) => echo.close(r));
    }
  });

  it('close() waits a bounded time when the server is down and counts what it could not send', async () => {
    const s = open({ closeTimeoutMs: 200 });
    await fake.setMode('refuse');
    await s.write(tick(4, 0));
    const started = Date.now();
    await s.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(s.status()).toMatchObject({ bufferDepth: 0, dropped: 36 });
    expect(s.status().lastError).toMatch(/closed with 36 lines unsent/);
  });
});
