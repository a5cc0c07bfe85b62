// SQL over InfluxDB 3's HTTP query API (`POST /api/v3/query_sql`, format=json), and what its answers mean.
// Not the client's query(): that is Arrow Flight over gRPC only, which a plain HTTP fake cannot speak, and
// it turns int64 into JS numbers anyway; the JSON answer is small for bucketed history.
//
// Answers, as InfluxDB 3 Core v3.10.1 gives them (influxdb3_server/src/http.rs, `IntoResponse for Error`):
//   200 [rows…]        a JSON array; null columns are left out of a row; times are UTC without a zone
//   404 {"error":"query error: database not found: <db>"}  (QueryExecutorError::DatabaseNotFound): nothing
//       was ever written to the database (Core creates it on the first write): no data yet (NotWrittenError)
//   400 "Error during planning: table 'public.iox.<t>' not found": the table was never written: no data yet
//   500 "Schema error: No field named <c>. …" (DataFusionError::SchemaError → 500 in
//       datafusion_error_status_code): the column was never written: no data for that field
//   500 "… Query would scan <n> Parquet files, exceeding the file limit. …" (influxdb3_write/src/
//       write_buffer/mod.rs, get_table_chunks; --query-file-limit, default 432): narrow the time range
//   401 (no or wrong token), other 4xx/5xx, refused connections, timeouts: the query cannot be answered now
// Nothing of this reaches a user as a 500: callers get rows, a typed error they handle, or a 503 with the
// reason (AppError UNAVAILABLE).
import { unavailable } from '../../../lib/errors.js';

export interface SqlClientOptions {
  url: string;
  database: string;
  token?: string;
  timeoutMs: number;
  redact(text: string): string;
}

export type Row = Record<string, unknown>;

/** A column the query named does not exist (yet) in its table. */
export class MissingColumnError extends Error {
  constructor(readonly column: string) {
    super(`no column ${column}`);
  }
}

/** Core refused the query because it would read more Parquet files than --query-file-limit allows. */
export class FileLimitError extends Error {}

/** The database or the table was never written to: no data yet, and no point asking for other windows. */
export class NotWrittenError extends Error {}

const NO_FIELD = /No field named "?(?:[A-Za-z0-9_]+\.)?([A-Za-z0-9_]+)"?/;

export function createSqlClient(o: SqlClientOptions) {
  const endpoint = `${o.url.replace(/\/+$/, '')}/api/v3/query_sql`;

  async function query(sql: string): Promise<Row[]> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let status: number;
    let text: string;
    try {
      const res = await fetch(endpoint, {
        method: 'POST', headers, body: JSON.stringify({ db: o.database, q: sql, format: 'json' }), signal: AbortSignal.timeout(o.timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const reason = e.name === 'TimeoutError' ? `no answer within ${o.timeoutMs} ms` : (e.cause?.code ?? e.message);
      throw unavailable(o.redact(`InfluxDB unreachable for queries at ${o.url}: ${reason}`));
    }
    if (status === 200) {
      if (text.trim() === '') return [];
      try {
        return JSON.parse(text) as Row[];
      } catch {
        throw unavailable(`InfluxDB answered a query with something other than JSON: ${o.redact(text.slice(0, 120))}`);
      }
    }
    if ((status === 404 && /database not found/i.test(text)) || /table '[^']*' not found/i.test(text)) throw new NotWrittenError(text.slice(0, 200));
    const missing = NO_FIELD.exec(text)?.[1];
    if (missing) throw new MissingColumnError(missing);
    if (/file limit/i.test(text) && /parquet/i.test(text)) throw new FileLimitError(o.redact(text.slice(0, 300)));
    if (status === 401 || status === 403) {
      throw unavailable(`InfluxDB refused the credentials for queries (HTTP ${status}): check INFLUX_TOKEN and its permissions on database "${o.database}"`);
    }
    throw unavailable(o.redact(`InfluxDB query failed (HTTP ${status}): ${text.slice(0, 300)}`));
  }

  return { query };
}

export type SqlClient = ReturnType<typeof createSqlClient>;
