// MetricSnapshot → InfluxDB 3 line protocol: vmpulse's wide row plus Telegraf's `inputs.libvirt` tables.
//
// Every table is tagged `host` (hypervisor host name), `domain_name` (libvirt domain name) and `vm_id`
// (vmpulse's numeric VM id, as a tag string). Timestamps: integer ms since the epoch, written with
// precision=millisecond. Integers carry the `i` suffix and are exact (BigInt → decimal digits, no 2^53 loss).
// A metric the hypervisor did not report is left out of the line, never written as 0.
//
// Telegraf tables (libvirt_state, libvirt_cpu, libvirt_balloon, libvirt_vcpu_total, libvirt_vcpu, libvirt_net…):
// built from the snapshot's raw libvirt record by influxdb3-telegraf.ts, only for fresh samples (a stale
// snapshot repeats old counters, which Telegraf itself would never emit).
//
// vmpulse wide table `vmpulse_vm` (one row per VM per tick; what raw history() and latestValues() read):
//   <metric>            the 25 seed metrics under their exact names (int, seed units)
//   cpus, memory_max    int (vCPUs; KB)
//   state               string ("running", "shutoff", …)
//   <metric>_rate       float, per second (counters only)
//   <metric>_angle_deg  float, seed 001 feature: atan(rate) in degrees
//   cpu_pct, cpu_user_pct, cpu_system_pct, mem_pct   float, % (absent when unknown)
//   stale               boolean; age_ms int (age of the values when stale)
//   uuid, error         string (error only when the tick could not sample the VM)
// Rollup tables vmpulse_vm_1m / vmpulse_vm_1h: influxdb3-rollup.ts.
import { METRIC_NAMES } from '../../../domain/metrics.js';
import type { MetricSnapshot } from '../../../domain/snapshot.js';
import { assertColumnNames, intValue, quoteString, vmTags } from './influxdb3-line-protocol.js';
import { telegrafLines } from './influxdb3-telegraf.js';

export const WIDE_TABLE = 'vmpulse_vm';

// Hot path (1,000 VMs per tick): field keys are fixed identifiers needing no escaping, the tag set is
// escaped once per VM and shared by its lines, and each line is built as one string.
const RATE_KEYS = METRIC_NAMES.map((m) => [m, `${m}_rate`, `${m}_angle_deg`] as const);

/** Every field the wide row can carry. */
const WIDE_FIELDS: readonly string[] = [
  'state', 'cpus', ...METRIC_NAMES, 'memory_max', ...RATE_KEYS.flatMap(([, rate, angle]) => [rate, angle]),
  'cpu_pct', 'cpu_user_pct', 'cpu_system_pct', 'mem_pct', 'stale', 'age_ms', 'uuid', 'error',
];
assertColumnNames(WIDE_TABLE, WIDE_FIELDS);

let fields = '';
function int(key: string, v: bigint | undefined): void {
  if (v !== undefined) fields += `,${key}=${intValue(v)}`;
}
function float(key: string, v: number | null | undefined): void {
  if (v !== undefined && v !== null && Number.isFinite(v)) fields += `,${key}=${v}`;
}
function str(key: string, v: string | undefined): void {
  if (v !== undefined) fields += `,${key}=${quoteString(v)}`;
}
function emit(out: string[], head: string, ts: number): void {
  if (fields) out.push(`${head} ${fields.slice(1)} ${ts}`);
  fields = '';
}

/** Appends the snapshot's lines to `out` (one array per tick avoids per-VM allocations). */
export function snapshotLines(s: MetricSnapshot, out: string[] = []): string[] {
  const ts = Math.trunc(s.ts);
  const tags = vmTags(s); // starts with a comma
  const m = s.metrics;

  fields = '';
  str('state', s.state);
  int('cpus', BigInt(s.cpus));
  for (const metric of METRIC_NAMES) int(metric, m[metric]);
  int('memory_max', s.memoryMax);
  for (const [metric, rateKey, angleKey] of RATE_KEYS) {
    float(rateKey, s.rates[metric]);
    float(angleKey, s.angles[metric]);
  }
  float('cpu_pct', s.cpuPct.total);
  float('cpu_user_pct', s.cpuPct.user);
  float('cpu_system_pct', s.cpuPct.system);
  float('mem_pct', s.memPct);
  fields += `,stale=${s.stale ? 't' : 'f'}`;
  int('age_ms', BigInt(Math.trunc(s.ageMs)));
  str('uuid', s.uuid || undefined);
  str('error', s.error);
  emit(out, `${WIDE_TABLE}${tags}`, ts);
  if (!s.stale && s.libvirt) telegrafLines(s.libvirt, tags, ts, out);
  return out;
}

/** The wide row is the one line per snapshot: counting acknowledged wide lines counts written snapshots. */
export const isSnapshotLine = (line: string): boolean => line.startsWith(`${WIDE_TABLE},`);
