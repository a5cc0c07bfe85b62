// Live telemetry on a test-driver fleet: collector ticks reach graphql-ws clients, and the REST
// shims of seeds 000, 001 and 002 show the same numbers.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../src/domain/metrics.js';
import { demoDomains, writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { collect, startTestApp, testDataDir, type TestApp } from './helpers/app.js';

let t: TestApp;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  const dataDir = testDataDir();
  t = await startTestApp({ LIBVIRT_URI: writeDemoFleet(path.join(dataDir, 'fleet.xml')), POLL_INTERVAL: '0.5', INFLUX_TOKEN: 'apiv3_secret_token', CORS_ORIGINS: 'http://dash.example' }, dataDir);
  // Two ticks, so rates exist.
  while ((t.app.services.collector.status().ticks ?? 0) < 2) await sleep(100);
});
afterAll(() => t?.stop());

const runningVm = () => t.app.services.vms.list({ state: 'running' })[0]!;

describe('GET /api/telemetry/vm-stats/{vm_id} (seed 000)', () => {
  it('answers the documented shape with every metric the test driver reports, in seed units', async () => {
    const vm = runningVm();
    const res = await t.api(`/api/telemetry/vm-stats/${vm.id}`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.vm_id).toBe(String(vm.id));
    expect(Number.isInteger(body.timestamp)).toBe(true);
    expect(Math.abs(body.timestamp - Date.now() / 1000)).toBeLessThan(10); // unix seconds
    expect(body.metrics.state).toBe('running');
    expect(body.metrics.cpus).toBe(vm.cpuCount);
    const reported = Object.keys(body.metrics).filter((k) => k !== 'state' && k !== 'cpus');
    for (const k of reported) {
      expect(METRIC_NAMES).toContain(k);
      expect(typeof body.metrics[k]).toBe('number');
    }
    // The test driver answers cpu, memory, interface and block stats.
    for (const k of ['cputime', 'timeusr', 'timesys', 'memactual', 'memrss', 'net_rxbytes', 'net_txpackets', 'disk_rd_req', 'disk_wr_reqs', 'disk_wr_bytes']) {
      expect(body.metrics).toHaveProperty(k);
    }
    // The test driver reports a domain's <currentMemory> as `actual` and half of it as `rss`
    // (`virsh -c test:///…/fleet.xml dommemstat web-01`: actual 2097152, rss 1048576), in KiB = the seed's KB.
    const defined = demoDomains().find((d) => d.name === vm.name)!;
    expect(body.metrics.memactual).toBe(defined.memoryKiB);
    expect(body.metrics.memrss).toBe(defined.memoryKiB / 2);
  });

  it('accepts the uuid and the name, 404 for an unknown VM, 400 for an invalid id', async () => {
    const vm = runningVm();
    for (const ref of [vm.uuid, encodeURIComponent(vm.name)]) {
      expect((await (await t.api(`/api/telemetry/vm-stats/${ref}`)).json()).vm_id).toBe(String(vm.id));
    }
    const unknown = await t.api('/api/telemetry/vm-stats/999999');
    expect(unknown.status).toBe(404);
    expect(Object.keys(await unknown.json())).toEqual(['detail']);
    for (const bad of ['-1', '0', '1.5e400', '%00']) {
      const res = await t.api(`/api/telemetry/vm-stats/${bad}`);
      expect([400, 404]).toContain(res.status);
      if (bad !== '1.5e400') expect(res.status).toBe(400);
    }
  });

  it('leaves out every metric of a shut-off VM but state and cpus', async () => {
    const off = t.app.services.vms.list({ state: 'shutoff' })[0]!;
    const body = await (await t.api(`/api/telemetry/vm-stats/${off.id}`)).json();
    expect(body.metrics).toEqual({ state: 'shutoff', cpus: off.cpuCount });
  });
});

describe('GET /api/telemetry/live-vms (seed 000)', () => {
  it('follows every tick: each running VM listed once, sorted by id, its cputime rising from one tick to the next', async () => {
    const cputimes = async () => {
      const text = await (await t.api('/api/telemetry/live-vms')).text();
      // exact 64-bit integers: read from the text, not through JSON.parse's doubles
      return new Map([...text.matchAll(/"id":(\d+),[^}]*"cputime":(\d+)/g)].map((m) => [Number(m[1]), BigInt(m[2]!)]));
    };
    const ticks = () => t.app.services.collector.status().ticks ?? 0;
    const before = await cputimes();
    const again = await cputimes();
    const t0 = ticks();
    while (ticks() < t0 + 2) await sleep(50);
    const after = await cputimes();
    const running = t.app.services.vms.list({ state: 'running' }).map((v) => v.id).sort((a, b) => a - b);
    for (const m of [before, again, after]) expect([...m.keys()]).toEqual(running);
    for (const id of running) expect(after.get(id)! > before.get(id)!, `VM ${id}`).toBe(true);
  });
});

