// History reads that stay within InfluxDB 3 Core's query file limit (--query-file-limit, 432 Parquet files;
// Core persists one file per table per gen1 window, 10 minutes by default, so ~72 h of one table).
//
// history(): the step picks the coarsest table allowed (raw below 60 s, 1-minute rollups below an hour,
// 1-hour rollups above), and the range is split where the rollups end: the buckets still open (the last
// minutes and hour) come from the finer tables, so nothing written is invisible. Each part is read in
// windows that scan at most ~288 files (48 h of raw rows or minute rows, 12 days of hour rows, which hold
// one row per hour). If Core still refuses a window (a shorter gen1 duration, a lower limit), the window is
// halved and read again, down to an hour; only then is the request refused, as a 503 naming the limit.
// Rows of every part are merged per bucket: sums and counts add up, so averages stay exact.
//
// latestValues(): newest raw values first, searched in widening windows back from now (1 h, 6 h, 24 h, then
// 48 h at a time) until `limit` values are found or `since` is reached, instead of scanning 7 days.
//
// Injection: nothing from the caller is pasted into SQL unchecked. Fields come from the history-field
// list (domain/history.ts) (and are double-quoted), vm_id must be a safe integer, step an integer, limit an integer in
// range, times are rendered by Date#toISOString.
import { badRequest, unavailable } from '../../../lib/errors.js';
import { isHistoryField, type HistoryField, type HistoryPoint } from '../../../domain/history.js';
import type { HistoryQuery } from './store.js';
import { WIDE_TABLE } from './influxdb3-lines.js';
import { FileLimitError, MissingColumnError, NotWrittenError, type Row, type SqlClient } from './influxdb3-query.js';
import { HOUR_MS, MINUTE_MS, floorTo } from '../../../lib/time.js';
import { HOUR_TABLE, MINUTE_TABLE, isLastField } from './influxdb3-rollup.js';

const MAX_LATEST_LIMIT = 10_000;
const MAX_BUCKETS = 100_000;
/** latestValues() has only a lower bound from its caller; samples stamped slightly ahead (host clocks) still count. */
const FUTURE_SLACK_MS = 5 * 60_000;
/** A closed bucket is in its rollup table this long after its end (close grace + the write buffer's delay). */
const ROLLUP_READ_GRACE_MS = 15_000;
const MIN_WINDOW_MS = HOUR_MS;
const LATEST_WINDOWS_MS = [HOUR_MS, 6 * HOUR_MS, 24 * HOUR_MS];

type TierName = 'raw' | 'minute' | 'hour';
const TABLES: Record<TierName, string> = { raw: WIDE_TABLE, minute: MINUTE_TABLE, hour: HOUR_TABLE };
/** Widest window per query: ~288 files at Core's default 10-minute gen1 duration. */
const DEFAULT_WINDOW_MS: Record<TierName, number> = { raw: 48 * HOUR_MS, minute: 48 * HOUR_MS, hour: 12 * 24 * HOUR_MS };

interface Segment { tier: TierName; from: number; to: number }

function checkField(field: string): HistoryField {
  if (!isHistoryField(field)) throw badRequest(`unknown history field: ${JSON.stringify(field).slice(0, 80)}`);
  return field;
}

function checkVmId(vmId: number): string {
  if (!Number.isSafeInteger(vmId) || vmId < 0) throw badRequest(`invalid vm id: ${String(vmId).slice(0, 40)}`);
  return String(vmId);
}

function checkTime(d: Date): number {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw badRequest('invalid time bound');
  return d.getTime();
}

const sqlTime = (ms: number) => `'${new Date(ms).toISOString()}'`;

