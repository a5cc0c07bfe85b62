// A FAKE InfluxDB 3 Core for tests — not InfluxDB. A real HTTP server (node:http, port 0) that answers the
// endpoints vmpulse uses the way InfluxDB 3 Core v3.10.1 does, read from its source (influxdata/influxdb):
//
//   http.rs  = influxdb3_server/src/http.rs           types = influxdb3_types/src/http.rs
//   validator = influxdb3_write/src/write_buffer/validator.rs   catalog = influxdb3_catalog/src/…
//
//   POST /api/v3/write_lp?db=&precision=&accept_partial=&no_sync=   (HttpApi::write_lp)
//     precision defaults to auto (WriteParams: precision.unwrap_or(Precision::Auto)); accept_partial to true;
//     204 when every line landed; with accept_partial, bad lines cost only themselves: 400 {"error":"partial
//     write of line protocol occurred","data":[{error_message,line_number (1-based),original_line (20 bytes)}]},
//     422 when one of them hit a catalog limit (`Error::PartialLpWrite` in IntoResponse for Error);
//     with accept_partial=false the first bad line fails the request and nothing is written:
//     400 {"error":"line protocol parsing error","data":{…one line…}} (WriteBufferError::ParseError).
//   POST /api/v2/write?bucket=&precision=                (route_request: parse_v2 → write_lp_inner)
//     all-or-nothing (types: From<iox_http::write::WriteParams> sets accept_partial: Some(false)); precision
//     defaults to ns; every error is {"code","message"} (V2WriteApiError), 401 with "unauthorized access".
//   POST /write?db=&precision=                          (v1: parse_v1, all-or-nothing, errors as v3's)
//   GET|POST /api/v3/query_sql  {db, q, format:"json"} → JSON rows (influxdb3-fake-sql.ts);
//     404 {"error":"query error: database not found: <db>"} for a database never written to.
//   A missing database is created by the first write (validator: WriteValidator::initialize), unless the
//   database limit is reached: 422 {"error":"Adding a new database would exceed limit of 5 databases"}.
//   Catalog limits 5 databases / 2000 tables / 500 columns per table (influxdb3-fake-catalog.ts).
//   Reserved column names `time`, `__chunk_order`: "'time' is a reserved column".
//   Request bodies over 10 MiB (--max-http-request-size), gzip-decoded or not: 413 "max request size
//   (10485760 bytes) exceeded" (HttpApi::read_body).
//   Auth (when the fake has a token): `Authorization: Bearer|Token <token>`; otherwise 401
//   {"error": "the request was not authenticated"} (IntoResponse for AuthenticationError; Core ≤ 3.7 sent
//   no body at all: option `emptyUnauthorizedBody`).
//   Unknown paths: 404 "Not found" (RoutingError::NotFound).
// Switches for tests: refuse connections, answer every request with a status (429 with Core's
// RequestLimit text and no Retry-After), or hang.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { CORE_LIMITS, FakeCatalog, lineError, lineProtocolLines, parseLine, type Database, type FakeLimits, type FakeRow, type LineError, type Precision } from './influxdb3-fake-catalog.js';
import { QueryError, evaluateSql } from './influxdb3-fake-sql.js';

export type { FakeRow, FieldVal } from './influxdb3-fake-catalog.js';
export type FakeFault = null | 'refuse' | 'hang' | 429 | 500 | 503;
export interface FakeRequest {
  method: string; path: string; params: Record<string, string>; at: number; status: number;
  /** non-blank lines in a write body */
  lines: number;
  /** request body bytes as sent (compressed if gzip) */
  bytes: number;
  gzip: boolean;
  authorization?: string;
  /** query_sql: Parquet files the query's time range selects (what --query-file-limit counts) */
  files?: number;
  sql?: string;
}

export interface FakeOptions {
  /** the token every request must carry; none = auth off (`--without-auth`) */
  token?: string;
  limits?: Partial<FakeLimits>;
  /** --query-file-limit (default 432) */
  queryFileLimit?: number;
  /** --gen1-duration (default 10 minutes): Core persists one Parquet file per table per gen1 window */
  gen1Ms?: number;
  /** --max-http-request-size (default 10 MiB) */
  maxRequestBytes?: number;
  /** answer 401 with no body, as Core ≤ 3.7 did */
  emptyUnauthorizedBody?: boolean;
}

export interface InfluxFake {
  url: string;
  requests: FakeRequest[];
  catalog: FakeCatalog;
  /** rows of one table (optionally one VM), oldest first */
  table(name: string, vmId?: number, database?: string): FakeRow[];
  setFault(fault: FakeFault): Promise<void>;
  close(): Promise<void>;
}

