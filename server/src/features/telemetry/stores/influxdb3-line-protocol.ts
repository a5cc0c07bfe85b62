// InfluxDB line protocol pieces shared by every table vmpulse writes (lines are assembled in
// influxdb3-lines.ts, influxdb3-telegraf.ts and influxdb3-rollup.ts).
// Escaping rules (docs.influxdata.com, "line protocol" reference):
//   measurement               escape `,`, space and `\`
//   tag key/value, field key  escape `,`, `=`, space and `\`
//   string field value        double-quoted; escape `"` and `\`
// Backslashes are doubled everywhere: "with two contiguous backslashes, the first is interpreted as an
// escape character", so a name ending in `\` cannot swallow the comma or space that follows it.
// A newline ends a line whatever escapes precede it, so CR/LF inside a name are replaced by a space
// (escaped like any space) rather than written raw.

const NEWLINES = /[\r\n]/g;
const NEEDS_ESCAPE = /[,= \\\r\n]/;

/**
 * Column names InfluxDB 3 Core refuses for a tag or field: `RESERVED_COLUMN_NAMES` in
 * influxdb3_catalog/src/catalog.rs (v3.10.1), checked by `TableDefinition::check_name`
 * (influxdb3_catalog/src/catalog/versions/v3/schema/table.rs): "'time' is a reserved column".
 * A line carrying one is rejected whole, so no table vmpulse writes may use them.
 */
const RESERVED_COLUMN_NAMES: ReadonlySet<string> = new Set(['time', '__chunk_order']);

/** Throws for a reserved name: used where a table's field names are declared, never per line. */
export function assertColumnNames(table: string, names: Iterable<string>): void {
  for (const name of names) {
    if (RESERVED_COLUMN_NAMES.has(name)) throw new Error(`${table}: '${name}' is a reserved column in InfluxDB 3`);
  }
}

export function escapeKey(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(NEWLINES, ' ').replace(/[,= \\]/g, (c) => `\\${c}`);
}

export function quoteString(value: string): string {
  if (!/["\\]/.test(value)) return `"${value}"`;
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/**
 * A signed 64-bit integer field value (`…i`). libvirt's unsigned long long counters above 2^63−1 are
 * written as 2^63−1, as Telegraf's influx serializer does without `influx_uint_support`
 * (plugins/serializers/influx/influx.go, appendFieldValue): same column type, same numbers.
 */
export function intValue(v: bigint): string {
  if (v > INT64_MAX) return `${INT64_MAX}i`;
  if (v < INT64_MIN) return `${INT64_MIN}i`;
  return `${v}i`;
}

/** `vm_id` plus the Telegraf tags: the escaped tag set every table of one VM shares (starts with a comma). */
export function vmTags(s: { vmId: number; vmName: string; hostName: string }): string {
  // Tag values may not be empty in line protocol: an unknown name or host leaves its tag out.
  const name = s.vmName ? `,domain_name=${escapeKey(s.vmName)}` : '';
  const host = s.hostName ? `,host=${escapeKey(s.hostName)}` : '';
  return `${name}${host},vm_id=${s.vmId}`;
}
