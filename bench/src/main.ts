// vmpulse benchmark. `pnpm bench` (or `pnpm --filter @vmpulse/bench start`) runs every phase and
// writes bench/results.json; `--quick` is a short smoke run (results.quick.json).
//
// Options: --quick | --only bare,collector,subs,rest,bytes,metrics,guests | --guests N | --guest-mem MiB
//          --reps N | --vms N | --out FILE | --node-options '<node flags for the server under test>'
//          --print FILE (re-render the table of a results file) | --server-main PATH (another build of server/dist/src/main.js, for A/B experiments)
//          --baseline-main PATH (A/B in one run: the rest and subs phases measure this build and the server under test, alternating)
//          --hosts N --vms-per-host M (a fleet of N test-driver hosts, one `test:///` file each, M VMs each,
//          e.g. --hosts 100 --vms-per-host 50 for 5,000 VMs on one replica; --vms is then N × M)
//          --server-env K=V,K=V (extra environment for the server under test, e.g. DUMP_CONCURRENCY=1)
//          --cpu-prof DIR (the server under test writes a V8 CPU profile there when it stops)
//          --heap-snapshots DIR (V8 heap snapshots of the server after warm-up and in the middle of the subs and
//          rest windows; each stops the server for seconds, so that run's latencies do not count; read them
//          with `pnpm --filter @vmpulse/bench heap-summary DIR/*.heapsnapshot`)
//          --vm-clients N --fleet-clients N (graphql-ws clients of the subs phase; default 100 and 5)
//          --libvirt in-process|libvirtd (how the server and the bare loop reach the test-driver fleet: the
//          client-side driver `test:///…`, whose domains then live in the server process (default); or through
//          the system libvirtd, `test+unix:///…`, as production reaches hosts (see bench/README.md, "libvirtd mode"))
//          --baseline-libvirt MODE, --baseline-node-options '…', --baseline-env K=V,… (A/B of one build against
//          itself with another mode, V8 flags or environment; --baseline-main then defaults to the build under test;
//          the baseline inherits --server-env and --node-options unless these say otherwise, K= removes K)
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeDemoFleet } from '../../server/src/libvirt/demo-fleet.js';
import { ensureLibvirtd } from '../../server/test/guest/qemu-guest.js';
import { bareLibvirt, bootGuests, cleanupGuests, destroyGuest, type BareRun } from './guests.js';
import { restLoad, wireBytes, type RestLoad } from './rest.js';
import { spawn } from 'node:child_process';
import { scrape, type ScrapeRun } from './scrape.js';
import { startServer, type ProbeReading, type ServerUnderTest, type TickStatus } from './server.js';
import { BENCH_DIR, killChildren, libvirtdPid, treeCpuSeconds, machine, mean, median, pct, round, runJsonChild, sleep, spread, type Spread } from './util.js';

