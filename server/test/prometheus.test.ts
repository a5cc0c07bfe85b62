// GET /metrics against the oracle it replaces: Debian's prometheus-libvirt-exporter (kumina 0.2.0)
// run on the SAME test-driver fleet file, both read with a real exposition-format parser
// (parse-prometheus-text-format). Names, types, label names and series must match; what does not
// move (memory, vCPUs, state) must match in value; counters must agree in unit and magnitude (the
// test driver's counters rise with the wall clock, and the exporter writes float64). Then auth,
// OpenMetrics negotiation, vmpulse's own metrics and stale VMs.
//
// Test-driver quirks both sides see: its bulk stats call returns only `state` (vmpulse falls back to
// per-domain calls); block stats have no times or flushes (no *_seconds_total, no flush families);
// NICs on `<source network=…>` have no bridge (source_bridge="" on both sides). vmpulse reads
// source_file and source_bridge from the domain XML once per VM, in the background: the test waits
// for them, then every label must match.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_OWNERS, demoDomains, writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { startTestApp, testDataDir } from './helpers/app.js';
import { freePort } from './helpers/ports.js';

const EXPORTER = '/usr/bin/prometheus-libvirt-exporter';
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

const dataDir = testDataDir('vmpulse-prom-');
const fleetPath = path.join(dataDir, 'fleet.xml');
const FLEET = { count: 16, prefix: `prom${process.pid}-` };
const uri = writeDemoFleet(fleetPath, FLEET);
const t = await startTestApp({ LIBVIRT_URI: uri }, dataDir);


