// Against a real InfluxDB 3 (Core/Enterprise): runs only when INFLUX_URL is set, e.g.
//   INFLUX_URL=http://127.0.0.1:8181 INFLUX_DB=vmpulse_test INFLUX_TOKEN=apiv3_… npx vitest run src/stores/test/influxdb3.live
// Writes a few samples for a random, otherwise unused vm_id into INFLUX_DB and reads them back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogger, snapshotFixture, waitFor } from '../../../../../test/fakes/influxdb3-fake.js';
import { createInfluxStore } from '../influxdb3.js';
import type { MetricStore } from '../store.js';

const url = process.env.INFLUX_URL;
const token = process.env.INFLUX_TOKEN || undefined;

describe.skipIf(!url)('InfluxDB 3 store against a live server (INFLUX_URL)', () => {
  const vmId = 900_000_000 + Math.floor(Math.random() * 99_999_999);
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
  const { log, output } = captureLogger();
  let store: MetricStore;

  beforeAll(async () => {
    store = createInfluxStore({ url: url!, database: process.env.INFLUX_DB || 'vmstats', token, batchMaxLines: 2000, batchMaxSec: 0.1, log });
    for (let i = 0; i < 5; i++) {
      await store.write([snapshotFixture(vmId, t0 + i * 1000, i, { vmName: `vmpulse live test, "${vmId}"`, hostName: 'live host' })]);
    }
    await waitFor(() => store.status().bufferDepth === 0, 20_000, 'flush to the live server');
  });
  afterAll(async () => { await store?.close(); });

  it('accepts every line (no rejections, no errors)', () => {
    expect(store.status()).toMatchObject({ written: 5, dropped: 0, failedWrites: 0, lastError: null });
  });

  it('reads back raw values newest first and bucketed history', async () => {
    const latest = await store.latestValues(vmId, 'timeusr', 10, new Date(t0));
    expect(latest.map((p) => p.value)).toEqual([5_000_000_004, 5_000_000_003, 5_000_000_002, 5_000_000_001, 5_000_000_000]);
    expect(latest[0]!.ts).toEqual(new Date(t0 + 4000));
    const history = await store.history({ vmId, from: new Date(t0), to: new Date(t0 + 60_000), stepSec: 60, fields: ['cpu_pct', 'cputime'] });
    expect(history).toHaveLength(1);
    expect(history[0]!.values.cpu_pct).toEqual({ avg: 17, min: 15, max: 19 });
  });

  it('never logged the token', () => {
    if (token) for (const line of output) expect(line).not.toContain(token);
  });
});