// ---- options ------------------------------------------------------------------------------------
const argv = process.argv.slice(2).filter((a) => a !== '--');
const flag = (name: string) => argv.includes(`--${name}`);
const opt = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const PHASES = ['bare', 'collector', 'subs', 'rest', 'bytes', 'metrics', 'guests'] as const;
type Phase = (typeof PHASES)[number];
const quick = flag('quick');
const only = opt('only')?.split(',') as Phase[] | undefined;
for (const p of only ?? []) if (!PHASES.includes(p)) throw new Error(`--only: unknown phase "${p}" (phases: ${PHASES.join(', ')})`);
const run = (p: Phase) => !only || only.includes(p);
const LIBVIRT_MODES = ['libvirtd', 'in-process'] as const;
type LibvirtMode = (typeof LIBVIRT_MODES)[number];
const libvirtMode = (name: string, fallback: LibvirtMode): LibvirtMode => {
  const v = opt(name) ?? fallback;
  if (!LIBVIRT_MODES.includes(v as LibvirtMode)) throw new Error(`--${name}: "${v}" (one of ${LIBVIRT_MODES.join(', ')})`);
  return v as LibvirtMode;
};
const envList = (name: string, into: Record<string, string>) => {
  for (const kv of opt(name)?.split(',') ?? []) {
    const eq = kv.indexOf('=');
    if (eq < 1) throw new Error(`--${name}: "${kv}" is not K=V`);
    into[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return into;
};
const hosts = Number(opt('hosts') ?? 1);
const vmsPerHost = opt('vms-per-host') === undefined ? undefined : Number(opt('vms-per-host'));
if (!Number.isInteger(hosts) || hosts < 1) throw new Error('--hosts: a whole number ≥ 1');
if (vmsPerHost !== undefined && (!Number.isInteger(vmsPerHost) || vmsPerHost < 1)) throw new Error('--vms-per-host: a whole number ≥ 1');
if (hosts > 1 && opt('vms') !== undefined) throw new Error('--vms and --hosts: give --hosts N --vms-per-host M instead');
const cfg = {
  hosts,
  vmsPerHost: hosts > 1 ? (vmsPerHost ?? 50) : undefined,
  vms: hosts > 1 ? hosts * (vmsPerHost ?? 50) : Number(opt('vms') ?? 1000),
  reps: Number(opt('reps') ?? (quick ? 1 : 3)),
  ticksPerRep: quick ? 8 : 30,
  bareIterations: quick ? 5 : 30,
  vmClients: Number(opt('vm-clients') ?? 100),
  fleetClients: Number(opt('fleet-clients') ?? 5),
  subsWindowS: quick ? 8 : 30,
  restConnections: 10,
  restDurationS: quick ? 3 : 10,
  guestsMax: Number(opt('guests') ?? (quick ? 1 : 8)),
  guestMemMiB: Number(opt('guest-mem') ?? 128),
  guestTicks: quick ? 5 : 30,
  pollIntervalS: 1,
  serverNodeOptions: opt('node-options'),
  serverMain: opt('server-main'),
  libvirt: libvirtMode('libvirt', 'in-process'),
  baselineLibvirt: opt('baseline-libvirt') === undefined ? undefined : libvirtMode('baseline-libvirt', 'in-process'),
  baselineNodeOptions: opt('baseline-node-options'),
  baselineEnv: opt('baseline-env') === undefined ? undefined : envList('baseline-env', {}),
  baselineMain: opt('baseline-main') ?? (['baseline-libvirt', 'baseline-node-options', 'baseline-env'].some((o) => opt(o) !== undefined) ? (opt('server-main') ?? 'server/dist/src/main.js') : undefined),
  cpuProfDir: opt('cpu-prof') ? path.resolve(opt('cpu-prof')!) : undefined,
  heapSnapshotDir: opt('heap-snapshots') ? path.resolve(opt('heap-snapshots')!) : undefined,
};
// The per-token rate limit (HTTP_RATE_LIMIT) would turn autocannon's load into 429s: raised far
// beyond it, so the limiter runs on every request but never refuses. Older builds ignore it.
const SERVER_ENV = envList('server-env', { HTTP_RATE_LIMIT: '100000000' });
// Starting takes longer with many hosts (a connection, an inventory sync and a dump queue each).
const START_TIMEOUT_MS = 120_000 + 6_000 * (cfg.hosts - 1);
const outFile = opt('out') ?? path.join(BENCH_DIR, quick ? 'results.quick.json' : only ? 'results.partial.json' : 'results.json');
const HARD_LIMIT_MS = (quick ? 10 : 40) * 60_000 + 2 * START_TIMEOUT_MS;

const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const CMD = 'pnpm bench';
const fleetArgs = cfg.hosts > 1 ? ` --hosts ${cfg.hosts} --vms-per-host ${cfg.vmsPerHost}` : '';
const abArgs = () =>
  [
    opt('baseline-main') !== undefined ? ` --baseline-main ${cfg.baselineMain}` : '',
    cfg.baselineLibvirt ? ` --baseline-libvirt ${cfg.baselineLibvirt}` : '',
    cfg.baselineNodeOptions !== undefined ? ` --baseline-node-options '${cfg.baselineNodeOptions}'` : '',
    opt('baseline-env') !== undefined ? ` --baseline-env ${opt('baseline-env')}` : '',
  ].join('');
const cmdFor = (phase: Phase) =>
  `pnpm --filter @vmpulse/bench start --only ${phase}${fleetArgs}${cfg.libvirt === 'in-process' ? '' : ` --libvirt ${cfg.libvirt}`}${cfg.serverNodeOptions ? ` --node-options '${cfg.serverNodeOptions}'` : ''}${opt('server-env') ? ` --server-env ${opt('server-env')}` : ''}${(phase === 'rest' || phase === 'subs') && cfg.baselineMain ? abArgs() : ''}`;

// ---- cleanup on every exit path -----------------------------------------------------------------
const servers = new Set<ServerUnderTest>();
let tmpDir: string | undefined;
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const s of servers) await s.stop().catch((e) => log(`stopping a server failed: ${e}`));
    servers.clear();
    const problems = await cleanupGuests();
    for (const p of problems) log(`guest cleanup problem: ${p}`);
    killChildren();
    if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    log(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}
const hardLimit = setTimeout(() => {
  log(`the bench passed its hard limit of ${HARD_LIMIT_MS / 60_000} min: cleaning up`);
  void cleanup().finally(() => process.exit(3));
}, HARD_LIMIT_MS);
hardLimit.unref();

/**
 * Debian's prometheus-libvirt-exporter on the same fleet file: `scrapes` sequential scrapes (each one
 * reads libvirt), its CPU per scrape from /proc. Skipped (with a note) when it is not installed.
 */
async function scrapeExporter(uri: string, scrapes: number) {
  const bin = '/usr/bin/prometheus-libvirt-exporter';
  if (!existsSync(bin)) return { skipped: `${bin} not installed (scripts/setup.sh --test installs it)` };
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(bin, [`--web.listen-address=127.0.0.1:${port}`, `--libvirt.uri=${uri}`], { stdio: 'ignore' });
  try {
    const url = `http://127.0.0.1:${port}/metrics`;
    for (let i = 0; ; i++) {
      if (await fetch(url).then((r) => r.ok, () => false)) break;
      if (i > 100) throw new Error('prometheus-libvirt-exporter did not answer');
      await sleep(100);
    }
    log(`prometheus-libvirt-exporter: ${scrapes} sequential scrapes of the same fleet`);
    const c0 = treeCpuSeconds(child.pid!).self;
    const run = await scrape(url, {}, { scrapes, gzip: true });
    const cpuMsPerScrape = ((treeCpuSeconds(child.pid!).self - c0) * 1000) / scrapes;
    return { version: 'kumina 0.2.0 (Debian)', p50Ms: run.latencyMs.p50, p99Ms: run.latencyMs.p99, cpuMsPerScrape: round(cpuMsPerScrape, 1), gzipBytes: run.wireBodyBytes, samples: run.samples, vmSamples: run.vmSamples, contentType: run.contentType };
  } finally {
    child.kill('SIGKILL');
  }
}

// ---- phases -------------------------------------------------------------------------------------
const results: Record<string, any> = {
  date: new Date().toISOString(),
  machine: machine(),
  config: { ...cfg, quick, only: only ?? 'all', serverEnv: SERVER_ENV },
  notes: [] as string[],
};
const started = Date.now();

/** With --heap-snapshots: a heap snapshot of the server `afterMs` into a load (whose promise is returned as is). */
function snapshotDuring<T>(server: ServerUnderTest, name: string, load: Promise<T>, afterMs: number): Promise<T> {
  const dir = cfg.heapSnapshotDir;
  if (!dir) return load;
  const taken = sleep(afterMs).then(async () => {
    const file = await server.heapSnapshot(path.join(dir, `${name}.heapsnapshot`));
    log(`heap snapshot: ${file}`);
  });
  return Promise.all([load, taken]).then(([x]) => x);
}

function tickFigures(ticks: TickStatus[], prevSamples: number | undefined) {
  const cpu = ticks.map((t) => t.lastTickCpuMs);
  const wall = ticks.map((t) => t.lastTickMs);
  const samples = ticks.map((t, i) => t.samples - (i ? ticks[i - 1]!.samples : (prevSamples ?? NaN))).filter((x) => Number.isFinite(x));
  return {
    ticks: ticks.length,
    cpuMs: { median: median(cpu), p95: pct(cpu, 95), max: Math.max(...cpu) },
    wallMs: { median: median(wall), p95: pct(wall, 95), max: Math.max(...wall) },
    samplesPerTick: median(samples),
    staleVms: Math.max(...ticks.map((t) => t.staleVms)),
  };
}

async function measureTicks(server: ServerUnderTest, n: number) {
  const prev = server.ticks.at(-1)?.samples;
  const cpu0 = server.cpu();
  await server.probe('reset');
  const ticks = await server.waitTicks(n);
  const probe = await server.probe('read');
  const cpu1 = server.cpu();
  const wallS = probe.wallMs / 1000;
  return {
    ...tickFigures(ticks, prev),
    probe,
    serverCpuPct: round(((cpu1.self - cpu0.self) / wallS) * 100, 1),
    postgresCpuPct: round(((cpu1.descendants - cpu0.descendants) / wallS) * 100, 1),
    /** the whole server (all threads) + its embedded PostgreSQL, CPU ms per tick (USER_HZ: 10 ms steps over the window) */
    serverPgCpuMsPerTick: round(((cpu1.self - cpu0.self + cpu1.descendants - cpu0.descendants) * 1000) / ticks.length, 2),
  };
}

const restFigures = (loads: RestLoad[]) => ({
  p50Ms: spread(loads.map((l) => l.latency.p50)),
  p99Ms: spread(loads.map((l) => l.latency.p99)),
  maxMs: spread(loads.map((l) => l.latency.max)),
  requestsPerSec: spread(loads.map((l) => l.requestsPerSec), 0),
  bytesPerResponse: spread(loads.map((l) => l.bytesPerResponse), 0),
});

/**
 * 3 (A/B). The same REST load on two builds in one run: both servers up on the same fleet with
 * their collectors ticking, and each endpoint measured on one build right after the other (order
 * alternating per repetition), so the pair shares the machine's load of the moment: on a shared
 * 2-core machine that load moves more between minutes than the builds differ.
 */
const IDLE_WINDOW_MS = 3000;

async function restAB() {
  const builds = abBuilds();
  const ab: { server: ServerUnderTest; vmPaths: string[] }[] = [];
  for (const b of builds) {
    log(`A/B: starting the ${b.label} server (${b.main})`);
    const server = await startServer({ libvirtUri: b.uri, pollInterval: cfg.pollIntervalS, label: b.label, nodeOptions: b.nodeOptions, serverMain: b.main === 'server/dist/src/main.js' ? undefined : b.main, env: b.env, startTimeoutMs: START_TIMEOUT_MS });
    servers.add(server);
    await server.waitTicks(3);
    const live = await server.api<{ count: number; vms: { id: number }[] }>('/api/telemetry/live-vms');
    results.fleet = { uri: fleetLabel(), hosts: cfg.hosts, domains: cfg.vms, running: live.count };
    ab.push({ server, vmPaths: live.vms.map((v) => `/api/telemetry/vm-stats/${v.id}`) });
  }
  const opts = { connections: cfg.restConnections, durationS: cfg.restDurationS };
  const endpoints = [
    { key: 'vmStats', label: 'vm-stats', paths: (i: number) => ab[i]!.vmPaths, gzip: false },
    { key: 'liveVms', label: 'live-vms', paths: () => ['/api/telemetry/live-vms'], gzip: false },
    { key: 'liveVmsGzip', label: 'live-vms', paths: () => ['/api/telemetry/live-vms'], gzip: true },
  ] as const;
  log('A/B: warming up both builds (JIT) for 3 s each');
  for (const [i, x] of ab.entries()) await restLoad(x.server.url, x.server.auth, 'warm-up', endpoints[0].paths(i), { ...opts, durationS: 3 });
  const loads = builds.map(() => ({ vmStats: [] as RestLoad[], liveVms: [] as RestLoad[], liveVmsGzip: [] as RestLoad[], probes: [] as ProbeReading[] }));
  const cpuPerRequest = builds.map(() => ({ vmStats: [] as number[], liveVms: [] as number[], liveVmsGzip: [] as number[] }));
  for (let r = 0; r < cfg.reps; r++) {
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const e of endpoints) {
      for (const i of order) {
        log(`A/B run ${r + 1}/${cfg.reps}: ${builds[i]!.label}: autocannon ${cfg.restConnections} connections × ${cfg.restDurationS} s on ${e.label}${e.gzip ? ' (gzip)' : ''}`);
        const { server } = ab[i]!;
        // The collector's own CPU, measured just before, is taken out of the figure: spread over
        // the requests it would make a slow run look costlier per request than a fast one.
        await server.probe('reset');
        await sleep(IDLE_WINDOW_MS);
        const idle = await server.probe('read');
        await server.probe('reset');
        const l = await restLoad(server.url, server.auth, e.label, e.paths(i), { ...opts, gzip: e.gzip });
        const probe = await server.probe('read');
        const collectorMs = (idle.cpuMs / idle.wallMs) * probe.wallMs;
        cpuPerRequest[i]![e.key].push(l.requests ? ((probe.cpuMs - collectorMs) * 1000) / l.requests : NaN);
        loads[i]!.probes.push(probe);
        if (l.non2xx || l.errors || l.timeouts) results.notes.push(`A/B ${builds[i]!.label} REST ${l.path}${l.gzip ? ' gzip' : ''} run ${r + 1}: ${l.non2xx} non-2xx, ${l.errors} errors, ${l.timeouts} timeouts`);
        loads[i]![e.key].push(l);
      }
    }
  }
  const side = (i: number) => ({
    main: builds[i]!.main,
    fleet: fleetLabel(i === 0 ? (cfg.baselineLibvirt ?? cfg.libvirt) : cfg.libvirt),
    nodeOptions: builds[i]!.nodeOptions,
    env: builds[i]!.env,
    rssMaxMiB: Math.max(...loads[i]!.probes.map((p) => p.rssMaxMiB)),
    // server CPU (all threads) per answered request, net of the collector's CPU
    vmStats: { ...restFigures(loads[i]!.vmStats), serverCpuUsPerRequest: spread(cpuPerRequest[i]!.vmStats, 0) },
    liveVms: { ...restFigures(loads[i]!.liveVms), serverCpuUsPerRequest: spread(cpuPerRequest[i]!.liveVms, 0) },
    liveVmsGzip: { ...restFigures(loads[i]!.liveVmsGzip), serverCpuUsPerRequest: spread(cpuPerRequest[i]!.liveVmsGzip, 0) },
    eventLoopMaxMs: spread(loads[i]!.probes.map((p) => p.eventLoop.maxMs)),
  });
  const [a, b] = [side(0), side(1)];
  const pctChange = (from: number, to: number) => round(((to - from) / from) * 100, 1);
  results.restAB = {
    command: cmdFor('rest'),
    what: `A/B in one run: both builds up on the same ${cfg.vms}-VM fleet, both collectors ticking; each endpoint measured on one build right after the other (order alternating per repetition); autocannon ${cfg.restConnections} keep-alive connections × ${cfg.restDurationS} s per endpoint; HTTP_RATE_LIMIT raised so the limiter runs but never refuses`,
    baseline: a,
    candidate: b,
    change: {
      vmStatsP99Pct: pctChange(a.vmStats.p99Ms.value, b.vmStats.p99Ms.value),
      vmStatsRequestsPerSecPct: pctChange(a.vmStats.requestsPerSec.value, b.vmStats.requestsPerSec.value),
      liveVmsRequestsPerSecPct: pctChange(a.liveVms.requestsPerSec.value, b.liveVms.requestsPerSec.value),
      liveVmsGzipRequestsPerSecPct: pctChange(a.liveVmsGzip.requestsPerSec.value, b.liveVmsGzip.requestsPerSec.value),
      vmStatsServerCpuPerRequestPct: pctChange(a.vmStats.serverCpuUsPerRequest.value, b.vmStats.serverCpuUsPerRequest.value),
      liveVmsServerCpuPerRequestPct: pctChange(a.liveVms.serverCpuUsPerRequest.value, b.liveVms.serverCpuUsPerRequest.value),
      liveVmsGzipServerCpuPerRequestPct: pctChange(a.liveVmsGzip.serverCpuUsPerRequest.value, b.liveVmsGzip.serverCpuUsPerRequest.value),
    },
    pairs: {
      vmStatsRequestsPerSecPct: loads[0]!.vmStats.map((l, k) => pctChange(l.requestsPerSec, loads[1]!.vmStats[k]!.requestsPerSec)),
    },
  };
  for (const x of ab) {
    await x.server.stop();
    servers.delete(x.server);
  }
}

