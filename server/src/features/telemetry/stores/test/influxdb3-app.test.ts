// The whole app with INFLUX_URL set: the collector's libvirt records (test driver) reach Telegraf's tables and
// vmpulse's in the fake Core, the status endpoints count refused lines, and the seed 002 history shim reads back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxFake, type InfluxFake } from '../../../../../test/fakes/influxdb3-fake.js';
import { startTestApp, type TestApp } from '../../../../../test/helpers/app.js';
import { waitFor } from './influxdb3-fixtures.js';

const TOKEN = 'apiv3_app-test';
let fake: InfluxFake;
let t: TestApp;

beforeAll(async () => {
  fake = await startInfluxFake({ token: TOKEN });
  t = await startTestApp({ LIBVIRT_URI: 'test:///default', POLL_INTERVAL: '0.2', INFLUX_URL: fake.url, INFLUX_TOKEN: TOKEN, BATCH_MAX_SEC: '0.1' });
  await waitFor(() => fake.table('vmpulse_vm').length >= 5, 20_000, 'five ticks in InfluxDB');
});
afterAll(async () => {
  await t?.stop();
  await fake?.close();
});

describe('vmpulse with InfluxDB 3', () => {
  it("writes the collector's samples into vmpulse's and Telegraf's tables, refusing nothing", async () => {
    const vm = t.app.services.vms.list({ state: 'running' })[0]!;
    expect(fake.table('vmpulse_vm', vm.id).length).toBeGreaterThanOrEqual(5);
    const cpu = fake.table('libvirt_cpu', vm.id).at(-1)!;
    expect(cpu.tags).toMatchObject({ domain_name: vm.name, vm_id: String(vm.id) });
    expect(typeof cpu.fields.cpu_time).toBe('bigint');
    expect(cpu.fields).not.toHaveProperty('time');
    expect(fake.table('libvirt_balloon', vm.id).length).toBeGreaterThan(0);
    expect(fake.table('libvirt_vcpu', vm.id).length).toBeGreaterThan(0);
    const status = await (await t.api('/api/telemetry/status')).json();
    expect(status.store).toMatchObject({ backend: 'influxdb3', failed_writes: 0, rejected_lines: 0, last_error: null });
    // the raw record rides along for the store, not in what is serialized (pubsub over Redis, answers)
    const latest = t.app.services.metrics.latest(vm.id)!;
    expect(latest.libvirt?.['cpu.time']).toBeTypeOf('bigint');
    expect(Object.keys(latest)).not.toContain('libvirt');
  });

  it('reads history back through the seed 002 shim and GraphQL', async () => {
    const vm = t.app.services.vms.list({ state: 'running' })[0]!;
    const res = await t.api(`/api/metrics/vm/${vm.id}/history?metric_name=memory_used_mb&limit=3`);
    expect(res.status).toBe(200);
    const rows = await res.json();
    expect(rows).toHaveLength(3);
    expect(Date.parse(rows[0].timestamp)).toBeGreaterThan(Date.parse(rows[2].timestamp));
    const q = await t.gql(`query($id: ID!) { vm(id: $id) { history(input: { range: LAST_15_MINUTES, step: 1, fields: [cputime_rate] }) { points { timestamp values { field avg } } } } }`, { id: String(vm.id) });
    expect(q.body.errors).toBeUndefined();
    const points = q.body.data.vm.history.points;
    expect(points.length).toBeGreaterThanOrEqual(1);
    expect(points.at(-1).values).toEqual([{ field: 'cputime_rate', avg: expect.any(Number) }]);
  });

  it('counts lines the server refuses in the REST and GraphQL status, and keeps writing the others', async () => {
    // Another writer owns libvirt_vcpu_total.maximum as a string: Core refuses vmpulse's integer, line by line.
    const other = await startInfluxFake({ token: TOKEN });
    await fetch(`${other.url}/api/v3/write_lp?db=vmstats&precision=ms`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: 'libvirt_vcpu_total,host=x maximum="many" 1' });
    const app = await startTestApp({ LIBVIRT_URI: 'test:///default', POLL_INTERVAL: '0.2', INFLUX_URL: other.url, INFLUX_TOKEN: TOKEN, BATCH_MAX_SEC: '0.1' });
    try {
      await waitFor(() => (app.app.services.metrics.storeStatus().rejectedLines ?? 0) >= 3, 10_000, 'refused lines');
      const rest = await (await app.api('/api/telemetry/status')).json();
      expect(rest.store.rejected_lines).toBeGreaterThanOrEqual(3);
      expect(rest.store.last_error).toMatch(/invalid column type for column 'maximum'/);
      const gql = await app.gql('{ collectorStatus { store { rejectedLines dropped } } }');
      expect(gql.body.data.collectorStatus.store.rejectedLines).toBeGreaterThanOrEqual(3);
      expect(other.table('vmpulse_vm').length).toBeGreaterThanOrEqual(3); // the other lines keep landing
      expect(other.table('libvirt_vcpu_total').length).toBe(1);
    } finally {
      await app.stop();
      await other.close();
    }
  });
});