describe('GraphQL subscriptions', () => {
  it('vmMetrics sends the latest snapshot first, then every tick with rising cputime', async () => {
    const vm = runningVm();
    const sub = collect(t.ws(), `subscription($id: ID!) { vmMetrics(vmId: $id) { vmId timestamp cputime cpuPct stale netRxBps } }`, { id: vm.name });
    await sub.next(() => sub.seen.length >= 3, 10_000);
    const times = sub.seen.map((m: any) => BigInt(m.vmMetrics.cputime));
    expect(times[2]! > times[0]!).toBe(true);
    const last = sub.seen.at(-1) as any;
    expect(last.vmMetrics.vmId).toBe(String(vm.id));
    expect(last.vmMetrics.stale).toBe(false);
    expect(last.vmMetrics.cpuPct).toBeGreaterThanOrEqual(0);
    sub.dispose();
  });

  it('fleetMetrics sends one message per tick with every VM', async () => {
    const sub = collect(t.ws(), `subscription { fleetMetrics { timestamp vms { vmId name state cpuPct memPct stale } columns rows } }`);
    await sub.next(() => sub.seen.length >= 2, 10_000);
    const tick = (sub.seen[1] as any).fleetMetrics;
    expect(tick.vms.length).toBe(8); // the demo fleet
    expect(tick.vms.find((v: any) => v.state === 'running').cpuPct).not.toBeNull();
    // The compact form carries the same values, one array per VM in `columns` order.
    expect(tick.rows.length).toBe(tick.vms.length);
    const col = (name: string) => tick.columns.indexOf(name);
    for (const [i, v] of tick.vms.entries()) {
      expect(tick.rows[i][col('vmId')]).toBe(v.vmId);
      expect(tick.rows[i][col('cpuPct')]).toBe(v.cpuPct);
      expect(tick.rows[i][col('stale')]).toBe(v.stale);
    }
    sub.dispose();
  });

  it('REST and GraphQL give the same numbers for the same sample', async () => {
    const vm = runningVm();
    await t.app.services.collector.stop(); // hold still
    try {
      const text = await (await t.api(`/api/telemetry/vm-stats/${vm.id}`)).text();
      const rest = JSON.parse(text);
      // JSON.parse rounds integers past 2^53: read the exact digits off the wire.
      const exact = (k: string) => BigInt(new RegExp(`"${k}":(\\d+)`).exec(text)![1]!);
      const { body } = await t.gql(
        `query($id: ID) { vm(id: $id) { latest { timestamp cputime memrss net_rxbytes disk_wr_bytes nics { name rxbytes } disks { name wr_bytes } } } }`,
        { id: String(vm.id) },
      );
      const g = body.data.vm.latest;
      expect(Math.floor(Date.parse(g.timestamp) / 1000)).toBe(rest.timestamp);
      for (const k of ['cputime', 'memrss', 'net_rxbytes', 'disk_wr_bytes']) expect(BigInt(g[k])).toBe(exact(k));
      // each NIC and disk by name; their counters add up to the totals REST gives
      const sum = (xs: string[]) => xs.reduce((a, x) => a + BigInt(x), 0n);
      expect(g.nics.length * g.disks.length).toBeGreaterThan(0);
      expect([...g.nics, ...g.disks].every((d: { name: string }) => d.name.length > 0)).toBe(true);
      expect(sum(g.nics.map((n: { rxbytes: string }) => n.rxbytes))).toBe(exact('net_rxbytes'));
      expect(sum(g.disks.map((d: { wr_bytes: string }) => d.wr_bytes))).toBe(exact('disk_wr_bytes'));
    } finally {
      t.app.services.collector.start();
    }
  });
});

describe('collector control and status (seed 001)', () => {
  it('stops and starts at run time, operator only; status counts ticks per host', async () => {
    const { body } = await t.gql(`mutation { createToken(name: "v", role: viewer) { token } }`);
    const viewer = body.data.createToken.token;
    const denied = await t.api('/api/telemetry/stop', { method: 'POST', token: viewer });
    expect(denied.status).toBe(403);
    expect(Object.keys(await denied.json())).toEqual(['detail']);

    const stopped = await (await t.api('/api/telemetry/stop', { method: 'POST' })).json();
    expect(stopped).toMatchObject({ status: 'stopped', running: false });
    const ticks = (await (await t.api('/api/telemetry/status')).json()).ticks;
    await sleep(1200);
    expect((await (await t.api('/api/telemetry/status')).json()).ticks).toBe(ticks);

    const started = await (await t.api('/api/telemetry/start', { method: 'POST' })).json();
    expect(started).toMatchObject({ status: 'started', running: true });
    await sleep(1200);
    const status = await (await t.api('/api/telemetry/status')).json();
    expect(status.ticks).toBeGreaterThan(ticks);
    expect(status.hosts[0]).toMatchObject({ connected: true, demo: true }); // the test driver's VMs are simulated
    expect(status.hosts[0].samples).toBeGreaterThan(0);
    expect(status.hosts[0].stale_vms).toBe(0); // shut-off VMs have nothing to sample; they are not stale
    expect(status).toHaveProperty('buffer_depth');
    expect(status).toHaveProperty('drops');
  });

  it('lists monitored VMs and shows the config with secrets masked', async () => {
    const vms = await (await t.api('/api/telemetry/vms')).json();
    expect(vms.count).toBe(8); // the demo fleet, shut-off VMs included
    const config = await (await t.api('/api/telemetry/config')).json();
    expect(config.influx_token).toBe('***');
    expect(config.vmpulse_admin_token).toBe('***');
    expect(config.poll_interval).toBe(0.5);
    expect(JSON.stringify(config)).not.toContain('apiv3_secret_token');
  });
});

