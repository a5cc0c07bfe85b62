// A FAKE InfluxDB 3 Core for tests — not InfluxDB. A real HTTP server (node:http, port 0) that answers
// the documented endpoints the vmpulse store uses, the way Core documents them:
//   POST /api/v3/write_lp?db=&precision=   and   POST /api/v2/write?bucket=&precision=
//     204 on success; 400 {"error":"partial write of line protocol occurred","data":[{original_line,
//     line_number, error_message}]} when some lines are bad (the good lines of the request are kept);
//     a field written with another type than its column's is a bad line, as in Core.
//   POST|GET /api/v3/query_sql  {db, q, format:"json"} → JSON array of rows
//     Only the SQL shapes the store emits are understood (a purpose-built evaluator, not SQL): SELECT of
//     time / date_bin(INTERVAL 'N seconds', time) AS bucket / avg|min|max("f") AS "a" / "f" AS value,
//     FROM one table, WHERE tag = '…' AND "f" IS NOT NULL AND time >= '…' AND time < '…', GROUP BY bucket,
//     ORDER BY bucket | time DESC, LIMIT n. Anything else → 400. A query without `time >=` → 400, standing
//     in for Core's refusal to scan too many Parquet files.
//   Bearer (or Token) auth when the fake has a token: otherwise 401.
// Switches: refuse connections (stop listening), answer 500/503, or 429 with Retry-After.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { pino } from 'pino';
import type { MetricSnapshot } from '../../src/domain/snapshot.js';
import type { Logger } from '../../src/lib/logger.js';

export type FieldVal = bigint | number | boolean | string;
export interface FakeRow { table: string; timeNs: bigint; tags: Record<string, string>; fields: Record<string, FieldVal> }
export type FakeMode = 'ok' | 'refuse' | 500 | 503 | 429;
export interface FakeRequest { path: string; at: number; lines: number; status: number; authorization?: string }

type ColType = 'integer' | 'uinteger' | 'float' | 'boolean' | 'string';
const PRECISION_NS: Record<string, bigint> = { ns: 1n, nanosecond: 1n, us: 1_000n, microsecond: 1_000n, ms: 1_000_000n, millisecond: 1_000_000n, s: 1_000_000_000n, second: 1_000_000_000n };