const scheme = (mode: LibvirtMode) => (mode === 'libvirtd' ? 'test+unix' : 'test');
const fleetLabel = (mode: LibvirtMode = cfg.libvirt) => (cfg.hosts > 1 ? `${cfg.hosts} × ${scheme(mode)}:///…/host-NNN.xml` : `${scheme(mode)}:///…/fleet.xml`);
let fleetFiles: string[] = [];
/**
 * The fleet's LIBVIRT_URI in a mode: `test:///abs/file.xml` opens libvirt's test driver inside the
 * client (the server process then holds every domain); `test+unix:///abs/file.xml` asks the system
 * libvirtd to open it (a private instance per connection, freed when it closes), so the server holds
 * what it holds in production, where hosts are reached through a daemon (`qemu+ssh://…`).
 */
const fleetUri = (mode: LibvirtMode) => fleetFiles.map((f) => `${scheme(mode)}://${f}`).join(',');

/** The two sides of an A/B run: the baseline (`--baseline-*`) and the server under test. */
const abBuilds = () => [
  { label: 'baseline', main: cfg.baselineMain!, uri: fleetUri(cfg.baselineLibvirt ?? cfg.libvirt), nodeOptions: cfg.baselineNodeOptions ?? cfg.serverNodeOptions, env: Object.fromEntries(Object.entries({ ...SERVER_ENV, ...cfg.baselineEnv }).filter(([, v]) => v !== '')) },
  { label: 'candidate', main: cfg.serverMain ?? 'server/dist/src/main.js', uri: fleetUri(cfg.libvirt), nodeOptions: cfg.serverNodeOptions, env: SERVER_ENV },
];

/**
 * The fleet's LIBVIRT_URI. One host: one test-driver file of `cfg.vms` domains. Several hosts (as a
 * cloud has them: many hosts of tens of VMs): one file per host, names prefixed by the host
 * (h001-web-01 …) and uuids made unique across hosts (the demo fleet numbers them from 0 per file);
 * the server opens one connection and runs one collector per URI.
 */
function writeFleet(dir: string): string[] {
  if (cfg.hosts === 1) {
    const file = path.join(dir, 'fleet.xml');
    writeDemoFleet(file, { count: cfg.vms, prefix: 'bench-' });
    return [file];
  }
  const files: string[] = [];
  for (let h = 1; h <= cfg.hosts; h++) {
    const tag = String(h).padStart(3, '0');
    const file = path.join(dir, `host-${tag}.xml`);
    writeDemoFleet(file, { count: cfg.vmsPerHost, prefix: `h${tag}-` });
    // demo uuids are 7d3a5e00-0000-4000-8000-<index>: the host goes into the fourth group.
    writeFileSync(file, readFileSync(file, 'utf8').replaceAll('7d3a5e00-0000-4000-8000-', `7d3a5e00-0000-4000-${(0x8000 + h).toString(16)}-`));
    files.push(file);
  }
  return files;
}

/**
 * 2 (A/B). The subscription load on two builds in one run, as restAB does for REST: both servers up
 * on the same fleet, collectors ticking; per repetition one window of the graphql-ws clients on one
 * build right after the other (order alternating). Besides latency and the longest event-loop delay
 * (with an idle process' delay over the same window as the noise floor) it reports the server's CPU
 * per delivered message net of the collector's CPU rate measured just before (what fan-out costs).
 */
async function subsAB() {
  const builds = abBuilds();
  const ab: { server: ServerUnderTest; runningIds: string[] }[] = [];
  for (const b of builds) {
    log(`A/B subs: starting the ${b.label} server (${b.main})`);
    const server = await startServer({ libvirtUri: b.uri, pollInterval: cfg.pollIntervalS, label: b.label, nodeOptions: b.nodeOptions, serverMain: b.main === 'server/dist/src/main.js' ? undefined : b.main, env: b.env, startTimeoutMs: START_TIMEOUT_MS });
    servers.add(server);
    await server.waitTicks(5);
    const live = await server.api<{ count: number; vms: { id: number }[] }>('/api/telemetry/live-vms');
    results.fleet = { uri: fleetLabel(), hosts: cfg.hosts, domains: cfg.vms, running: live.count };
    ab.push({ server, runningIds: live.vms.map((v) => String(v.id)) });
  }
  const runs = builds.map(() => [] as { ws: any; probe: ProbeReading; idleRssMaxMiB: number; heapUsedMiB: number; netCpuUsPerMessage: number }[]);
  for (let r = 0; r < cfg.reps; r++) {
    for (const i of r % 2 === 0 ? [0, 1] : [1, 0]) {
      const { server, runningIds } = ab[i]!;
      log(`A/B subs run ${r + 1}/${cfg.reps}: ${builds[i]!.label}: ${cfg.vmClients} vmMetrics + ${cfg.fleetClients} fleetMetrics clients for ${cfg.subsWindowS} s`);
      await server.probe('reset');
      await sleep(IDLE_WINDOW_MS);
      const idle = await server.probe('read');
      await server.probe('reset');
      const ws = await runJsonChild<any>(
        'ws-clients.ts',
        [JSON.stringify({ url: server.url, token: server.auth.authorization.slice(7), vmIds: runningIds, vmClients: cfg.vmClients, fleetClients: cfg.fleetClients, durationMs: cfg.subsWindowS * 1000 })],
        (cfg.subsWindowS + 120) * 1000,
      );
      const probe = await server.probe('read');
      const errs = [...ws.vm.errors, ...ws.fleet.errors];
      if (errs.length) results.notes.push(`A/B ${builds[i]!.label} subscription errors (run ${r + 1}): ${errs.slice(0, 3).join(' | ')}`);
      // the window includes the clients' 3 s connect phase and their first snapshots: counted as messages too
      const messages = ws.vm.messages + ws.fleet.messages;
      const collectorMs = (idle.cpuMs / idle.wallMs) * probe.wallMs;
      runs[i]!.push({ ws, probe, idleRssMaxMiB: idle.rssMaxMiB, heapUsedMiB: probe.heapUsedMiB, netCpuUsPerMessage: messages ? ((probe.cpuMs - collectorMs) * 1000) / messages : NaN });
    }
  }
  const side = (i: number) => {
    const x = runs[i]!;
    return {
      main: builds[i]!.main,
      fleet: fleetLabel(i === 0 ? (cfg.baselineLibvirt ?? cfg.libvirt) : cfg.libvirt),
      nodeOptions: builds[i]!.nodeOptions,
      env: builds[i]!.env,
      vmLatencyP50Ms: spread(x.map((r) => r.ws.vm.latency.p50)),
      vmLatencyP99Ms: spread(x.map((r) => r.ws.vm.latency.p99)),
      fleetLatencyP50Ms: spread(x.map((r) => r.ws.fleet.latency.p50)),
      fleetLatencyP99Ms: spread(x.map((r) => r.ws.fleet.latency.p99)),
      serverCpuUsPerMessageNet: spread(x.map((r) => r.netCpuUsPerMessage), 0),
      eventLoopMaxMs: spread(x.map((r) => r.probe.eventLoop.maxMs)),
      eventLoopP99Ms: spread(x.map((r) => r.probe.eventLoop.p99Ms)),
      idleEventLoopMaxMs: spread(x.map((r) => r.probe.idle?.maxMs ?? NaN)),
      rssMaxMiB: spread(x.map((r) => r.probe.rssMaxMiB), 1),
      // the collector alone: the 3 s window just before the clients connect
      rssBeforeClientsMiB: spread(x.map((r) => r.idleRssMaxMiB), 1),
      heapUsedMiB: spread(x.map((r) => r.heapUsedMiB), 1),
      messages: x.map((r) => ({ vm: r.ws.vm.messages, fleet: r.ws.fleet.messages })),
    };
  };
  results.subsAB = {
    command: cmdFor('subs'),
    what: `A/B in one run: both builds up on the same ${cfg.vms}-VM fleet, both collectors ticking; per repetition ${cfg.vmClients} vmMetrics + ${cfg.fleetClients} fleetMetrics graphql-ws clients for ${cfg.subsWindowS} s on one build right after the other (order alternating); CPU per message = (server CPU, all threads − the collector's CPU rate over a ${IDLE_WINDOW_MS / 1000} s window just before) / messages received`,
    baseline: side(0),
    candidate: side(1),
  };
  for (const x of ab) {
    await x.server.stop();
    servers.delete(x.server);
  }
}

