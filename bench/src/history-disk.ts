// The history-disk figure (issue 13): bytes on disk per VM-sample of the PostgreSQL store, the
// disk a 1,000-VM fleet needs at the default retention, and history query latency.
// `pnpm --filter @vmpulse/bench history-disk` (options below); writes bench/history-disk.txt.
//
// 1. raw: VMS simulated VMs (history-fleet.ts) write MINUTES simulated minutes tick by tick
//    through the store, on an embedded PostgreSQL of their own; then VACUUM ANALYZE and
//    pg_total_relation_size (heap + indexes + TOAST) of the three history tables, divided by the
//    samples. Repeated REPS times on emptied tables.
// 2. rollup tiers: TIER_VMS VMs write 25 simulated hours ending now, the store rolls them up
//    (minute tier per hour, hour tier per closed day), then those rows are copied under other VM
//    ids up to VMS VMs, and back in time (7 days of minute rows, 30 days of hour rows), so each
//    table has the size and row count it has at VMS VMs; size ÷ entries = bytes per VM-minute and
//    per VM-hour.
// 3. projection: VMS × (raw bytes/VM-sample × 86,400 × raw days + minute bytes × 1,440 × minute
//    days + hour bytes × 24 × hour days), at 1 Hz and the default retention.
// 4. queries: on the database of step 2 (plus one run of step 1 under other ids), history of one
//    of the VMs with 25 h of raw samples, for each of the dashboard's ranges with its default step
//    (~300 points) and fields, QUERIES times per range after a warm-up, REPS times; p50 / p99 / max.
//
// Options: --vms N (1000) --minutes N (10) --reps N (3) --tier-vms N (10) --queries N (100) --worst --seed N
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DEFAULT_HISTORY_FIELDS, HISTORY_RANGES } from '../../server/src/domain/history.js';
import { openDatabase, type Database } from '../../server/src/lib/db.js';
import { createLogger } from '../../server/src/lib/logger.js';
import { createPostgresStore, DEFAULT_RETENTION, type PostgresMetricStore } from '../../server/src/features/telemetry/stores/postgres.js';
import { decodeEntries, encodeEntries } from '../../server/src/features/telemetry/stores/postgres-entries.js';
import { buildBlockInsert } from '../../server/src/features/telemetry/stores/postgres-write.js';
import { simulateFleet } from './history-fleet.js';
import { BENCH_DIR, REPO_ROOT, machine, median, pct, round, spread, type Spread } from './util.js';

// the server's own `pg`, for the SQL the bench runs beside the store (VACUUM, sizes, copies)
interface Pool {
  query<R = Record<string, unknown>>(q: string | { text: string; values?: unknown[] }, values?: unknown[]): Promise<{ rows: R[] }>;
  end(): Promise<void>;
}
const pg = createRequire(path.join(REPO_ROOT, 'server', 'package.json'))('pg') as { Pool: new (o: { connectionString: string; max: number }) => Pool };
type Db = Database & { sql: Pool };