/** Which table serves which part of [from, to), given what the rollups hold by `now`. */
function planSegments(from: number, to: number, stepSec: number, now: number): Segment[] {
  const clamp = (t: number) => Math.min(Math.max(t, from), to);
  const minuteCut = clamp(floorTo(now - ROLLUP_READ_GRACE_MS, MINUTE_MS));
  const hourCut = Math.min(clamp(floorTo(now - ROLLUP_READ_GRACE_MS, HOUR_MS)), minuteCut);
  let parts: Segment[];
  if (stepSec >= 3600) {
    parts = [{ tier: 'hour', from, to: hourCut }, { tier: 'minute', from: hourCut, to: minuteCut }, { tier: 'raw', from: minuteCut, to }];
  } else if (stepSec >= 60) {
    parts = [{ tier: 'minute', from, to: minuteCut }, { tier: 'raw', from: minuteCut, to }];
  } else parts = [{ tier: 'raw', from, to }];
  return parts.filter((p) => p.to > p.from);
}

/** Columns a field reads in a tier, each aliased "<field>__<what>". */
function fieldColumns(tier: TierName, f: HistoryField): { sql: string; columns: string[] } {
  if (tier === 'raw' || isLastField(f)) {
    const c = tier === 'raw' ? f : `${f}_last`;
    return { sql: `avg("${c}") AS "${f}__avg", count("${c}") AS "${f}__n", min("${c}") AS "${f}__min", max("${c}") AS "${f}__max"`, columns: [c] };
  }
  return {
    sql: `sum("${f}_sum") AS "${f}__sum", sum("${f}_count") AS "${f}__n", min("${f}_min") AS "${f}__min", max("${f}_max") AS "${f}__max"`,
    columns: [`${f}_sum`, `${f}_count`, `${f}_min`, `${f}_max`],
  };
}

function historySql(tier: TierName, vmId: string, fields: HistoryField[], from: number, to: number, stepSec: number): string {
  const aggregates = fields.map((f) => fieldColumns(tier, f).sql).join(', ');
  return `SELECT date_bin(INTERVAL '${stepSec} seconds', time) AS bucket, ${aggregates} FROM ${TABLES[tier]}`
    + ` WHERE vm_id = '${vmId}' AND time >= ${sqlTime(from)} AND time < ${sqlTime(to)}`
    + ' GROUP BY bucket ORDER BY bucket';
}

function latestSql(vmId: string, field: HistoryField, limit: number, from: number, to: number): string {
  return `SELECT time, "${field}" AS value FROM ${WIDE_TABLE}`
    + ` WHERE vm_id = '${vmId}' AND "${field}" IS NOT NULL AND time >= ${sqlTime(from)} AND time < ${sqlTime(to)}`
    + ` ORDER BY time DESC LIMIT ${limit}`;
}

