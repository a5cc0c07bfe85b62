// Seed 004 writes timestamps with the server's UTC offset ("2025-09-09T11:38:39+01:00"): contexts
// to the second, jobs, disks and CBT records to the millisecond. One formatter for both.

const pad = (n: number, w = 2) => String(Math.trunc(Math.abs(n))).padStart(w, '0');

/** ISO 8601 in the process's local time with its offset (+00:00, never Z). */
export function seedTime(d: Date, precision: 's' | 'ms'): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const base = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const frac = precision === 'ms' ? `.${pad(d.getMilliseconds(), 3)}` : '';
  return `${base}${frac}${sign}${pad(off / 60)}:${pad(off % 60)}`;
}

export const seedTimeOrNull = (d: Date | null | undefined, precision: 's' | 'ms') => (d ? seedTime(d, precision) : null);
