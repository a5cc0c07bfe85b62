// FAKE InfluxDB 3 Core, part 2 of 3: line protocol parsing, the catalog (databases, tables, typed columns,
// limits) and the rows. Every rule cites the InfluxDB 3 Core source it mirrors (influxdata/influxdb v3.10.1).
// Not InfluxDB: only what vmpulse's store and its tests exercise.

export type FieldVal = bigint | number | boolean | string;
export type ColType = 'tag' | 'timestamp' | 'integer' | 'uinteger' | 'float' | 'boolean' | 'string';
export interface FakeRow { table: string; timeNs: bigint; tags: Record<string, string>; fields: Record<string, FieldVal> }
/** WriteLineError, influxdb3_types/src/write.rs */
export interface LineError { error_message: string; line_number: number; original_line: string }

/**
 * Core's catalog limits: CORE_NUM_DBS_LIMIT, CORE_NUM_TABLES_LIMIT, CORE_NUM_COLUMNS_PER_TABLE_LIMIT
 * (influxdb3/src/commands/serve.rs). Tables count across all databases (CatalogLimits/usage,
 * influxdb3_catalog/src/catalog/versions/v3/usage.rs); columns are tags + fields, `time` exempt
 * (TableTransaction::check_columns_limit, …/v3/transaction.rs).
 */
export interface FakeLimits { dbs: number; tables: number; columnsPerTable: number }
export const CORE_LIMITS: FakeLimits = { dbs: 5, tables: 2000, columnsPerTable: 500 };

/** influxdb3_catalog/src/catalog.rs: RESERVED_COLUMN_NAMES */
const RESERVED = new Set(['time', '__chunk_order']);

/** Display of InfluxColumnType (core/schema/src/lib.rs). */
const TYPE_NAME: Record<ColType, string> = {
  tag: 'iox::column_type::tag', timestamp: 'iox::column_type::timestamp',
  integer: 'iox::column_type::field::integer', uinteger: 'iox::column_type::field::uinteger',
  float: 'iox::column_type::field::float', boolean: 'iox::column_type::field::boolean', string: 'iox::column_type::field::string',
};

export type Precision = 'auto' | 's' | 'ms' | 'us' | 'ns';
const MULTIPLIER: Record<Exclude<Precision, 'auto'>, bigint> = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n };

/** Precision::guess_precision, influxdb3_types/src/write.rs: "auto" infers the unit from the magnitude. */
function guessPrecision(ts: bigint): Exclude<Precision, 'auto'> {
  const abs = ts < 0n ? -ts : ts;
  const val = abs / 1_000_000_000n;
  if (val < 5n) return 's';
  if (val < 5_000n) return 'ms';
  if (val < 5_000_000n) return 'us';
  return 'ns';
}

// ---- line protocol (core/influxdb_line_protocol/src/lib.rs; error texts are its `Error` displays) ----

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

