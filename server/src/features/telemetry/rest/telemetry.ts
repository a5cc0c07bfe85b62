// Seeds 000_2cf0550f8e86cc6d.txt and 001_db509c336623b137.txt: /api/telemetry/*. Errors: {"detail": "…"}.
import { METRIC_NAMES } from '../../../domain/metrics.js';
import type { CollectorStatus } from '../collector-service.js';
import type { Services } from '../../../lib/module.js';
import type { RouteFamily } from '../../../lib/rest.js';

const unixSeconds = (ms: number) => Math.floor(ms / 1000);

function statusBody(s: CollectorStatus) {
  return {
    running: s.running,
    poll_interval: s.intervalSec,
    started_at: s.startedAt ? new Date(s.startedAt).toISOString() : null,
    ticks: s.ticks,
    samples: s.samples,
    errors: s.errors,
    last_tick_ms: s.lastTickMs,
    buffer_depth: s.store.bufferDepth,
    drops: s.store.dropped,
    store: {
      backend: s.store.backend,
      written: s.store.written,
      failed_writes: s.store.failedWrites,
      rejected_lines: s.store.rejectedLines ?? null,
      last_error: s.store.lastError,
      last_write_ms: s.store.lastWriteMs,
    },
    hosts: s.hosts.map((h) => ({
      name: h.name,
      uri: h.uri,
      connected: h.connected,
      demo: h.demo,
      ticks: h.ticks,
      samples: h.samples,
      errors: h.errors,
      stale_vms: h.staleVms,
      last_tick_ms: h.lastTickMs,
      last_tick_cpu_ms: h.lastTickCpuMs,
      last_tick_at: h.lastTickAt ? new Date(h.lastTickAt).toISOString() : null,
      last_error: h.lastError,
    })),
  };
}

function vmStats(ref: string, { vms, metrics }: Services) {
  const vm = vms.resolve(ref);
  const s = metrics.latest(vm.id);
  const out: Record<string, unknown> = { state: s?.state ?? vm.state, cpus: s?.cpus ?? vm.cpuCount };
  // A metric the hypervisor does not report is left out, never 0.
  for (const m of METRIC_NAMES) if (s?.metrics[m] !== undefined) out[m] = s.metrics[m];
  return { vm_id: String(vm.id), timestamp: unixSeconds(s?.ts ?? Date.now()), metrics: out };
}

export function telemetryRoutes(services: Services): RouteFamily {
  const { vms, metrics, collector, configView, limitHits } = services;
  return {
  prefix: '/api/telemetry',
  errorBody: (detail) => ({ detail }),
  routes: [
    {
      method: 'GET',
      path: '/api/telemetry/live-vms',
      role: 'viewer',
      handle: () => {
        const running = vms.list({ state: 'running' }).sort((a, b) => a.id - b.id);
        return {
          count: running.length,
          source: 'libvirt',
          vms: running.map((v) => ({
            id: v.id,
            name: v.name,
            uuid: v.uuid,
            state: v.state,
            cpu_count: v.cpuCount,
            memory_max: v.memoryMax, // KB
            memory_used: v.memoryUsed, // KB
            cputime: v.cputime, // ns
          })),
        };
      },
    },
    { method: 'GET', path: '/api/telemetry/vm-stats/:vm_id', role: 'viewer', handle: (req) => vmStats(req.params.vm_id!, services) },
    {
      method: 'POST',
      path: '/api/telemetry/start',
      role: 'operator',
      handle: () => {
        const was = collector.status().running;
        const s = collector.start();
        return { status: was ? 'already_running' : 'started', message: was ? 'Telemetry collection is already running' : 'Telemetry collection started', ...statusBody(s) };
      },
    },
    {
      method: 'POST',
      path: '/api/telemetry/stop',
      role: 'operator',
      handle: async () => {
        const was = collector.status().running;
        const s = await collector.stop();
        return { status: was ? 'stopped' : 'already_stopped', message: was ? 'Telemetry collection stopped' : 'Telemetry collection was not running', ...statusBody(s) };
      },
    },
    { method: 'GET', path: '/api/telemetry/status', role: 'viewer', handle: () => ({ ...statusBody(collector.status()), limits: limitHits() }) },
    {
      method: 'GET',
      path: '/api/telemetry/vms',
      role: 'viewer',
      handle: () => {
        const list = vms.list().sort((a, b) => a.id - b.id);
        return {
          count: list.length,
          vms: list.map((v) => {
            const s = metrics.latest(v.id);
            return {
              id: v.id,
              name: v.name,
              uuid: v.uuid,
              host: v.hostName,
              state: v.state,
              cpu_count: v.cpuCount,
              last_sample: s ? unixSeconds(s.ts) : null,
              stale: s?.stale ?? null,
            };
          }),
        };
      },
    },
    {
      method: 'GET',
      path: '/api/telemetry/config',
      role: 'viewer',
      handle: () =>
        Object.fromEntries(Object.entries(configView()).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(',') : v])),
    },
  ],
};
}
