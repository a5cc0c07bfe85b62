// Reading history. Answers are what the row-per-sample layout gave once its rollup had caught up:
// a step under 60 s buckets raw samples; a step of a minute or more buckets 1-minute rollups
// (closed minutes) plus the raw samples of the open minute; a step of an hour or more buckets
// 1-hour rollups (closed hours), then minutes, then raw. Averages are weighted by the samples
// behind each rollup, as `sum(avg * samples) / sum(samples)` did.
//
// Where a rollup comes from is a separate matter: the stored tiers hold only the rollup fields
// (postgres-columns.ts) and only up to their marks; everything else is summarised from raw blocks
// here, with the same arithmetic the roller uses, so it does not show in the answer.
import type { Pool } from 'pg';
import { isHistoryField, type HistoryField, type HistoryPoint } from '../../../domain/history.js';
import { COUNTER_METRICS } from '../../../domain/metrics.js';
import { badRequest } from '../../../lib/errors.js';
import { readBlockFields } from './postgres-block.js';
import { HOUR_TABLE, MINUTE_TABLE, RAW_TABLE, ROLLUP_LAST, ROLLUP_STATS, inRollups } from './postgres-columns.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, floorTo } from '../../../lib/time.js';
import { EntryBuilder, decodeEntries, decodeEntryColumns, entryAt, mergeEntries, promote, type Entry, type EntryColumns, type EntryWant } from './postgres-entries.js';
import { CLOSE_GRACE_MS, type Marks } from './postgres-rollup.js';
import type { HistoryQuery } from './store.js';

/** A guard against accidental full scans; the service asks for far fewer points. */
const MAX_BUCKETS = 100_000;
const MAX_LATEST = 10_000;

/** A VM's blocks not yet in PostgreSQL (the open one, those waiting for their INSERT): first ts, samples, summary. */
export type UnwrittenBlocks = (vmId: number) => { ts: number; data: Uint8Array; summary: Uint8Array }[];

type Level = 'raw' | 'minute' | 'hour';
interface Segment {
  level: Level;
  from: number;
  to: number;
}

function checkFields(fields: readonly string[]): HistoryField[] {
  if (!fields.length) throw badRequest('ask for at least one field');
  const bad = fields.filter((f) => !isHistoryField(f));
  if (bad.length) throw badRequest(`unknown history field(s): ${bad.join(', ')}`);
  return [...new Set(fields)] as HistoryField[];
}

/** Which rollup level answers which part of [from, to), as of `now`. */
function planSegments(from: number, to: number, stepSec: number, now: number): Segment[] {
  const clamp = (t: number) => Math.min(Math.max(t, from), to);
  // The marks the row-per-sample roller had right after a run: closed minutes, closed hours.
  const closedMinutes = floorTo(now - CLOSE_GRACE_MS, MINUTE_MS);
  const minuteMark = clamp(closedMinutes);
  const hourMark = Math.min(clamp(floorTo(closedMinutes, HOUR_MS)), minuteMark);
  let parts: Segment[];
  if (stepSec >= 3600) {
    parts = [
      { level: 'hour', from, to: hourMark },
      { level: 'minute', from: hourMark, to: minuteMark },
      { level: 'raw', from: minuteMark, to },
    ];
  } else if (stepSec >= 60) {
    parts = [
      { level: 'minute', from, to: minuteMark },
      { level: 'raw', from: minuteMark, to },
    ];
  } else parts = [{ level: 'raw', from, to }];
  return parts.filter((p) => p.to > p.from);
}

