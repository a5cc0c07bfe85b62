// Raw libvirt stats record → the tables Telegraf's `inputs.libvirt` writes, with Telegraf's names, so
// dashboards built on Telegraf keep working. A port of influxdata/telegraf
// plugins/inputs/libvirt/libvirt_metric_format.go (v1.39.3) for the statistics groups vmpulse collects
// (state, cpu_total, balloon, vcpu, interface, block):
//   translateMetrics      key "<group>.<rest>" → group, rest
//   addStateMetrics       libvirt_state       state, reason
//   addCPUMetrics         libvirt_cpu         time, user, system, haltpoll_success_time, haltpoll_fail_time
//                         libvirt_cpu_cache_monitor_total count
//                         libvirt_cpu_cache_monitor       +cache_monitor_id: name, vcpus, bank_count
//                         libvirt_cpu_cache_monitor_bank  +cache_monitor_id, bank_index: id, bytes
//   addBalloonMetrics     libvirt_balloon     current, maximum, swap_in, swap_out, major_fault, minor_fault, unused,
//                                             available, rss, usable, disk_caches, hugetlb_pgalloc, hugetlb_pgfail,
//                                             last_update (from "last-update")
//   addVcpuMetrics        libvirt_vcpu_total  current, maximum
//                         libvirt_vcpu        +vcpu_id: state, time, wait, delay, halted, halted_i
//   addInterfaceMetrics   libvirt_net_total   count
//                         libvirt_net         +interface_id: name, rx_bytes, rx_pkts, rx_errs, rx_drop, tx_bytes,
//                                             tx_pkts, tx_errs, tx_drop
//   addBlockMetrics       libvirt_block_total count
//                         libvirt_block       +block_id: name, backingIndex, path, rd_reqs, rd_bytes, rd_times,
//                                             wr_reqs, wr_bytes, wr_times, fl_reqs, fl_times, errors, allocation,
//                                             capacity, physical, threshold
// Like Telegraf, a field is written only when libvirt reported it (never as 0) and a table only when it has
// a field. Values are libvirt's own; integers are written as `i` (Telegraf's default serializer).
//
// One difference, forced by InfluxDB 3: `time` (libvirt_cpu and libvirt_vcpu) is a reserved column there,
// and a line carrying it is rejected whole (telegraf#16443). vmpulse writes it as `cpu_time`, the rename
// Telegraf's maintainers suggest for that issue (processors.rename, field "time" → "cpu_time").
// Telegraf's vcpu_mapping extras (libvirt_cpu_affinity, libvirt_vcpu.cpu_id) are not a statistics group and
// are not written.
import { assertColumnNames, escapeKey, intValue, quoteString } from './influxdb3-line-protocol.js';

type StatValue = bigint | number | string | boolean;
export type LibvirtRecord = Readonly<Record<string, StatValue>>;

/** Field renames forced by InfluxDB 3's reserved column names (see the header). */
const TELEGRAF_RENAMES: Readonly<Record<string, string>> = { time: 'cpu_time' };

const STATE_FIELDS = new Set(['state', 'reason']);
/** libvirt key (after "cpu.") → field */
const CPU_FIELDS = new Map([
  ['time', 'time'], ['user', 'user'], ['system', 'system'],
  ['haltpoll.success.time', 'haltpoll_success_time'], ['haltpoll.fail.time', 'haltpoll_fail_time'],
]);
/** libvirt key (after "balloon.") → field */
const BALLOON_FIELDS = new Map([
  ...['current', 'maximum', 'swap_in', 'swap_out', 'major_fault', 'minor_fault', 'unused', 'available', 'rss', 'usable',
    'disk_caches', 'hugetlb_pgalloc', 'hugetlb_pgfail'].map((k) => [k, k] as const),
  ['last-update', 'last_update'],
]);
const VCPU_TOTAL_FIELDS = new Set(['current', 'maximum']);
const VCPU_FIELDS = new Set(['state', 'time', 'wait', 'delay', 'halted']);
const NET_FIELDS = new Set(['name', 'rx_bytes', 'rx_pkts', 'rx_errs', 'rx_drop', 'tx_bytes', 'tx_pkts', 'tx_errs', 'tx_drop']);
const BLOCK_FIELDS = new Set([
  'name', 'backingIndex', 'path', 'rd_reqs', 'rd_bytes', 'rd_times', 'wr_reqs', 'wr_bytes', 'wr_times',
  'fl_reqs', 'fl_times', 'errors', 'allocation', 'capacity', 'physical', 'threshold',
]);
const CACHE_MONITOR = /^cache\.monitor\.([^.]+)\.(name|vcpus|bank_count)$/;
const CACHE_MONITOR_BANK = /^cache\.monitor\.([^.]+)\.bank\.([^.]+)\.(id|bytes)$/;

const renamed = (field: string) => (Object.hasOwn(TELEGRAF_RENAMES, field) ? TELEGRAF_RENAMES[field]! : field);

/** Every field name this module can write, per table (after renames), checked at load against the reserved names. */
const TELEGRAF_TABLES: Readonly<Record<string, readonly string[]>> = {
  libvirt_state: [...STATE_FIELDS],
  libvirt_cpu: [...CPU_FIELDS.values()].map(renamed),
  libvirt_cpu_cache_monitor_total: ['count'],
  libvirt_cpu_cache_monitor: ['name', 'vcpus', 'bank_count'],
  libvirt_cpu_cache_monitor_bank: ['id', 'bytes'],
  libvirt_balloon: [...BALLOON_FIELDS.values()],
  libvirt_vcpu_total: [...VCPU_TOTAL_FIELDS],
  libvirt_vcpu: [...VCPU_FIELDS, 'halted_i'].map(renamed),
  libvirt_net_total: ['count'],
  libvirt_net: [...NET_FIELDS],
  libvirt_block_total: ['count'],
  libvirt_block: [...BLOCK_FIELDS],
};
for (const [table, fields] of Object.entries(TELEGRAF_TABLES)) assertColumnNames(table, fields);

