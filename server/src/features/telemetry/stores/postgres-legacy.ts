// The row-per-sample history (VmSample, VmSampleMinute, VmSampleHour), which migration
// 20261201000000_history_blocks renamed *Legacy, converted into blocks at the first start after
// the upgrade: raw rows into raw blocks (their stored rates and percentages are checked against
// the counters like any sample, so they come back as they were), minute and hour rows into the
// rollup tiers. Oldest first, a window at a time; a window's new rows and the deletion of its
// old ones commit together, so an interrupted conversion resumes where it stopped. Empty old
// tables are dropped. One replica converts (advisory lock); the others wait for it before rolling up.
import type { Pool, PoolClient } from 'pg';
import { COUNTER_METRICS, METRIC_NAMES, type MetricName } from '../../../domain/metrics.js';
import type { MetricSnapshot } from '../../../domain/snapshot.js';
import type { Logger } from '../../../lib/logger.js';
import { yieldToEventLoop } from '../../../lib/yield.js';
import { OpenBlock, type Sample } from './postgres-block.js';
import { HOUR_TABLE, MINUTE_TABLE, RAW_TABLE, ROLLUP_LAST, ROLLUP_STATS } from './postgres-columns.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, floorTo } from '../../../lib/time.js';
import { encodeEntries, mergeEntries, type Entry } from './postgres-entries.js';
import { buildBlockInsert, type BlockRow } from './postgres-write.js';

const LEGACY_RAW = '"VmSampleLegacy"';
const LEGACY_MINUTE = '"VmSampleMinuteLegacy"';
const LEGACY_HOUR = '"VmSampleHourLegacy"';
const LOCK_KEY = 7_358_013;
const WAIT_MS = 5_000;

export interface ConversionResult {
  raw: number;
  minute: number;
  hour: number;
  ms: number;
}

type Row = Record<string, unknown> & { vmId: number; ts: Date };

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function snapshotOf(r: Row): MetricSnapshot {
  const metrics: Partial<Record<MetricName, bigint>> = {};
  for (const m of METRIC_NAMES) if (r[m] !== null) metrics[m] = BigInt(r[m] as string);
  const rates: Partial<Record<MetricName, number>> = {};
  for (const m of COUNTER_METRICS) if (r[`${m}_rate`] !== null) rates[m] = Number(r[`${m}_rate`]);
  return {
    vmId: r.vmId, hostId: 0, hostName: '', vmName: '', uuid: '', ts: r.ts.getTime(),
    state: String(r.state), cpus: Number(r.cpus), stale: r.stale === true, ageMs: 0,
    // The old rows never kept the VM's maximum memory: a memory % that came from it is kept explicitly.
    memoryMax: 0n, metrics, nics: [], disks: [], rates, angles: {},
    cpuPct: { total: num(r.cpu_pct), user: num(r.cpu_user_pct), system: num(r.cpu_system_pct) },
    memPct: num(r.mem_pct),
  };
}

/** A rollup row of the old layout as an entry (already weighed by its samples, as stored buckets are). */
function entryOf(r: Row): Entry {
  const n = Number(r.samples);
  return {
    ts: r.ts.getTime(),
    n,
    stats: ROLLUP_STATS.map((f) => (r[`${f}_avg`] === null ? null : { sum: Number(r[`${f}_avg`]) * n, w: n, min: Number(r[`${f}_min`]), max: Number(r[`${f}_max`]) })),
    last: ROLLUP_LAST.map((m) => (r[`${m}_last`] === null ? null : BigInt(r[`${m}_last`] as string))),
  };
}