/** Splits on `sep` outside escapes and (for field sets) outside double quotes; keeps escapes. */
function split(text: string, sep: string, quotes: boolean, limit = Infinity): string[] {
  const parts: string[] = [];
  let cur = '';
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) { cur += c + text[++i]; continue; }
    if (quotes && c === '"') inQuote = !inQuote;
    if (c === sep && !inQuote && parts.length < limit - 1) { parts.push(cur); cur = ''; continue; }
    cur += c;
  }
  parts.push(cur);
  return parts;
}
const unescapeKey = (s: string) => s.replace(/\\([,= \\"])/g, '$1');

function parseValue(raw: string): [ColType, FieldVal] {
  if (raw.startsWith('"')) {
    if (raw.length < 2 || !raw.endsWith('"')) throw new Error('unterminated string field value');
    return ['string', raw.slice(1, -1).replace(/\\(["\\])/g, '$1')];
  }
  if (/^-?\d+i$/.test(raw)) {
    const v = BigInt(raw.slice(0, -1));
    if (v > 2n ** 63n - 1n || v < -(2n ** 63n)) throw new Error('integer value out of range');
    return ['integer', v];
  }
  if (/^\d+u$/.test(raw)) return ['uinteger', BigInt(raw.slice(0, -1))];
  if (/^(t|T|true|True|TRUE)$/.test(raw)) return ['boolean', true];
  if (/^(f|F|false|False|FALSE)$/.test(raw)) return ['boolean', false];
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) return ['float', Number(raw)];
  throw new Error(`invalid field value: ${raw}`);
}

export function parseLine(line: string, precisionNs: bigint): { row: FakeRow; types: Record<string, ColType> } {
  // Quotes mean nothing in the measurement and tags, only in the field set.
  const [key, rest = ''] = split(line, ' ', false, 2);
  const [fieldSet, ts, extra] = split(rest, ' ', true);
  if (!key || !fieldSet || extra !== undefined) throw new Error('invalid line protocol: expected "<measurement>[,tags] <fields> [timestamp]"');
  const [measurement, ...tagParts] = split(key, ',', false);
  const tags: Record<string, string> = {};
  for (const t of tagParts) {
    const [k, v] = split(t, '=', false, 2);
    if (!k || !v) throw new Error(`invalid tag: ${t}`);
    tags[unescapeKey(k)] = unescapeKey(v);
  }
  const fields: Record<string, FieldVal> = {};
  const types: Record<string, ColType> = {};
  for (const f of split(fieldSet, ',', true)) {
    const [k, v] = split(f, '=', true, 2);
    if (!k || v === undefined) throw new Error(`invalid field: ${f}`);
    const [type, value] = parseValue(v);
    fields[unescapeKey(k)] = value;
    types[unescapeKey(k)] = type;
  }
  if (ts !== undefined && !/^-?\d+$/.test(ts)) throw new Error(`invalid timestamp: ${ts}`);
  const timeNs = ts === undefined ? BigInt(Date.now()) * 1_000_000n : BigInt(ts) * precisionNs;
  return { row: { table: unescapeKey(measurement!), timeNs, tags, fields }, types };
}

const iso = (ms: number) => new Date(ms).toISOString().slice(0, -1); // Core renders UTC without a zone
const toNum = (v: unknown) => (typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : undefined);

/** Splits a select list on commas outside parentheses and quotes. */
function topLevelItems(list: string): string[] {
  const items: string[] = [];
  let depth = 0, quote = '', cur = '';
  for (const c of list) {
    if (quote) { if (c === quote) quote = ''; }
    else if (c === "'" || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) { items.push(cur.trim()); cur = ''; continue; }
    cur += c;
  }
  items.push(cur.trim());
  return items;
}

interface SelectItem { kind: 'time' | 'bucket' | 'agg' | 'col'; name: string; alias: string; fn?: string; stepMs?: number }

/** The SQL shapes of the store's history()/latestValues(); see the header. */
export function evaluateSql(sql: string, rows: FakeRow[]): Record<string, unknown>[] {
  const m = /^SELECT (.+) FROM (\w+) WHERE (.+?)(?: GROUP BY (\w+))?(?: ORDER BY (\w+)( DESC)?)?(?: LIMIT (\d+))?$/.exec(sql.trim());
  if (!m) throw new Error(`fake cannot evaluate: ${sql}`);
  const [, selectList, table, where, groupBy, orderBy, desc, limit] = m;
  const items: SelectItem[] = topLevelItems(selectList!).map((s) => {
    if (s === 'time') return { kind: 'time', name: 'time', alias: 'time' };
    const bucket = /^date_bin\(INTERVAL '(\d+) seconds', time\) AS (\w+)$/.exec(s);
    if (bucket) return { kind: 'bucket', name: 'time', alias: bucket[2]!, stepMs: Number(bucket[1]) * 1000 };
    const agg = /^(avg|min|max)\("(\w+)"\) AS "(\w+)"$/.exec(s);
    if (agg) return { kind: 'agg', fn: agg[1], name: agg[2]!, alias: agg[3]! };
    const col = /^"(\w+)" AS (\w+)$/.exec(s);
    if (col) return { kind: 'col', name: col[1]!, alias: col[2]! };
    throw new Error(`fake cannot evaluate select item: ${s}`);
  });
  const preds: ((r: FakeRow) => boolean)[] = [];
  let lowerBound = false;
  for (const cond of where!.split(' AND ')) {
    const time = /^time (>=|<) '([^']+)'$/.exec(cond);
    const tag = /^(\w+) = '([^']*)'$/.exec(cond);
    const notNull = /^"(\w+)" IS NOT NULL$/.exec(cond);
    if (time) {
      const ns = BigInt(Date.parse(time[2]!)) * 1_000_000n;
      if (time[1] === '>=') { lowerBound = true; preds.push((r) => r.timeNs >= ns); } else preds.push((r) => r.timeNs < ns);
    } else if (tag) { const [k, v] = [tag[1]!, tag[2]!]; preds.push((r) => r.tags[k] === v); }
    else if (notNull) { const k = notNull[1]!; preds.push((r) => r.fields[k] !== undefined); }
    else throw new Error(`fake cannot evaluate condition: ${cond}`);
  }
  if (!lowerBound) throw new Error('query would scan the whole table: bound it by time (fake stand-in for the 432-file limit)');
  if (!rows.some((r) => r.table === table)) throw new Error(`Error during planning: table 'public.iox.${table}' not found`);
  for (const it of items) {
    if (it.kind !== 'time' && it.kind !== 'bucket' && !rows.some((r) => r.table === table && it.name in r.fields)) {
      throw new Error(`Schema error: No field named ${it.name}. Valid fields are …`);
    }
  }
  const matched = rows.filter((r) => r.table === table && preds.every((p) => p(r)));
  const timeMs = (r: FakeRow) => Number(r.timeNs / 1_000_000n);
  let out: Record<string, unknown>[];
  const bucket = items.find((i) => i.kind === 'bucket');
  if (bucket && groupBy === bucket.alias) {
    const groups = new Map<number, FakeRow[]>();
    for (const r of matched) {
      const b = Math.floor(timeMs(r) / bucket.stepMs!) * bucket.stepMs!;
      groups.set(b, [...(groups.get(b) ?? []), r]);
    }
    out = [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([b, group]) => {
      const row: Record<string, unknown> = { [bucket.alias]: iso(b) };
      for (const it of items.filter((i) => i.kind === 'agg')) {
        const vals = group.map((r) => toNum(r.fields[it.name])).filter((v): v is number => v !== undefined);
        row[it.alias] = vals.length === 0 ? null
          : it.fn === 'avg' ? vals.reduce((a, v) => a + v, 0) / vals.length : it.fn === 'min' ? Math.min(...vals) : Math.max(...vals);
      }
      return row;
    });
  } else {
    if (groupBy || items.some((i) => i.kind !== 'time' && i.kind !== 'col')) throw new Error(`fake cannot evaluate: ${sql}`);
    const sorted = orderBy === 'time' ? [...matched].sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0)) : matched;
    if (desc) sorted.reverse();
    out = sorted.map((r) => Object.fromEntries(items.map((i) => [i.alias, i.kind === 'time' ? iso(timeMs(r)) : toNum(r.fields[i.name]) ?? r.fields[i.name]])));
  }
  return limit ? out.slice(0, Number(limit)) : out;
}

