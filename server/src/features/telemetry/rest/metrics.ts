// Seed 002_ad8496aa3d12e204.txt: /api/metrics/vm/{vm_id} and its /history. Errors: {"detail": "…"}.
import { z } from 'zod';
import type { HistoryField } from '../../../domain/history.js';
import type { MetricSnapshot } from '../../../domain/snapshot.js';
import type { Principal } from '../../../lib/auth.js';
import type { Services } from '../../../lib/module.js';
import { defineRoute, detailErrors, isoTimestamp, type RouteFamily } from '../../../lib/rest.js';

const MB = 1024 * 1024;
const round = (v: number | null | undefined, d = 2) => (v === null || v === undefined ? null : Math.round(v * 10 ** d) / 10 ** d);
const num = (v: bigint | undefined) => (v === undefined ? undefined : Number(v));

/** seed-002 metric name → stored field, scale and unit */
const HISTORY_METRICS = new Map<string, { field: HistoryField; scale: number; unit: string }>([
  ['cpu_usage', { field: 'cpu_pct', scale: 1, unit: '%' }],
  ['memory_usage', { field: 'mem_pct', scale: 1, unit: '%' }],
  ['memory_used_mb', { field: 'memrss', scale: 1 / 1024, unit: 'MB' }],
  ['network_rx_mb', { field: 'net_rxbytes', scale: 1 / MB, unit: 'MB' }],
  ['network_tx_mb', { field: 'net_txbytes', scale: 1 / MB, unit: 'MB' }],
  ['disk_read_mb', { field: 'disk_rd_bytes', scale: 1 / MB, unit: 'MB' }],
  ['disk_write_mb', { field: 'disk_wr_bytes', scale: 1 / MB, unit: 'MB' }],
]);
const HISTORY_NAMES = [...HISTORY_METRICS.keys()] as [string, ...string[]];
const HISTORY_DAYS = 7;

// ---- schemas ------------------------------------------------------------------------------------

const vmRef = z.object({
  vm_id: z.string().min(1).max(200).describe('the VM: its vmpulse integer id, its uuid or its name'),
});

const valid = `valid: ${HISTORY_NAMES.join(', ')}`;
const limitError = 'must be an integer from 1 to 10000';
const HistoryQuery = z.object({
  metric_name: z
    .enum(HISTORY_NAMES, {
      error: (iss) => (iss.input === undefined ? `required; ${valid}` : `unknown metric "${String(iss.input).slice(0, 60)}"; ${valid}`),
    })
    .describe('the metric: cpu_usage and memory_usage in %, the others in MB'),
  limit: z.coerce
    .number({ error: limitError })
    .int({ error: limitError })
    .min(1, { error: limitError })
    .max(10_000, { error: limitError })
    .default(100)
    .describe('how many values, newest first'),
});

const nullableNumber = (description: string) => z.number().nullable().describe(description);

const VmMetrics = z
  .object({
    vm_id: z.number().int().describe('stable vmpulse VM id'),
    vm_name: z.string(),
    uuid: z.string(),
    host: z.string().describe('the libvirt host'),
    status: z.string().describe('libvirt domain state'),
    ip_address: z.string().nullable().describe('not known to libvirt without a guest agent: null'),
    cpu_cores: z.number().int().describe('vCPUs'),
    ram_allocated_mb: nullableNumber('maximum memory, MB'),
    disk_allocated_gb: nullableNumber('capacity of all disks, GB; null when the hypervisor does not report it'),
    cpu_usage: nullableNumber("CPU usage, % of the VM's vCPUs"),
    memory_usage: nullableNumber("memory in use, % of the VM's memory (guest view when its balloon driver reports it)"),
    disk_usage: nullableNumber('allocated / capacity of all disks, %'),
    memory_used_mb: nullableNumber('host RSS of the VM, MB'),
    memory_available_mb: nullableNumber('maximum memory minus RSS, MB'),
    disk_used_gb: nullableNumber('allocated on all disks, GB'),
    disk_available_gb: nullableNumber('capacity minus allocation of all disks, GB'),
    network_rx_mb: nullableNumber('received on all NICs since boot, MB'),
    network_tx_mb: nullableNumber('sent on all NICs since boot, MB'),
    uptime_seconds: nullableNumber('since vmpulse saw the VM start, s'),
    uptime_hours: nullableNumber('the same in hours'),
    stale: z.boolean().nullable().describe('true when the last tick could not read the VM; null before any sample'),
    timestamp: isoTimestamp('sample time, ISO 8601 UTC'),
  })
  .meta({ id: 'VmMetrics', description: 'Seed 002: current usage of one VM in percent and absolute values' });