async function inTransaction(c: PoolClient, work: () => Promise<void>) {
  await c.query('BEGIN');
  try {
    await work();
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

/** Walks a table's [min, max] in windows; `convert` gets each window's rows ordered by VM and time. */
async function eachWindow(c: PoolClient, table: string, columns: string, window: number, stopped: () => boolean, convert: (rows: Row[], start: number) => Promise<void>) {
  const { rows } = await c.query<{ lo: Date | null; hi: Date | null }>(`SELECT min("ts") AS lo, max("ts") AS hi FROM ${table}`);
  if (!rows[0]?.lo || !rows[0].hi) return 0;
  let count = 0;
  for (let start = floorTo(rows[0].lo.getTime(), window); start <= rows[0].hi.getTime() && !stopped(); start += window) {
    const range = [new Date(start), new Date(start + window)];
    await inTransaction(c, async () => {
      const batch = await c.query<Row>(`SELECT ${columns} FROM ${table} WHERE "ts" >= $1 AND "ts" < $2 ORDER BY "vmId", "ts"`, range);
      if (!batch.rows.length) return;
      await convert(batch.rows, start);
      await c.query(`DELETE FROM ${table} WHERE "ts" >= $1 AND "ts" < $2`, range);
      count += batch.rows.length;
    });
    await yieldToEventLoop();
  }
  return count;
}

/** Rollup rows of one span (hour or day) of all VMs into one tier row per VM. */
function tierRows(rows: Row[], start: number): BlockRow[] {
  const perVm = new Map<number, Entry[]>();
  for (const r of rows) perVm.set(r.vmId, [...(perVm.get(r.vmId) ?? []), entryOf(r)]);
  return [...perVm].map(([vmId, entries]) => ({
    vmId, ts: start, samples: entries.reduce((n, e) => n + e.n, 0), data: encodeEntries(entries), summary: encodeEntries([mergeEntries(start, entries)]),
  }));
}

const rollupColumns = () =>
  ['"vmId"', '"ts"', '"samples"', ...ROLLUP_STATS.flatMap((f) => [`"${f}_avg"`, `"${f}_min"`, `"${f}_max"`]), ...ROLLUP_LAST.map((m) => `"${m}_last"`)].join(', ');

export async function convertLegacyHistory(pool: Pool, log: Logger, stopped: () => boolean): Promise<ConversionResult | null> {
  const exists = async () => !!(await pool.query<{ t: string | null }>(`SELECT to_regclass('${LEGACY_RAW}') AS t`)).rows[0]?.t;
  if (!(await exists())) return null;
  const c = await pool.connect();
  try {
    if (!(await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LOCK_KEY])).rows[0]?.ok) {
      log.info('metric store: another replica is converting the old history tables; waiting for it');
      while (!stopped() && (await exists())) await new Promise((r) => setTimeout(r, WAIT_MS));
      return null;
    }
    try {
      if (!(await exists())) return null; // converted by another replica meanwhile
      const t0 = performance.now();
      log.info('metric store: converting the old history tables into blocks');
      const lastSample = new Map<number, Sample>();
      const raw = await eachWindow(c, LEGACY_RAW, '*', MINUTE_MS, stopped, async (rows) => {
        const blocks = new Map<number, OpenBlock>();
        for (const r of rows) {
          const s = snapshotOf(r);
          const b = blocks.get(s.vmId) ?? blocks.set(s.vmId, new OpenBlock(s.vmId, s.ts, lastSample.get(s.vmId))).get(s.vmId)!;
          b.append(s);
        }
        const out: BlockRow[] = [];
        for (const b of blocks.values()) {
          lastSample.set(b.vmId, b.last!);
          out.push({ vmId: b.vmId, ts: b.firstTs, samples: b.samples, data: b.encode(), summary: encodeEntries([b.summarise()]) });
        }
        await c.query(buildBlockInsert(RAW_TABLE, out, 'keep'));
      });
      const minute = await eachWindow(c, LEGACY_MINUTE, rollupColumns(), HOUR_MS, stopped, (rows, start) =>
        c.query(buildBlockInsert(MINUTE_TABLE, tierRows(rows, start), 'replace')).then(() => {}),
      );
      const hour = await eachWindow(c, LEGACY_HOUR, rollupColumns(), DAY_MS, stopped, (rows, start) =>
        c.query(buildBlockInsert(HOUR_TABLE, tierRows(rows, start), 'replace')).then(() => {}),
      );
      if (stopped()) return null;
      await c.query(`DROP TABLE ${LEGACY_RAW}, ${LEGACY_MINUTE}, ${LEGACY_HOUR}`);
      const result = { raw, minute, hour, ms: performance.now() - t0 };
      log.info(result, 'metric store: old history tables converted and dropped');
      return result;
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
    }
  } finally {
    c.release();
  }
}
