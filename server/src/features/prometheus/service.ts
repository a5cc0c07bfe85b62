// The Prometheus exposition of vmpulse: the VM part (libvirt exporter names) from the latest
// snapshots, then vmpulse's own metrics. One function; the VMs it covers are one parameter, so a
// caller that may see only some VMs (tenancy) hands only their snapshots.
import type { MetricSnapshot } from '../../domain/snapshot.js';
import type { Services } from '../../lib/module.js';
import type { LiveGauges } from '../../lib/gauges.js';
import { trailer, type Format } from './exposition.js';
import { createLibvirtRenderer } from './libvirt-metrics.js';
import { createOwnMetrics } from './own-metrics.js';

export function createPrometheusService(deps: Pick<Services, 'hosts' | 'vms' | 'metrics' | 'collector' | 'limitHits'> & { gauges: LiveGauges; staleAfterMs: number; onError(err: unknown): void }) {
  const { hosts, vms, metrics, collector, staleAfterMs } = deps;
  const renderVms = createLibvirtRenderer();
  const own = createOwnMetrics(deps);

  /** Every present VM's latest snapshot. */
  function latestSnapshots(): MetricSnapshot[] {
    const out: MetricSnapshot[] = [];
    for (const vm of vms.list()) {
      const s = metrics.latest(vm.id);
      if (s) out.push(s);
    }
    return out;
  }

  /** libvirt_up: every host connected and its last tick read. */
  const up = () => hosts.list().every((h) => h.connected) && collector.status().hosts.every((h) => h.lastError === null);

  return {
    latestSnapshots,
    /** The whole exposition in a format, covering `snapshots` (default: every VM). */
    async render(format: Format, snapshots: Iterable<MetricSnapshot> = latestSnapshots()): Promise<string> {
      const t0 = performance.now();
      const vmPart = renderVms(snapshots, { format, now: Date.now(), staleAfterMs, up: up() });
      const ownPart = await own.render(format);
      own.observeRender(format, (performance.now() - t0) / 1000);
      return vmPart + ownPart + trailer(format);
    },
    start: own.start,
    stop: own.stop,
  };
}

export type PrometheusService = ReturnType<typeof createPrometheusService>;
