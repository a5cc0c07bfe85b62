// The Prometheus exposition of vmpulse: the VM part (libvirt exporter names) from the latest
// snapshots, then vmpulse's own metrics. The VMs it covers are one parameter: a token scoped to an
// owner (tenancy) gets only its VMs' series, and not vmpulse's own metrics.
import type { MetricSnapshot } from '../../domain/snapshot.js';
import type { Principal } from '../../lib/auth.js';
import type { Services } from '../../lib/module.js';
import type { LiveGauges } from '../../lib/gauges.js';
import { withTimeout } from '../../libvirt/timeout.js';
import { createDeviceLabels } from './device-labels.js';
import { trailer, type Format } from './exposition.js';
import { createLibvirtRenderer } from './libvirt-metrics.js';
import { createOwnMetrics } from './own-metrics.js';

const XML_READS_AT_ONCE = 4;
const PRUNE_EVERY_MS = 60_000;
/** How often new VMs and changed devices are looked for, so labels are read before a scrape needs them. */
const LABEL_SWEEP_MS = 5_000;

export function createPrometheusService(
  deps: Pick<Services, 'hosts' | 'vms' | 'metrics' | 'collector' | 'limitHits'> & {
    gauges: LiveGauges;
    staleAfterMs: number;
    libvirtTimeoutMs: number;
    onError(err: unknown): void;
    onXmlError(err: unknown, vm: string): void;
  },
) {
  const { hosts, vms, metrics, collector, staleAfterMs } = deps;
  // One XML read per VM and device set, in the background; never during a scrape.
  const devices = createDeviceLabels({
    concurrency: XML_READS_AT_ONCE,
    read(s) {
      const conn = hosts.get(s.hostId)?.conn;
      if (!conn) return Promise.reject(new Error(`host ${s.hostName} is disconnected`));
      return withTimeout(conn.domainXml(s.uuid), deps.libvirtTimeoutMs, `domain XML of ${s.vmName}`);
    },
    onError: (err, s) => deps.onXmlError(err, s.vmName),
  });
  const renderVms = createLibvirtRenderer((s) => devices.of(s));
  const own = createOwnMetrics(deps);
  let prunedAt = Date.now();
  let sweep: NodeJS.Timeout | undefined;

  /** The latest snapshot of every present VM the caller may see (every VM without a caller). */
  function latestSnapshots(principal?: Principal): MetricSnapshot[] {
    const out: MetricSnapshot[] = [];
    for (const vm of principal ? vms.listFor(principal) : vms.list()) {
      const s = metrics.latest(vm.id);
      if (s) out.push(s);
    }
    return out;
  }

  /** libvirt_up: every host connected and its last tick read. */
  const up = () => hosts.list().every((h) => h.connected) && collector.status().hosts.every((h) => h.lastError === null);

  /** The whole exposition in a format, covering `snapshots` (default: every VM). */
  async function render(format: Format, snapshots: readonly MetricSnapshot[] = latestSnapshots(), opts: { own: boolean } = { own: true }): Promise<string> {
    const t0 = performance.now();
    if (Date.now() - prunedAt > PRUNE_EVERY_MS) {
      prunedAt = Date.now();
      devices.prune(new Set(vms.list().map((v) => v.id)));
    }
    const vmPart = await renderVms(snapshots, { format, now: Date.now(), staleAfterMs, up: up() });
    const ownPart = opts.own ? await own.render(format) : '';
    own.observeRender(format, (performance.now() - t0) / 1000);
    return vmPart + ownPart + trailer(format);
  }

  return {
    latestSnapshots,
    render,
    /**
     * What a caller scrapes: its VMs' series, and, for an unscoped caller, vmpulse's own metrics
     * (they name hosts and count every VM, which a token scoped to one owner does not see).
     */
    scrape(principal: Principal, format: Format): Promise<string> {
      return render(format, latestSnapshots(principal), { own: principal.scope === null });
    },
    start() {
      own.start();
      sweep = setInterval(() => {
        for (const s of latestSnapshots()) devices.of(s);
      }, LABEL_SWEEP_MS);
      sweep.unref();
    },
    async stop() {
      clearInterval(sweep);
      devices.stop();
      await own.stop();
    },
  };
}

export type PrometheusService = ReturnType<typeof createPrometheusService>;
