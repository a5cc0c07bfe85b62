// Formatting of metric values for people: bytes as KB/MB/GB/TB, nanoseconds as seconds, N/A when missing.
// Values may arrive as numbers or as decimal strings (the BigInt scalar keeps 64-bit counters exact).

export const NA = 'N/A';

type Numeric = number | string | bigint | null | undefined;

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

function toNumber(v: Numeric): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

/** 1536 → "1.5 KB" (1024-based, up to TB); null → "N/A". */
export function formatBytes(v: Numeric, digits = 1): string {
  const n = toNumber(v);
  if (n === null) return NA;
  let value = Math.abs(n);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const sign = n < 0 ? '-' : '';
  return unit === 0 ? `${sign}${Math.round(value)} B` : `${sign}${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** A value in KiB (libvirt's memory unit) shown like bytes: 4194304 → "4.0 GB". */
export function formatKiB(v: Numeric): string {
  const n = toNumber(v);
  return n === null ? NA : formatBytes(n * 1024);
}

/** Bytes per second: "12.3 MB/s". */
export function formatRate(v: Numeric): string {
  const s = formatBytes(v);
  return s === NA ? NA : `${s}/s`;
}

/** Nanoseconds → seconds, exact for 64-bit counters given as strings: "1234567890" → "1.23 s". */
export function formatNsAsSeconds(v: Numeric, digits = 2): string {
  if (v === null || v === undefined || v === '') return NA;
  let ns: bigint;
  try {
    ns = typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(Math.round(v)) : BigInt(v);
  } catch {
    return NA;
  }
  const negative = ns < 0n;
  if (negative) ns = -ns;
  const scale = 10n ** BigInt(digits);
  // round half up at the requested number of decimals
  const scaled = (ns * scale + 500_000_000n) / 1_000_000_000n;
  const whole = scaled / scale;
  const frac = (scaled % scale).toString().padStart(digits, '0');
  return `${negative ? '-' : ''}${groupDigits(whole.toString())}${digits ? `.${frac}` : ''} s`;
}

/** 12.345 → "12.3 %"; null → "N/A". */
export function formatPct(v: Numeric, digits = 1): string {
  const n = toNumber(v);
  return n === null ? NA : `${n.toFixed(digits)} %`;
}

/** Counts (exact for decimal strings): "1234567" → "1,234,567". */
export function formatCount(v: Numeric): string {
  if (v === null || v === undefined || v === '') return NA;
  const s = String(v);
  if (!/^-?\d+$/.test(s)) {
    const n = toNumber(v);
    return n === null ? NA : n.toLocaleString('en-US');
  }
  return s.startsWith('-') ? `-${groupDigits(s.slice(1))}` : groupDigits(s);
}

function groupDigits(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** "2026-11-22T10:00:05.000Z" → "10:00:05" in the viewer's time zone. */
export function formatClock(iso: string | number): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? NA : d.toLocaleTimeString(undefined, { hour12: false });
}