const VmMetricHistory = z
  .array(
    z.object({
      vm_id: z.number().int(),
      name: z.string().describe('the metric_name asked for'),
      value: z.number().nullable().describe('in `unit`'),
      unit: z.enum(['%', 'MB']),
      timestamp: isoTimestamp('sample time, ISO 8601 UTC'),
    }),
  )
  .meta({ id: 'VmMetricHistory', description: `Seed 002: stored values of one metric, newest first, from the last ${HISTORY_DAYS} days` });

// ---- shaping ------------------------------------------------------------------------------------

function diskTotals(s: MetricSnapshot | undefined) {
  const disks = s?.disks.filter((d) => d.capacity !== undefined) ?? [];
  if (!disks.length) return null;
  const capacity = disks.reduce((a, d) => a + Number(d.capacity), 0);
  const used = disks.reduce((a, d) => a + Number(d.allocation ?? 0n), 0);
  return { capacity, used };
}

function currentMetrics(principal: Principal, ref: string, { vms, metrics }: Services): z.output<typeof VmMetrics> {
  const vm = vms.resolveFor(principal, ref);
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
    cpu_usage: round(s?.cpuPct.total),
    memory_usage: round(s?.memPct),
    disk_usage: disk && disk.capacity > 0 ? round((disk.used / disk.capacity) * 100) : null,
    memory_used_mb: rssKb === undefined ? null : round(rssKb / 1024),
    memory_available_mb: rssKb === undefined ? null : round(Math.max(0, ramKb - rssKb) / 1024),
    disk_used_gb: disk ? round(disk.used / 1024 ** 3, 3) : null,
    disk_available_gb: disk ? round((disk.capacity - disk.used) / 1024 ** 3, 3) : null,
    network_rx_mb: s?.metrics.net_rxbytes === undefined ? null : round(Number(s.metrics.net_rxbytes) / MB, 3),
    network_tx_mb: s?.metrics.net_txbytes === undefined ? null : round(Number(s.metrics.net_txbytes) / MB, 3),
    uptime_seconds: uptime,
    uptime_hours: uptime === null ? null : round(uptime / 3600),
    stale: s?.stale ?? null,
    timestamp: new Date(s?.ts ?? Date.now()).toISOString(),
  };
}

// ---- routes -------------------------------------------------------------------------------------

export function metricsRoutes(services: Services): RouteFamily {
  const { vms, metrics } = services;
  return {
    prefix: '/api/metrics',
    tag: 'metrics',
    description: 'Seed 002 (VM monitoring: current usage and its history)',
    errors: detailErrors,
    routes: [
      defineRoute({
        method: 'GET',
        path: '/api/metrics/vm/:vm_id',
        role: 'viewer',
        summary: 'Current usage of one VM',
        description: 'Seed 002: percentages, absolute values (MB, GB) and uptime, answered from memory. The caller must own the VM (its token scope) or be unscoped/admin: otherwise 404, as for an unknown VM.',
        schema: { params: vmRef, response: VmMetrics },
        handle: ({ params, principal }) => currentMetrics(principal, params.vm_id, services),
      }),
      defineRoute({
        method: 'GET',
        path: '/api/metrics/vm/:vm_id/history',
        role: 'viewer',
        summary: 'Stored values of one metric of one VM',
        description: `Seed 002: newest first, from the last ${HISTORY_DAYS} days of history. metric_name is one of ${HISTORY_NAMES.join(', ')}. The caller must own the VM (its token scope) or be unscoped/admin: otherwise 404, as for an unknown VM.`,
        schema: { params: vmRef, query: HistoryQuery, response: VmMetricHistory },
        handle: async ({ params, query, principal }) => {
          const vm = vms.resolveFor(principal, params.vm_id);
          const { field, scale, unit } = HISTORY_METRICS.get(query.metric_name)!;
          const rows = await metrics.latestValues(vm.id, field, query.limit, new Date(Date.now() - HISTORY_DAYS * 86_400_000));
          return rows.map((r) => ({ vm_id: vm.id, name: query.metric_name, value: round(r.value * scale, 4), unit: unit as '%' | 'MB', timestamp: r.ts.toISOString() }));
        },
      }),
    ],
  };
}
