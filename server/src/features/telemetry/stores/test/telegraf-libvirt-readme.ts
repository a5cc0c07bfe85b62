// The oracle for vmpulse's Telegraf tables: Telegraf's own documentation of `inputs.libvirt`, copied from
// influxdata/telegraf plugins/inputs/libvirt/README.md (v1.39.3), section "Metrics", rows of the statistics
// groups vmpulse collects (state, cpu_total, balloon, vcpu, interface, block). Each row: the libvirt metric
// name (`<num>` = a device or vCPU index), the "Exposed Telegraf field", and the table it lands in as the
// README's "Example Output" shows it (with the per-device tag). Not derived from vmpulse's code.
export interface ReadmeRow { metric: string; field: string; table: string; deviceTag?: string }

const rows = (table: string, deviceTag: string | undefined, list: [string, string][]): ReadmeRow[] =>
  list.map(([metric, field]) => ({ metric, field, table, ...(deviceTag ? { deviceTag } : {}) }));

export const TELEGRAF_README_ROWS: readonly ReadmeRow[] = [
  ...rows('libvirt_state', undefined, [['state.state', 'state'], ['state.reason', 'reason']]),
  ...rows('libvirt_cpu', undefined, [
    ['cpu.time', 'time'], ['cpu.user', 'user'], ['cpu.system', 'system'],
    ['cpu.haltpoll.success.time', 'haltpoll_success_time'], ['cpu.haltpoll.fail.time', 'haltpoll_fail_time'],
  ]),
  ...rows('libvirt_cpu_cache_monitor_total', undefined, [['cpu.cache.monitor.count', 'count']]),
  ...rows('libvirt_cpu_cache_monitor', 'cache_monitor_id', [
    ['cpu.cache.monitor.<num>.name', 'name'], ['cpu.cache.monitor.<num>.vcpus', 'vcpus'], ['cpu.cache.monitor.<num>.bank.count', 'bank_count'],
  ]),
  ...rows('libvirt_cpu_cache_monitor_bank', 'bank_index', [
    ['cpu.cache.monitor.<num>.bank.<index>.id', 'id'], ['cpu.cache.monitor.<num>.bank.<index>.bytes', 'bytes'],
  ]),
  ...rows('libvirt_balloon', undefined, [
    ['balloon.current', 'current'], ['balloon.maximum', 'maximum'], ['balloon.swap_in', 'swap_in'], ['balloon.swap_out', 'swap_out'],
    ['balloon.major_fault', 'major_fault'], ['balloon.minor_fault', 'minor_fault'], ['balloon.unused', 'unused'],
    ['balloon.available', 'available'], ['balloon.rss', 'rss'], ['balloon.usable', 'usable'], ['balloon.last-update', 'last_update'],
    ['balloon.disk_caches', 'disk_caches'], ['balloon.hugetlb_pgalloc', 'hugetlb_pgalloc'], ['balloon.hugetlb_pgfail', 'hugetlb_pgfail'],
  ]),
  ...rows('libvirt_vcpu_total', undefined, [['vcpu.current', 'current'], ['vcpu.maximum', 'maximum']]),
  ...rows('libvirt_vcpu', 'vcpu_id', [
    ['vcpu.<num>.state', 'state'], ['vcpu.<num>.time', 'time'], ['vcpu.<num>.wait', 'wait'], ['vcpu.<num>.halted', 'halted'],
    ['vcpu.<num>.halted', 'halted_i'], ['vcpu.<num>.delay', 'delay'],
  ]),
  ...rows('libvirt_net_total', undefined, [['net.count', 'count']]),
  ...rows('libvirt_net', 'interface_id', [
    ['net.<num>.name', 'name'], ['net.<num>.rx.bytes', 'rx_bytes'], ['net.<num>.rx.pkts', 'rx_pkts'], ['net.<num>.rx.errs', 'rx_errs'],
    ['net.<num>.rx.drop', 'rx_drop'], ['net.<num>.tx.bytes', 'tx_bytes'], ['net.<num>.tx.pkts', 'tx_pkts'], ['net.<num>.tx.errs', 'tx_errs'],
    ['net.<num>.tx.drop', 'tx_drop'],
  ]),
  ...rows('libvirt_block_total', undefined, [['block.count', 'count']]),
  ...rows('libvirt_block', 'block_id', [
    ['block.<num>.name', 'name'], ['block.<num>.backingIndex', 'backingIndex'], ['block.<num>.path', 'path'],
    ['block.<num>.rd.reqs', 'rd_reqs'], ['block.<num>.rd.bytes', 'rd_bytes'], ['block.<num>.rd.times', 'rd_times'],
    ['block.<num>.wr.reqs', 'wr_reqs'], ['block.<num>.wr.bytes', 'wr_bytes'], ['block.<num>.wr.times', 'wr_times'],
    ['block.<num>.fl.reqs', 'fl_reqs'], ['block.<num>.fl.times', 'fl_times'], ['block.<num>.errors', 'errors'],
    ['block.<num>.allocation', 'allocation'], ['block.<num>.capacity', 'capacity'], ['block.<num>.physical', 'physical'],
    ['block.<num>.threshold', 'threshold'],
  ]),
];

/** The one rename InfluxDB 3 forces (reserved column `time`), as README documents it beside Telegraf's. */
export const INFLUXDB3_RENAMES: Readonly<Record<string, string>> = { time: 'cpu_time' };

/**
 * The README rows documenting a libvirt stats key (vcpu.<num>.halted has two: halted and halted_i), with the
 * device indexes found in `<num>` / `<index>`, in order. Empty for a key no row documents.
 */
export function readmeRowsFor(key: string): { row: ReadmeRow; indexes: string[] }[] {
  const found = [];
  for (const row of TELEGRAF_README_ROWS) {
    const pattern = new RegExp(`^${row.metric.replace(/\./g, '\\.').replace(/<num>|<index>/g, '([^.]+)')}$`);
    const m = pattern.exec(key);
    if (m) found.push({ row, indexes: m.slice(1) });
  }
  return found;
}