describe('/api/metrics/vm (seed 002)', () => {
  it('gives percentages, absolute values and uptime', async () => {
    const vm = runningVm();
    const body = await (await t.api(`/api/metrics/vm/${vm.id}`)).json();
    expect(body).toMatchObject({ vm_id: vm.id, vm_name: vm.name, status: 'running' });
    expect(body.cpu_usage).toBeGreaterThanOrEqual(0);
    expect(body.memory_usage).toBeGreaterThan(0);
    expect(body.memory_usage).toBeLessThanOrEqual(100);
    expect(body.network_rx_mb).toBeGreaterThan(0);
    expect(body.uptime_seconds).toBeGreaterThanOrEqual(0);
    expect(body.uptime_hours).toBe(Math.round((body.uptime_seconds / 3600) * 100) / 100);
    expect(Date.parse(body.timestamp)).not.toBeNaN();
  });

  it('history: one metric newest first from the store, limit, and 400 listing valid names', async () => {
    const vm = runningVm();
    await sleep(1500);
    const rows = await (await t.api(`/api/metrics/vm/${vm.id}/history?metric_name=cpu_usage&limit=3`)).json();
    expect(rows.length).toBe(3);
    expect(rows[0]).toMatchObject({ vm_id: vm.id, name: 'cpu_usage', unit: '%' });
    expect(Date.parse(rows[0].timestamp)).toBeGreaterThan(Date.parse(rows[2].timestamp));
    const bad = await t.api(`/api/metrics/vm/${vm.id}/history?metric_name=bogus`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).detail).toMatch(/valid: .*cpu_usage.*memory_usage/);
    expect((await t.api(`/api/metrics/vm/${vm.id}/history?metric_name=cpu_usage&limit=abc`)).status).toBe(400);
  });
});

describe('history over GraphQL', () => {
  it('returns stored points bounded by the range, with a step', async () => {
    const vm = runningVm();
    const { body } = await t.gql(`query($id: ID) { vm(id: $id) { history(input: { range: LAST_15_MINUTES, step: 1, fields: [cpu_pct, net_rxbytes_rate] }) { stepSec points { timestamp values { field avg min max } } } } }`, { id: String(vm.id) });
    expect(body.errors).toBeUndefined();
    const h = body.data.vm.history;
    expect(h.stepSec).toBe(1);
    expect(h.points.length).toBeGreaterThan(2);
    const v = h.points.at(-1).values.find((x: any) => x.field === 'cpu_pct');
    expect(v.min).toBeLessThanOrEqual(v.avg);
    expect(v.avg).toBeLessThanOrEqual(v.max);
    const bad = await t.gql(`query($id: ID) { vm(id: $id) { history(input: { range: LAST_2_YEARS }) { stepSec } } }`, { id: String(vm.id) });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].message).toMatch(/Value "LAST_2_YEARS" does not exist in "HistoryRange" enum/);
  });
});

describe('HTTP edges', () => {
  it('streams a subscription over SSE on /graphql', async () => {
    const vm = runningVm();
    const ctrl = new AbortController();
    const res = await t.api('/graphql', {
      method: 'POST',
      signal: ctrl.signal,
      headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({ query: `subscription { vmMetrics(vmId: "${vm.id}") { vmId cputime } }` }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('cputime')) text += new TextDecoder().decode((await reader.read()).value);
    ctrl.abort();
    expect(text).toContain(`"vmId":"${vm.id}"`);
  });

  it('answers CORS preflights for configured origins only', async () => {
    const pre = await t.api('/api/telemetry/live-vms', { method: 'OPTIONS', token: null, headers: { origin: 'http://dash.example', 'access-control-request-method': 'GET' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('http://dash.example');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const other = await t.api('/api/telemetry/live-vms', { headers: { origin: 'http://evil.example' } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
