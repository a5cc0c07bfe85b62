// InfluxDB line protocol escaping (lines are assembled in influxdb3-lines.ts).
// Rules (docs.influxdata.com, "line protocol" reference):
//   measurement               escape `,`, space and `\`
//   tag key/value, field key  escape `,`, `=`, space and `\`
//   string field value        double-quoted; escape `"` and `\`
// Backslashes are doubled everywhere: "with two contiguous backslashes, the first is interpreted as an
// escape character", so a name ending in `\` cannot swallow the comma or space that follows it.
// A newline ends a line whatever escapes precede it, so CR/LF inside a name are replaced by a space
// (escaped like any space) rather than written raw.

const NEWLINES = /[\r\n]/g;
const NEEDS_ESCAPE = /[,= \\\r\n]/;

export function escapeMeasurement(name: string): string {
  if (!NEEDS_ESCAPE.test(name)) return name;
  return name.replace(NEWLINES, ' ').replace(/[, \\]/g, (c) => `\\${c}`);
}

export function escapeKey(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(NEWLINES, ' ').replace(/[,= \\]/g, (c) => `\\${c}`);
}

export function quoteString(value: string): string {
  if (!/["\\]/.test(value)) return `"${value}"`;
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
