// FAKE InfluxDB 3 Core, part 3 of 3: a purpose-built evaluator for the SQL shapes vmpulse's store sends — not
// SQL. Understood: SELECT of time | date_bin(INTERVAL 'N seconds', time) AS a | avg|min|max|sum|count("c") AS "a"
// | "c" AS a, FROM one table, WHERE tag = '…' AND "c" IS NOT NULL AND time >= '…' AND time < '…',
// GROUP BY <bucket>, ORDER BY <bucket> | time [DESC], LIMIT n. Anything else is a fake limitation (400).
// The errors are Core's (influxdata/influxdb v3.10.1): see QueryError.
import type { FakeRow } from './influxdb3-fake-catalog.js';

/** An error Core would answer with this status and body. */
export class QueryError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Core renders timestamps as UTC without a zone, fractional seconds only when there are some (arrow_json). */
const iso = (ms: number) => new Date(ms).toISOString().slice(0, -1).replace(/\.000$/, '');
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

export interface SqlTarget {
  rows(table: string): FakeRow[] | undefined;
  columns(table: string): ReadonlyMap<string, string> | undefined;
  /** Parquet files of `table` a scan of [fromNs, toNs) would open */
  files(table: string, fromNs: bigint | undefined, toNs: bigint | undefined): number;
  queryFileLimit: number;
}

export interface SqlResult { rows: Record<string, unknown>[]; files: number }

export function evaluateSql(sql: string, db: SqlTarget): SqlResult {
  const m = /^SELECT (.+) FROM (\w+) WHERE (.+?)(?: GROUP BY (\w+))?(?: ORDER BY (\w+)( DESC)?)?(?: LIMIT (\d+))?$/.exec(sql.trim());
  if (!m) throw new QueryError(400, `fake cannot evaluate: ${sql}`);
  const [, selectList, table, where, groupBy, orderBy, desc, limit] = m;
  const items: SelectItem[] = topLevelItems(selectList!).map((s) => {
    if (s === 'time') return { kind: 'time', name: 'time', alias: 'time' };
    const bucket = /^date_bin\(INTERVAL '(\d+) seconds', time\) AS (\w+)$/.exec(s);
    if (bucket) return { kind: 'bucket', name: 'time', alias: bucket[2]!, stepMs: Number(bucket[1]) * 1000 };
    const agg = /^(avg|min|max|sum|count)\("(\w+)"\) AS "(\w+)"$/.exec(s);
    if (agg) return { kind: 'agg', fn: agg[1], name: agg[2]!, alias: agg[3]! };
    const col = /^"(\w+)" AS (\w+)$/.exec(s);
    if (col) return { kind: 'col', name: col[1]!, alias: col[2]! };
    throw new QueryError(400, `fake cannot evaluate select item: ${s}`);
  });
  const preds: ((r: FakeRow) => boolean)[] = [];
  const referenced = items.filter((i) => i.kind !== 'time' && i.kind !== 'bucket').map((i) => i.name);
  let fromNs: bigint | undefined;
  let toNs: bigint | undefined;
  for (const cond of where!.split(' AND ')) {
    const time = /^time (>=|<) '([^']+)'$/.exec(cond);
    const tag = /^(\w+) = '([^']*)'$/.exec(cond);
    const notNull = /^"(\w+)" IS NOT NULL$/.exec(cond);
    if (time) {
      const ns = BigInt(Date.parse(time[2]!)) * 1_000_000n;
      if (time[1] === '>=') { fromNs = ns; preds.push((r) => r.timeNs >= ns); } else { toNs = ns; preds.push((r) => r.timeNs < ns); }
    } else if (tag) {
      const [k, v] = [tag[1]!, tag[2]!];
      referenced.push(k);
      preds.push((r) => r.tags[k] === v);
    } else if (notNull) {
      const k = notNull[1]!;
      referenced.push(k);
      preds.push((r) => r.fields[k] !== undefined);
    } else throw new QueryError(400, `fake cannot evaluate condition: ${cond}`);
  }
  // DataFusion plans against the catalog: an unknown table is a planning error (400), an unknown column a
  // schema error (500: datafusion_error_status_code, influxdb3_server/src/http.rs).
  const columns = db.columns(table!);
  if (!columns) throw new QueryError(400, `Error during planning: table 'public.iox.${table}' not found`);
  for (const name of referenced) {
    if (!columns.has(name)) {
      throw new QueryError(500, `Schema error: No field named ${name}. Valid fields are ${[...columns.keys()].map((c) => `${table}.${c}`).join(', ')}.`);
    }
  }
  // WriteBufferImpl::get_table_chunks (influxdb3_write/src/write_buffer/mod.rs): the files the time filter
  // selects are counted before the scan; past --query-file-limit the query fails (DataFusionError::External, 500).
  const files = db.files(table!, fromNs, toNs);
  if (files > db.queryFileLimit) {
    throw new QueryError(500, `External error: Query would scan ${db.queryFileLimit} Parquet files, exceeding the file limit. InfluxDB 3 Core caps file access to prevent performance degradation and memory issues. Use a narrower time range, or increase the limit with --query-file-limit (this may cause slower queries or instability).`);
  }
  const matched = (db.rows(table!) ?? []).filter((r) => preds.every((p) => p(r)));
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
        if (it.fn === 'count') row[it.alias] = vals.length;
        else if (vals.length > 0) {
          // arrow_json leaves null columns out of a row
          row[it.alias] = it.fn === 'avg' ? vals.reduce((a, v) => a + v, 0) / vals.length
            : it.fn === 'sum' ? vals.reduce((a, v) => a + v, 0) : it.fn === 'min' ? Math.min(...vals) : Math.max(...vals);
        }
      }
      return row;
    });
  } else {
    if (groupBy || items.some((i) => i.kind !== 'time' && i.kind !== 'col')) throw new QueryError(400, `fake cannot evaluate: ${sql}`);
    const sorted = orderBy === 'time' ? [...matched].sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0)) : matched;
    if (desc) sorted.reverse();
    out = sorted.map((r) => Object.fromEntries(items.flatMap((i) => {
      const v = i.kind === 'time' ? iso(timeMs(r)) : toNum(r.fields[i.name]) ?? r.fields[i.name];
      return v === undefined ? [] : [[i.alias, v]];
    })));
  }
  return { rows: limit ? out.slice(0, Number(limit)) : out, files };
}
