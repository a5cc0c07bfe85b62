// History reads over InfluxDB 3's HTTP SQL API (`POST /api/v3/query_sql`, format=json).
// Not the client's query(): that is Arrow Flight over gRPC only, which a plain HTTP fake cannot
// speak, and it turns int64 into JS numbers anyway; the JSON answer is small for bucketed history.
//
// Injection: nothing from the caller is pasted into SQL unchecked. Field names come from the
// history-field list (domain/history.ts) (and are double-quoted), vm_id must be a safe integer, step an integer,
// limit an integer in range, times are rendered by Date#toISOString. Every query is bounded by
// `time >= from AND time < to`: InfluxDB 3 Core refuses scans of more than 432 Parquet files (~72 h).
import { badRequest, unavailable } from '../../../lib/errors.js';
import { isHistoryField, type HistoryField, type HistoryPoint } from '../../../domain/history.js';
import type { HistoryQuery } from './store.js';
import { WIDE_TABLE } from './influxdb3-lines.js';

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal }) => Promise<{
  ok: boolean; status: number; text(): Promise<string>;
}>;

export interface SqlClientOptions {
  url: string;
  database: string;
  token?: string;
  timeoutMs: number;
  fetchImpl: FetchLike;
  redact(text: string): string;
}

export const MAX_LATEST_LIMIT = 10_000;

class MissingFieldError extends Error {
  constructor(readonly field: string) {
    super(`no column ${field}`);
  }
}
/** latestValues() has only a lower bound from its caller; samples stamped slightly ahead (host clocks) still count. */
const FUTURE_SLACK_MS = 5 * 60_000;

function checkField(field: string): HistoryField {
  if (!isHistoryField(field)) throw badRequest(`unknown history field: ${JSON.stringify(field).slice(0, 80)}`);
  return field;
}

function checkVmId(vmId: number): string {
  if (!Number.isSafeInteger(vmId) || vmId < 0) throw badRequest(`invalid vm id: ${String(vmId).slice(0, 40)}`);
  return String(vmId);
}

function sqlTime(d: Date): string {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw badRequest('invalid time bound');
  return `'${d.toISOString()}'`;
}

export function historySql(q: HistoryQuery): string {
  const vm = checkVmId(q.vmId);
  if (!Number.isSafeInteger(q.stepSec) || q.stepSec < 1) throw badRequest('step must be a whole number of seconds >= 1');
  if (q.fields.length === 0) throw badRequest('no fields requested');
  if (!(q.from.getTime() < q.to.getTime())) throw badRequest('from must be before to');
  const aggregates = [...new Set(q.fields.map(checkField))]
    .map((f) => `avg("${f}") AS "${f}__avg", min("${f}") AS "${f}__min", max("${f}") AS "${f}__max"`)
    .join(', ');
  return `SELECT date_bin(INTERVAL '${q.stepSec} seconds', time) AS bucket, ${aggregates} FROM ${WIDE_TABLE}`
    + ` WHERE vm_id = '${vm}' AND time >= ${sqlTime(q.from)} AND time < ${sqlTime(q.to)}`
    + ' GROUP BY bucket ORDER BY bucket';
}

export function latestSql(vmId: number, field: HistoryField, limit: number, since: Date, now = Date.now()): string {
  const vm = checkVmId(vmId);
  const f = checkField(field);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LATEST_LIMIT) throw badRequest(`limit must be 1..${MAX_LATEST_LIMIT}`);
  return `SELECT time, "${f}" AS value FROM ${WIDE_TABLE}`
    + ` WHERE vm_id = '${vm}' AND "${f}" IS NOT NULL AND time >= ${sqlTime(since)} AND time < ${sqlTime(new Date(now + FUTURE_SLACK_MS))}`
    + ` ORDER BY time DESC LIMIT ${limit}`;
}

/** Core renders timestamps without a zone ("2025-01-01T00:00:00.5"); they are UTC. */
export function parseSqlTime(value: unknown): Date {
  if (typeof value === 'number') return new Date(value);
  const text = String(value);
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`);
}

export function createSqlClient(o: SqlClientOptions) {
  const endpoint = `${o.url.replace(/\/+$/, '')}/api/v3/query_sql`;

  async function query(sql: string): Promise<Record<string, unknown>[]> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let res: Awaited<ReturnType<FetchLike>>;
    try {
      res = await o.fetchImpl(endpoint, {
        method: 'POST', headers, body: JSON.stringify({ db: o.database, q: sql, format: 'json' }), signal: AbortSignal.timeout(o.timeoutMs),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw unavailable(o.redact(`InfluxDB unreachable for queries at ${o.url}: ${e.cause?.code ?? e.message}`));
    }
    const text = await res.text();
    if (!res.ok) {
      // A table that was never written is "not found", which for history simply means no data yet.
      if (/table .*not found/i.test(text)) return [];
      const missing = /No field named "?([A-Za-z0-9_]+)"?/.exec(text)?.[1];
      if (missing) throw new MissingFieldError(missing);
      throw unavailable(o.redact(`InfluxDB query failed (HTTP ${res.status}): ${text.slice(0, 300)}`));
    }
    if (text.trim() === '') return [];
    return JSON.parse(text) as Record<string, unknown>[];
  }

  async function history(q: HistoryQuery): Promise<HistoryPoint[]> {
    historySql(q); // validates the whole request before anything is sent
    let fields = [...new Set(q.fields)];
    let rows: Record<string, unknown>[] = [];
    // A column exists only once some VM reported it (e.g. no cpu_user_pct from the test driver);
    // asking for it is "no data" for that field, not a failed query.
    while (fields.length > 0) {
      try {
        rows = await query(historySql({ ...q, fields }));
        break;
      } catch (err) {
        if (!(err instanceof MissingFieldError) || !fields.includes(err.field as HistoryField)) throw err;
        const gone = err.field;
        fields = fields.filter((f) => f !== gone);
      }
    }
    return rows.map((row) => {
      const values: HistoryPoint['values'] = {};
      for (const f of fields) {
        const avg = row[`${f}__avg`];
        if (typeof avg !== 'number') continue;
        values[f] = { avg, min: Number(row[`${f}__min`]), max: Number(row[`${f}__max`]) };
      }
      return { ts: parseSqlTime(row.bucket), values };
    });
  }

  async function latestValues(vmId: number, field: HistoryField, limit: number, since: Date) {
    let rows: Record<string, unknown>[];
    try {
      rows = await query(latestSql(vmId, field, limit, since));
    } catch (err) {
      if (err instanceof MissingFieldError && err.field === field) return [];
      throw err;
    }
    return rows.map((row) => ({ ts: parseSqlTime(row.time), value: Number(row.value) }));
  }

  return { query, history, latestValues };
}