async function main() {
  tmpDir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-bench-'));
  fleetFiles = writeFleet(tmpDir);
  const uri = fleetUri(cfg.libvirt);
  if ([cfg.libvirt, cfg.baselineLibvirt].includes('libvirtd')) {
    log('libvirtd mode: making sure the system libvirtd runs (it opens the fleet files itself)');
    await ensureLibvirtd();
  }
  log(`fleet: ${cfg.vms} test-driver domains${cfg.hosts > 1 ? ` on ${cfg.hosts} hosts of ${cfg.vmsPerHost}` : ` at ${uri}`}; ${cfg.reps} repetition(s); output ${outFile}`);

  // 1a. libvirt alone (before the server starts: nothing else competes for the cores).
  let bareCpuMedian = NaN;
  if (cfg.hosts > 1 && run('bare')) results.notes.push('bare libvirt loop: skipped with --hosts (it reads one URI); "beyond libvirt" figures are not computed');
  if ((run('bare') || run('collector')) && cfg.hosts === 1) {
    const reps: BareRun[][] = [];
    const rss: number[] = [];
    for (let r = 0; r < cfg.reps; r++) {
      log(`bare libvirt loop, run ${r + 1}/${cfg.reps} (${cfg.bareIterations} iterations)`);
      const bare = await bareLibvirt(uri, cfg.bareIterations);
      reps.push(bare.runs);
      if (bare.rssMiB !== undefined) rss.push(bare.rssMiB);
    }
    const perRun = reps.map((runs) => ({ cpuMs: median(runs.map((x) => x.cpuMs)), cpuP95: pct(runs.map((x) => x.cpuMs), 95), wallMs: median(runs.map((x) => x.wallMs)), bulkWallMs: median(runs.map((x) => x.bulkWallMs)), perCallWallMs: median(runs.map((x) => x.perCallWallMs)), domains: reps[0]![0]!.domains, perCallDomains: reps[0]![0]!.perCallDomains }));
    bareCpuMedian = median(perRun.map((x) => x.cpuMs));
    results.bareLibvirt = {
      command: cmdFor('bare'),
      what: 'getAllDomainStats(state,cpu-total,balloon,vcpu,interface,block; NOWAIT) + domainStatsPerCall(running domains, cached devices, parallel 2) per iteration, own process, test driver in-process',
      domains: perRun[0]!.domains,
      perCallDomains: perRun[0]!.perCallDomains,
      cpuMsPerTick: spread(perRun.map((x) => x.cpuMs)),
      cpuMsPerTickP95: spread(perRun.map((x) => x.cpuP95)),
      wallMsPerTick: spread(perRun.map((x) => x.wallMs)),
      bulkWallMs: spread(perRun.map((x) => x.bulkWallMs)),
      perCallWallMs: spread(perRun.map((x) => x.perCallWallMs)),
      cpuUsPerSampledDomain: spread(perRun.map((x) => (x.cpuMs * 1000) / x.perCallDomains), 1),
      // the test driver's domains live in this process (with qemu:///system they live in libvirtd)
      rssMiB: rss.length ? spread(rss, 1) : undefined,
    };
  }

  if (cfg.baselineMain && run('rest')) await restAB();
  if (cfg.baselineMain && run('subs')) await subsAB();

  if (['collector', 'bytes', 'metrics'].some((p) => run(p as Phase)) || ((run('rest') || run('subs')) && !cfg.baselineMain)) {
    log(`starting the server under test (embedded PostgreSQL, ${cfg.vms}-VM fleet on ${cfg.hosts} host(s))`);
    const server = await startServer({ libvirtUri: uri, pollInterval: cfg.pollIntervalS, label: 'fleet', nodeOptions: cfg.serverNodeOptions, serverMain: cfg.serverMain, env: SERVER_ENV, startTimeoutMs: START_TIMEOUT_MS, cpuProfDir: cfg.cpuProfDir });
    servers.add(server);
    log(`server up at ${server.url} (pid ${server.pid}); warming up 5 ticks`);
    await server.waitTicks(5);
    const live = await server.api<{ count: number; vms: { id: number }[] }>('/api/telemetry/live-vms');
    const runningIds = live.vms.map((v) => String(v.id));
    if (cfg.heapSnapshotDir) {
      mkdirSync(cfg.heapSnapshotDir, { recursive: true });
      log(`heap snapshot: ${await server.heapSnapshot(path.join(cfg.heapSnapshotDir, 'warm.heapsnapshot'))}`);
    }
    results.fleet = { uri: fleetLabel(), hosts: cfg.hosts, domains: cfg.vms, running: live.count };
    const probes: ProbeReading[] = [];

    // 1b. collector CPU per tick with nothing else going on.
    if (run('collector')) {
      const reps: Awaited<ReturnType<typeof measureTicks>>[] = [];
      for (let r = 0; r < cfg.reps; r++) {
        log(`collector CPU, run ${r + 1}/${cfg.reps} (${cfg.ticksPerRep} ticks)`);
        reps.push(await measureTicks(server, cfg.ticksPerRep));
      }
      probes.push(...reps.map((r) => r.probe));
      const sampled = median(reps.map((r) => r.samplesPerTick));
      const beyond = (r: (typeof reps)[number]) => ((r.cpuMs.median - bareCpuMedian) * 1000) / r.samplesPerTick;
      results.collector = {
        command: cmdFor('collector'),
        what: "lastTickCpuMs / lastTickMs of every tick (collectorStatus subscription), no clients; 'beyond libvirt' = (median tick CPU − median bare libvirt CPU) / VMs sampled per tick",
        samplesPerTick: sampled,
        tickCpuMsMedian: spread(reps.map((r) => r.cpuMs.median)),
        tickCpuMsP95: spread(reps.map((r) => r.cpuMs.p95)),
        tickWallMsMedian: spread(reps.map((r) => r.wallMs.median)),
        tickWallMsP95: spread(reps.map((r) => r.wallMs.p95)),
        cpuUsPerVmMedian: spread(reps.map((r) => (r.cpuMs.median * 1000) / r.samplesPerTick), 1),
        cpuUsPerVmP95: spread(reps.map((r) => (r.cpuMs.p95 * 1000) / r.samplesPerTick), 1),
        beyondLibvirtUsPerVm: spread(reps.map(beyond), 1),
        beyondLibvirtUsPerDomainOfFleet: spread(reps.map((r) => ((r.cpuMs.median - bareCpuMedian) * 1000) / cfg.vms), 1),
        serverCpuPct: spread(reps.map((r) => r.serverCpuPct), 1),
        postgresCpuPct: spread(reps.map((r) => r.postgresCpuPct), 1),
        eventLoopMaxMs: spread(reps.map((r) => r.probe.eventLoop.maxMs)),
        eventLoopP99Ms: spread(reps.map((r) => r.probe.eventLoop.p99Ms)),
        idleEventLoopMaxMs: spread(reps.map((r) => r.probe.idle?.maxMs ?? NaN)),
        rssMaxMiB: spread(reps.map((r) => r.probe.rssMaxMiB), 1),
        staleVmsMax: Math.max(...reps.map((r) => r.staleVms)),
      };
    }

    // 2 + 4a. 100 vmMetrics clients + fleetMetrics clients in a process of their own.
    if ((run('subs') && !cfg.baselineMain) || run('bytes')) {
      const reps = [];
      for (let r = 0; r < cfg.reps; r++) {
        log(`subscriptions, run ${r + 1}/${cfg.reps}: ${cfg.vmClients} vmMetrics + ${cfg.fleetClients} fleetMetrics clients for ${cfg.subsWindowS} s`);
        await server.probe('reset');
        const ticksBefore = server.ticks.length;
        const prevSamples = server.ticks.at(-1)?.samples;
        const cpu0 = server.cpu();
        const ws = await snapshotDuring(
          server,
          `subs-${r + 1}`,
          runJsonChild<any>(
            'ws-clients.ts',
            [JSON.stringify({ url: server.url, token: server.auth.authorization.slice(7), vmIds: runningIds, vmClients: cfg.vmClients, fleetClients: cfg.fleetClients, durationMs: cfg.subsWindowS * 1000 })],
            (cfg.subsWindowS + 120) * 1000,
          ),
          (cfg.subsWindowS * 1000) / 2,
        );
        const probe = await server.probe('read');
        const cpu1 = server.cpu();
        const errs = [...ws.vm.errors, ...ws.fleet.errors, ...(ws.stray ?? [])];
        if (errs.length) results.notes.push(`subscription errors (run ${r + 1}; ${ws.vm.failedClients ?? '?'} vmMetrics and ${ws.fleet.failedClients ?? '?'} fleetMetrics clients failed): ${errs.slice(0, 3).join(' | ')}`);
        const ticks = server.ticks.slice(ticksBefore + 3); // the first ticks overlap the 3 s connect phase
        reps.push({ ws, probe, ticks: tickFigures(ticks, prevSamples), serverCpuPct: round(((cpu1.self - cpu0.self) / (probe.wallMs / 1000)) * 100, 1) });
      }
      probes.push(...reps.map((r) => r.probe));
      results.subscriptions = {
        command: cmdFor('subs'),
        what: `${cfg.vmClients} graphql-ws clients (one socket each) on vmMetrics spread over running VMs + ${cfg.fleetClients} on fleetMetrics, ${cfg.subsWindowS} s; latency = receive time − snapshot timestamp (the time ingest() stamped it, after libvirt's reads)`,
        vmLatencyP50Ms: spread(reps.map((r) => r.ws.vm.latency.p50)),
        vmLatencyP99Ms: spread(reps.map((r) => r.ws.vm.latency.p99)),
        vmLatencyMaxMs: spread(reps.map((r) => r.ws.vm.latency.max)),
        fleetLatencyP50Ms: spread(reps.map((r) => r.ws.fleet.latency.p50)),
        fleetLatencyP99Ms: spread(reps.map((r) => r.ws.fleet.latency.p99)),
        vmMessagesPerClientPerSec: spread(reps.map((r) => r.ws.vm.messagesPerClientPerSec)),
        vmBytesPerClientPerMin: spread(reps.map((r) => r.ws.vm.bytesPerClientPerMin), 0),
        vmPayloadBytesPerMessage: spread(reps.map((r) => r.ws.vm.payloadBytesPerMessage), 0),
        fleetBytesPerClientPerMin: spread(reps.map((r) => r.ws.fleet.bytesPerClientPerMin), 0),
        fleetPayloadBytesPerMessage: spread(reps.map((r) => r.ws.fleet.payloadBytesPerMessage), 0),
        tickCpuMsMedianUnderLoad: spread(reps.map((r) => r.ticks.cpuMs.median)),
        tickWallMsP95UnderLoad: spread(reps.map((r) => r.ticks.wallMs.p95)),
        serverCpuPct: spread(reps.map((r) => r.serverCpuPct), 1),
        // server CPU (all threads, collector included) per message delivered to a client
        serverCpuUsPerMessage: spread(reps.map((r) => (r.probe.cpuMs * 1000) / Math.max(1, r.ws.vm.messages + r.ws.fleet.messages)), 0),
        eventLoopMaxMs: spread(reps.map((r) => r.probe.eventLoop.maxMs)),
        eventLoopP99Ms: spread(reps.map((r) => r.probe.eventLoop.p99Ms)),
        idleEventLoopMaxMs: spread(reps.map((r) => r.probe.idle?.maxMs ?? NaN)),
        rssMaxMiB: spread(reps.map((r) => r.probe.rssMaxMiB), 1),
        samples: reps.map((r) => ({ vm: r.ws.vm.latency, fleet: r.ws.fleet.latency, vmMessages: r.ws.vm.messages, fleetMessages: r.ws.fleet.messages })),
      };
    }

    // 3. REST under load while the collector runs.
    if (run('rest') && !cfg.baselineMain) {
      const reps: { vmStats: RestLoad; liveVms: RestLoad; liveVmsGzip: RestLoad; probe: ProbeReading }[] = [];
      const vmPaths = runningIds.map((id) => `/api/telemetry/vm-stats/${id}`);
      for (let r = 0; r < cfg.reps; r++) {
        log(`REST under load, run ${r + 1}/${cfg.reps}: autocannon ${cfg.restConnections} connections × ${cfg.restDurationS} s each on vm-stats, live-vms, live-vms (gzip)`);
        await server.probe('reset');
        const opts = { connections: cfg.restConnections, durationS: cfg.restDurationS };
        const vmStats = await snapshotDuring(server, `rest-${r + 1}`, restLoad(server.url, server.auth, 'vm-stats', vmPaths, opts), (cfg.restDurationS * 1000) / 2);
        const liveVms = await restLoad(server.url, server.auth, 'live-vms', ['/api/telemetry/live-vms'], opts);
        const liveVmsGzip = await restLoad(server.url, server.auth, 'live-vms', ['/api/telemetry/live-vms'], { ...opts, gzip: true });
        for (const l of [vmStats, liveVms, liveVmsGzip]) if (l.non2xx || l.errors || l.timeouts) results.notes.push(`REST ${l.path}${l.gzip ? ' gzip' : ''} run ${r + 1}: ${l.non2xx} non-2xx, ${l.errors} errors, ${l.timeouts} timeouts`);
        reps.push({ vmStats, liveVms, liveVmsGzip, probe: await server.probe('read') });
      }
      probes.push(...reps.map((r) => r.probe));
      const fig = (k: 'vmStats' | 'liveVms' | 'liveVmsGzip') => ({
        p50Ms: spread(reps.map((r) => r[k].latency.p50)),
        p99Ms: spread(reps.map((r) => r[k].latency.p99)),
        maxMs: spread(reps.map((r) => r[k].latency.max)),
        requestsPerSec: spread(reps.map((r) => r[k].requestsPerSec), 0),
        bytesPerResponse: spread(reps.map((r) => r[k].bytesPerResponse), 0),
      });
      results.rest = {
        command: cmdFor('rest'),
        what: `autocannon in the bench process, ${cfg.restConnections} keep-alive connections, ${cfg.restDurationS} s per endpoint, Authorization header; vm-stats cycles over every running VM; collector ticking meanwhile`,
        vmStats: fig('vmStats'),
        liveVms: fig('liveVms'),
        liveVmsGzip: fig('liveVmsGzip'),
        eventLoopMaxMs: spread(reps.map((r) => r.probe.eventLoop.maxMs)),
        idleEventLoopMaxMs: spread(reps.map((r) => r.probe.idle?.maxMs ?? NaN)),
        rssMaxMiB: spread(reps.map((r) => r.probe.rssMaxMiB), 1),
      };
    }

    // 4b. polling vm-stats every 5 s: bytes of a response on the wire, ×12 per minute.
    if (run('bytes')) {
      const ids = runningIds.filter((_, i) => i % Math.max(1, Math.floor(runningIds.length / 10)) === 0).slice(0, 10);
      const plain: Awaited<ReturnType<typeof wireBytes>>[] = [];
      const gz: Awaited<ReturnType<typeof wireBytes>>[] = [];
      for (const id of ids) {
        plain.push(await wireBytes(server.url, `/api/telemetry/vm-stats/${id}`, server.auth));
        gz.push(await wireBytes(server.url, `/api/telemetry/vm-stats/${id}`, { ...server.auth, 'accept-encoding': 'gzip' }));
      }
      const perMin = (xs: typeof plain, k: 'response' | 'request') => Math.round(mean(xs.map((x) => x[k])) * 12);
      results.polling = {
        command: cmdFor('bytes'),
        what: 'GET /api/telemetry/vm-stats/{id} on a fresh connection, bytes the socket read (status line + headers + body as sent) and wrote; ×12 for one poll every 5 s',
        responseBytes: Math.round(mean(plain.map((x) => x.response))),
        bodyBytes: Math.round(mean(plain.map((x) => x.body))),
        responseBytesGzip: Math.round(mean(gz.map((x) => x.response))),
        gzipApplied: gz.some((x) => x.encoding === 'gzip'),
        requestBytes: Math.round(mean(plain.map((x) => x.request))),
        responseBytesPerMin: perMin(plain, 'response'),
        responseBytesPerMinGzip: perMin(gz, 'response'),
        requestBytesPerMin: perMin(plain, 'request'),
      };
    }

    // 5. GET /metrics as Prometheus scrapes it (one at a time, gzip, OpenMetrics), collector ticking;
    //    then Debian's prometheus-libvirt-exporter (kumina 0.2.0) on the same fleet file.
    if (run('metrics')) {
      const n = quick ? 20 : 100;
      const reps: { gz: ScrapeRun; plain: ScrapeRun; cpuMsPerScrape: number; probe: ProbeReading }[] = [];
      await scrape(`${server.url}/metrics`, server.auth, { scrapes: 5, gzip: true }); // JIT warm-up
      for (let r = 0; r < cfg.reps; r++) {
        log(`GET /metrics, run ${r + 1}/${cfg.reps}: ${n} sequential scrapes (gzip, OpenMetrics)`);
        // The collector's CPU over an idle window just before is taken out of the CPU per scrape.
        await server.probe('reset');
        await sleep(IDLE_WINDOW_MS);
        const idle = await server.probe('read');
        await server.probe('reset');
        const gz = await scrape(`${server.url}/metrics`, server.auth, { scrapes: n, gzip: true });
        const probe = await server.probe('read');
        const collectorMs = (idle.cpuMs / idle.wallMs) * probe.wallMs;
        const plain = await scrape(`${server.url}/metrics`, server.auth, { scrapes: 3, gzip: false });
        if (gz.non200 || plain.non200) results.notes.push(`/metrics run ${r + 1}: ${gz.non200 + plain.non200} non-200 answers`);
        reps.push({ gz, plain, cpuMsPerScrape: (probe.cpuMs - collectorMs) / n, probe });
      }
      probes.push(...reps.map((r) => r.probe));
      // Server + PostgreSQL against the exporter in one run: a whole minute of ticks (one minute's
      // history blocks written), no clients, then the exporter scraped on the same fleet.
      log('server + PostgreSQL CPU over one minute of ticks, no clients');
      const whole = await measureTicks(server, quick ? 20 : 60);
      const exporter = await scrapeExporter(uri, quick ? 3 : 10);
      results.metrics = {
        command: cmdFor('metrics'),
        what: `${n} sequential GET /metrics per run with Prometheus' Accept (OpenMetrics) and Accept-Encoding: gzip, keep-alive, collector ticking; server CPU per scrape = (process CPU, all threads − the collector's CPU rate over a ${IDLE_WINDOW_MS / 1000} s idle window just before) / scrapes; bytes of the last answer`,
        contentType: reps[0]?.gz.contentType,
        p50Ms: spread(reps.map((r) => r.gz.latencyMs.p50)),
        p99Ms: spread(reps.map((r) => r.gz.latencyMs.p99)),
        maxMs: spread(reps.map((r) => r.gz.latencyMs.max)),
        serverCpuMsPerScrape: spread(reps.map((r) => r.cpuMsPerScrape)),
        gzipBytes: spread(reps.map((r) => r.gz.wireBodyBytes), 0),
        plainBytes: spread(reps.map((r) => r.plain.wireBodyBytes), 0),
        samples: reps[0]?.gz.samples,
        vmSamples: reps[0]?.gz.vmSamples,
        eventLoopMaxMs: spread(reps.map((r) => r.probe.eventLoop.maxMs)),
        exporter,
        serverPgCpuMsPerTick: whole.serverPgCpuMsPerTick,
        serverPgVsExporter: 'cpuMsPerScrape' in exporter && exporter.cpuMsPerScrape ? round(whole.serverPgCpuMsPerTick / exporter.cpuMsPerScrape, 3) : undefined,
      };
    }

    results.eventLoop = {
      command: CMD,
      what: 'monitorEventLoopDelay (5 ms resolution) preloaded into the server process (bench/src/probe.mjs via node --import); max over every measured window',
      maxMs: Math.max(...probes.map((p) => p.eventLoop.maxMs)),
      idleProcessMaxMs: Math.max(...probes.map((p) => p.idle?.maxMs ?? 0)),
      p99MsWorstWindow: Math.max(...probes.map((p) => p.eventLoop.p99Ms)),
      rssMaxMiB: Math.max(...probes.map((p) => p.rssMaxMiB)),
      heapUsedMiBLast: probes.at(-1)?.heapUsedMiB,
    };
    await server.stop();
    servers.delete(server);
  }

  // 6. real TCG guests.
  if (run('guests')) {
    try {
      const { booted, boots, stopReason, otherDomains } = await bootGuests({ max: cfg.guestsMax, memoryMiB: cfg.guestMemMiB, bootTimeoutMs: 90_000, maxLoad: os.cpus().length * 3, log });
      results.guests = { command: cmdFor('guests'), boots, stopReason, guestsBooted: booted.length, otherDomainsOnHost: otherDomains };
      if (booted.length) {
        await new Promise((r) => setTimeout(r, 3000));
        log(`guests: bare bulk stats on qemu:///system (${booted.length} bench guests + ${otherDomains.length} others)`);
        const libvirtd = libvirtdPid();
        const d0 = libvirtd ? treeCpuSeconds(libvirtd).self : NaN;
        const bare = (await bareLibvirt('qemu:///system', cfg.guestTicks)).runs;
        const libvirtdMsPerCall = libvirtd ? ((treeCpuSeconds(libvirtd).self - d0) * 1000) / (bare.length + 2) : NaN;
        const domains = bare[0]?.domains ?? booted.length;
        log('guests: server against qemu:///system');
        const server = await startServer({ libvirtUri: 'qemu:///system', pollInterval: cfg.pollIntervalS, label: 'qemu', nodeOptions: cfg.serverNodeOptions, serverMain: cfg.serverMain, env: SERVER_ENV, startTimeoutMs: START_TIMEOUT_MS });
        servers.add(server);
        await server.waitTicks(3);
        const l0 = libvirtd ? treeCpuSeconds(libvirtd).self : NaN;
        const m = await measureTicks(server, cfg.guestTicks);
        const libvirtdMsPerTick = libvirtd ? ((treeCpuSeconds(libvirtd).self - l0) * 1000) / cfg.guestTicks : NaN;
        const loadDuring = os.loadavg()[0]!;
        const exporter = await scrapeExporter('qemu:///system', 30);
        // With a handful of domains the per-tick fixed costs (status, store round trip, timers) weigh in:
        // measure again with one guest left running; the difference is the cost of each further domain.
        let one: Awaited<ReturnType<typeof measureTicks>> | undefined;
        if (booted.length > 1) {
          log(`guests: destroying ${booted.length - 1} guests, measuring again with 1 running`);
          for (const g of booted.slice(1)) await destroyGuest(g.name).catch((e) => log(`guests: destroy ${g.name} failed: ${e}`));
          await server.waitTicks(3);
          one = await measureTicks(server, cfg.guestTicks);
        }
        await server.stop();
        servers.delete(server);
        const n = m.samplesPerTick || domains;
        if (one) {
          Object.assign(results.guests, {
            oneGuestTickCpuMs: { median: one.cpuMs.median, p95: one.cpuMs.p95 },
            oneGuestSamplesPerTick: one.samplesPerTick,
            oneGuestStaleVms: one.staleVms,
            // running domains: every bench guest vs one (others on the host, if any, run in both)
            marginalCpuMsPerDomain: round((m.cpuMs.median - one.cpuMs.median) / (booted.length - 1), 3),
            // server + PostgreSQL per tick with one guest, less one marginal domain: what a host costs per tick
            serverPgFixedMsPerHost: round(one.serverPgCpuMsPerTick - (m.serverPgCpuMsPerTick - one.serverPgCpuMsPerTick) / (booted.length - 1), 2),
          });
        }
        Object.assign(results.guests, {
          domainsSampledPerTick: m.samplesPerTick,
          staleVms: m.staleVms,
          tickCpuMs: { median: m.cpuMs.median, p95: m.cpuMs.p95 },
          tickWallMs: { median: m.wallMs.median, p95: m.wallMs.p95 },
          collectorCpuMsPerDomainPerTick: round(m.cpuMs.median / n, 3),
          bareBulkStatsWallMsPerDomain: round(median(bare.map((b) => b.bulkWallMs)) / domains, 2),
          bareBulkStatsCpuMsPerDomain: round(median(bare.map((b) => b.cpuMs)) / domains, 3),
          bareDomains: domains,
          libvirtdCpuMsPerDomainBareCall: round(libvirtdMsPerCall / domains, 2),
          libvirtdCpuMsPerDomainPerServerTick: round(libvirtdMsPerTick / n, 2),
          bareNeededPerCall: bare[0]?.perCallDomains ?? 0,
          beyondLibvirtUsPerDomain: round(((m.cpuMs.median - median(bare.map((b) => b.cpuMs))) * 1000) / n, 1),
          eventLoopMaxMs: m.probe.eventLoop.maxMs,
          loadavg1DuringMeasure: round(loadDuring, 2),
          serverPgCpuMsPerTick: m.serverPgCpuMsPerTick,
          exporter,
        });
      }
    } finally {
      const problems = await cleanupGuests();
      if (problems.length) results.notes.push(`guest cleanup problems: ${problems.join('; ')}`);
    }
  }

  results.runtimeS = Math.round((Date.now() - started) / 1000);
  writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
  const table = renderTable(results);
  writeFileSync(outFile.replace(/\.json$/, '.txt'), table);
  process.stdout.write(table);
  log(`done in ${results.runtimeS} s; wrote ${outFile}`);
}

