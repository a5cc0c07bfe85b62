// Reading history. The step picks the coarsest table allowed (raw below 60 s, minutes below an
// hour, hours above), and the range is split at the rollup marks: the part not yet rolled up
// comes from the finer tables, so the last minutes are there even before their rollup runs.
// Rows of all parts are bucketed together; averages are weighted by the samples behind each row.
import type { Pool } from 'pg';
import { badRequest } from '../../../lib/errors.js';
import { isHistoryField, type HistoryField, type HistoryPoint } from '../../../domain/history.js';
import type { HistoryQuery } from './store.js';
import { HOUR_TABLE, MINUTE_TABLE, RAW_TABLE, fieldExprs, q } from './postgres-columns.js';
import type { Marks } from './postgres-rollup.js';

/** A guard against accidental full scans; the service asks for far fewer points. */
export const MAX_BUCKETS = 100_000;
export const MAX_LATEST = 10_000;

interface Segment {
  table: string;
  tier: 'raw' | 'rollup';
  from: number;
  to: number;
}

function checkFields(fields: readonly string[]): HistoryField[] {
  if (!fields.length) throw badRequest('ask for at least one field');
  const bad = fields.filter((f) => !isHistoryField(f));
  if (bad.length) throw badRequest(`unknown history field(s): ${bad.join(', ')}`);
  return [...new Set(fields)] as HistoryField[];
}

export function planSegments(from: number, to: number, stepSec: number, marks: Marks | null): Segment[] {
  const clamp = (t: number) => Math.min(Math.max(t, from), to);
  // Without marks (database unreachable at start) everything is still in raw as far as we know.
  const minuteMark = clamp(marks?.minute ?? from);
  const hourMark = Math.min(clamp(marks?.hour ?? from), minuteMark);
  const raw = { table: RAW_TABLE, tier: 'raw' as const };
  const minute = { table: MINUTE_TABLE, tier: 'rollup' as const };
  const hour = { table: HOUR_TABLE, tier: 'rollup' as const };
  let parts: Segment[];
  if (stepSec >= 3600) {
    parts = [
      { ...hour, from, to: hourMark },
      { ...minute, from: hourMark, to: minuteMark },
      { ...raw, from: minuteMark, to },
    ];
  } else if (stepSec >= 60) {
    parts = [
      { ...minute, from, to: minuteMark },
      { ...raw, from: minuteMark, to },
    ];
  } else parts = [{ ...raw, from, to }];
  return parts.filter((p) => p.to > p.from);
}

export async function queryHistory(pool: Pool, hq: HistoryQuery, marks: Marks | null): Promise<HistoryPoint[]> {
  const fields = checkFields(hq.fields);
  const from = hq.from.getTime();
  const to = hq.to.getTime();
  if (!Number.isFinite(from) || !Number.isFinite(to) || !(from < to)) throw badRequest('history needs from < to');
  if (!Number.isInteger(hq.stepSec) || hq.stepSec < 1) throw badRequest('step must be a whole number of seconds ≥ 1');
  if ((to - from) / 1000 / hq.stepSec > MAX_BUCKETS) throw badRequest(`more than ${MAX_BUCKETS} buckets: use a larger step`);

  const segments = planSegments(from, to, hq.stepSec, marks);
  if (!segments.length) return [];
  const values: unknown[] = [hq.vmId, hq.stepSec];
  const selects = segments.map((s) => {
    values.push(new Date(s.from), new Date(s.to));
    const lo = values.length - 1;
    const cols = fields.flatMap((f, i) => {
      const [avg, min, max] = fieldExprs(f, s.tier);
      return [`${avg} AS a${i}`, `${min} AS l${i}`, `${max} AS h${i}`];
    });
    const n = s.tier === 'raw' ? '1' : '"samples"';
    return `SELECT "ts", ${n} AS n, ${cols.join(', ')} FROM ${s.table} WHERE "vmId" = $1 AND "ts" >= $${lo} AND "ts" < $${lo + 1}`;
  });
  const aggs = fields.map(
    (_, i) => `sum(a${i} * n) / nullif(sum(n) FILTER (WHERE a${i} IS NOT NULL), 0) AS a${i}, min(l${i}) AS l${i}, max(h${i}) AS h${i}`,
  );
  const text =
    `SELECT (floor(extract(epoch FROM "ts") / $2) * $2)::float8 AS b, ${aggs.join(', ')}\n` +
    `FROM (${selects.join('\nUNION ALL\n')}) s GROUP BY b ORDER BY b`;
  const { rows } = await pool.query<Record<string, number | null>>(text, values);
  return rows.map((r) => {
    const point: HistoryPoint = { ts: new Date((r.b as number) * 1000), values: {} };
    fields.forEach((f, i) => {
      const avg = r[`a${i}`];
      if (avg != null) point.values[f] = { avg, min: r[`l${i}`] ?? avg, max: r[`h${i}`] ?? avg };
    });
    return point;
  });
}

export async function queryLatest(pool: Pool, vmId: number, field: HistoryField, limit: number, since: Date) {
  checkFields([field]);
  const n = Math.min(Math.max(Math.trunc(limit) || 0, 1), MAX_LATEST);
  const col = q(field);
  const { rows } = await pool.query<{ ts: Date; v: number }>(
    `SELECT "ts", ${col}::float8 AS v FROM ${RAW_TABLE}
     WHERE "vmId" = $1 AND "ts" >= $2 AND ${col} IS NOT NULL
     ORDER BY "ts" DESC LIMIT $3`,
    [vmId, since, n],
  );
  return rows.map((r) => ({ ts: r.ts, value: r.v }));
}
