// 1-minute and 1-hour rollups that vmpulse computes itself and writes beside the raw rows, so long history
// ranges read a few rows per bucket instead of every sample. InfluxDB 3 Core has no downsampling of its own
// and refuses queries that would scan more than 432 Parquet files (--query-file-limit, ~72 h of one table
// at the default 10-minute gen1 duration): 7 and 30 days must come from smaller tables.
//
// Tables (tags as every table: host, domain_name, vm_id; time = bucket start):
//   vmpulse_vm_1m, vmpulse_vm_1h
//     samples                            int, raw samples folded in
//     <f>_sum, <f>_min, <f>_max          float, for the charted fields f: cpu_pct, cpu_user_pct, cpu_system_pct,
//     <f>_count                          int    mem_pct, the counters' <c>_rate, and the gauges (memactual, …)
//     <c>_last                           int, each counter's value at the end of the bucket (an average of a
//                                        counter means little; max() would be wrong across a VM restart)
// A field absent from every sample of a bucket is absent from its row (sum/count make averages exact when
// buckets of different sizes are merged; count says how many samples had the field).
//
// A bucket closes when a sample of the same VM for a later bucket arrives, or when a tick's time passes its end by
// CLOSE_GRACE_MS (a VM that stopped); a closed minute folds into its hour, which closes the same way.
// close() writes the open buckets as they are: after a restart, that minute's and hour's rows are written
// again from what the new process saw, and InfluxDB keeps the last write of a row (same tags and time).
import { COUNTER_METRICS, GAUGE_METRICS, type CounterMetric } from '../../../domain/metrics.js';
import type { MetricSnapshot } from '../../../domain/snapshot.js';
import { assertColumnNames, intValue, vmTags } from './influxdb3-line-protocol.js';
import type { HistoryField } from '../../../domain/history.js';
import { HOUR_MS, MINUTE_MS, floorTo } from '../../../lib/time.js';

export const MINUTE_TABLE = 'vmpulse_vm_1m';
export const HOUR_TABLE = 'vmpulse_vm_1h';
/** A minute counts as closed this long after its end: the tick stamped 59.9 s may still be in flight. */
const CLOSE_GRACE_MS = 5_000;

/** Fields kept as sum/count/min/max. */
const STAT_FIELDS = [
  'cpu_pct', 'cpu_user_pct', 'cpu_system_pct', 'mem_pct',
  ...COUNTER_METRICS.map((c) => `${c}_rate` as const),
  ...GAUGE_METRICS,
] as const satisfies readonly HistoryField[];
/** Counters keep their last value. */
const LAST_FIELDS: readonly CounterMetric[] = COUNTER_METRICS;

export const isLastField = (f: HistoryField): f is CounterMetric => (LAST_FIELDS as readonly string[]).includes(f);

assertColumnNames(MINUTE_TABLE, ['samples', ...STAT_FIELDS.flatMap((f) => [`${f}_sum`, `${f}_count`, `${f}_min`, `${f}_max`]), ...LAST_FIELDS.map((c) => `${c}_last`)]);

const N = STAT_FIELDS.length;

function statValues(s: MetricSnapshot, out: Float64Array): void {
  out[0] = s.cpuPct.total ?? NaN;
  out[1] = s.cpuPct.user ?? NaN;
  out[2] = s.cpuPct.system ?? NaN;
  out[3] = s.memPct ?? NaN;
  let i = 4;
  for (const c of COUNTER_METRICS) out[i++] = s.rates[c] ?? NaN;
  for (const g of GAUGE_METRICS) {
    const v = s.metrics[g];
    out[i++] = v === undefined ? NaN : Number(v);
  }
}

class Bucket {
  samples = 0;
  readonly sum = new Float64Array(N);
  readonly count = new Float64Array(N);
  readonly min = new Float64Array(N).fill(Infinity);
  readonly max = new Float64Array(N).fill(-Infinity);
  readonly last: (bigint | undefined)[] = new Array<bigint | undefined>(LAST_FIELDS.length);

  constructor(
    readonly start: number,
    public tags: string,
  ) {}