/** Raw blocks of a VM that may hold samples in [from, to), from PostgreSQL and from memory: their samples or their summaries. */
async function rawBlocks(pool: Pool, unwritten: UnwrittenBlocks, vmId: number, from: number, to: number, column: 'data' | 'summary') {
  const lo = floorTo(from, MINUTE_MS); // every sample of a block lies in its first sample's minute
  const inMemory = unwritten(vmId).filter((b) => b.ts >= lo && b.ts < to); // taken before the query: see dedupe below
  const { rows } = await pool.query<{ ts: Date; bytes: Buffer }>(
    `SELECT "ts", "${column}" AS bytes FROM ${RAW_TABLE} WHERE "vmId" = $1 AND "ts" >= $2 AND "ts" < $3 ORDER BY "ts"`,
    [vmId, new Date(lo), new Date(to)],
  );
  const stored = new Set(rows.map((r) => r.ts.getTime()));
  // A block written between the snapshot and the query is in both; keep one.
  return [
    ...rows.map((r) => ({ ts: r.ts.getTime(), bytes: r.bytes as Uint8Array })),
    ...inMemory.filter((b) => !stored.has(b.ts)).map((b) => ({ ts: b.ts, bytes: b[column] })),
  ];
}

/** A rollup tier's rows overlapping [from, to) (rows start at `span` boundaries), decoded column by column. */
async function tierRows(pool: Pool, table: string, span: number, vmId: number, from: number, to: number, want: EntryWant): Promise<EntryColumns[]> {
  if (to <= from) return [];
  const { rows } = await pool.query<{ data: Buffer }>(
    `SELECT "data" FROM ${table} WHERE "vmId" = $1 AND "ts" >= $2 AND "ts" < $3 ORDER BY "ts"`,
    [vmId, new Date(floorTo(from, span)), new Date(to)],
  );
  return rows.map((r) => decodeEntryColumns(r.data, want));
}

/**
 * Fields summarised together: `stat` ones get min/avg/max per bucket, `last` ones (counters) their
 * last value. `stored` says how far the stored tiers hold them (nowhere, for fields not in rollups).
 */
interface Group {
  stat: number[];
  last: number[];
  stored: Marks;
  /** rollup fields: minutes past the stored tier come from raw blocks' summaries, not their samples */
  summaries: boolean;
  /** the fields' places in stored entries (ROLLUP_STATS / ROLLUP_LAST) */
  statAt: number[];
  lastAt: number[];
}