/** Core renders timestamps without a zone ("2025-01-01T00:00:00.5"); they are UTC. */
function parseSqlTime(value: unknown): Date {
  if (typeof value === 'number') return new Date(value);
  const text = String(value);
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`);
}

interface Acc { sum: number; n: number; min: number; max: number }

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined);

export function createHistoryReader(sql: SqlClient, clock: () => number = Date.now) {
  const windowMs: Record<TierName, number> = { ...DEFAULT_WINDOW_MS };

  /**
   * One window of one tier; drops fields whose columns do not exist; halves windows Core refuses. False when
   * the table (or the database) was never written: the tier's other windows need not be asked.
   */
  async function readWindow(tier: TierName, vm: string, fields: HistoryField[], from: number, to: number, stepSec: number, into: Map<number, Map<HistoryField, Acc>>): Promise<boolean> {
    let left = fields;
    let rows: Row[] = [];
    while (left.length > 0) {
      try {
        rows = await sql.query(historySql(tier, vm, left, from, to, stepSec));
        break;
      } catch (err) {
        if (err instanceof NotWrittenError) return false;
        if (err instanceof MissingColumnError) {
          // A column exists only once some VM reported it (no cpu_user_pct from the test driver, no rollup
          // before the first minute closed): asking for it is "no data" for that field.
          const gone = left.filter((f) => fieldColumns(tier, f).columns.includes(err.column));
          if (gone.length === 0) throw err;
          left = left.filter((f) => !gone.includes(f));
          continue;
        }
        if (err instanceof FileLimitError) {
          if (to - from <= MIN_WINDOW_MS) {
            throw unavailable(`InfluxDB refuses to read even one hour of ${TABLES[tier]} (its query file limit, --query-file-limit / INFLUXDB3_QUERY_FILE_LIMIT): ${err.message}`);
          }
          windowMs[tier] = Math.max(MIN_WINDOW_MS, Math.min(windowMs[tier], to - from) / 2);
          const mid = from + Math.ceil((to - from) / 2);
          return (await readWindow(tier, vm, left, from, mid, stepSec, into)) && readWindow(tier, vm, left, mid, to, stepSec, into);
        }
        throw err;
      }
    }
    if (left.length === 0) return true;
    for (const row of rows) {
      const bucket = parseSqlTime(row.bucket).getTime();
      let values = into.get(bucket);
      if (!values) {
        values = new Map();
        into.set(bucket, values);
      }
      for (const f of left) {
        const n = num(row[`${f}__n`]) ?? 0;
        if (n === 0) continue;
        const sum = num(row[`${f}__sum`]) ?? (num(row[`${f}__avg`]) ?? 0) * n;
        const min = num(row[`${f}__min`])!;
        const max = num(row[`${f}__max`])!;
        const acc = values.get(f);
        if (!acc) values.set(f, { sum, n, min, max });
        else {
          acc.sum += sum;
          acc.n += n;
          acc.min = Math.min(acc.min, min);
          acc.max = Math.max(acc.max, max);
        }
      }
    }
    return true;
  }

  async function history(q: HistoryQuery): Promise<HistoryPoint[]> {
    const vm = checkVmId(q.vmId);
    if (!Number.isSafeInteger(q.stepSec) || q.stepSec < 1) throw badRequest('step must be a whole number of seconds >= 1');
    if (q.fields.length === 0) throw badRequest('no fields requested');
    const fields = [...new Set(q.fields.map(checkField))];
    const from = checkTime(q.from);
    const to = checkTime(q.to);
    if (!(from < to)) throw badRequest('from must be before to');
    if ((to - from) / 1000 / q.stepSec > MAX_BUCKETS) throw badRequest(`more than ${MAX_BUCKETS} buckets: use a larger step`);

    const buckets = new Map<number, Map<HistoryField, Acc>>();
    for (const seg of planSegments(from, to, q.stepSec, clock())) {
      for (let start = seg.from; start < seg.to; ) {
        const end = Math.min(seg.to, start + windowMs[seg.tier]);
        if (!(await readWindow(seg.tier, vm, fields, start, end, q.stepSec, buckets))) break;
        start = end;
      }
    }
    return [...buckets.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([ts, values]) => {
        const point: HistoryPoint = { ts: new Date(ts), values: {} };
        for (const [f, a] of values) point.values[f] = { avg: a.sum / a.n, min: a.min, max: a.max };
        return point;
      });
  }

  async function latestValues(vmId: number, field: HistoryField, limit: number, since: Date) {
    const vm = checkVmId(vmId);
    const f = checkField(field);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LATEST_LIMIT) throw badRequest(`limit must be 1..${MAX_LATEST_LIMIT}`);
    const floor = checkTime(since);
    const out: { ts: Date; value: number }[] = [];
    let to = clock() + FUTURE_SLACK_MS;
    for (let i = 0; out.length < limit && to > floor; i++) {
      const from = Math.max(floor, to - (LATEST_WINDOWS_MS[i] ?? windowMs.raw));
      let rows: Row[];
      try {
        rows = await sql.query(latestSql(vm, f, limit - out.length, from, to));
      } catch (err) {
        if (err instanceof NotWrittenError || (err instanceof MissingColumnError && err.column === f)) return out;
        if (err instanceof FileLimitError) throw unavailable(`InfluxDB refused to read ${WIDE_TABLE} for that window (its query file limit): ${err.message}`);
        throw err;
      }
      for (const row of rows) {
        const value = num(row.value);
        if (value !== undefined) out.push({ ts: parseSqlTime(row.time), value });
      }
      to = from;
    }
    return out;
  }

  return { history, latestValues };
}
