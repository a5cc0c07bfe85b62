// One INSERT per write, however many VMs: every column travels as one array parameter and
// unnest() turns the arrays back into rows. The statement text never changes, so it is prepared
// once per connection and each tick is a single Bind/Execute round trip.
import type { QueryConfig } from 'pg';
import { COUNTER_METRICS, METRIC_NAMES } from '../../../domain/metrics.js';
import type { MetricSnapshot } from '../../../domain/snapshot.js';
import { RAW_COLUMNS, RAW_TABLE, q } from './postgres-columns.js';

const INSERT_TEXT =
  `INSERT INTO ${RAW_TABLE} (${RAW_COLUMNS.map((c) => q(c.name)).join(', ')})\n` +
  `SELECT * FROM unnest(${RAW_COLUMNS.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ')})\n` +
  // A retried write whose first attempt did commit (the reply was lost) must not fail again.
  `ON CONFLICT DO NOTHING`;

// NaN or ±Infinity from a division upstream is "no value", not a number to chart.
const finite = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function buildInsert(rows: readonly MetricSnapshot[]): QueryConfig {
  const cols: unknown[][] = RAW_COLUMNS.map(() => new Array(rows.length));
  rows.forEach((s, r) => {
    let c = 0;
    const put = (v: unknown) => void ((cols[c++] as unknown[])[r] = v);
    put(s.vmId);
    put(new Date(s.ts).toISOString());
    put(s.state);
    put(s.cpus);
    put(s.stale);
    // BigInt as decimal text: exact past 2^53, and NULL (not 0) when the hypervisor is silent.
    for (const m of METRIC_NAMES) put(s.metrics[m]?.toString() ?? null);
    for (const m of COUNTER_METRICS) put(finite(s.rates[m]));
    put(finite(s.cpuPct.total));
    put(finite(s.cpuPct.user));
    put(finite(s.cpuPct.system));
    put(finite(s.memPct));
  });
  return { name: 'vmpulse_vmsample_insert', text: INSERT_TEXT, values: cols };
}

/** Earliest sample time in a batch (ms): late rows send the rollup back to re-roll their minutes. */
export const earliestTs = (rows: readonly MetricSnapshot[]) => rows.reduce((m, s) => Math.min(m, s.ts), Infinity);