function parseValue(raw: string): [Exclude<ColType, 'tag' | 'timestamp'>, FieldVal] {
  if (raw.startsWith('"')) {
    if (raw.length < 2 || !raw.endsWith('"')) throw new Error(`Could not parse entire line. Found trailing content: \`${raw}\``);
    return ['string', raw.slice(1, -1).replace(/\\(["\\])/g, '$1')];
  }
  if (/^-?\d+i$/.test(raw)) {
    const v = BigInt(raw.slice(0, -1));
    if (v > 2n ** 63n - 1n || v < -(2n ** 63n)) throw new Error(`Unable to parse integer value \`${raw.slice(0, -1)}\``);
    return ['integer', v];
  }
  if (/^\d+u$/.test(raw)) return ['uinteger', BigInt(raw.slice(0, -1))];
  if (/^(t|T|true|True|TRUE)$/.test(raw)) return ['boolean', true];
  if (/^(f|F|false|False|FALSE)$/.test(raw)) return ['boolean', false];
  // field_float_value: digits[.digits][e[+-]digits], optional leading minus
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(raw)) return ['float', Number(raw)];
  throw new Error(`Unable to parse floating-point value \`${raw}\``);
}

export interface ParsedLine { table: string; tags: [string, string][]; fields: [string, ColType, FieldVal][]; timestamp?: bigint }

export function parseLine(line: string): ParsedLine {
  // Quotes mean nothing in the measurement and tags, only in the field set.
  const [key, rest] = split(line, ' ', false, 2);
  if (rest === undefined || rest.trim() === '') throw new Error('No fields were provided');
  const [fieldSet, ts, extra] = split(rest, ' ', true);
  if (extra !== undefined) throw new Error(`Could not parse entire line. Found trailing content: \`${extra}\``);
  const [measurement, ...tagParts] = split(key!, ',', false);
  if (!measurement) throw new Error('Invalid measurement was provided');
  const tags: [string, string][] = [];
  for (const t of tagParts) {
    const [k, v] = split(t, '=', false, 2);
    if (!k || !v) throw new Error('Tag set malformed');
    if (tags.some(([seen]) => seen === unescapeKey(k))) throw new Error(`Must not contain duplicate tags, but \`${unescapeKey(k)}\` was repeated`);
    tags.push([unescapeKey(k), unescapeKey(v)]);
  }
  if (!fieldSet) throw new Error('No fields were provided');
  const fields: [string, ColType, FieldVal][] = [];
  for (const f of split(fieldSet, ',', true)) {
    const [k, v] = split(f, '=', true, 2);
    if (!k || v === undefined) throw new Error('No fields were provided');
    const [type, value] = parseValue(v);
    fields.push([unescapeKey(k), type, value]);
  }
  if (ts !== undefined && !/^-?\d+$/.test(ts)) throw new Error(`Unable to parse timestamp value \`${ts}\``);
  return { table: unescapeKey(measurement), tags, fields, ...(ts !== undefined ? { timestamp: BigInt(ts) } : {}) };
}

/** parse_lines + trim_leading: blank and `#` comment lines are skipped and not numbered. */
export function lineProtocolLines(body: string): string[] {
  return body.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
}

// ---- catalog and rows ----

interface Table { columns: Map<string, ColType>; rows: Map<string, FakeRow> }
export interface Database { tables: Map<string, Table> }

export class FakeCatalog {
  readonly dbs = new Map<string, Database>();
  constructor(readonly limits: FakeLimits) {}

  get tableCount(): number {
    let n = 0;
    for (const db of this.dbs.values()) n += db.tables.size;
    return n;
  }

  /**
   * Catalog::begin_database_transaction (…/v3/catalog.rs): a missing database is created on the first write,
   * unless that would pass the database limit: CatalogError::TooManyDbs.
   */
  database(name: string): Database {
    let db = this.dbs.get(name);
    if (!db) {
      if (this.dbs.size >= this.limits.dbs) throw new Error(`Adding a new database would exceed limit of ${this.limits.dbs} databases`);
      db = { tables: new Map() };
      this.dbs.set(name, db);
    }
    return db;
  }

  /** A deep copy to restore when an all-or-nothing write fails (the catalog transaction is dropped). */
  snapshot(): Map<string, Database> {
    return new Map([...this.dbs].map(([n, db]) => [n, { tables: new Map([...db.tables].map(([t, tb]) => [t, { columns: new Map(tb.columns), rows: new Map(tb.rows) }])) }]));
  }

  restore(saved: Map<string, Database>): void {
    this.dbs.clear();
    for (const [k, v] of saved) this.dbs.set(k, v);
  }

  /**
   * validate_and_qualify_v1_line (influxdb3_write/src/write_buffer/validator.rs): table, then tags, then
   * fields, then `time`, each through DatabaseCatalogTransaction::column_or_create (…/v3/transaction.rs).
   * Catalog changes stay even when a later column of the line fails (one transaction per request).
   */
  validate(db: Database, line: ParsedLine, precision: Precision, ingestNs: bigint): FakeRow {
    let table = db.tables.get(line.table);
    if (!table) {
      const current = this.tableCount;
      if (current >= this.limits.tables) {
        throw new Error(`Update to schema would exceed number of tables limit: attempted to create table but already have ${current} table(s) (limit: ${this.limits.tables})`);
      }
      table = { columns: new Map(), rows: new Map() };
      db.tables.set(line.table, table);
    }
    const column = (name: string, type: ColType) => {
      const existing = table.columns.get(name);
      if (existing !== undefined) {
        if (existing !== type) throw new Error(`invalid column type for column '${name}', expected ${TYPE_NAME[existing]}, got ${TYPE_NAME[type]}`);
        return;
      }
      // add_tag / add_field: TableDefinition::check_name, then check_columns_limit
      if (RESERVED.has(name)) throw new Error(`'${name}' is a reserved column`);
      let n = 0;
      for (const t of table.columns.values()) if (t !== 'timestamp') n++;
      if (n >= this.limits.columnsPerTable) throw new Error(`Update to schema would exceed number of columns per table limit of ${this.limits.columnsPerTable} columns`);
      table.columns.set(name, type);
    };
    for (const [k] of line.tags) column(k, 'tag');
    const seen = new Set<string>();
    for (const [k, type] of line.fields) {
      column(k, type);
      if (seen.has(k)) throw new Error(`invalid line protocol - multiple instances of '${k}' field found`);
      seen.add(k);
    }
    if (!table.columns.has('time')) table.columns.set('time', 'timestamp');
    let timeNs: bigint;
    if (line.timestamp === undefined) timeNs = ingestNs;
    else {
      const unit = precision === 'auto' ? guessPrecision(line.timestamp) : precision;
      timeNs = line.timestamp * MULTIPLIER[unit];
      if (timeNs > 2n ** 63n - 1n || timeNs < -(2n ** 63n)) throw new Error(`timestamp, ${line.timestamp}, out of range for precision: ${precision}`);
    }
    return {
      table: line.table, timeNs,
      tags: Object.fromEntries(line.tags), fields: Object.fromEntries(line.fields.map(([k, , v]) => [k, v])),
    };
  }

  /**
   * Rows with the same table, tag set and time are one row; the later write's fields win (query-time
   * deduplication, core/iox_query DeduplicateExec).
   */
  store(db: Database, row: FakeRow): void {
    const table = db.tables.get(row.table)!;
    const key = `${Object.entries(row.tags).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(',')}@${row.timeNs}`;
    const prev = table.rows.get(key);
    table.rows.set(key, prev ? { ...prev, fields: { ...prev.fields, ...row.fields } } : row);
  }

  rows(database: string, table: string): FakeRow[] {
    const rows = [...(this.dbs.get(database)?.tables.get(table)?.rows.values() ?? [])];
    return rows.sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0));
  }

  columns(database: string, table: string): ReadonlyMap<string, ColType> | undefined {
    return this.dbs.get(database)?.tables.get(table)?.columns;
  }
}

/** WriteLineError's Serialize: `original_line` cut at 20 bytes (influxdb3_types/src/write.rs). */
export function lineError(line: string, lineNumber: number, message: string): LineError {
  let cut = Buffer.from(line).subarray(0, 20).toString('utf8');
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return { error_message: message, line_number: lineNumber, original_line: cut };
}