function value(v: StatValue): string {
  if (typeof v === 'bigint') return intValue(v);
  if (typeof v === 'number') return Number.isInteger(v) ? intValue(BigInt(v)) : Number.isFinite(v) ? String(v) : '';
  // go-libvirt hands Telegraf a boolean typed parameter as an int32 (1/0).
  if (typeof v === 'boolean') return v ? '1i' : '0i';
  return quoteString(v);
}

/** Where one libvirt key goes: a table, its device tag (escaped, "" for the domain's own tables), a field. */
interface Target { group: string; table: string; device: string; field: string; halted?: true }

/** The addMetrics switch of libvirt_metric_format.go, for one key; null for a key Telegraf does not write. */
function targetOf(key: string): Target | null {
  const dot = key.indexOf('.');
  if (dot < 0) return null;
  const group = key.slice(0, dot);
  const rest = key.slice(dot + 1);
  const t = (table: string, field: string, device = ''): Target => ({ group: `${table}${device}`, table, device, field });
  switch (group) {
    case 'state':
      return STATE_FIELDS.has(rest) ? t('libvirt_state', rest) : null;
    case 'cpu': {
      const field = CPU_FIELDS.get(rest);
      if (field) return t('libvirt_cpu', renamed(field));
      if (rest === 'cache.monitor.count') return t('libvirt_cpu_cache_monitor_total', 'count');
      const k = rest.replace('bank.count', 'bank_count');
      const monitor = CACHE_MONITOR.exec(k);
      if (monitor) return t('libvirt_cpu_cache_monitor', monitor[2]!, `,cache_monitor_id=${escapeKey(monitor[1]!)}`);
      const bank = CACHE_MONITOR_BANK.exec(k);
      if (bank) return t('libvirt_cpu_cache_monitor_bank', bank[3]!, `,cache_monitor_id=${escapeKey(bank[1]!)},bank_index=${escapeKey(bank[2]!)}`);
      return null;
    }
    case 'balloon': {
      const field = BALLOON_FIELDS.get(rest);
      return field ? t('libvirt_balloon', field) : null;
    }
    case 'vcpu': {
      if (VCPU_TOTAL_FIELDS.has(rest)) return t('libvirt_vcpu_total', rest);
      const parts = rest.split('.');
      if (parts.length !== 2 || !VCPU_FIELDS.has(parts[1]!)) return null;
      const target = t('libvirt_vcpu', renamed(parts[1]!), `,vcpu_id=${escapeKey(parts[0]!)}`);
      return parts[1] === 'halted' ? { ...target, halted: true } : target;
    }
    case 'net':
    case 'block': {
      const isNet = group === 'net';
      const table = isNet ? 'libvirt_net' : 'libvirt_block';
      if (rest === 'count') return t(`${table}_total`, 'count');
      const idDot = rest.indexOf('.');
      if (idDot < 0) return null;
      const field = rest.slice(idDot + 1).replace(/\./g, '_');
      if (!(isNet ? NET_FIELDS : BLOCK_FIELDS).has(field)) return null;
      return t(table, field, `,${isNet ? 'interface_id' : 'block_id'}=${escapeKey(rest.slice(0, idDot))}`);
    }
    default:
      return null;
  }
}

// Keys repeat for every domain and tick (a few dozen distinct ones, more with many devices): decide each once.
const targets = new Map<string, Target | null>();
const MAX_CACHED_KEYS = 50_000;

/**
 * Appends Telegraf's lines for one domain's stats record to `out`. `tags` is the escaped tag set shared by
 * the domain's tables (starting with a comma); `ts` the timestamp in the write precision. Tables come out in
 * the order libvirt lists their first key (state, cpu, balloon, vcpu, net, block).
 */
export function telegrafLines(p: LibvirtRecord, tags: string, ts: number, out: string[]): void {
  const lines = new Map<string, { table: string; device: string; fields: string }>();
  for (const key in p) {
    let target = targets.get(key);
    if (target === undefined) {
      target = targetOf(key);
      if (targets.size >= MAX_CACHED_KEYS) targets.clear();
      targets.set(key, target);
    }
    if (!target) continue;
    const v = p[key]!;
    let line = lines.get(target.group);
    if (!line) {
      line = { table: target.table, device: target.device, fields: '' };
      lines.set(target.group, line);
    }
    if (target.halted) {
      // The README: halted "yes or no", halted_i 1 for "yes", 0 for other values. libvirt's typed
      // parameter is a boolean (our addon hands it over as one), written as the README's string.
      const yes = v === true || v === 'yes';
      line.fields += `,halted=${quoteString(typeof v === 'boolean' ? (yes ? 'yes' : 'no') : String(v))},halted_i=${yes ? 1 : 0}i`;
      continue;
    }
    const text = value(v);
    if (text) line.fields += `,${target.field}=${text}`;
  }
  for (const { table, device, fields } of lines.values()) {
    if (fields) out.push(`${table}${tags}${device} ${fields.slice(1)} ${ts}`);
  }
}
