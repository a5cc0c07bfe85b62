// Rollups (raw → 1 minute → 1 hour) and retention. Incremental: each table has a mark, the
// first bucket not yet rolled up; a rollup aggregates [mark, last closed bucket) and moves the
// mark. Re-running a window is harmless (INSERT … ON CONFLICT DO UPDATE recomputes the same
// rows), which is also how late rows (written after an outage) get folded in: writing them moves
// the marks back. History reads rollups below the marks and raw rows above them, so nothing
// written is ever invisible between a write and the next rollup.
import type { Pool } from 'pg';
import { HOUR_TABLE, LAST_FIELDS, MINUTE_TABLE, RAW_TABLE, STAT_FIELDS, q } from './postgres-columns.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** A minute counts as closed this long after its end: the tick stamped 59.9 s may still be in flight. */
export const CLOSE_GRACE_MS = 5_000;

export interface Retention {
  rawHours: number;
  minuteDays: number;
  hourDays: number;
}
export const DEFAULT_RETENTION: Retention = { rawHours: 24, minuteDays: 7, hourDays: 400 };

/** ms since the epoch; everything before `minute` is in the minute table, before `hour` in the hour table. */
export interface Marks {
  minute: number;
  hour: number;
}

export interface RollupResult {
  minuteRows: number;
  hourRows: number;
  ms: number;
}
export interface RetentionResult {
  raw: number;
  minute: number;
  hour: number;
  ms: number;
}

export const floorTo = (t: number, unit: number) => Math.floor(t / unit) * unit;

const statCols = STAT_FIELDS.flatMap((f) => [`${f}_avg`, `${f}_min`, `${f}_max`]);
const lastCols = LAST_FIELDS.map((f) => `${f}_last`);
const rollupCols = ['vmId', 'ts', 'samples', ...statCols, ...lastCols];
const upsert = (table: string, select: string) =>
  `INSERT INTO ${table} (${rollupCols.map(q).join(', ')})\n${select}\n` +
  `ON CONFLICT ("vmId", "ts") DO UPDATE SET ${rollupCols.slice(2).map((c) => `${q(c)} = EXCLUDED.${q(c)}`).join(', ')}`;
// The counter's value at the end of the bucket; max() would be wrong across a VM restart.
const lastOf = (col: string) => `(array_agg(${q(col)} ORDER BY "ts" DESC) FILTER (WHERE ${q(col)} IS NOT NULL))[1]`;

// date_trunc with an explicit zone: buckets must not depend on the session's TimeZone.
const MINUTE_SQL = upsert(
  MINUTE_TABLE,
  `SELECT "vmId", date_trunc('minute', "ts", 'UTC'), count(*)::int4,\n  ` +
    STAT_FIELDS.map((f) => `avg(${q(f)}::float8), min(${q(f)}::float8), max(${q(f)}::float8)`).join(',\n  ') +
    ',\n  ' +
    LAST_FIELDS.map(lastOf).join(',\n  ') +
    `\nFROM ${RAW_TABLE} WHERE "ts" >= $1 AND "ts" < $2 GROUP BY 1, 2`,
);

// Minute averages are weighted by their sample counts so an hour's average is the samples' average.
const HOUR_SQL = upsert(
  HOUR_TABLE,
  `SELECT "vmId", date_trunc('hour', "ts", 'UTC'), sum("samples")::int4,\n  ` +
    STAT_FIELDS.map((f) => {
      const [a, lo, hi] = [q(`${f}_avg`), q(`${f}_min`), q(`${f}_max`)];
      return `sum(${a} * "samples") / nullif(sum("samples") FILTER (WHERE ${a} IS NOT NULL), 0), min(${lo}), max(${hi})`;
    }).join(',\n  ') +
    ',\n  ' +
    lastCols.map(lastOf).join(',\n  ') +
    `\nFROM ${MINUTE_TABLE} WHERE "ts" >= $1 AND "ts" < $2 GROUP BY 1, 2`,
);

