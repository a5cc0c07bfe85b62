// Rollups (raw → 1 minute → 1 hour) and retention. Each tier is filled from the summaries of the
// tier below: a raw block carries its minute's entry, a minute-tier row its hour's, so the roller
// reads those small summaries and never decodes a sample.
//
// Incremental, with a mark per tier: everything before `marks.minute` (an hour boundary) is in
// the minute tier, everything before `marks.hour` (a day boundary) in the hour tier. A rollup
// rolls [mark, last closed hour / day) and moves the mark. Re-running a window is harmless (rows
// are recomputed from what is below and replace themselves), which is also how late blocks
// (written after an outage) get folded in: writing them moves the marks back. A re-roll replaces
// the buckets it has data for and keeps the others, so raw or minutes already past retention
// never erase what was rolled from them. History reads the tiers below their marks and
// summarises the rest itself (postgres-history.ts), so nothing written is ever invisible.
import type { Pool } from 'pg';
import { yieldToEventLoop } from '../../../lib/yield.js';
import { HOUR_TABLE, MINUTE_TABLE, RAW_TABLE } from './postgres-columns.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, floorTo } from '../../../lib/time.js';
import { decodeEntries, encodeEntries, mergeEntries, promote, type Entry } from './postgres-entries.js';
import { buildBlockInsert, type BlockRow } from './postgres-write.js';

/** A minute counts as closed this long after its end: the tick stamped 59.9 s may still be in flight. */
export const CLOSE_GRACE_MS = 5_000;

export interface Retention {
  rawHours: number;
  minuteDays: number;
  hourDays: number;
}
export const DEFAULT_RETENTION: Retention = { rawHours: 24, minuteDays: 7, hourDays: 400 };

/** ms since the epoch; everything before `minute` is in the minute tier, before `hour` in the hour tier. */
export interface Marks {
  minute: number;
  hour: number;
}

export interface RollupResult {
  /** VM-minutes written to the minute tier */
  minuteRows: number;
  /** VM-hours written to the hour tier */
  hourRows: number;
  ms: number;
}
export interface RetentionResult {
  /** rows (blocks) deleted per tier */
  raw: number;
  minute: number;
  hour: number;
  ms: number;
}

interface Tier {
  below: string;
  table: string;
  /** a row spans this much, rolled in one go */
  span: number;
  /** whether a tier above reads this one's summaries */
  summarised: boolean;
}
const MINUTE_TIER: Tier = { below: RAW_TABLE, table: MINUTE_TABLE, span: HOUR_MS, summarised: true };
const HOUR_TIER: Tier = { below: MINUTE_TABLE, table: HOUR_TABLE, span: DAY_MS, summarised: false };
const NO_SUMMARY = new Uint8Array(0);

/** Rolls [from, to) (span boundaries) of the tier below into `tier`; returns the entries written. */
async function rollTier(pool: Pool, tier: Tier, from: number, to: number): Promise<number> {
  let written = 0;
  for (let start = from; start < to; start += tier.span) {
    const { rows } = await pool.query<{ vmId: number; summary: Buffer }>(
      `SELECT "vmId", "summary" FROM ${tier.below} WHERE "ts" >= $1 AND "ts" < $2 ORDER BY "vmId", "ts"`,
      [new Date(start), new Date(start + tier.span)],
    );
    if (!rows.length) continue;
    // Summaries are entries of this tier's buckets; several per bucket when a restart split a block.
    const fresh = new Map<number, Map<number, Entry[]>>();
    for (const r of rows) {
      const e = decodeEntries(r.summary)[0]!;
      const perVm = fresh.get(r.vmId) ?? fresh.set(r.vmId, new Map()).get(r.vmId)!;
      perVm.set(e.ts, [...(perVm.get(e.ts) ?? []), e]);
    }
    const vmIds = [...fresh.keys()];
    const existing = new Map<number, Entry[]>();
    const old = await pool.query<{ vmId: number; data: Buffer }>(
      `SELECT "vmId", "data" FROM ${tier.table} WHERE "ts" = $1 AND "vmId" = ANY($2::int4[])`,
      [new Date(start), vmIds],
    );
    for (const r of old.rows) existing.set(r.vmId, decodeEntries(r.data));
    const out: BlockRow[] = [];
    for (const [vmId, buckets] of fresh) {
      const entries = new Map((existing.get(vmId) ?? []).map((e) => [e.ts, e]));
      for (const [ts, parts] of buckets) entries.set(ts, promote(mergeEntries(ts, parts)));
      written += buckets.size;
      const all = [...entries.values()].sort((a, b) => a.ts - b.ts);
      const samples = all.reduce((n, e) => n + e.n, 0);
      const summary = tier.summarised ? encodeEntries([mergeEntries(start, all)]) : NO_SUMMARY;
      out.push({ vmId, ts: start, samples, data: encodeEntries(all), summary });
    }
    await pool.query(buildBlockInsert(tier.table, out, 'replace'));
    await yieldToEventLoop();
  }
  return written;
}

