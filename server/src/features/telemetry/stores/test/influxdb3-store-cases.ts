// The store end to end against an InfluxDB 3 server, read back only through the server's SQL API: the same
// cases run against the fake (influxdb3-store.test.ts) and a real Core (influxdb3.live.test.ts). Each case uses
// its own random vm_id, so runs against a live database do not see each other.
import { expect } from 'vitest';
import { createInfluxStore } from '../influxdb3.js';
import type { MetricStore } from '../store.js';
import { sql, type CoreTarget } from './influxdb3-core-cases.js';
import { captureLogger, snapshotFixture, waitFor } from './influxdb3-fixtures.js';

export interface StoreCase { name: string; run(t: CoreTarget): Promise<void> }

const vmId = () => 900_000_000 + Math.floor(Math.random() * 99_999_999);
const minute = (t: number) => Math.floor(t / 60_000) * 60_000;

function open(t: CoreTarget, database = t.database): { store: MetricStore; logs: string[] } {
  const { log, output } = captureLogger();
  const store = createInfluxStore({ url: t.url, database, token: t.token, batchMaxLines: 2000, batchMaxSec: 0.05, log, closeTimeoutMs: 10_000 });
  return { store, logs: output };
}
const count = async (t: CoreTarget, table: string, vm: number, from: number) => {
  const q = await sql(t, `SELECT time, "samples" AS v FROM ${table} WHERE vm_id = '${vm}' AND time >= '${new Date(from).toISOString()}' AND time < '${new Date(from + 86_400_000).toISOString()}'`);
  return q.status === 200 ? (q.json as unknown[]).length : q.status;
};
const rowsOf = async (t: CoreTarget, table: string, vm: number, from: number, field: string) => {
  const q = await sql(t, `SELECT time, "${field}" AS v FROM ${table} WHERE vm_id = '${vm}' AND time >= '${new Date(from).toISOString()}' AND time < '${new Date(from + 86_400_000).toISOString()}'`);
  expect(q.status, `${table}: ${q.text.slice(0, 200)}`).toBe(200);
  return q.json as { time: string; v?: unknown }[];
};

export const STORE_CASES: StoreCase[] = [
  {
    name: 'a tick lands whole: wide row, every Telegraf table, rollups; no line refused',
    async run(t) {
      const vm = vmId();
      const t0 = minute(Date.now()) - 120_000;
      const { store, logs } = open(t);
      for (let i = 0; i < 3; i++) await store.write([snapshotFixture(vm, t0 + i * 30_000, i, { vmName: `vmpulse live "${vm}", test`, hostName: 'live host' })]);
      await store.write([snapshotFixture(vm, t0 + 90_000, 3)]); // closes the first minute
      await store.close();
      expect(store.status(), logs.join('\n')).toMatchObject({ written: 4, dropped: 0, rejectedLines: 0, failedWrites: 0, lastError: null });
      expect((await rowsOf(t, 'vmpulse_vm', vm, t0, 'cputime')).length).toBe(4);
      for (const [table, field, perTick] of [['libvirt_state', 'reason', 1], ['libvirt_cpu', 'cpu_time', 1], ['libvirt_balloon', 'last_update', 1], ['libvirt_vcpu_total', 'maximum', 1],
        ['libvirt_vcpu', 'cpu_time', 2], ['libvirt_net', 'rx_bytes', 1], ['libvirt_block', 'rd_times', 1]] as const) {
        expect((await rowsOf(t, table, vm, t0, field)).filter((r) => r.v !== undefined), table).toHaveLength(4 * perTick);
      }
      expect(await count(t, 'vmpulse_vm_1m', vm, t0)).toBe(2); // the closed minute and, at close(), the open one
      expect(await count(t, 'vmpulse_vm_1h', vm, t0 - 3_600_000)).toBeGreaterThanOrEqual(1);
    },
  },
  {
    name: 'history and latestValues read back what was written',
    async run(t) {
      const vm = vmId();
      const t0 = minute(Date.now()) - 180_000;
      const { store } = open(t);
      for (let i = 0; i < 5; i++) await store.write([snapshotFixture(vm, t0 + i * 1000, i)]);
      await waitFor(() => store.status().bufferDepth === 0, 20_000, 'flush');
      const latest = await store.latestValues(vm, 'timeusr', 10, new Date(t0));
      expect(latest.map((p) => p.value)).toEqual([5_000_000_004, 5_000_000_003, 5_000_000_002, 5_000_000_001, 5_000_000_000]);
      expect(latest[0]!.ts).toEqual(new Date(t0 + 4000));
      const history = await store.history({ vmId: vm, from: new Date(t0), to: new Date(t0 + 10_000), stepSec: 10, fields: ['cpu_pct', 'cputime'] });
      expect(history).toHaveLength(1);
      expect(history[0]!.values.cpu_pct).toEqual({ avg: 17, min: 15, max: 19 });
      await store.close();
    },
  },
  {
    name: 'a database never written to is "no data yet", not an error',
    async run(t) {
      const { store } = open(t, `vmpulse-never-${Date.now().toString(36)}`);
      expect(await store.history({ vmId: 1, from: new Date(Date.now() - 3_600_000), to: new Date(), stepSec: 60, fields: ['cpu_pct'] })).toEqual([]);
      expect(await store.latestValues(1, 'cputime', 5, new Date(Date.now() - 7 * 86_400_000))).toEqual([]);
      await store.close(); // nothing written: the database is not created
    },
  },
  {
    name: '30 days of history are answered, never refused by the query file limit',
    async run(t) {
      const vm = vmId();
      const { store } = open(t);
      await store.write([snapshotFixture(vm, Date.now() - 60_000, 0)]);
      await waitFor(() => store.status().bufferDepth === 0, 20_000, 'flush');
      const to = Date.now();
      const points = await store.history({ vmId: vm, from: new Date(to - 30 * 86_400_000), to: new Date(to), stepSec: 8640, fields: ['cpu_pct', 'cputime_rate'] });
      expect(points.length).toBeLessThanOrEqual(1);
      await store.close();
    },
  },
];