/** Marks from what is already rolled up; with empty tables, from where retention would start. */
export async function loadMarks(pool: Pool, now: number, retention: Retention): Promise<Marks> {
  const { rows } = await pool.query<{ m: Date | null; h: Date | null }>(
    `SELECT (SELECT max("ts") FROM ${MINUTE_TABLE}) AS m, (SELECT max("ts") FROM ${HOUR_TABLE}) AS h`,
  );
  const minute = rows[0]?.m ? rows[0].m.getTime() + MINUTE_MS : floorTo(now - retention.rawHours * HOUR_MS, MINUTE_MS);
  const hour = rows[0]?.h ? rows[0].h.getTime() + HOUR_MS : floorTo(now - retention.minuteDays * DAY_MS, HOUR_MS);
  return { minute, hour: Math.min(hour, floorTo(minute, HOUR_MS)) };
}

/**
 * The incremental roller. `noteWritten` must see the earliest ts of every successful write, so
 * that rows landing below a mark (late or buffered) send that mark back.
 */
export function createRoller(pool: Pool) {
  let marks: Marks | null = null;
  // Set while a rollup runs: a late row inside the window being rolled may miss its snapshot.
  let rolling: { minuteEnd: number; lateFrom: number } | null = null;

  return {
    get marks() {
      return marks;
    },
    setMarks(m: Marks) {
      marks = m;
    },
    noteWritten(earliestMs: number) {
      if (!marks || !Number.isFinite(earliestMs)) return;
      const limit = rolling ? Math.max(rolling.minuteEnd, marks.minute) : marks.minute;
      if (earliestMs >= limit) return;
      const m = floorTo(earliestMs, MINUTE_MS);
      if (rolling) rolling.lateFrom = Math.min(rolling.lateFrom, m);
      marks = { minute: Math.min(marks.minute, m), hour: Math.min(marks.hour, floorTo(m, HOUR_MS)) };
    },
    async rollup(now: number): Promise<RollupResult> {
      if (!marks) throw new Error('rollup marks not loaded');
      const t0 = performance.now();
      const minuteEnd = floorTo(now - CLOSE_GRACE_MS, MINUTE_MS);
      rolling = { minuteEnd, lateFrom: Infinity };
      let minuteRows = 0;
      let hourRows = 0;
      try {
        const minuteStart = marks.minute;
        if (minuteEnd > minuteStart) {
          minuteRows = (await pool.query(MINUTE_SQL, [new Date(minuteStart), new Date(minuteEnd)])).rowCount ?? 0;
        }
        const rolledTo = Math.max(minuteEnd, minuteStart);
        const hourEnd = floorTo(Math.min(rolledTo, rolling.lateFrom), HOUR_MS);
        const hourStart = Math.min(marks.hour, hourEnd);
        if (hourEnd > hourStart) {
          hourRows = (await pool.query(HOUR_SQL, [new Date(hourStart), new Date(hourEnd)])).rowCount ?? 0;
        }
        // marks may have been moved back meanwhile by noteWritten: the earlier of the two wins.
        const minute = Math.min(rolledTo, rolling.lateFrom, marks.minute < minuteStart ? marks.minute : Infinity);
        marks = { minute, hour: Math.min(Math.max(hourEnd, hourStart), floorTo(minute, HOUR_MS)) };
      } finally {
        rolling = null;
      }
      return { minuteRows, hourRows, ms: performance.now() - t0 };
    },
  };
}

/**
 * Deletes what is past retention, but never rows not yet rolled up (the raw cut stops at the
 * minute mark, the minute cut at the hour mark), so a rollup that fell behind loses nothing.
 */
export async function applyRetention(pool: Pool, now: number, retention: Retention, marks: Marks): Promise<RetentionResult> {
  const t0 = performance.now();
  const rawCut = Math.min(now - retention.rawHours * HOUR_MS, marks.minute);
  const minuteCut = Math.min(now - retention.minuteDays * DAY_MS, marks.hour);
  const hourCut = now - retention.hourDays * DAY_MS;
  const del = async (table: string, cut: number) =>
    (await pool.query(`DELETE FROM ${table} WHERE "ts" < $1`, [new Date(cut)])).rowCount ?? 0;
  const raw = await del(RAW_TABLE, rawCut);
  const minute = await del(MINUTE_TABLE, minuteCut);
  const hour = await del(HOUR_TABLE, hourCut);
  return { raw, minute, hour, ms: performance.now() - t0 };
}