export async function queryHistory(pool: Pool, hq: HistoryQuery, marks: Marks | null, unwritten: UnwrittenBlocks, now = Date.now()): Promise<HistoryPoint[]> {
  const fields = checkFields(hq.fields);
  const from = hq.from.getTime();
  const to = hq.to.getTime();
  if (!Number.isFinite(from) || !Number.isFinite(to) || !(from < to)) throw badRequest('history needs from < to');
  if (!Number.isInteger(hq.stepSec) || hq.stepSec < 1) throw badRequest('step must be a whole number of seconds ≥ 1');
  if ((to - from) / 1000 / hq.stepSec > MAX_BUCKETS) throw badRequest(`more than ${MAX_BUCKETS} buckets: use a larger step`);
  const segments = planSegments(from, to, hq.stepSec, now);
  if (!segments.length) return [];

  const isCounter = (f: HistoryField) => (COUNTER_METRICS as readonly string[]).includes(f);
  const nothingStored: Marks = { minute: -Infinity, hour: -Infinity };
  const groups: Group[] = [true, false]
    .map((rolled) => {
      const idx = fields.map((f, k) => [f, k] as const).filter(([f]) => inRollups(f) === rolled);
      const stat = idx.filter(([f]) => !isCounter(f));
      const last = idx.filter(([f]) => isCounter(f));
      return {
        stat: stat.map(([, k]) => k),
        last: last.map(([, k]) => k),
        stored: rolled && marks ? marks : nothingStored,
        summaries: rolled,
        statAt: stat.map(([f]) => ROLLUP_STATS.indexOf(f)),
        lastAt: last.map(([f]) => (ROLLUP_LAST as readonly string[]).indexOf(f)),
      };
    })
    .filter((g) => g.stat.length + g.last.length > 0);

  // ---- fetch: raw samples, raw summaries, minute-tier and hour-tier rows, each over the range some part needs
  const ceil = (t: number, unit: number) => Math.ceil(t / unit) * unit;
  const span = () => ({
    from: Infinity,
    to: -Infinity,
    add(a: number, b: number) {
      if (b <= a) return;
      this.from = Math.min(this.from, a);
      this.to = Math.max(this.to, b);
    },
  });
  const need = { samples: span(), summaries: span(), minute: span(), hour: span() };
  for (const s of segments) {
    if (s.level === 'raw') {
      need.samples.add(s.from, s.to);
      continue;
    }
    const end = ceil(s.to, s.level === 'hour' ? HOUR_MS : MINUTE_MS);
    for (const g of groups) {
      let a = s.from;
      if (s.level === 'hour') {
        need.hour.add(s.from, Math.min(g.stored.hour, s.to));
        a = Math.max(s.from, g.stored.hour);
      }
      need.minute.add(a, Math.min(g.stored.minute, end));
      (g.summaries ? need.summaries : need.samples).add(Math.max(a, g.stored.minute), end);
    }
  }
  const rollupWant: EntryWant = {
    stats: new Set(fields.map((f) => ROLLUP_STATS.indexOf(f)).filter((i) => i >= 0)),
    last: new Set(fields.map((f) => (ROLLUP_LAST as readonly string[]).indexOf(f)).filter((i) => i >= 0)),
  };
  const blocksOver = (n: { from: number; to: number }, column: 'data' | 'summary') =>
    n.to > n.from ? rawBlocks(pool, unwritten, hq.vmId, n.from, n.to, column) : Promise.resolve([]);
  const [blocks, summaryBlocks, minuteRows, hourRows] = await Promise.all([
    blocksOver(need.samples, 'data'),
    blocksOver(need.summaries, 'summary'),
    tierRows(pool, MINUTE_TABLE, HOUR_MS, hq.vmId, need.minute.from, need.minute.to, rollupWant),
    tierRows(pool, HOUR_TABLE, DAY_MS, hq.vmId, need.hour.from, need.hour.to, rollupWant),
  ]);
  // a minute's summaries, in block order (a restart may have split a minute into several blocks)
  const summaries = new Map<number, Entry[]>();
  for (const b of summaryBlocks) {
    const e = decodeEntries(b.bytes, rollupWant)[0]!;
    summaries.set(e.ts, [...(summaries.get(e.ts) ?? []), e]);
  }

  // ---- raw samples, in time order, every asked field
  const samples: { ts: number; values: (number | null)[] }[] = [];
  for (const b of blocks) {
    const { ts, values } = readBlockFields(b.bytes, fields);
    for (let i = 0; i < ts.length; i++) samples.push({ ts: ts[i]!, values: values.map((col) => col[i]!) });
  }
  samples.sort((a, b) => a.ts - b.ts);
  const samplesIn = (a: number, b: number) => {
    let lo = 0;
    let hi = samples.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (samples[mid]!.ts < a) lo = mid + 1;
      else hi = mid;
    }
    const out = [];
    for (let i = lo; i < samples.length && samples[i]!.ts < b; i++) out.push(samples[i]!);
    return out;
  };

  // ---- rollup entries of a group past the stored tiers: summarised here as the roller would
  const fromStored = (e: Entry, g: Group): Entry => ({
    ts: e.ts,
    n: e.n,
    stats: g.statAt.map((i) => e.stats[i] ?? null),
    last: g.lastAt.map((i) => e.last[i] ?? null),
  });
  /** Minutes in [a, b) past the stored minute tier: from raw blocks' summaries, or their samples. */
  const minuteTail = (g: Group, a: number, b: number): Entry[] => {
    const out: Entry[] = [];
    if (g.summaries) {
      // the roller's arithmetic on the same summaries: what the minute tier will hold
      for (const [m, parts] of summaries) if (m >= a && m < b) out.push(fromStored(promote(mergeEntries(m, parts)), g));
      return out.sort((x, y) => x.ts - y.ts);
    }
    let builder = null as EntryBuilder | null;
    for (const s of samplesIn(ceil(a, MINUTE_MS), ceil(b, MINUTE_MS))) {
      const m = floorTo(s.ts, MINUTE_MS);
      if (builder?.ts !== m) {
        if (builder) out.push(promote(builder.finish()));
        builder = new EntryBuilder(m, g.stat.length, g.last.length);
      }
      builder.add(g.stat.map((k) => s.values[k]!), g.last.map((k) => s.values[k]!));
    }
    if (builder) out.push(promote(builder.finish()));
    return out;
  };
  /** Hours in [a, b) past the stored hour tier: merged from their minutes, stored or not. */
  const hoursOnTheFly = (g: Group, a: number, b: number): Entry[] => {
    const start = ceil(a, HOUR_MS);
    const end = ceil(b, HOUR_MS);
    const minutes: Entry[] = [];
    for (const c of minuteRows) {
      for (let i = 0; i < c.length; i++) if (c.ts[i]! >= start && c.ts[i]! < Math.min(end, g.stored.minute)) minutes.push(fromStored(entryAt(c, i), g));
    }
    minutes.push(...minuteTail(g, Math.max(start, g.stored.minute), end));
    const byHour = new Map<number, Entry[]>();
    for (const e of minutes) {
      const h = floorTo(e.ts, HOUR_MS);
      byHour.set(h, [...(byHour.get(h) ?? []), e]);
    }
    return [...byHour].filter(([h]) => h < b).map(([h, mins]) => promote(mergeEntries(h, mins)));
  };

  // ---- buckets
  const stepMs = hq.stepSec * 1000;
  const buckets = new Map<number, { aw: number[]; w: number[]; min: number[]; max: number[] }>();
  const bucket = (ts: number) => {
    const b = ts - (((ts % stepMs) + stepMs) % stepMs);
    let acc = buckets.get(b);
    if (!acc) {
      acc = { aw: fields.map(() => 0), w: fields.map(() => 0), min: fields.map(() => Infinity), max: fields.map(() => -Infinity) };
      buckets.set(b, acc);
    }
    return acc;
  };
  const add = (acc: ReturnType<typeof bucket>, k: number, sum: number, w: number, min: number, max: number) => {
    acc.aw[k]! += sum;
    acc.w[k]! += w;
    if (min < acc.min[k]!) acc.min[k] = min;
    if (max > acc.max[k]!) acc.max[k] = max;
  };
  const addEntry = (e: Entry, g: Group) => {
    const acc = bucket(e.ts);
    g.stat.forEach((k, i) => {
      const st = e.stats[i];
      if (st) add(acc, k, st.sum, st.w, st.min, st.max);
    });
    g.last.forEach((k, i) => {
      const v = e.last[i];
      if (v !== null && v !== undefined) add(acc, k, Number(v) * e.n, e.n, Number(v), Number(v));
    });
  };
  /** Stored entries in [a, b), straight from their columns (a week of minutes is 10,080 of them). */
  const addStored = (rows: EntryColumns[], g: Group, a: number, b: number) => {
    let acc: ReturnType<typeof bucket> | null = null;
    let accEnd = -Infinity;
    for (const c of rows) {
      for (let i = 0; i < c.length; i++) {
        const t = c.ts[i]!;
        if (t < a || t >= b) continue;
        // entries come in time order: most fall in the bucket of the one before
        if (!acc || t >= accEnd || t < accEnd - stepMs) {
          acc = bucket(t);
          accEnd = t - (((t % stepMs) + stepMs) % stepMs) + stepMs;
        }
        for (let j = 0; j < g.stat.length; j++) {
          const col = c.stats[g.statAt[j]!]!;
          if (!Number.isNaN(col.sum[i])) add(acc, g.stat[j]!, col.sum[i]!, col.w[i]!, col.min[i]!, col.max[i]!);
        }
        for (let j = 0; j < g.last.length; j++) {
          const v = c.last[g.lastAt[j]!]![i];
          if (v !== null && v !== undefined) add(acc, g.last[j]!, Number(v) * c.n[i]!, c.n[i]!, Number(v), Number(v));
        }
      }
    }
  };
  for (const s of segments) {
    if (s.level === 'raw') {
      for (const { ts, values } of samplesIn(s.from, s.to)) {
        const acc = bucket(ts);
        values.forEach((v, k) => {
          if (v !== null) add(acc, k, v, 1, v, v);
        });
      }
      continue;
    }
    for (const g of groups) {
      if (s.level === 'minute') {
        addStored(minuteRows, g, s.from, Math.min(s.to, g.stored.minute));
        for (const e of minuteTail(g, Math.max(s.from, g.stored.minute), s.to)) addEntry(e, g);
      } else {
        addStored(hourRows, g, s.from, Math.min(s.to, g.stored.hour));
        for (const e of hoursOnTheFly(g, Math.max(s.from, g.stored.hour), s.to)) addEntry(e, g);
      }
    }
  }

  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([b, acc]) => {
      const point: HistoryPoint = { ts: new Date(b), values: {} };
      fields.forEach((f, k) => {
        if (acc.w[k]! > 0) point.values[f] = { avg: acc.aw[k]! / acc.w[k]!, min: acc.min[k]!, max: acc.max[k]! };
      });
      return point;
    });
}