/** Precision as WriteParams deserializes it (types: Precision, serde lowercase names + aliases). */
const V3_PRECISION: Record<string, Precision> = {
  auto: 'auto', second: 's', s: 's', millisecond: 'ms', ms: 'ms', microsecond: 'us', us: 'us', u: 'us', nanosecond: 'ns', ns: 'ns', n: 'ns',
};
/** iox_http::write::Precision (core/iox_http/src/write/params.rs): no auto, default nanoseconds. */
const LEGACY_PRECISION: Record<string, Precision> = { second: 's', s: 's', millisecond: 'ms', ms: 'ms', microsecond: 'us', us: 'us', u: 'us', nanosecond: 'ns', ns: 'ns', n: 'ns' };

/** validate_db_name (http.rs) */
function dbNameError(name: string): string | undefined {
  if (name === '') return 'db name cannot be empty';
  if (name.length > 511) return 'db name too long: max 511';
  if (!/^[A-Za-z0-9]/.test(name)) return 'db name did not start with a number or letter';
  const [db, rp, more] = name.split('/');
  if (more !== undefined || rp === '' || (rp !== undefined && !/^[A-Za-z0-9_-]+$/.test(rp))) {
    return "db name with invalid retention policy, if providing a retention policy name, must be of form '<db_name>/<rp_name>'";
  }
  if (!/^[A-Za-z0-9_-]+$/.test(db!)) return 'invalid character in database or rp name: must be ASCII, containing only letters, numbers, underscores, or hyphens';
  return undefined;
}

type Api = 'v3' | 'v2' | 'v1';
interface Answer { status: number; body?: string; json?: unknown }