/** Marks from what is already rolled up; with empty tiers, from where retention would start. */
export async function loadMarks(pool: Pool, now: number): Promise<Marks> {
  const { rows } = await pool.query<{ m: Date | null; h: Date | null }>(
    `SELECT (SELECT max("ts") FROM ${MINUTE_TABLE}) AS m, (SELECT max("ts") FROM ${HOUR_TABLE}) AS h`,
  );
  // The newest row's span is rolled again: cheap, and it completes a row that a conversion of
  // the old tables (or a crash between two windows) may have left short. An empty tier starts
  // where the tier below does (a first start: one scan of a table that is young).
  const start = async (table: string) =>
    (await pool.query<{ t: Date | null }>(`SELECT min("ts") AS t FROM ${table}`)).rows[0]?.t?.getTime() ?? now;
  const minute = rows[0]?.m ? rows[0].m.getTime() : floorTo(await start(RAW_TABLE), HOUR_MS);
  const hour = rows[0]?.h ? rows[0].h.getTime() : floorTo(rows[0]?.m ? await start(MINUTE_TABLE) : minute, DAY_MS);
  return { minute, hour: Math.min(hour, floorTo(minute, DAY_MS)) };
}

/**
 * The incremental roller. `noteWritten` must see the earliest ts of every successful write, so
 * that blocks landing below a mark (late or buffered) send that mark back.
 */
export function createRoller(pool: Pool) {
  let marks: Marks | null = null;
  // Set while a rollup runs: a late block inside the window being rolled may miss its snapshot.
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
      const m = floorTo(earliestMs, HOUR_MS);
      if (rolling) rolling.lateFrom = Math.min(rolling.lateFrom, m);
      marks = { minute: Math.min(marks.minute, m), hour: Math.min(marks.hour, floorTo(m, DAY_MS)) };
    },
    /** Rolls closed hours up to `now`, but none that still has samples outside PostgreSQL (`unwrittenFrom`). */
    async rollup(now: number, unwrittenFrom = Infinity): Promise<RollupResult> {
      if (!marks) throw new Error('rollup marks not loaded');
      const t0 = performance.now();
      const minuteEnd = floorTo(Math.min(now - CLOSE_GRACE_MS, unwrittenFrom), HOUR_MS);
      rolling = { minuteEnd, lateFrom: Infinity };
      let minuteRows = 0;
      let hourRows = 0;
      try {
        const minuteStart = marks.minute;
        if (minuteEnd > minuteStart) minuteRows = await rollTier(pool, MINUTE_TIER, minuteStart, minuteEnd);
        const rolledTo = Math.max(minuteEnd, minuteStart);
        const hourEnd = floorTo(Math.min(rolledTo, rolling.lateFrom), DAY_MS);
        const hourStart = Math.min(marks.hour, hourEnd);
        if (hourEnd > hourStart) hourRows = await rollTier(pool, HOUR_TIER, hourStart, hourEnd);
        // marks may have been moved back meanwhile by noteWritten: the earlier of the two wins.
        const minute = Math.min(rolledTo, rolling.lateFrom, marks.minute < minuteStart ? marks.minute : Infinity);
        marks = { minute, hour: Math.min(Math.max(hourEnd, hourStart), floorTo(minute, DAY_MS)) };
      } finally {
        rolling = null;
      }
      return { minuteRows, hourRows, ms: performance.now() - t0 };
    },
  };
}

/**
 * Deletes what is past retention, a row only once all of it is (a block holds up to a minute, a
 * minute-tier row an hour, an hour-tier row a day), and never rows not yet rolled up (the raw cut
 * stops at the minute mark, the minute cut at the hour mark), so a rollup that fell behind loses nothing.
 */
export async function applyRetention(pool: Pool, now: number, retention: Retention, marks: Marks): Promise<RetentionResult> {
  const t0 = performance.now();
  const rawCut = floorTo(Math.min(now - retention.rawHours * HOUR_MS, marks.minute), MINUTE_MS);
  const minuteCut = floorTo(Math.min(now - retention.minuteDays * DAY_MS, marks.hour), HOUR_MS);
  const hourCut = floorTo(now - retention.hourDays * DAY_MS, DAY_MS);
  const del = async (table: string, cut: number) =>
    (await pool.query(`DELETE FROM ${table} WHERE "ts" < $1`, [new Date(cut)])).rowCount ?? 0;
  const raw = await del(RAW_TABLE, rawCut);
  const minute = await del(MINUTE_TABLE, minuteCut);
  const hour = await del(HOUR_TABLE, hourCut);
  return { raw, minute, hour, ms: performance.now() - t0 };
}