export interface InfluxFake {
  url: string;
  rows: FakeRow[];
  requests: FakeRequest[];
  /** rows of one table (optionally one VM), oldest first */
  table(name: string, vmId?: number): FakeRow[];
  setMode(mode: FakeMode, retryAfterSec?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startInfluxFake(opts: { token?: string } = {}): Promise<InfluxFake> {
  const rows: FakeRow[] = [];
  const requests: FakeRequest[] = [];
  const columns = new Map<string, ColType>(); // "table\0column" → type
  let mode: FakeMode = 'ok';
  let retryAfterSec = 1;

  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };

  function write(body: string, precision: string): [number, unknown] {
    const precisionNs = PRECISION_NS[precision || 'ns'];
    if (!precisionNs) return [400, { error: `invalid precision: ${precision}` }];
    const errors: { original_line: string; line_number: number; error_message: string }[] = [];
    body.split('\n').forEach((line, i) => {
      if (line.trim() === '' || line.startsWith('#')) return;
      try {
        const { row, types } = parseLine(line, precisionNs);
        for (const [col, type] of Object.entries(types)) {
          const known = columns.get(`${row.table}\0${col}`);
          if (known && known !== type) throw new Error(`invalid column type for column '${col}', expected iox::column_type::field::${known}, got iox::column_type::field::${type}`);
        }
        for (const [col, type] of Object.entries(types)) columns.set(`${row.table}\0${col}`, type);
        rows.push(row);
      } catch (err) {
        errors.push({ original_line: line, line_number: i + 1, error_message: (err as Error).message });
      }
    });
    return errors.length ? [400, { error: 'partial write of line protocol occurred', data: errors }] : [204, undefined];
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      const body = raw.toString('utf8');
      const isWrite = url.pathname === '/api/v3/write_lp' || url.pathname === '/api/v2/write';
      const record = (status: number) => requests.push({
        path: url.pathname, at: Date.now(), status, authorization: req.headers.authorization,
        lines: isWrite ? body.split('\n').filter((l) => l.trim() !== '').length : 0,
      });
      if (mode === 500 || mode === 503) { record(mode); return json(res, mode, { error: 'fake: service unavailable' }); }
      if (mode === 429) { record(429); return json(res, 429, { error: 'fake: too many requests' }, { 'retry-after': String(retryAfterSec) }); }
      const auth = req.headers.authorization ?? '';
      if (opts.token && auth !== `Bearer ${opts.token}` && auth !== `Token ${opts.token}`) { record(401); return json(res, 401, { error: 'unauthorized access' }); }
      if (isWrite && req.method === 'POST') {
        const db = url.searchParams.get(url.pathname === '/api/v2/write' ? 'bucket' : 'db');
        if (!db) { record(400); return json(res, 400, { error: 'missing database' }); }
        const [status, answer] = write(body, url.searchParams.get('precision') ?? 'ns');
        record(status);
        return status === 204 ? res.writeHead(204).end() : json(res, status, answer);
      }
      if (url.pathname === '/api/v3/query_sql') {
        const params = req.method === 'POST' ? (JSON.parse(body || '{}') as Record<string, string>) : Object.fromEntries(url.searchParams);
        try {
          const out = evaluateSql(params.q ?? '', rows);
          record(200);
          return json(res, 200, out);
        } catch (err) {
          record(400);
          return json(res, 400, { error: (err as Error).message });
        }
      }
      record(404);
      json(res, 404, { error: 'not found' });
    });
  });

  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const stop = () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });

  return {
    url: `http://127.0.0.1:${port}`,
    rows,
    requests,
    table: (name, vmId) => rows.filter((r) => r.table === name && (vmId === undefined || r.tags.vm_id === String(vmId))),
    async setMode(next, retryAfter = 1) {
      retryAfterSec = retryAfter;
      if (next === 'refuse' && mode !== 'refuse' && server.listening) await stop();
      if (next !== 'refuse' && !server.listening) await listen(port);
      mode = next;
    },
    close: async () => { if (server.listening) await stop(); },
  };
}

