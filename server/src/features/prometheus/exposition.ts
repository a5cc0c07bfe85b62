// The two exposition formats Prometheus reads, written as strings: the text format 0.0.4 and
// OpenMetrics 1.0.0. They differ in the content type, in a counter family's name (OpenMetrics names
// the family without `_total`, its samples keep it) and in the closing `# EOF`; sample lines are
// the same, so the VM part is built once and shared by both.

export type Format = 'text' | 'openmetrics';

export const CONTENT_TYPES: Readonly<Record<Format, string>> = {
  text: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Family {
  /** the name its samples carry (a counter's ends in `_total`) */
  name: string;
  help: string;
  type: FamilyType;
}

/**
 * Picks the format as Prometheus' own client library does (expfmt.Negotiate): the Accept entries
 * by quality, the first that names OpenMetrics (version 1.0.0, 0.0.1 or none) or the text format
 * (version 0.0.4 or none) wins; anything else, or no Accept at all, gets the text format.
 */
export function negotiate(accept: string | string[] | undefined): Format {
  const header = Array.isArray(accept) ? accept.join(',') : accept;
  if (!header) return 'text';
  const entries = header.split(',').map((part, i) => {
    const [type = '', ...params] = part.split(';').map((p) => p.trim());
    let q = 1;
    let version: string | undefined;
    for (const p of params) {
      const eq = p.indexOf('=');
      const key = p.slice(0, eq).trim().toLowerCase();
      const value = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
      if (key === 'q') q = Number(value);
      else if (key === 'version') version = value;
    }
    return { type: type.toLowerCase(), q: Number.isFinite(q) ? q : 0, version, i };
  });
  entries.sort((a, b) => b.q - a.q || a.i - b.i);
  for (const e of entries) {
    if (e.q <= 0) continue;
    if (e.type === 'application/openmetrics-text' && (e.version === undefined || e.version === '1.0.0' || e.version === '0.0.1')) return 'openmetrics';
    if (e.type === 'text/plain' && (e.version === undefined || e.version === '0.0.4')) return 'text';
  }
  return 'text';
}

/** A label value inside double quotes: backslash, double quote and newline escaped. */
function escapeLabel(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

function escapeHelp(help: string, format: Format): string {
  const s = help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  // OpenMetrics escapes double quotes in HELP too.
  return format === 'openmetrics' ? s.replace(/"/g, '\\"') : s;
}

/** `{a="x",b="y"}`, or '' without labels. Names are ours (valid); values are escaped. */
export function labelSet(labels: readonly (readonly [string, string])[]): string {
  if (!labels.length) return '';
  let out = '{';
  for (let i = 0; i < labels.length; i++) out += `${i ? ',' : ''}${labels[i]![0]}="${escapeLabel(labels[i]![1])}"`;
  return `${out}}`;
}

/** A JS number as both formats write it. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

const NS_PER_S = 1_000_000_000n;

/** Nanoseconds (exact, any size) as seconds in exact decimal: 1500000000n → "1.5". */
export function nsToSeconds(ns: bigint): string {
  const neg = ns < 0n;
  const abs = neg ? -ns : ns;
  const whole = abs / NS_PER_S;
  const frac = (abs % NS_PER_S).toString().padStart(9, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/** The `# HELP` and `# TYPE` lines of a family in a format. */
export function familyHeader(f: Family, format: Format): string {
  // OpenMetrics: a counter family is named without `_total` (its samples keep it).
  const name = format === 'openmetrics' && f.type === 'counter' && f.name.endsWith('_total') ? f.name.slice(0, -6) : f.name;
  const type = format === 'openmetrics' && f.type === 'untyped' ? 'unknown' : f.type;
  return `# HELP ${name} ${escapeHelp(f.help, format)}\n# TYPE ${name} ${type}\n`;
}

/** The end of an exposition: OpenMetrics closes with `# EOF`. */
export const trailer = (format: Format) => (format === 'openmetrics' ? '# EOF\n' : '');
