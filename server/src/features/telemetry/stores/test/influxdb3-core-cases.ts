// How InfluxDB 3 Core answers the HTTP calls vmpulse depends on, one case per behaviour, each citing the Core
// source (influxdata/influxdb v3.10.1) its expectation is read from. The same cases run against the fake
// (influxdb3-fake.test.ts) and, when INFLUX_URL is set, against a real server (influxdb3.live.test.ts): the
// day a Core is reachable they prove the fake right or wrong.
import { gzipSync } from 'node:zlib';
import { expect } from 'vitest';

export interface CoreTarget {
  url: string;
  token?: string;
  /** a database the case may write to */
  database: string;
  live: boolean;
}

export interface CoreCase {
  name: string;
  /** Core source the expectation is read from */
  source: string;
  /** on a live server: why the case needs opting in (INFLUX_LIVE_LIMITS=1) or cannot run */
  live?: { optIn?: string; impossible?: string };
  /** fake only: what the fake must be started with (defaults otherwise) */
  fake?: { emptyUnauthorizedBody?: boolean };
  run(t: CoreTarget): Promise<void>;
}

export interface Answer { status: number; text: string; json?: any }

export async function call(t: CoreTarget, method: string, path: string, opts: { params?: Record<string, string>; body?: string | Uint8Array<ArrayBuffer>; headers?: Record<string, string>; token?: string | null } = {}): Promise<Answer> {
  const qs = opts.params ? `?${new URLSearchParams(opts.params)}` : '';
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? t.token : opts.token;
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${t.url}${path}${qs}`, { method, headers, ...(opts.body !== undefined ? { body: opts.body } : {}) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

const writeLp = (t: CoreTarget, body: string | Uint8Array<ArrayBuffer>, params: Record<string, string> = {}, headers?: Record<string, string>) =>
  call(t, 'POST', '/api/v3/write_lp', { params: { db: t.database, ...params }, body, ...(headers ? { headers } : {}) });
export const sql = (t: CoreTarget, q: string, db = t.database) => call(t, 'POST', '/api/v3/query_sql', { body: JSON.stringify({ db, q, format: 'json' }), headers: { 'content-type': 'application/json' } });

/** A table name no other case (or earlier run against a live server) uses. */
const fresh = (what: string) => `vmpulse_case_${what}_${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5); // ms
const rowsOf = async (t: CoreTarget, table: string) => (await sql(t, `SELECT time, "v" AS v FROM ${table} WHERE time >= '2000-01-01T00:00:00.000Z' AND time < '2100-01-01T00:00:00.000Z' ORDER BY time`)).json as { time: string; v: number }[];

export const CORE_CASES: CoreCase[] = [
  {
    name: 'write_lp: every good line lands (204, no body) and query_sql reads it back',
    source: 'http.rs HttpApi::write_lp_inner (StatusCode::NO_CONTENT); query_sql → JSON array',
    async run(t) {
      const table = fresh('ok');
      const w = await writeLp(t, `${table},host=a v=1i ${T0}\n${table},host=a v=2i ${T0 + 1000}`, { precision: 'millisecond' });
      expect(w).toMatchObject({ status: 204, text: '' });
      expect(await rowsOf(t, table)).toEqual([{ time: '2026-01-02T03:04:05', v: 1 }, { time: '2026-01-02T03:04:06', v: 2 }]);
    },
  },
  {
    name: 'write_lp accepts partial writes by default: a bad line costs only itself; 400 names it by 1-based number, original_line cut at 20 bytes',
    source: 'http.rs write_lp_inner (accept_partial.unwrap_or(true)), IntoResponse Error::PartialLpWrite; influxdb3_types/src/write.rs WriteLineError (TRUNCATE_LIMIT 20)',
    async run(t) {
      const table = fresh('partial');
      const w = await writeLp(t, `${table},host=a v=1i ${T0}\n${table},host=a v=oops ${T0 + 1000}\n${table},host=a v=3i ${T0 + 2000}`, { precision: 'ms' });
      expect(w.status).toBe(400);
      expect(w.json.error).toBe('partial write of line protocol occurred');
      expect(w.json.data).toHaveLength(1);
      expect(w.json.data[0].line_number).toBe(2);
      expect(w.json.data[0].original_line).toBe(`${table},host=a v=oops ${T0 + 1000}`.slice(0, 20));
      expect(typeof w.json.data[0].error_message).toBe('string');
      expect((await rowsOf(t, table)).map((r) => r.v)).toEqual([1, 3]);
    },
  },
  {
    name: "a field named time in a new table is refused: \"'time' is a reserved column\"",
    source: 'influxdb3_catalog/src/catalog.rs RESERVED_COLUMN_NAMES; catalog/versions/v3/schema/table.rs check_name; error.rs ReservedColumn',
    async run(t) {
      const table = fresh('time_new');
      const w = await writeLp(t, `${table},host=a time=5i,v=1i ${T0}\n${table},host=a v=2i ${T0 + 1000}`, { precision: 'ms' });
      expect(w.status).toBe(400);
      expect(w.json.data).toEqual([expect.objectContaining({ line_number: 1, error_message: "'time' is a reserved column" })]);
      expect((await rowsOf(t, table)).map((r) => r.v)).toEqual([2]);
    },
  },
  {
    name: "a field named time in a table with rows is refused as a type clash with the timestamp column",
    source: 'catalog/versions/v3/transaction.rs column_or_create (InvalidColumnType); error.rs; core/schema/src/lib.rs InfluxColumnType display',
    async run(t) {
      const table = fresh('time_old');
      expect((await writeLp(t, `${table},host=a v=1i ${T0}`, { precision: 'ms' })).status).toBe(204);
      const w = await writeLp(t, `${table},host=a v=2i,time=7i ${T0 + 1000}`, { precision: 'ms' });
      expect(w.status).toBe(400);
      expect(w.json.data[0].error_message).toBe("invalid column type for column 'time', expected iox::column_type::timestamp, got iox::column_type::field::integer");
    },
  },
  {
    name: '__chunk_order is reserved as well',
    source: 'influxdb3_catalog/src/catalog.rs CHUNK_ORDER_COLUMN_NAME in RESERVED_COLUMN_NAMES',
    async run(t) {
      const w = await writeLp(t, `${fresh('chunk')},host=a __chunk_order=1i,v=1i ${T0}`, { precision: 'ms' });
      expect(w.status).toBe(400);
      expect(w.json.data[0].error_message).toBe("'__chunk_order' is a reserved column");
    },
  },
  {
    name: "a field written with another type than its column's is refused",
    source: 'catalog/versions/v3/transaction.rs column_or_create (InvalidColumnType)',
    async run(t) {
      const table = fresh('type');
      expect((await writeLp(t, `${table},host=a v=1i ${T0}`, { precision: 'ms' })).status).toBe(204);
      const w = await writeLp(t, `${table},host=a v="two" ${T0 + 1000}`, { precision: 'ms' });
      expect(w.status).toBe(400);
      expect(w.json.data[0].error_message).toBe("invalid column type for column 'v', expected iox::column_type::field::integer, got iox::column_type::field::string");
    },
  },
  {
    name: 'write_lp with accept_partial=false: the first bad line fails the whole request, nothing is written',
    source: 'validator.rs v1_parse_lines_and_catalog_updates (`if !accept_partial { return Err(Error::ParseError(e)) }`); http.rs WriteBufferError::ParseError → {"error":"line protocol parsing error","data":{…}}',
    async run(t) {
      const table = fresh('nopartial');
      const w = await writeLp(t, `${table},host=a v=1i ${T0}\n${table},host=a v=x ${T0 + 1000}`, { precision: 'ms', accept_partial: 'false' });
      expect(w.status).toBe(400);
      expect(w.json.error).toBe('line protocol parsing error');
      expect(w.json.data).toMatchObject({ line_number: 2, original_line: `${table},host=a v=x ${T0 + 1000}`.slice(0, 20) });
      expect((await sql(t, `SELECT time, "v" AS v FROM ${table} WHERE time >= '2000-01-01T00:00:00.000Z'`)).text).toMatch(/not found/);
    },
  },
  {
    name: '/api/v2/write is all-or-nothing and answers {"code","message"}',
    source: 'influxdb3_types/src/http.rs From<iox_http::write::WriteParams> (accept_partial: Some(false)); http.rs V2WriteApiError',
    async run(t) {
      const table = fresh('v2');
      const w = await call(t, 'POST', '/api/v2/write', { params: { bucket: t.database, precision: 'ms' }, body: `${table},host=a time=2i ${T0}\n${table},host=a v=1i ${T0 + 1000}` });
      expect(w.status).toBe(400);
      expect(w.json).toEqual({ code: 'invalid', message: "write buffer error: line protocol parse failed: 'time' is a reserved column" });
      expect((await sql(t, `SELECT time, "v" AS v FROM ${table} WHERE time >= '2000-01-01T00:00:00.000Z'`)).text).toMatch(/not found/);
    },
  },
  {
    name: '/write (v1) is all-or-nothing too',
    source: 'http.rs route_request API_LEGACY_WRITE → parse_v1 → write_lp_inner (accept_partial false)',
    async run(t) {
      const table = fresh('v1');
      const w = await call(t, 'POST', '/write', { params: { db: t.database, precision: 'ms' }, body: `${table},host=a v=1i ${T0}\n${table},host=a v=x ${T0 + 1000}` });
      expect(w.status).toBe(400);
      expect(w.json).toMatchObject({ error: 'line protocol parsing error', data: { line_number: 2 } });
      expect((await sql(t, `SELECT time, "v" AS v FROM ${table} WHERE time >= '2000-01-01T00:00:00.000Z'`)).text).toMatch(/not found/);
    },
  },
  {
    name: 'write_lp precision defaults to auto: seconds, milliseconds and nanoseconds of one instant are one row',
    source: 'http.rs write_lp_inner (precision.unwrap_or(Precision::Auto)); influxdb3_types/src/write.rs Precision::guess_precision',
    async run(t) {
      const table = fresh('auto');
      const s = Math.floor(T0 / 1000);
      const w = await writeLp(t, `${table},host=a v=1i ${s}\n${table},host=a v=2i ${s * 1000}\n${table},host=a v=3i ${s * 1000}000000`);
      expect(w.status).toBe(204);
      expect(await rowsOf(t, table)).toEqual([{ time: '2026-01-02T03:04:05', v: 3 }]);
    },
  },
  {
    name: 'a request body over 10 MiB is refused: 413 "max request size (10485760 bytes) exceeded"',
    source: 'influxdb3/src/commands/serve.rs --max-http-request-size default 10485760; http.rs read_body (RequestSizeExceeded → PAYLOAD_TOO_LARGE)',
    async run(t) {
      const table = fresh('big');
      const line = `${table},host=a v="${'x'.repeat(1000)}" ${T0}\n`;
      const body = line.repeat(Math.ceil((10 * 1024 * 1024 + 1) / line.length));
      const w = await writeLp(t, body, { precision: 'ms' });
      expect(w.status).toBe(413);
      expect(w.text).toBe('max request size (10485760 bytes) exceeded');
    },
  },
  {
    name: 'a gzip request body is decoded',
    source: 'http.rs read_body (Content-Encoding: gzip)',
    async run(t) {
      const table = fresh('gzip');
      const w = await writeLp(t, new Uint8Array(gzipSync(`${table},host=a v=1i ${T0}`)), { precision: 'ms' }, { 'content-encoding': 'gzip' });
      expect(w.status).toBe(204);
      expect(await rowsOf(t, table)).toHaveLength(1);
    },
  },
  {
    name: 'an empty write is refused: 400 "incoming write was empty"',
    source: 'influxdb3_write/src/write_buffer/mod.rs write_lp (Error::EmptyWrite); http.rs',
    async run(t) {
      const w = await writeLp(t, '\n', { precision: 'ms' });
      expect(w).toMatchObject({ status: 400, text: 'incoming write was empty' });
    },
  },
  {
    name: 'the 501st column of a table is refused: 422, partial-write body',
    source: 'serve.rs CORE_NUM_COLUMNS_PER_TABLE_LIMIT 500; transaction.rs check_columns_limit; http.rs PartialLpWrite (limit_hit → 422); Core test limits.rs',
    async run(t) {
      const table = fresh('cols');
      const cols = Array.from({ length: 497 }, (_, i) => `,c${i}=1i`).join('');
      // 2 tags + 498 fields = 500 columns (`time` does not count)
      expect((await writeLp(t, `${table},host=a,region=b v=1i${cols} ${T0}`, { precision: 'ms' })).status).toBe(204);
      const w = await writeLp(t, `${table},host=a,region=b c501=1i ${T0 + 1000}\n${table},host=a,region=b v=2i ${T0 + 2000}`, { precision: 'ms' });
      expect(w.status).toBe(422);
      expect(w.json).toEqual({
        error: 'partial write of line protocol occurred',
        data: [expect.objectContaining({ line_number: 1, error_message: 'Update to schema would exceed number of columns per table limit of 500 columns' })],
      });
      expect((await rowsOf(t, table)).map((r) => r.v)).toEqual([1, 2]);
    },
  },
  {
    name: 'query_sql on a database never written to: 404 "query error: database not found: <db>"',
    source: 'influxdb3_internal_api/src/query_executor.rs QueryExecutorError::DatabaseNotFound; http.rs (NOT_FOUND, ErrorMessage)',
    async run(t) {
      const db = fresh('nodb').replace(/_/g, '-');
      const q = await sql(t, `SELECT time, "v" AS v FROM m WHERE time >= '2000-01-01T00:00:00.000Z'`, db);
      expect(q.status).toBe(404);
      expect(q.json).toEqual({ error: `query error: database not found: ${db}` });
    },
  },
  {
    name: "query_sql on a table never written: 400 \"Error during planning: table 'public.iox.<t>' not found\"",
    source: 'http.rs datafusion_error_status_code (Plan → BAD_REQUEST); Core test influxdb3/tests/cli/mod.rs',
    async run(t) {
      expect((await writeLp(t, `${fresh('anchor')},host=a v=1i ${T0}`, { precision: 'ms' })).status).toBe(204);
      const table = fresh('none');
      const q = await sql(t, `SELECT time, "v" AS v FROM ${table} WHERE time >= '2000-01-01T00:00:00.000Z'`);
      expect(q.status).toBe(400);
      expect(q.text).toContain(`table 'public.iox.${table}' not found`);
    },
  },
  {
    name: 'query_sql naming a column never written: 500 "Schema error: No field named …"',
    source: 'http.rs datafusion_error_status_code (SchemaError → INTERNAL_SERVER_ERROR)',
    async run(t) {
      const table = fresh('nocol');
      expect((await writeLp(t, `${table},host=a v=1i ${T0}`, { precision: 'ms' })).status).toBe(204);
      const q = await sql(t, `SELECT time, "w" AS w FROM ${table} WHERE time >= '2000-01-01T00:00:00.000Z'`);
      expect(q.status).toBe(500);
      expect(q.text).toMatch(/No field named "?w"?/);
    },
  },
  {
    name: 'a query whose time range selects more than 432 Parquet files: 500 "… exceeding the file limit …"',
    source: 'influxdb3_write/src/write_buffer/mod.rs get_table_chunks (query_file_limit.unwrap_or(432)); serve.rs --query-file-limit; http.rs (External → 500)',
    live: { impossible: 'needs more than 432 persisted Parquet files of one table (days of data); Core counts only persisted files' },
    async run(t) {
      const table = fresh('files');
      const tenMin = 600_000;
      const lines = Array.from({ length: 440 }, (_, i) => `${table},host=a v=${i}i ${T0 + i * tenMin}`).join('\n');
      expect((await writeLp(t, lines, { precision: 'ms' })).status).toBe(204);
      const all = await sql(t, `SELECT time, "v" AS v FROM ${table} WHERE time >= '2000-01-01T00:00:00.000Z'`);
      expect(all.status).toBe(500);
      expect(all.text).toMatch(/Query would scan 432 Parquet files, exceeding the file limit/);
      const narrow = await sql(t, `SELECT time, "v" AS v FROM ${table} WHERE time >= '${new Date(T0).toISOString()}' AND time < '${new Date(T0 + 48 * 3_600_000).toISOString()}'`);
      expect(narrow.status).toBe(200);
      expect(narrow.json).toHaveLength(288);
    },
  },
  {
    name: 'a request without a token: 401 {"error": "the request was not authenticated"}',
    source: 'http.rs authenticate_request → IntoResponse for AuthenticationError; Core test write.rs api_v2_write_without_token_returns_unauthorized',
    async run(t) {
      if (!t.token) return; // the server runs without auth
      for (const [path, params] of [['/api/v3/write_lp', { db: t.database }], ['/api/v2/write', { bucket: t.database }]] as const) {
        const w = await call(t, 'POST', path, { params, body: `m,host=a v=1i ${T0}`, token: null });
        expect(w.status).toBe(401);
        expect(w.json).toEqual({ error: 'the request was not authenticated' });
      }
      expect((await call(t, 'POST', '/api/v3/query_sql', { body: JSON.stringify({ db: t.database, q: 'SELECT 1' }), token: 'apiv3_not-the-token' })).status).toBe(401);
    },
  },
  {
    name: 'InfluxDB 3 Core ≤ 3.7 answered 401 with no body at all',
    source: 'influxdb3_server/src/http.rs at v3.7.0, fn authenticate (UNAUTHORIZED, empty_response_body)',
    live: { impossible: 'a property of older servers' },
    fake: { emptyUnauthorizedBody: true },
    async run(t) {
      const w = await call(t, 'POST', '/api/v3/write_lp', { params: { db: t.database }, body: `m,host=a v=1i ${T0}`, token: null });
      expect(w).toMatchObject({ status: 401, text: '' });
    },
  },
  // Last: on a live server these exhaust its limits (INFLUX_LIVE_LIMITS=1, a scratch server only).
  {
    name: 'the 6th database of a server is refused: 422 {"error":"Adding a new database would exceed limit of 5 databases"}',
    source: 'serve.rs CORE_NUM_DBS_LIMIT 5; catalog/versions/v3/catalog.rs begin_database_transaction (TooManyDbs); http.rs IntoResponse for CatalogError',
    live: { optIn: 'creates databases until the limit' },
    async run(t) {
      const base = fresh('db').replace(/_/g, '-');
      let answer: Answer | undefined;
      for (let i = 0; i < 6; i++) {
        answer = await call(t, 'POST', '/api/v3/write_lp', { params: { db: `${base}-${i}`, precision: 'ms' }, body: `m,host=a v=1i ${T0}` });
        if (answer.status !== 204) break;
      }
      expect(answer!.status).toBe(422);
      expect(answer!.json).toEqual({ error: 'Adding a new database would exceed limit of 5 databases' });
    },
  },
  {
    name: 'the 2001st table of a server is refused: 422',
    source: 'serve.rs CORE_NUM_TABLES_LIMIT 2000; transaction.rs create_table_with_opts (TooManyTables); Core test limits.rs',
    live: { optIn: 'creates 2,000 tables' },
    async run(t) {
      const prefix = fresh('tbl');
      const lines = Array.from({ length: 2001 }, (_, i) => `${prefix}_${i},host=a v=1i ${T0}`).join('\n');
      const w = await writeLp(t, lines, { precision: 'ms' });
      expect(w.status).toBe(422);
      expect(w.json.error).toBe('partial write of line protocol occurred');
      // A live server may hold tables already: fewer of ours fit before the limit.
      expect(w.json.data[0]).toMatchObject({ line_number: t.live ? expect.any(Number) : 2001 });
      expect(w.json.data[0].error_message).toMatch(/^Update to schema would exceed number of tables limit: attempted to create table but already have 2000 table\(s\) \(limit: 2000\)$/);
    },
  },
];