// ---- Snapshot fixtures for the store's tests (what the collector hands the store per VM per tick) ----

/** A fresh, fully reported VM sample; counters grow with `tick` so successive rows differ. */
export function snapshotFixture(vmId: number, ts: number, tick = 0, over: Partial<MetricSnapshot> = {}): MetricSnapshot {
  const t = BigInt(tick);
  return {
    vmId, hostId: 1, hostName: 'host-a', vmName: `vm-${vmId}`, uuid: `00000000-0000-4000-8000-${String(vmId).padStart(12, '0')}`,
    ts, state: 'running', cpus: 2,
    metrics: {
      cputime: 9_007_199_254_740_993n + t * 1_000_000n, timeusr: 5_000_000_000n + t, timesys: 1_000_000_000n + t,
      memactual: 1_048_576n, memrss: 524_288n, memavailable: 1_000_000n, memusable: 800_000n, memdisk_cache: 65_536n,
      memswap_in: 0n, memswap_out: 0n, memmajor_fault: 12n, memminor_fault: 3_456n + t,
      net_rxbytes: 1_000n + t, net_rxpackets: 10n, net_rxerrors: 0n, net_rxdrops: 0n,
      net_txbytes: 2_000n + t, net_txpackets: 20n, net_txerrors: 0n, net_txdrops: 0n,
      disk_rd_req: 5n, disk_rd_bytes: 4_096n + t, disk_wr_reqs: 6n, disk_wr_bytes: 8_192n + t, disk_errors: 0n,
    },
    nics: [{ name: 'vnet0', rxbytes: 1_000n + t, rxpackets: 10n, rxerrors: 0n, rxdrops: 0n, txbytes: 2_000n + t, txpackets: 20n, txerrors: 0n, txdrops: 0n }],
    disks: [{ name: 'vda', rd_req: 5n, rd_bytes: 4_096n + t, wr_reqs: 6n, wr_bytes: 8_192n + t, errors: 0n, allocation: 1n << 30n, capacity: 10n << 30n }],
    memoryMax: 2_097_152n,
    rates: { cputime: 1e9, net_rxbytes: 1, net_txbytes: 1 },
    angles: { cputime: 90, net_rxbytes: 45, net_txbytes: 45 },
    cpuPct: { user: 10 + (tick % 10), system: 5, total: 15 + (tick % 10) },
    memPct: 50,
    stale: false, ageMs: 0,
    ...over,
  };
}

/** A real pino logger whose output the test can read (to prove what is, and is not, logged). */
export function captureLogger(): { log: Logger; output: string[] } {
  const output: string[] = [];
  return { log: pino({ level: 'debug' }, { write: (s: string) => void output.push(s) }), output };
}

export async function waitFor(check: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