export async function startInfluxFake(opts: FakeOptions = {}): Promise<InfluxFake> {
  const limits = { ...CORE_LIMITS, ...opts.limits };
  const catalog = new FakeCatalog(limits);
  const queryFileLimit = opts.queryFileLimit ?? 432;
  const gen1Ms = BigInt(opts.gen1Ms ?? 600_000);
  const maxBytes = opts.maxRequestBytes ?? 10 * 1024 * 1024;
  const requests: FakeRequest[] = [];
  let fault: FakeFault = null;

  /** The write path shared by the three endpoints (HttpApi::write_lp_inner → WriteBufferImpl::write_lp). */
  function write(api: Api, database: string, body: string, precision: Precision, acceptPartial: boolean): Answer {
    const fail = (status: number, message: string): Answer => (api === 'v2'
      ? { status, json: { code: status === 413 ? 'request too large' : status === 404 ? 'not found' : 'invalid', message } }
      : { status, json: { error: message } });
    const nameError = dbNameError(database);
    if (nameError) return fail(400, nameError);
    const saved = catalog.snapshot();
    let db: Database;
    try {
      db = catalog.database(database);
    } catch (err) {
      // CatalogError::TooManyDbs → 422 (IntoResponse for CatalogError); v2 maps every write-buffer error to "invalid"
      return api === 'v2' ? fail(400, `write buffer error: catalog update error: ${(err as Error).message}`) : { status: 422, json: { error: (err as Error).message } };
    }
    const ingestNs = BigInt(Date.now()) * 1_000_000n;
    const errors: LineError[] = [];
    const rows: FakeRow[] = [];
    const lines = lineProtocolLines(body);
    for (let i = 0; i < lines.length; i++) {
      try {
        rows.push(catalog.validate(db, parseLine(lines[i]!), precision, ingestNs));
      } catch (err) {
        const e = lineError(lines[i]!, i + 1, (err as Error).message);
        if (!acceptPartial) {
          catalog.restore(saved); // the transaction is dropped: no catalog change, no row
          return api === 'v2'
            ? fail(400, `write buffer error: line protocol parse failed: ${e.error_message}`)
            : { status: 400, json: { error: 'line protocol parsing error', data: e } };
        }
        errors.push(e);
      }
    }
    if (rows.length === 0 && errors.length === 0) return api === 'v2' ? fail(400, 'write buffer error: incoming write was empty') : { status: 400, body: 'incoming write was empty' };
    for (const row of rows) catalog.store(db, row);
    if (errors.length === 0) return { status: 204 };
    const limitHit = errors.some((e) => e.error_message.startsWith('Update to schema would exceed number of') || e.error_message.startsWith('Adding a new database would exceed limit of'));
    return { status: limitHit ? 422 : 400, json: { error: 'partial write of line protocol occurred', data: errors } };
  }

  function files(database: string, table: string, fromNs: bigint | undefined, toNs: bigint | undefined): number {
    const windows = new Set<bigint>();
    for (const r of catalog.rows(database, table)) {
      if ((fromNs !== undefined && r.timeNs < fromNs) || (toNs !== undefined && r.timeNs >= toNs)) continue;
      windows.add(r.timeNs / (gen1Ms * 1_000_000n));
    }
    return windows.size;
  }

  function query(params: Record<string, unknown>, record: Partial<FakeRequest>): Answer {
    const database = typeof params.db === 'string' ? params.db : undefined;
    const q = typeof params.q === 'string' ? params.q : undefined;
    if (!database || !q) return { status: 400, body: "missing query parameters 'db' and 'q'" };
    record.sql = q;
    if (!catalog.dbs.has(database)) return { status: 404, json: { error: `query error: database not found: ${database}` } };
    try {
      const result = evaluateSql(q, {
        rows: (t) => catalog.rows(database, t),
        columns: (t) => catalog.columns(database, t),
        files: (t, from, to) => files(database, t, from, to),
        queryFileLimit,
      });
      record.files = result.files;
      return { status: 200, json: result.rows };
    } catch (err) {
      if (err instanceof QueryError) return { status: err.status, body: err.message };
      throw err;
    }
  }

  function route(req: http.IncomingMessage, url: URL, raw: Buffer, record: Partial<FakeRequest>): Answer {
    if (fault === 429) return { status: 429, body: 'this service is overloaded, please try again later' };
    if (fault === 500 || fault === 503) return { status: fault, body: 'fake: injected server error' };
    const api: Api | undefined = url.pathname === '/api/v3/write_lp' ? 'v3' : url.pathname === '/api/v2/write' ? 'v2' : url.pathname === '/write' ? 'v1' : undefined;
    if (opts.token) {
      const auth = req.headers.authorization ?? '';
      // authenticate_request runs before any route, v2 included (Core's own test
      // api_v2_write_without_token_returns_unauthorized expects this very body).
      if (auth !== `Bearer ${opts.token}` && auth !== `Token ${opts.token}`) {
        return { status: 401, body: opts.emptyUnauthorizedBody ? '' : '{"error": "the request was not authenticated"}' };
      }
    }
    if (api && req.method === 'POST') {
      let body = raw;
      if (body.length > maxBytes) return api === 'v2' ? { status: 413, json: { code: 'request too large', message: `max request size (${maxBytes} bytes) exceeded` } } : { status: 413, body: `max request size (${maxBytes} bytes) exceeded` };
      if (req.headers['content-encoding'] === 'gzip') {
        body = gunzipSync(body);
        if (body.length > maxBytes) return { status: 413, body: `max request size (${maxBytes} bytes) exceeded` };
      }
      const text = body.toString('utf8');
      record.lines = lineProtocolLines(text).length;
      const p = Object.fromEntries(url.searchParams);
      if (api === 'v2') {
        if (!p.bucket) return { status: 400, json: { code: 'invalid', message: 'missing bucket value' } };
        const precision = LEGACY_PRECISION[p.precision ?? 'ns'];
        if (!precision) return { status: 400, json: { code: 'invalid', message: `invalid precision: ${p.precision}` } };
        return write('v2', p.bucket, text, precision, false);
      }
      if (api === 'v1' && !p.db) return { status: 400, json: { error: 'no db destination provided' } }; // V1WriteParseError
      if (url.search === '') return { status: 400, body: "missing query parameter 'db'" }; // Error::MissingWriteParams
      if (!p.db) return { status: 400, body: 'serde error: missing field `db`' }; // Error::SerdeUrlDecoding
      const precision = (api === 'v1' ? LEGACY_PRECISION : V3_PRECISION)[p.precision ?? (api === 'v1' ? 'ns' : 'auto')];
      if (!precision) return { status: 400, body: `serde error: unknown variant \`${p.precision}\`` };
      const acceptPartial = api === 'v3' ? p.accept_partial !== 'false' : false;
      return write(api, p.db, text, precision, acceptPartial);
    }
    if (url.pathname === '/api/v3/query_sql' && (req.method === 'GET' || req.method === 'POST')) {
      let params: Record<string, unknown>;
      if (req.method === 'GET') params = Object.fromEntries(url.searchParams);
      else {
        try {
          params = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
        } catch (err) {
          return { status: 400, body: `serde json error: ${(err as Error).message}` };
        }
      }
      if (params.format !== undefined && params.format !== 'json') return { status: 400, body: `fake answers format=json only, not ${String(params.format)}` };
      return query(params, record);
    }
    return { status: 404, body: 'Not found' };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (fault === 'hang') return; // never answers: the client's timeout must fire
      const url = new URL(req.url ?? '/', 'http://fake');
      const raw = Buffer.concat(chunks);
      const record: Partial<FakeRequest> = {};
      const answer = route(req, url, raw, record);
      requests.push({
        method: req.method ?? '', path: url.pathname, params: Object.fromEntries(url.searchParams), at: Date.now(), status: answer.status,
        lines: 0, bytes: raw.length, gzip: req.headers['content-encoding'] === 'gzip', authorization: req.headers.authorization, ...record,
      });
      if (answer.json !== undefined) res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.json));
      else res.writeHead(answer.status, answer.body ? { 'content-type': 'text/plain' } : {}).end(answer.body ?? '');
    });
  });

  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const stop = () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    catalog,
    table: (name, vmId, database = 'vmstats') => catalog.rows(database, name).filter((r) => vmId === undefined || r.tags.vm_id === String(vmId)),
    async setFault(next) {
      if (next === 'refuse' && fault !== 'refuse' && server.listening) await stop();
      if (next !== 'refuse' && !server.listening) await listen(port);
      if (fault === 'hang' && next !== 'hang') server.closeAllConnections();
      fault = next;
    },
    close: async () => { if (server.listening) await stop(); },
  };
}