// ---- the table ----------------------------------------------------------------------------------
function fmt(s: Spread | number | undefined | null, unit = ''): string {
  if (s == null) return '–';
  if (typeof s === 'number') return `${s}${unit}`;
  return s.runs.length > 1 ? `${s.value}${unit} (${s.min}–${s.max})` : `${s.value}${unit}`;
}
function verdict(v: number | undefined, target: number): string {
  if (v == null || !Number.isFinite(v)) return '';
  return v < target ? 'met' : 'NOT met';
}

/** what an A/B side ran with: its fleet URI scheme, V8 flags and extra environment */
const abSide = (side: { fleet?: string; nodeOptions?: string; env?: Record<string, string> }) =>
  [side.fleet?.split(':')[0], side.nodeOptions, ...Object.entries(side.env ?? {}).filter(([k]) => k !== 'HTTP_RATE_LIMIT').map(([k, v]) => `${k}=${v}`)].filter(Boolean).join(' ');

function renderTable(r: Record<string, any>): string {
  const c0 = r.config ?? cfg;
  const rows: [string, string, string, string, string][] = [];
  const add = (what: string, value: string, target = '', met = '', command = CMD) => rows.push([what, value, target, met, command]);
  if (r.bareLibvirt) {
    add('libvirt alone: CPU ms per tick (test driver, 1000 dom.)', fmt(r.bareLibvirt.cpuMsPerTick, ' ms'), '', '', r.bareLibvirt.command);
    add('libvirt alone: CPU µs per sampled VM per tick', fmt(r.bareLibvirt.cpuUsPerSampledDomain, ' µs'), '', '', r.bareLibvirt.command);
    if (r.bareLibvirt.rssMiB) add(`libvirt alone: process RSS (${(c0.libvirt ?? 'in-process') === 'in-process' ? 'the test driver runs in-process' : 'the domains live in libvirtd'})`, fmt(r.bareLibvirt.rssMiB, ' MiB'), '', '', r.bareLibvirt.command);
  }
  if (r.collector) {
    const c = r.collector;
    add(`collector CPU ms per tick, median (${c.samplesPerTick} VMs sampled)`, fmt(c.tickCpuMsMedian, ' ms'), '', '', c.command);
    add('collector CPU ms per tick, p95', fmt(c.tickCpuMsP95, ' ms'), '', '', c.command);
    add('collector tick wall ms, median / p95', `${fmt(c.tickWallMsMedian)} / ${fmt(c.tickWallMsP95)} ms`, '', '', c.command);
    add('collector CPU µs per VM per tick, median / p95', `${fmt(c.cpuUsPerVmMedian)} / ${fmt(c.cpuUsPerVmP95)} µs`, '', '', c.command);
    add('our CPU per VM per tick beyond libvirt', fmt(c.beyondLibvirtUsPerVm, ' µs'), '≤ 30 µs', verdict(c.beyondLibvirtUsPerVm.value, 30), c.command);
    add('server CPU % / embedded PostgreSQL CPU % (idle clients)', `${fmt(c.serverCpuPct)} / ${fmt(c.postgresCpuPct)} %`, '', '', c.command);
  }
  if (r.subscriptions) {
    const s = r.subscriptions;
    add('sample→client latency, vmMetrics p50', fmt(s.vmLatencyP50Ms, ' ms'), '', '', s.command);
    const vmTarget = c0.vms > 1000 ? 250 : 50; // issue 10: ≤ 50 ms at 1,000 VMs, ≤ 250 ms at 5,000
    add('sample→client latency, vmMetrics p99', fmt(s.vmLatencyP99Ms, ' ms'), `< ${vmTarget} ms`, verdict(s.vmLatencyP99Ms.value, vmTarget), s.command);
    add('sample→client latency, fleetMetrics p50 / p99', `${fmt(s.fleetLatencyP50Ms)} / ${fmt(s.fleetLatencyP99Ms)} ms`, '< 250 ms', verdict(s.fleetLatencyP99Ms.value, 250), s.command);
    add(`collector CPU ms per tick with ${(c0.vmClients ?? 100) + (c0.fleetClients ?? 5)} clients${c0.hosts > 1 ? ' (first host)' : ''}`, fmt(s.tickCpuMsMedianUnderLoad, ' ms'), '', '', s.command);
    add('server CPU % / RSS max with subscribers', `${fmt(s.serverCpuPct)} % / ${fmt(s.rssMaxMiB, ' MiB')}`, '', '', s.command);
    if (s.serverCpuUsPerMessage) add('server CPU µs per delivered message (all threads, collector included)', fmt(s.serverCpuUsPerMessage, ' µs'), '', '', s.command);
  }
  if (r.rest) {
    const x = r.rest;
    add('REST vm-stats p50 / p99', `${fmt(x.vmStats.p50Ms)} / ${fmt(x.vmStats.p99Ms)} ms`, 'p99 < 5 ms', verdict(x.vmStats.p99Ms.value, 5), x.command);
    add('REST vm-stats requests/s', fmt(x.vmStats.requestsPerSec), '', '', x.command);
    add('REST live-vms p50 / p99 (no gzip)', `${fmt(x.liveVms.p50Ms)} / ${fmt(x.liveVms.p99Ms)} ms`, '', '', x.command);
    add('REST live-vms requests/s (no gzip / gzip)', `${fmt(x.liveVms.requestsPerSec)} / ${fmt(x.liveVmsGzip.requestsPerSec)}`, '', '', x.command);
    add('REST live-vms p50 / p99 (gzip)', `${fmt(x.liveVmsGzip.p50Ms)} / ${fmt(x.liveVmsGzip.p99Ms)} ms`, '', '', x.command);
  }
  if (r.restAB) {
    const x = r.restAB;
    for (const [name, side] of [['baseline', x.baseline], ['candidate', x.candidate]] as const) {
      add(`A/B ${name}: REST vm-stats p50 / p99`, `${fmt(side.vmStats.p50Ms)} / ${fmt(side.vmStats.p99Ms)} ms`, 'p99 < 5 ms', verdict(side.vmStats.p99Ms.value, 5), x.command);
      add(`A/B ${name}: REST vm-stats requests/s`, fmt(side.vmStats.requestsPerSec), '', '', x.command);
      add(`A/B ${name}: REST live-vms requests/s (no gzip / gzip)`, `${fmt(side.liveVms.requestsPerSec)} / ${fmt(side.liveVmsGzip.requestsPerSec)}`, '', '', x.command);
      add(`A/B ${name}: server CPU µs/request (net of collector) vm-stats / live-vms / gzip`, `${fmt(side.vmStats.serverCpuUsPerRequest)} / ${fmt(side.liveVms.serverCpuUsPerRequest)} / ${fmt(side.liveVmsGzip.serverCpuUsPerRequest)}`, '', '', x.command);
      if (side.rssMaxMiB !== undefined) add(`A/B ${name} (${abSide(side)}): event loop max; RSS max`, `${fmt(side.eventLoopMaxMs)} ms; ${side.rssMaxMiB} MiB`, '≤ 250 MiB', verdict(side.rssMaxMiB, 250), x.command);
    }
    add('A/B change: vm-stats p99 / requests/s', `${x.change.vmStatsP99Pct} % / ${x.change.vmStatsRequestsPerSecPct} %`, 'loss ≤ 10 %', x.change.vmStatsRequestsPerSecPct >= -10 ? 'met' : 'NOT met', x.command);
    add('A/B change: live-vms requests/s (no gzip / gzip)', `${x.change.liveVmsRequestsPerSecPct} % / ${x.change.liveVmsGzipRequestsPerSecPct} %`, '', '', x.command);
    add('A/B change: server CPU per request vm-stats / live-vms / gzip', `${x.change.vmStatsServerCpuPerRequestPct} % / ${x.change.liveVmsServerCpuPerRequestPct} % / ${x.change.liveVmsGzipServerCpuPerRequestPct} %`, '≤ +10 %', x.change.vmStatsServerCpuPerRequestPct <= 10 ? 'met' : 'NOT met', x.command);
  }
  if (r.subsAB) {
    const x = r.subsAB;
    for (const [name, side] of [['baseline', x.baseline], ['candidate', x.candidate]] as const) {
      add(`A/B ${name}: vmMetrics p50 / p99; fleetMetrics p50 / p99`, `${fmt(side.vmLatencyP50Ms)} / ${fmt(side.vmLatencyP99Ms)}; ${fmt(side.fleetLatencyP50Ms)} / ${fmt(side.fleetLatencyP99Ms)} ms`, '', '', x.command);
      add(`A/B ${name}: server CPU µs per message (net of collector)`, fmt(side.serverCpuUsPerMessageNet, ' µs'), '', '', x.command);
      add(`A/B ${name}${side.fleet ? ` (${abSide(side)})` : ''}: event loop max (idle process, same windows); RSS max`, `${fmt(side.eventLoopMaxMs)} (${fmt(side.idleEventLoopMaxMs)}) ms; ${fmt(side.rssMaxMiB, ' MiB')}`, '< 20 ms', '', x.command);
      if (side.rssBeforeClientsMiB) add(`A/B ${name}: RSS collector only (3 s before the clients) / max with clients`, `${fmt(side.rssBeforeClientsMiB, ' MiB')} / ${fmt(side.rssMaxMiB, ' MiB')}`, '≤ 250 MiB', verdict(side.rssMaxMiB.value, 250), x.command);
    }
  }
  if (r.metrics) {
    const m = r.metrics;
    add(`GET /metrics (${m.vmSamples} VM series, ${m.samples} in all) p50 / p99`, `${fmt(m.p50Ms)} / ${fmt(m.p99Ms)} ms`, '', '', m.command);
    add('GET /metrics server CPU per scrape (net of collector)', fmt(m.serverCpuMsPerScrape, ' ms'), '', '', m.command);
    add('GET /metrics bytes (gzip / plain)', `${fmt(m.gzipBytes, ' B')} / ${fmt(m.plainBytes, ' B')}`, '', '', m.command);
    if (m.exporter?.p99Ms !== undefined) {
      const e = m.exporter;
      add(`prometheus-libvirt-exporter, same fleet (${e.vmSamples} VM series) p50 / p99`, `${e.p50Ms} / ${e.p99Ms} ms`, '', '', m.command);
      add('prometheus-libvirt-exporter CPU per scrape; bytes (gzip)', `${e.cpuMsPerScrape} ms; ${e.gzipBytes} B`, '', '', m.command);
      if (m.serverPgVsExporter !== undefined) {
        const per = (ms: number) => round((ms * 1000) / c0.vms, 1);
        add('server + PostgreSQL CPU per domain per tick vs exporter per scrape (one run)', `${per(m.serverPgCpuMsPerTick)} vs ${per(e.cpuMsPerScrape)} µs: ${m.serverPgVsExporter}×`, '≤ 0.15×', m.serverPgVsExporter <= 0.15 ? 'met' : 'NOT met', m.command);
      }
    }
  }
  if (r.subscriptions) add('bytes/client/min: vmMetrics subscription (socket)', fmt(r.subscriptions.vmBytesPerClientPerMin, ' B'), '', '', r.subscriptions.command);
  if (r.polling) {
    const p = r.polling;
    add('bytes/client/min: polling vm-stats every 5 s (response)', `${p.responseBytesPerMin} B (+${p.requestBytesPerMin} B sent)`, '', '', p.command);
    add(`bytes/client/min: polling vm-stats, gzip accepted${p.gzipApplied ? '' : ' (not applied: < 1 KiB)'}`, `${p.responseBytesPerMinGzip} B`, '', '', p.command);
  }
  if (r.subscriptions) add('bytes/client/min: fleetMetrics subscription', fmt(r.subscriptions.fleetBytesPerClientPerMin, ' B'), '', '', r.subscriptions.command);
  if (r.eventLoop) {
    add('server event loop, longest delay (all windows)', `${r.eventLoop.maxMs} ms`, '< 20 ms', verdict(r.eventLoop.maxMs, 20), CMD);
    if (r.collector || r.subscriptions || r.rest) {
      add('  … collector only / with subscribers / REST load', `${fmt(r.collector?.eventLoopMaxMs)} / ${fmt(r.subscriptions?.eventLoopMaxMs)} / ${fmt(r.rest?.eventLoopMaxMs)} ms`, '< 20 ms', '', CMD);
      add('  … idle Node process, same windows (noise floor)', `${fmt(r.collector?.idleEventLoopMaxMs)} / ${fmt(r.subscriptions?.idleEventLoopMaxMs)} / ${fmt(r.rest?.idleEventLoopMaxMs)} ms`, '', '', CMD);
    }
    add('server RSS, max', `${r.eventLoop.rssMaxMiB} MiB`, '', '', CMD);
  }
  if (r.guests) {
    const g = r.guests;
    add(`TCG guests booted (${g.boots.length ? g.boots[0].memoryMiB : '?'} MiB each)`, `${g.guestsBooted} — ${g.stopReason}`, '', '', g.command);
    if (g.domainsSampledPerTick !== undefined) {
      add('TCG: collector CPU ms per domain per tick', `${g.collectorCpuMsPerDomainPerTick} ms (${g.domainsSampledPerTick} domains)`, '', '', g.command);
      if (g.marginalCpuMsPerDomain !== undefined) add(`TCG: collector CPU ms/tick with 1 guest; marginal per extra domain`, `${g.oneGuestTickCpuMs.median} ms; ${g.marginalCpuMsPerDomain} ms`, '', '', g.command);
      add('TCG: libvirt bulk stats wall / CPU ms per domain', `${g.bareBulkStatsWallMsPerDomain} / ${g.bareBulkStatsCpuMsPerDomain} ms`, '', '', g.command);
      add('TCG: libvirtd CPU ms per domain per tick (daemon, USER_HZ)', `${g.libvirtdCpuMsPerDomainPerServerTick} ms`, '', '', g.command);
      add('TCG: our CPU per domain per tick beyond libvirt (avg incl. fixed per-tick cost)', `${g.beyondLibvirtUsPerDomain} µs`, '< 100 µs', verdict(g.beyondLibvirtUsPerDomain, 100), g.command);
      if (g.exporter?.cpuMsPerScrape !== undefined) add(`TCG: server + PostgreSQL CPU per tick vs exporter per scrape (${g.domainsSampledPerTick} domains)`, `${g.serverPgCpuMsPerTick} vs ${g.exporter.cpuMsPerScrape} ms`, '', '', g.command);
      // The whole process' fixed cost (Node, PostgreSQL, timers), not what a further host adds: that is `per-host --real`.
      if (g.serverPgFixedMsPerHost !== undefined) add('TCG: server + PostgreSQL CPU per tick, 1 guest less 1 marginal domain (the process; per extra host: per-host --real)', `${g.serverPgFixedMsPerHost} ms`, '', '', g.command);
      if (g.marginalCpuMsPerDomain !== undefined) {
        const marginalBeyond = round((g.marginalCpuMsPerDomain - g.bareBulkStatsCpuMsPerDomain) * 1000, 0);
        add('TCG: … marginal per extra domain beyond libvirt', `${marginalBeyond} µs`, '< 100 µs', verdict(marginalBeyond, 100), g.command);
      }
    }
  }
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length), ['figure', 'value (median, min–max of runs)', 'target', 'met?'][i]!.length));
  const line = (cells: string[]) => cells.slice(0, 4).map((c, i) => c.padEnd(widths[i]!)).join(' │ ');
  const out = [
    '',
    `vmpulse bench — ${r.date} — ${r.machine.cores} cores, ${r.machine.cpuModel}, Node ${r.machine.node}, load at start ${r.machine.loadavgAtStart.join(' ')}`,
    `fleet: ${c0.vms} test-driver VMs${c0.hosts > 1 ? ` on ${c0.hosts} hosts × ${c0.vmsPerHost}` : ''} (${r.fleet?.running ?? '?'} running), POLL_INTERVAL=${c0.pollIntervalS}s, ${c0.reps} run(s) per figure${c0.quick ? ' (QUICK smoke run)' : ''}${c0.serverNodeOptions ? `, server node flags ${c0.serverNodeOptions}` : ''}${c0.serverMain ? `, server ${c0.serverMain}` : ''}${c0.baselineMain ? `, A/B baseline ${c0.baselineMain}` : ''}; runtime ${r.runtimeS ?? '?'} s`,
    '',
    line(['figure', 'value (median, min–max of runs)', 'target', 'met?']),
    widths.map((w) => '─'.repeat(w)).join('─┼─'),
    ...rows.map((row) => line(row)),
    '',
    'commands: everything `pnpm bench` (add --quick for a smoke run); one phase: `pnpm --filter @vmpulse/bench start --only <bare|collector|subs|rest|bytes|metrics|guests>`',
    ...(r.notes?.length ? ['notes:', ...r.notes.map((n: string) => `  - ${n}`)] : []),
    '',
  ];
  return out.join('\n');
}

const printFile = opt('print');
if (printFile) {
  // Re-render the table of an earlier run: pnpm --filter @vmpulse/bench start --print results.json
  process.stdout.write(renderTable(JSON.parse(readFileSync(path.resolve(BENCH_DIR, printFile), 'utf8'))));
  process.exit(0);
}

main()
  .then(() => cleanup())
  .then(() => process.exit(0))
  .catch(async (err) => {
    log(`FAILED: ${err instanceof Error ? err.stack : String(err)}`);
    results.error = err instanceof Error ? err.message : String(err);
    try {
      writeFileSync(outFile.replace(/\.json$/, '.failed.json'), `${JSON.stringify(results, null, 2)}\n`);
    } catch {
      /* best effort */
    }
    await cleanup();
    process.exit(1);
  });
