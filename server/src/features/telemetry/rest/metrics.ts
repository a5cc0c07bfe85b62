// Seed 002_ad8496aa3d12e204.txt: /api/metrics/vm/{vm_id} and its /history. Errors: {"detail": "…"}.
import type { MetricSnapshot } from '../../../domain/snapshot.js';
import { badRequest } from '../../../lib/errors.js';
import type { Services } from '../../../lib/module.js';
import type { HistoryField } from '../../../domain/history.js';
import type { RouteFamily } from '../../../lib/rest.js';

const MB = 1024 * 1024;
const round = (v: number | null | undefined, d = 2) => (v === null || v === undefined ? null : Math.round(v * 10 ** d) / 10 ** d);
const num = (v: bigint | undefined) => (v === undefined ? undefined : Number(v));

/** seed-002 metric name → stored field, scale and unit */
const HISTORY_METRICS: Record<string, { field: HistoryField; scale: number; unit: string }> = {
  cpu_usage: { field: 'cpu_pct', scale: 1, unit: '%' },
  memory_usage: { field: 'mem_pct', scale: 1, unit: '%' },
  memory_used_mb: { field: 'memrss', scale: 1 / 1024, unit: 'MB' },
  network_rx_mb: { field: 'net_rxbytes', scale: 1 / MB, unit: 'MB' },
  network_tx_mb: { field: 'net_txbytes', scale: 1 / MB, unit: 'MB' },
  disk_read_mb: { field: 'disk_rd_bytes', scale: 1 / MB, unit: 'MB' },
  disk_write_mb: { field: 'disk_wr_bytes', scale: 1 / MB, unit: 'MB' },
};

function diskTotals(s: MetricSnapshot | undefined) {
  const disks = s?.disks.filter((d) => d.capacity !== undefined) ?? [];
  if (!disks.length) return null;
  const capacity = disks.reduce((a, d) => a + Number(d.capacity), 0);
  const used = disks.reduce((a, d) => a + Number(d.allocation ?? 0n), 0);
  return { capacity, used };
}

function currentMetrics(ref: string, { vms, metrics }: Services) {
  const vm = vms.resolve(ref);
  const s = metrics.latest(vm.id);
  const ramKb = Number(vm.memoryMax);
  const rssKb = num(s?.metrics.memrss);
  const disk = diskTotals(s);
  const uptime = vms.uptimeSeconds(vm.id);
  return {
    vm_id: vm.id,
    vm_name: vm.name,
    uuid: vm.uuid,
    host: vm.hostName,
    status: vm.state,
    ip_address: null,
    cpu_cores: s?.cpus ?? vm.cpuCount,
    ram_allocated_mb: round(ramKb / 1024),
    disk_allocated_gb: disk ? round(disk.capacity / 1024 ** 3) : null,
    cpu_usage: round(s?.cpuPct.total), // % of the VM's vCPUs
    memory_usage: round(s?.memPct), // % of the VM's memory in use (guest view when its balloon driver reports it)
    disk_usage: disk && disk.capacity > 0 ? round((disk.used / disk.capacity) * 100) : null, // %
    memory_used_mb: rssKb === undefined ? null : round(rssKb / 1024), // host RSS
    memory_available_mb: rssKb === undefined ? null : round(Math.max(0, ramKb - rssKb) / 1024),
    disk_used_gb: disk ? round(disk.used / 1024 ** 3, 3) : null,
    disk_available_gb: disk ? round((disk.capacity - disk.used) / 1024 ** 3, 3) : null,
    network_rx_mb: s?.metrics.net_rxbytes === undefined ? null : round(Number(s.metrics.net_rxbytes) / MB, 3), // total since boot
    network_tx_mb: s?.metrics.net_txbytes === undefined ? null : round(Number(s.metrics.net_txbytes) / MB, 3),
    uptime_seconds: uptime,
    uptime_hours: uptime === null ? null : round(uptime / 3600),
    stale: s?.stale ?? null,
    timestamp: new Date(s?.ts ?? Date.now()).toISOString(),
  };
}

export function metricsRoutes(services: Services): RouteFamily {
  const { vms, metrics } = services;
  return {
  prefix: '/api/metrics',
  errorBody: (detail) => ({ detail }),
  routes: [
    { method: 'GET', path: '/api/metrics/vm/:vm_id', role: 'viewer', handle: (req) => currentMetrics(req.params.vm_id!, services) },
    {
      method: 'GET',
      path: '/api/metrics/vm/:vm_id/history',
      role: 'viewer',
      handle: async (req) => {
        const vm = vms.resolve(req.params.vm_id!);
        const name = req.query.get('metric_name');
        const valid = Object.keys(HISTORY_METRICS);
        const spec = name && Object.hasOwn(HISTORY_METRICS, name) ? HISTORY_METRICS[name] : undefined;
        if (!name || !spec) {
          throw badRequest(`${name ? `unknown metric_name "${name.slice(0, 60)}"` : 'metric_name is required'}; valid: ${valid.join(', ')}`);
        }
        const rawLimit = req.query.get('limit') ?? '100';
        const limit = Number(rawLimit);
        if (!/^\d+$/.test(rawLimit) || limit < 1 || limit > 10_000) throw badRequest('limit must be an integer from 1 to 10000');
        const { field, scale, unit } = spec;
        const rows = await metrics.latestValues(vm.id, field, limit, new Date(Date.now() - 7 * 86_400_000));
        return rows.map((r) => ({ vm_id: vm.id, name, value: round(r.value * scale, 4), unit, timestamp: r.ts.toISOString() }));
      },
    },
  ],
};
}
