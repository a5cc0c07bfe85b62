// The row-per-sample layout that blocks replaced (tables VmSample, VmSampleMinute, VmSampleHour of
// migration 20261122010000_metrics), kept here only as the oracle the new layout is compared
// with: its INSERT, its SQL rollups and its history query, as they were, in a schema of their own.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { expect } from 'vitest';
import { migrationsDir } from '@vmpulse/prisma';
import { DERIVED_PCT_FIELDS, RATE_FIELDS, type HistoryField, type HistoryPoint } from '../../../../domain/history.js';
import { COUNTER_METRICS, GAUGE_METRICS, METRIC_NAMES } from '../../../../domain/metrics.js';
import type { MetricSnapshot } from '../../../../domain/snapshot.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const CLOSE_GRACE = 5_000;
const floorTo = (t: number, unit: number) => Math.floor(t / unit) * unit;
const q = (ident: string) => `"${ident}"`;

const STAT_FIELDS: readonly string[] = [...DERIVED_PCT_FIELDS, ...RATE_FIELDS, ...GAUGE_METRICS];
const LAST_FIELDS: readonly string[] = COUNTER_METRICS;
const RAW_COLUMNS = [
  { name: 'vmId', type: 'int4' },
  { name: 'ts', type: 'timestamptz' },
  { name: 'state', type: 'text' },
  { name: 'cpus', type: 'int4' },
  { name: 'stale', type: 'bool' },
  ...METRIC_NAMES.map((name) => ({ name, type: 'int8' })),
  ...RATE_FIELDS.map((name) => ({ name, type: 'float8' })),
  ...DERIVED_PCT_FIELDS.map((name) => ({ name, type: 'float8' })),
];
const finite = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The old tables, in `schema` (created by the old migration's own SQL). */
export async function createLegacyTables(sql: pg.Pool, schema: string) {
  const ddl = readFileSync(path.join(migrationsDir, '20261122010000_metrics', 'migration.sql'), 'utf8');
  const c = await sql.connect();
  try {
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema}`);
    await c.query(ddl);
  } finally {
    await c.query('RESET search_path');
    c.release();
  }
}

export function legacyLayout(sql: pg.Pool, schema: string, names = { raw: 'VmSample', minute: 'VmSampleMinute', hour: 'VmSampleHour' }) {
  const RAW = `${schema}.${q(names.raw)}`;
  const MIN = `${schema}.${q(names.minute)}`;
  const HR = `${schema}.${q(names.hour)}`;

  async function write(rows: readonly MetricSnapshot[]) {
    const cols: unknown[][] = RAW_COLUMNS.map(() => new Array(rows.length));
    rows.forEach((s, r) => {
      let c = 0;
      const put = (v: unknown) => {
        (cols[c++] as unknown[])[r] = v;
      };
      put(s.vmId);
      put(new Date(s.ts).toISOString());
      put(s.state);
      put(s.cpus);
      put(s.stale);
      for (const m of METRIC_NAMES) put(s.metrics[m]?.toString() ?? null);
      for (const m of COUNTER_METRICS) put(finite(s.rates[m]));
      put(finite(s.cpuPct.total));
      put(finite(s.cpuPct.user));
      put(finite(s.cpuPct.system));
      put(finite(s.memPct));
    });
    await sql.query({
      text:
        `INSERT INTO ${RAW} (${RAW_COLUMNS.map((c) => q(c.name)).join(', ')})\n` +
        `SELECT * FROM unnest(${RAW_COLUMNS.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ')}) ON CONFLICT DO NOTHING`,
      values: cols,
    });
  }

  const statCols = STAT_FIELDS.flatMap((f) => [`${f}_avg`, `${f}_min`, `${f}_max`]);
  const lastCols = LAST_FIELDS.map((f) => `${f}_last`);
  const rollupCols = ['vmId', 'ts', 'samples', ...statCols, ...lastCols];
  const upsert = (table: string, select: string) =>
    `INSERT INTO ${table} (${rollupCols.map(q).join(', ')})\n${select}\n` +
    `ON CONFLICT ("vmId", "ts") DO UPDATE SET ${rollupCols.slice(2).map((c) => `${q(c)} = EXCLUDED.${q(c)}`).join(', ')}`;
  const lastOf = (col: string) => `(array_agg(${q(col)} ORDER BY "ts" DESC) FILTER (WHERE ${q(col)} IS NOT NULL))[1]`;
  const MINUTE_SQL = upsert(
    MIN,
    `SELECT "vmId", date_trunc('minute', "ts", 'UTC'), count(*)::int4,\n  ` +
      STAT_FIELDS.map((f) => `avg(${q(f)}::float8), min(${q(f)}::float8), max(${q(f)}::float8)`).join(',\n  ') +
      ',\n  ' +
      LAST_FIELDS.map(lastOf).join(',\n  ') +
      `\nFROM ${RAW} WHERE "ts" >= $1 AND "ts" < $2 GROUP BY 1, 2`,
  );
  const HOUR_SQL = upsert(
    HR,
    `SELECT "vmId", date_trunc('hour', "ts", 'UTC'), sum("samples")::int4,\n  ` +
      STAT_FIELDS.map((f) => {
        const [a, lo, hi] = [q(`${f}_avg`), q(`${f}_min`), q(`${f}_max`)];
        return `sum(${a} * "samples") / nullif(sum("samples") FILTER (WHERE ${a} IS NOT NULL), 0), min(${lo}), max(${hi})`;
      }).join(',\n  ') +
      ',\n  ' +
      lastCols.map(lastOf).join(',\n  ') +
      `\nFROM ${MIN} WHERE "ts" >= $1 AND "ts" < $2 GROUP BY 1, 2`,
  );

  /** The old roller, caught up at `now`: every closed minute and hour rolled. Returns its marks. */
  async function rollup(now: number) {
    const minute = floorTo(now - CLOSE_GRACE, MINUTE);
    const hour = floorTo(minute, HOUR);
    await sql.query(MINUTE_SQL, [new Date(0), new Date(minute)]);
    await sql.query(HOUR_SQL, [new Date(0), new Date(hour)]);
    return { minute, hour };
  }

  function fieldExprs(field: string, tier: 'raw' | 'rollup'): [string, string, string] {
    if (tier === 'raw') {
      const col = `${q(field)}::float8`;
      return [col, col, col];
    }
    if (LAST_FIELDS.includes(field)) {
      const col = `${q(`${field}_last`)}::float8`;
      return [col, col, col];
    }
    return [q(`${field}_avg`), q(`${field}_min`), q(`${field}_max`)];
  }

  /** The old history query, with the marks a caught-up rollup left. */
  async function history(hq: { vmId: number; from: Date; to: Date; stepSec: number; fields: HistoryField[] }, marks: { minute: number; hour: number }) {
    const from = hq.from.getTime();
    const to = hq.to.getTime();
    const clamp = (t: number) => Math.min(Math.max(t, from), to);
    const minuteMark = clamp(marks.minute);
    const hourMark = Math.min(clamp(marks.hour), minuteMark);
    const raw = { table: RAW, tier: 'raw' as const };
    const minute = { table: MIN, tier: 'rollup' as const };
    const hour = { table: HR, tier: 'rollup' as const };
    const parts =
      hq.stepSec >= 3600
        ? [{ ...hour, from, to: hourMark }, { ...minute, from: hourMark, to: minuteMark }, { ...raw, from: minuteMark, to }]
        : hq.stepSec >= 60
          ? [{ ...minute, from, to: minuteMark }, { ...raw, from: minuteMark, to }]
          : [{ ...raw, from, to }];
    const segments = parts.filter((p) => p.to > p.from);
    if (!segments.length) return [];
    const fields = hq.fields;
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
    const { rows } = await sql.query<Record<string, number | null>>(text, values);
    return rows.map((r) => {
      const point: HistoryPoint = { ts: new Date((r.b as number) * 1000), values: {} };
      fields.forEach((f, i) => {
        const avg = r[`a${i}`];
        if (avg != null) point.values[f] = { avg, min: r[`l${i}`] ?? avg, max: r[`h${i}`] ?? avg };
      });
      return point;
    });
  }

  async function latest(vmId: number, field: HistoryField, limit: number, since: Date) {
    const { rows } = await sql.query<{ ts: Date; v: number }>(
      `SELECT "ts", ${q(field)}::float8 AS v FROM ${RAW} WHERE "vmId" = $1 AND "ts" >= $2 AND ${q(field)} IS NOT NULL ORDER BY "ts" DESC LIMIT $3`,
      [vmId, since, limit],
    );
    return rows.map((r) => ({ ts: r.ts, value: r.v }));
  }

  return { write, rollup, history, latest };
}

/** Same buckets, same fields; min and max exact, averages up to float summation order. */
export function expectSameAnswer(got: HistoryPoint[], want: HistoryPoint[], what: string) {
  expect(got.map((p) => p.ts.getTime()), what).toEqual(want.map((p) => p.ts.getTime()));
  got.forEach((p, i) => {
    const w = want[i]!;
    expect(Object.keys(p.values).sort(), `${what} @${p.ts.toISOString()}`).toEqual(Object.keys(w.values).sort());
    for (const [f, v] of Object.entries(p.values)) {
      const o = w.values[f as keyof typeof w.values]!;
      const at = `${what} ${f} @${p.ts.toISOString()}`;
      expect(v.min, at).toBe(o.min);
      expect(v.max, at).toBe(o.max);
      expect(Math.abs(v.avg - o.avg), at).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(o.avg)));
    }
  });
}