let exporter: ChildProcess | undefined;
const exporterPort = await freePort();
async function startExporter() {
  exporter = spawn(EXPORTER, [`--web.listen-address=127.0.0.1:${exporterPort}`, `--libvirt.uri=${uri}`], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${exporterPort}/metrics`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('prometheus-libvirt-exporter did not answer');
}

afterAll(async () => {
  exporter?.kill();
  await t.stop();
});

const parse = (text: string) => parsePrometheusTextFormat(text);
const libvirtFamilies = (fs: MetricFamily[]) => fs.filter((f) => f.name.startsWith('libvirt_'));
const byName = (fs: MetricFamily[]) => new Map(fs.map((f) => [f.name, f]));
/** A series' identity: all its labels. */
const identity = (labels: Record<string, string> = {}) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
const labelNames = (f: MetricFamily) => [...new Set(f.metrics.map((m) => Object.keys(m.labels ?? {}).sort().join(',')))].sort();

async function waitForSamples() {
  for (let i = 0; i < 100; i++) {
    const running = t.app.services.vms.list({ state: 'running' });
    if (running.length && running.every((v) => t.app.services.metrics.latest(v.id)?.metrics.cputime !== undefined)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no samples');
}

/** Until every running VM's disks carry the source file of the domain XML. */
async function waitForDeviceLabels() {
  await waitForSamples();
  for (let i = 0; i < 100; i++) {
    const text = await t.app.services.prometheus.render('text');
    const reads = text.split('\n').filter((l) => l.startsWith('libvirt_domain_block_stats_read_bytes_total{'));
    if (reads.length && reads.every((l) => l.includes('source_file="/guest/'))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no device labels');
}

describe('GET /metrics next to prometheus-libvirt-exporter on the same fleet', () => {
  it('has the exporter installed (scripts/setup.sh --test installs it)', () => {
    expect(existsSync(EXPORTER)).toBe(true);
  });

  it('has the same families, types, label names and series; the same values where they do not move', async () => {
    await startExporter();
    await waitForDeviceLabels();
    const [ours, theirs] = await Promise.all([
      t.api('/metrics').then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), text: await r.text() })),
      fetch(`http://127.0.0.1:${exporterPort}/metrics`).then((r) => r.text()),
    ]);
    expect(ours.status).toBe(200);
    expect(ours.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const a = libvirtFamilies(parse(ours.text));
    const b = libvirtFamilies(parse(theirs));
    expect(a.map((f) => f.name).sort()).toEqual(b.map((f) => f.name).sort());
    const ob = byName(b);
    const running = demoDomains(FLEET).filter((d) => d.running);
    for (const fa of a) {
      const fb = ob.get(fa.name)!;
      expect(fa.type, fa.name).toBe(fb.type);
      expect(fa.help, fa.name).toBe(fb.help);
      expect(labelNames(fa), fa.name).toEqual(labelNames(fb));
      const theirsById = new Map(fb.metrics.map((m) => [identity(m.labels), m.value!]));
      expect(fa.metrics.map((m) => identity(m.labels)).sort(), fa.name).toEqual([...theirsById.keys()].sort());
      for (const m of fa.metrics) {
        const mine = m.value!;
        const other = theirsById.get(identity(m.labels))!;
        if (fa.type === 'GAUGE') {
          expect(Number(mine), `${fa.name}${identity(m.labels)}`).toBe(Number(other));
        } else {
          // Same unit and magnitude; exact in our text (an integer or an exact decimal), float64 in theirs.
          expect(mine, fa.name).toMatch(/^\d+(\.\d+)?$/);
          expect(Math.abs(Number(mine) / Number(other) - 1), `${fa.name} ${mine} vs ${other}`).toBeLessThan(1e-3);
        }
      }
    }
    // The fleet's running domains are the series, as the exporter lists them.
    const states = a.find((f) => f.name === 'libvirt_domain_state_code')!;
    expect(states.metrics.map((m) => m.labels!.domain).sort()).toEqual(running.map((d) => d.name).sort());
  });

  it('keeps every digit of a counter past 2^53 (cpu time in ns, written as exact seconds)', async () => {
    await waitForSamples();
    const svc = t.app.services.prometheus;
    const snapshots = svc.latestSnapshots();
    const p = parse(await svc.render('text', snapshots));
    const cpu = p.find((f) => f.name === 'libvirt_domain_info_cpu_time_seconds_total')!;
    let checked = 0;
    for (const s of snapshots) {
      const ns = s.metrics.cputime;
      if (ns === undefined) continue;
      expect(ns > 2n ** 53n).toBe(true); // the test driver's CPU time is wall-clock based
      const line = cpu.metrics.find((m) => m.labels!.uuid === s.uuid)!.value!;
      const [whole, frac = ''] = line.split('.');
      expect(BigInt(whole!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'))).toBe(ns);
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });
});

describe('GET /metrics: who may scrape', () => {
  it('answers 401 in plain text with WWW-Authenticate without a valid token', async () => {
    for (const token of [null, 'vmp_wrong0000000000000000000000000000']) {
      const res = await t.api('/metrics', { token });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await res.text()).toMatch(/token/);
    }
  });

  it('lets a viewer scrape; a revoked token gets 401', async () => {
    const created = await t.gql(`mutation { createToken(name: "prom-viewer", role: viewer) { token apiToken { id } } }`);
    const { token, apiToken } = created.body.data.createToken;
    const ok = await t.api('/metrics', { token });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('\nlibvirt_up 1\n');
    await t.gql(`mutation($id: ID!) { revokeToken(id: $id) { id } }`, { id: apiToken.id });
    const gone = await t.api('/metrics', { token });
    expect(gone.status).toBe(401);
    expect(gone.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  });

  it("gives a token scoped to an owner only its VMs' series, and none of vmpulse's own metrics", async () => {
    await waitForSamples();
    const owner = DEMO_OWNERS[0];
    const created = await t.gql(`mutation($n: String!, $u: String!) { createToken(name: $n, role: viewer, scope: { user: $u }) { token } }`, { n: 'prom-scoped', u: owner.uname });
    const res = await t.api('/metrics', { token: created.body.data.createToken.token });
    expect(res.status).toBe(200);
    const p = byName(parse(await res.text()));
    const mine = demoDomains(FLEET).filter((d) => d.running && d.owner?.uname === owner.uname);
    expect(mine.length).toBeGreaterThan(0);
    expect(p.get('libvirt_domain_state_code')!.metrics.map((m) => m.labels!.domain).sort()).toEqual(mine.map((d) => d.name).sort());
    for (const f of p.values()) if (f.name.startsWith('libvirt_domain_')) for (const m of f.metrics) expect(mine.map((d) => d.uuid), f.name).toContain(m.labels!.uuid);
    expect(p.get('libvirt_domains_number')!.metrics[0]!.value).toBe(String(mine.length));
    expect([...p.keys()].filter((n) => !n.startsWith('libvirt_'))).toEqual([]);
  });

  it('answers other methods 405 with Allow, in plain text', async () => {
    const res = await t.api('/metrics', { method: 'POST', body: 'x' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  });
});

describe('GET /metrics: hostile requests', () => {
  it('refuses a repeated query parameter with 400 in plain text, and shrugs off junk Accept headers', async () => {
    const rep = await t.api('/metrics?x=1&x=2');
    expect(rep.status).toBe(400);
    expect(rep.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await rep.text()).toMatch(/"x" is given more than once/);
    for (const accept of ['%%%;;;q=abc,,,', `${'application/openmetrics-text;version=9;'.repeat(200)}`, 'application/openmetrics-text;q=NaN', ';']) {
      const res = await t.api('/metrics', { headers: { accept } });
      expect(res.status, accept.slice(0, 40)).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      await res.arrayBuffer();
    }
    const head = await t.api('/metrics', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });
});

describe('GET /metrics: formats', () => {
  it('answers OpenMetrics to Prometheus\' Accept header, with the same samples as the text format', async () => {
    await waitForSamples();
    const svc = t.app.services.prometheus;
    const snapshots = svc.latestSnapshots();
    const om = await svc.render('openmetrics', snapshots);
    const text = await svc.render('text', snapshots);
    const lines = om.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('# EOF');
    // Counter families are named without _total; their samples keep it.
    expect(om).toContain('# TYPE libvirt_domain_info_cpu_time_seconds counter\n');
    expect(om).toContain('# TYPE process_cpu_seconds counter\n');
    // Every sample belongs to the family declared above it.
    let fam = '';
    for (const l of lines) {
      if (l.startsWith('# TYPE ')) fam = l.split(' ')[2]!;
      else if (!l.startsWith('#')) expect(l.split(/[{ ]/)[0]!, l).toMatch(new RegExp(`^${fam}(_total|_bucket|_sum|_count|_created)?$`));
    }
    const samples = (s: string) => s.split('\n').filter((l) => l.startsWith('libvirt_'));
    expect(samples(om)).toEqual(samples(text));

    const res = await t.api('/metrics', { headers: { accept: PROMETHEUS_ACCEPT } });
    expect(res.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect((await res.text()).endsWith('# EOF\n')).toBe(true);
    const plain = await t.api('/metrics', { headers: { accept: 'text/plain;version=0.0.4' } });
    expect(plain.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const json = await t.api('/metrics', { headers: { accept: 'application/json' } });
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('gzips the answer for a client that accepts it', async () => {
    const res = await t.api('/metrics', { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(await res.text()).toContain('# TYPE libvirt_up gauge');
  });
});

describe("GET /metrics: vmpulse's own metrics", () => {
  it('has the collector, store, edge and process metrics with their types, and counts an open graphql-ws socket', async () => {
    const client = t.ws();
    await new Promise<void>((resolve, reject) => client.on('connected', () => resolve()) && client.on('error', reject));
    const text = await (await t.api('/metrics')).text();
    const p = byName(parse(text));
    const host = t.app.services.hosts.list()[0]!.name;
    const type = (n: string) => p.get(n)?.type;
    expect(type('vmpulse_collector_tick_duration_seconds')).toBe('HISTOGRAM');
    expect(type('vmpulse_collector_tick_cpu_seconds_total')).toBe('COUNTER');
    expect(type('vmpulse_collector_samples_total')).toBe('COUNTER');
    expect(type('vmpulse_collector_errors_total')).toBe('COUNTER');
    expect(type('vmpulse_collector_stale_vms')).toBe('GAUGE');
    expect(type('vmpulse_store_buffer_depth')).toBe('GAUGE');
    expect(type('vmpulse_store_dropped_total')).toBe('COUNTER');
    expect(type('process_cpu_seconds_total')).toBe('COUNTER');
    expect(type('nodejs_eventloop_lag_p99_seconds')).toBe('GAUGE');
    // (the parser keeps no labels, sum or count of a histogram: read those lines as they are)
    const ticks = text.match(new RegExp(`^vmpulse_collector_tick_duration_seconds_count\\{host="${host}"\\} (\\d+)$`, 'm'));
    expect(Number(ticks?.[1])).toBeGreaterThan(0);
    // The same totals /api/telemetry/status shows (taken after: they only grow).
    const status = (await (await t.api('/api/telemetry/status')).json()) as { hosts: { samples: number }[] };
    const samples = Number(p.get('vmpulse_collector_samples_total')!.metrics[0]!.value);
    expect(samples).toBeGreaterThan(0);
    expect(samples).toBeLessThanOrEqual(status.hosts[0]!.samples);
    expect(p.get('vmpulse_graphql_ws_sockets')!.metrics[0]!.value).toBe('1');
    await client.dispose();
  });
});

describe('GET /metrics: stale samples', () => {
  it('serves no VM series once the latest samples are older than the stale limit, and counts the domains still', async () => {
    await waitForSamples();
    const stop = await t.api('/api/telemetry/stop', { method: 'POST' });
    expect(stop.status).toBe(200);
    try {
      const before = parse(await (await t.api('/metrics')).text());
      expect(before.some((f) => f.name === 'libvirt_domain_state_code')).toBe(true);
      // The limit is 3 × POLL_INTERVAL, at least 10 s.
      await new Promise((r) => setTimeout(r, 10_500));
      const after = byName(parse(await (await t.api('/metrics')).text()));
      expect([...after.keys()].filter((n) => n.startsWith('libvirt_domain_'))).toEqual([]);
      expect(after.get('libvirt_domains_number')!.metrics[0]!.value).toBe(String(demoDomains(FLEET).filter((d) => d.running).length));
      expect(after.get('vmpulse_collector_running')!.metrics[0]!.value).toBe('0');
    } finally {
      await t.api('/api/telemetry/start', { method: 'POST' });
    }
  });
});