/** Raw values of one field, newest first (seed 002's /history). */
export async function queryLatest(pool: Pool, unwritten: UnwrittenBlocks, vmId: number, field: HistoryField, limit: number, since: Date) {
  checkFields([field]);
  const n = Math.min(Math.max(Math.trunc(limit) || 0, 1), MAX_LATEST);
  const lo = floorTo(since.getTime(), MINUTE_MS);
  const found: { ts: number; value: number }[] = [];
  const take = (data: Uint8Array) => {
    const { ts, values } = readBlockFields(data, [field]);
    ts.forEach((t, i) => {
      const v = values[0]![i];
      if (t >= since.getTime() && v !== null && v !== undefined) found.push({ ts: t, value: v });
    });
  };
  const inMemory = unwritten(vmId);
  let before = Infinity;
  const seen = new Set<number>();
  // Pages of blocks, newest first, until there are enough values; then the rest of the oldest
  // page's minute, since blocks of one minute may interleave (a restart inside a minute).
  for (;;) {
    const { rows } = await pool.query<{ ts: Date; data: Buffer }>(
      `SELECT "ts", "data" FROM ${RAW_TABLE} WHERE "vmId" = $1 AND "ts" >= $2 AND "ts" < $3 ORDER BY "ts" DESC LIMIT 64`,
      [vmId, new Date(lo), before === Infinity ? 'infinity' : new Date(before)],
    );
    for (const r of rows) {
      seen.add(r.ts.getTime());
      take(r.data);
    }
    if (rows.length < 64) break;
    before = rows.at(-1)!.ts.getTime();
    if (found.length >= n) {
      const rest = await pool.query<{ ts: Date; data: Buffer }>(
        `SELECT "ts", "data" FROM ${RAW_TABLE} WHERE "vmId" = $1 AND "ts" >= $2 AND "ts" < $3`,
        [vmId, new Date(Math.max(lo, floorTo(before, MINUTE_MS))), new Date(before)],
      );
      for (const r of rest.rows) {
        seen.add(r.ts.getTime());
        take(r.data);
      }
      break;
    }
  }
  for (const b of inMemory) if (!seen.has(b.ts) && b.ts >= lo) take(b.data);
  return found
    .sort((a, b) => b.ts - a.ts)
    .slice(0, n)
    .map((r) => ({ ts: new Date(r.ts), value: r.value }));
}