  addSample(values: Float64Array, s: MetricSnapshot): void {
    this.samples++;
    for (let i = 0; i < N; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      this.sum[i]! += v;
      this.count[i]! += 1;
      if (v < this.min[i]!) this.min[i] = v;
      if (v > this.max[i]!) this.max[i] = v;
    }
    LAST_FIELDS.forEach((c, i) => {
      const v = s.metrics[c];
      if (v !== undefined) this.last[i] = v;
    });
  }

  addBucket(b: Bucket): void {
    this.samples += b.samples;
    this.tags = b.tags;
    for (let i = 0; i < N; i++) {
      if (b.count[i] === 0) continue;
      this.sum[i]! += b.sum[i]!;
      this.count[i]! += b.count[i]!;
      if (b.min[i]! < this.min[i]!) this.min[i] = b.min[i]!;
      if (b.max[i]! > this.max[i]!) this.max[i] = b.max[i]!;
    }
    b.last.forEach((v, i) => {
      if (v !== undefined) this.last[i] = v;
    });
  }

  line(table: string): string {
    let fields = `samples=${this.samples}i`;
    for (let i = 0; i < N; i++) {
      if (this.count[i] === 0) continue;
      const f = STAT_FIELDS[i];
      fields += `,${f}_sum=${this.sum[i]},${f}_count=${this.count[i]}i,${f}_min=${this.min[i]},${f}_max=${this.max[i]}`;
    }
    this.last.forEach((v, i) => {
      if (v !== undefined) fields += `,${LAST_FIELDS[i]}_last=${intValue(v)}`;
    });
    return `${table}${this.tags} ${fields} ${this.start}`;
  }
}

interface VmRollup {
  minute: Bucket | null;
  hour: Bucket | null;
  /** samples before this time belong to buckets already written */
  closedUntil: number;
}


export class Rollups {
  private readonly vms = new Map<number, VmRollup>();
  private readonly values = new Float64Array(N);

  /** Folds a fresh sample in; lines of buckets it closes are appended to `out`. */
  add(s: MetricSnapshot, out: string[]): void {
    const ts = Math.trunc(s.ts);
    let vm = this.vms.get(s.vmId);
    if (!vm) {
      vm = { minute: null, hour: null, closedUntil: -Infinity };
      this.vms.set(s.vmId, vm);
    }
    if (ts < vm.closedUntil) return; // late for a minute already written; the raw row still has it
    const start = floorTo(ts, MINUTE_MS);
    if (vm.minute && vm.minute.start !== start) this.closeMinute(vm, out);
    if (vm.hour && vm.hour.start !== floorTo(ts, HOUR_MS)) this.closeHour(vm, out);
    vm.minute ??= new Bucket(start, vmTags(s));
    vm.minute.tags = vmTags(s);
    statValues(s, this.values);
    vm.minute.addSample(this.values, s);
  }

  /** Closes every bucket whose end is more than CLOSE_GRACE_MS before `now` (VMs that stopped sampling). */
  closeDue(now: number, out: string[]): void {
    for (const vm of this.vms.values()) {
      if (vm.minute && vm.minute.start + MINUTE_MS + CLOSE_GRACE_MS <= now) this.closeMinute(vm, out);
      if (vm.hour && vm.hour.start + HOUR_MS + CLOSE_GRACE_MS <= now) this.closeHour(vm, out);
    }
  }

  /** Writes every open bucket (at close). */
  flush(out: string[]): void {
    for (const vm of this.vms.values()) {
      if (vm.minute) this.closeMinute(vm, out);
      if (vm.hour) this.closeHour(vm, out);
    }
  }

  private closeMinute(vm: VmRollup, out: string[]): void {
    const m = vm.minute!;
    vm.minute = null;
    vm.closedUntil = m.start + MINUTE_MS;
    out.push(m.line(MINUTE_TABLE));
    const hourStart = floorTo(m.start, HOUR_MS);
    if (vm.hour && vm.hour.start !== hourStart) this.closeHour(vm, out);
    vm.hour ??= new Bucket(hourStart, m.tags);
    vm.hour.addBucket(m);
  }

  private closeHour(vm: VmRollup, out: string[]): void {
    out.push(vm.hour!.line(HOUR_TABLE));
    vm.hour = null;
  }
}