const argv = process.argv.slice(2).filter((a) => a !== '--');
const opt = (name: string, def: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const cfg = {
  vms: opt('vms', 1000),
  minutes: opt('minutes', 10),
  reps: opt('reps', 3),
  tierVms: opt('tier-vms', 10),
  queries: opt('queries', 100),
  seed: opt('seed', 1),
  worst: argv.includes('--worst'),
};
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const floorTo = (t: number, unit: number) => Math.floor(t / unit) * unit;
const log = (s: string) => process.stderr.write(`[history-disk ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const quiet = createLogger('silent');
const sql = (db: Db, text: string) => db.sql.query(text);
const TABLES = ['"VmSampleBlock"', '"VmMinuteBlock"', '"VmHourBlock"'];

async function sizes(db: Db) {
  await sql(db, `VACUUM ANALYZE ${TABLES.join(', ')}`);
  const { rows } = await db.sql.query<{ raw: string; minute: string; hour: string }>(
    `SELECT pg_total_relation_size('"VmSampleBlock"') AS raw, pg_total_relation_size('"VmMinuteBlock"') AS minute, pg_total_relation_size('"VmHourBlock"') AS hour`,
  );
  return { raw: Number(rows[0]!.raw), minute: Number(rows[0]!.minute), hour: Number(rows[0]!.hour) };
}

/**
 * Writes `ticks` ticks of a simulated fleet, tick by tick, as the collector does. Times, CPU and
 * event-loop delay are taken around store.write() only, not around the simulation.
 */
async function writeFleet(store: PostgresMetricStore, vms: number, startMs: number, ticks: number, idOffset: number, seed: number) {
  const sim = simulateFleet({ vms, startMs, seed, worst: cfg.worst });
  const times: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 2 });
  let cpuUs = 0;
  for (let k = 0; k < ticks; k++) {
    const tick = sim.tick();
    if (idOffset) for (const s of tick) s.vmId += idOffset;
    await new Promise((r) => setImmediate(r));
    loop.enable();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await store.write(tick);
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    loop.disable();
    cpuUs += c.user + c.system;
  }
  await store.flush();
  return { times, cpuUs, eventLoopMaxMs: loop.count ? loop.max / 1e6 : 0 };
}

// ---- 1. raw bytes per VM-sample ---------------------------------------------------------------
async function rawFigure(db: Db, rep: number) {
  await sql(db, `TRUNCATE ${TABLES.join(', ')}`);
  const store = createPostgresStore({ db, log: quiet, rollupEveryMs: 0 });
  const ticks = cfg.minutes * 60;
  const start = floorTo(Date.now(), MIN) - (cfg.minutes + 1) * MIN;
  const { times, cpuUs, eventLoopMaxMs } = await writeFleet(store, cfg.vms, start, ticks, 0, cfg.seed + rep);
  const status = store.status();
  await store.close();
  const s = await sizes(db);
  const samples = status.written;
  const closes = times.filter((_, k) => k % 60 === 0 && k > 0);
  const filling = times.filter((_, k) => k % 60 !== 0);
  log(`rep ${rep + 1}: ${samples} samples, raw table ${(s.raw / 2 ** 20).toFixed(1)} MiB, tiers ${((s.minute + s.hour) / 1024).toFixed(0)} kB, ${((s.raw + s.minute + s.hour) / samples).toFixed(2)} B/VM-sample`);
  return {
    samples,
    rawBytes: s.raw,
    bytesPerSample: (s.raw + s.minute + s.hour) / samples,
    tickMs: median(filling),
    tickP95Ms: pct(filling, 95),
    minuteCloseMs: median(closes),
    cpuUsPerSample: cpuUs / samples,
    eventLoopMaxMs,
  };
}

// ---- 2. rollup tiers --------------------------------------------------------------------------
async function tierFigures(db: Db, now: number) {
  await sql(db, `TRUNCATE ${TABLES.join(', ')}`);
  const store = createPostgresStore({ db, log: quiet, rollupEveryMs: 0 });
  const start = now - 25 * HOUR;
  log(`tiers: ${cfg.tierVms} VMs × 25 simulated hours…`);
  await writeFleet(store, cfg.tierVms, start, 25 * 3600, 0, cfg.seed + 100);
  const r = await store.rollup(new Date(now));
  log(`tiers: rolled ${r.minuteRows} VM-minutes, ${r.hourRows} VM-hours in ${(r.ms / 1000).toFixed(1)} s`);
  // Copies under other ids up to VMS VMs, and back in time: sizes as at VMS VMs and full ranges.
  const copies = Math.ceil(cfg.vms / cfg.tierVms);
  const cols = '"vmId", ts, samples, data, summary';
  await sql(db, `INSERT INTO "VmMinuteBlock" (${cols}) SELECT "vmId" + k * 100000, ts, samples, data, summary FROM "VmMinuteBlock", generate_series(1, ${copies - 1}) k`);
  await sql(db, `INSERT INTO "VmHourBlock" (${cols}) SELECT "vmId" + k * 100000, ts, samples, data, summary FROM "VmHourBlock", generate_series(1, ${copies - 1}) k`);
  const one = await sizes(db);
  const minuteEntries = copies * r.minuteRows;
  const hourEntries = copies * r.hourRows;
  log(`tiers: copied to ${copies * cfg.tierVms} VMs: minute tier ${(one.minute / 2 ** 20).toFixed(1)} MiB, hour tier ${(one.hour / 2 ** 20).toFixed(1)} MiB`);
  // The queried VMs get a week of minutes and a month of hours: their last day again, earlier
  // (entries carry their own times: decoded, shifted, encoded again).
  const shifted = async (table: string, days: number) => {
    const { rows } = await db.sql.query<{ vmId: number; ts: Date; samples: number; data: Buffer; summary: Buffer }>(
      `SELECT "vmId", ts, samples, data, summary FROM ${table} WHERE "vmId" <= $1`,
      [cfg.tierVms],
    );
    for (let d = 1; d < days; d++) {
      const out = rows.map((r: { vmId: number; ts: Date; samples: number; data: Buffer; summary: Buffer }) => ({
        vmId: r.vmId, ts: r.ts.getTime() - d * DAY, samples: r.samples, summary: r.summary,
        data: encodeEntries(decodeEntries(r.data).map((e) => ({ ...e, ts: e.ts - d * DAY }))),
      }));
      await db.sql.query(buildBlockInsert(table, out, 'keep'));
    }
  };
  await shifted('"VmMinuteBlock"', 7);
  await shifted('"VmHourBlock"', 31);
  await store.close();
  return { minuteBytesPerEntry: one.minute / minuteEntries, hourBytesPerEntry: one.hour / hourEntries, minuteEntries, hourEntries, rollupMs: r.ms };
}

// ---- 4. queries -------------------------------------------------------------------------------
async function queryFigures(db: Db, now: number) {
  const store = createPostgresStore({ db, log: quiet, rollupEveryMs: 0 });
  // and the raw load of VMS VMs beside them, under other ids
  await writeFleet(store, cfg.vms, floorTo(now, MIN) - cfg.minutes * MIN - MIN, cfg.minutes * 60, 10_000_000, cfg.seed + 7);
  await store.rollup(new Date(now));
  await sizes(db);
  const out: Record<string, Spread[]> = {};
  for (const [range, seconds] of Object.entries(HISTORY_RANGES)) {
    const stepSec = Math.max(1, Math.ceil(seconds / 300)); // the service's default: ~300 points
    const q = (vmId: number) =>
      store.history({ vmId, from: new Date(now - seconds * 1000), to: new Date(now), stepSec, fields: [...DEFAULT_HISTORY_FIELDS] }, now);
    for (let i = 0; i < 10; i++) await q(1 + (i % cfg.tierVms)); // warm-up
    const p50: number[] = [];
    const p99: number[] = [];
    const max: number[] = [];
    let points = 0;
    for (let rep = 0; rep < cfg.reps; rep++) {
      const times: number[] = [];
      for (let i = 0; i < cfg.queries; i++) {
        const t0 = performance.now();
        points = (await q(1 + (i % cfg.tierVms))).length;
        times.push(performance.now() - t0);
      }
      p50.push(pct(times, 50));
      p99.push(pct(times, 99));
      max.push(Math.max(...times));
    }
    out[range] = [spread(p50), spread(p99), spread(max)];
    log(`query ${range} (step ${stepSec} s, ${points} points): p50 ${out[range]![0]!.value} ms, p99 ${out[range]![1]!.value} ms (${out[range]![1]!.min}–${out[range]![1]!.max})`);
  }
  await store.close();
  return out;
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-history-disk-'));
  const opened = await openDatabase({ dataDir: dir, log: quiet });
  const db: Db = Object.assign(opened, { sql: new pg.Pool({ connectionString: opened.url, max: 2 }) });
  const m = machine();
  try {
    log(`${cfg.vms} VMs × ${cfg.minutes} simulated minutes × ${cfg.reps} reps${cfg.worst ? ' (worst case: every VM busy, twice the noise)' : ''}`);
    const raw = [];
    for (let rep = 0; rep < cfg.reps; rep++) raw.push(await rawFigure(db, rep));
    const now = Date.now();
    const tiers = await tierFigures(db, now);
    const queries = await queryFigures(db, now);

    const bps = spread(raw.map((r) => r.bytesPerSample));
    const ret = DEFAULT_RETENTION;
    const perVm = (b: number) => b * 86_400 * (ret.rawHours / 24) + tiers.minuteBytesPerEntry * 1440 * ret.minuteDays + tiers.hourBytesPerEntry * 24 * ret.hourDays;
    const fleetGB = (b: number) => (perVm(b) * cfg.vms) / 1e9;
    const amortised = (b: number) => perVm(b) / (86_400 * (ret.rawHours / 24));
    const lines = [
      `vmpulse history-disk — ${new Date().toISOString()} — ${m.cores} cores, ${m.cpuModel}, Node ${m.node}, load at start ${m.loadavgAtStart.join(' ')}`,
      `command: pnpm --filter @vmpulse/bench history-disk${argv.length ? ` ${argv.join(' ')}` : ''}`,
      `data: simulated fleet (bench/src/history-fleet.ts)${cfg.worst ? ', worst case: every VM busy, twice the noise' : ': 15 % busy, 45 % active, 40 % idle VMs'}, 1 tick/s`,
      '',
      `${cfg.vms} VMs × ${cfg.minutes} simulated min (${raw[0]!.samples} VM-samples), ${cfg.reps} runs: median (min–max)`,
      `  bytes on disk per VM-sample, all history tables          ${bps.value} (${bps.min}–${bps.max})   target ≤ 60`,
      `    (heap + indexes + TOAST after VACUUM; all of it in the raw table: no hour has closed, the tiers are empty)`,
      `  write(): a tick of ${cfg.vms} VMs into memory, median / p95     ${fmt(raw.map((r) => r.tickMs))} / ${fmt(raw.map((r) => r.tickP95Ms))} ms`,
      `  write() closing a minute (encode + one INSERT), median    ${fmt(raw.map((r) => r.minuteCloseMs))} ms`,
      `  CPU per VM-sample (write path, this process)             ${fmt(raw.map((r) => r.cpuUsPerSample))} µs`,
      `  event loop, longest delay while writing                  ${fmt(raw.map((r) => r.eventLoopMaxMs))} ms`,
      `rollup tiers (${cfg.tierVms} VMs × 25 simulated h, rows copied to ${cfg.vms} VMs)`,
      `  minute tier: bytes per VM-minute                         ${round(tiers.minuteBytesPerEntry, 1)}`,
      `  hour tier: bytes per VM-hour                             ${round(tiers.hourBytesPerEntry, 1)}`,
      `  rollup of 25 h × ${cfg.tierVms} VMs                               ${round(tiers.rollupMs / 1000, 1)} s`,
      `default retention (raw ${ret.rawHours} h, 1-minute ${ret.minuteDays} d, 1-hour ${ret.hourDays} d), 1 Hz`,
      `  disk per VM                                              ${round(perVm(bps.value) / 1e6, 2)} MB (${round(perVm(bps.min) / 1e6, 2)}–${round(perVm(bps.max) / 1e6, 2)})`,
      `  disk for ${cfg.vms} VMs                                         ${round(fleetGB(bps.value), 2)} GB (${round(fleetGB(bps.min), 2)}–${round(fleetGB(bps.max), 2)})   target ≤ 10 GB per 1,000`,
      `  steady state: that disk ÷ the raw samples it keeps       ${round(amortised(bps.value), 1)} B (the rollups' 7 and 400 days included)`,
      `history of one VM (${DEFAULT_HISTORY_FIELDS.length} dashboard fields, ~300 points), ${cfg.queries} queries × ${cfg.reps} runs: median of runs (min–max)`,
      ...Object.entries(queries).map(([range, [p50, p99, max]]) => `  ${range.padEnd(4)} p50 ${p50!.value} ms   p99 ${p99!.value} ms (${p99!.min}–${p99!.max})   max ${max!.value} ms   target p99 ≤ 50 ms`),
    ];
    const text = `${lines.join('\n')}\n`;
    process.stdout.write(text);
    if (cfg.vms === 1000 && cfg.minutes >= 10) writeFileSync(path.join(BENCH_DIR, cfg.worst ? 'history-disk.worst.txt' : 'history-disk.txt'), text);
  } finally {
    await db.sql.end();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function fmt(xs: number[]) {
  const s = spread(xs);
  return `${s.value} (${s.min}–${s.max})`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
