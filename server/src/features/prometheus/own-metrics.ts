// vmpulse's own metrics, held by prom-client (the maintained Node client): the default process and
// Node.js metrics (CPU, memory, file descriptors, event-loop delay, GC) and the collector's, the
// store's and the edge's numbers, read at scrape time from the services that already keep them.
// Tick durations and CPU go into a histogram and a counter from the collector's status stream,
// so every tick counts, not only the one a scrape happens to see.
import client from 'prom-client';
import type { LiveGauges } from '../../lib/gauges.js';
import type { Services } from '../../lib/module.js';
import { familyHeader, formatNumber, labelSet, type FamilyType, type Format } from './exposition.js';

type Deps = Pick<Services, 'collector' | 'limitHits'> & { gauges: LiveGauges; onError(err: unknown): void };

const TICK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createOwnMetrics(deps: Deps) {
  const { collector, gauges, limitHits, onError } = deps;
  const registry = new client.Registry();
  const registers = [registry];
  // The event-loop lag histogram samples every 100 ms, not prom-client's default 10 ms: 100 timer
  // wake-ups a second were ~5 ms of CPU a second on an idle server. A stall still shows in full
  // (the next sample comes late by it).
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });

  const perHost = (set: (host: string, s: ReturnType<typeof collector.status>['hosts'][number]) => void) => {
    for (const h of collector.status().hosts) set(h.name, h);
  };

  const gauge = (name: string, help: string, labelNames: string[], collect: (g: client.Gauge) => void) =>
    new client.Gauge({ name, help, labelNames, registers, collect(this: client.Gauge) { this.reset(); collect(this); } });
  /** A counter mirrored from a running total kept elsewhere. */
  const total = (name: string, help: string, labelNames: string[], collect: (c: client.Counter) => void) =>
    new client.Counter({ name, help, labelNames, registers, collect(this: client.Counter) { this.reset(); collect(this); } });

  gauge('vmpulse_collector_running', 'Whether the collector is running (1) or stopped (0).', [], (g) => g.set(collector.status().running ? 1 : 0));
  gauge('vmpulse_host_connected', 'Whether the libvirt connection to the host is up.', ['host'], (g) => perHost((host, h) => g.set({ host }, h.connected ? 1 : 0)));
  gauge('vmpulse_collector_stale_vms', "VMs the host's last tick could not read (their latest values are older).", ['host'], (g) => perHost((host, h) => g.set({ host }, h.staleVms)));
  gauge('vmpulse_collector_last_tick_seconds', "Duration of the host's last tick.", ['host'], (g) =>
    perHost((host, h) => h.lastTickMs !== null && g.set({ host }, h.lastTickMs / 1000)),
  );
  gauge('vmpulse_collector_last_tick_timestamp_seconds', "When the host's last tick ended (unix time).", ['host'], (g) =>
    perHost((host, h) => h.lastTickAt !== null && g.set({ host }, h.lastTickAt / 1000)),
  );
  total('vmpulse_collector_ticks_total', 'Collector ticks run per host.', ['host'], (c) => perHost((host, h) => c.inc({ host }, h.ticks)));
  total('vmpulse_collector_samples_total', 'VM samples read per host.', ['host'], (c) => perHost((host, h) => c.inc({ host }, h.samples)));
  total('vmpulse_collector_errors_total', 'VM readings that failed, and ticks that failed whole, per host.', ['host'], (c) => perHost((host, h) => c.inc({ host }, h.errors)));

  const store = () => collector.status().store;
  gauge('vmpulse_store_buffer_depth', 'Samples (PostgreSQL) or lines (InfluxDB) not yet written to the history store.', ['backend'], (g) => g.set({ backend: store().backend }, store().bufferDepth));
  total('vmpulse_store_dropped_total', 'Samples or lines dropped: buffer full, or refused for good by the store.', ['backend'], (c) => c.inc({ backend: store().backend }, store().dropped));
  total('vmpulse_store_written_total', 'Snapshots written to the history store.', ['backend'], (c) => c.inc({ backend: store().backend }, store().written));
  total('vmpulse_store_failed_writes_total', 'History store writes that failed (buffered stores retry them).', ['backend'], (c) => c.inc({ backend: store().backend }, store().failedWrites));
  gauge('vmpulse_store_last_write_seconds', 'Duration of the last write to the history store.', ['backend'], (g) => {
    const s = store();
    if (s.lastWriteMs !== null) g.set({ backend: s.backend }, s.lastWriteMs / 1000);
  });
  gauge('vmpulse_store_up', 'Whether the last write to the history store succeeded (0 after an error).', ['backend'], (g) => g.set({ backend: store().backend }, store().lastError ? 0 : 1));

  /** The edge registers its live counts after the features are built: read them at start. */
  const addLiveGauges = () => {
    for (const live of gauges.list()) {
      if (!registry.getSingleMetric(`vmpulse_${live.name}`)) gauge(`vmpulse_${live.name}`, live.help, [], (g) => g.set(live.read()));
    }
  };
  total('vmpulse_limit_refusals_total', 'Requests refused by each limit (the names of /api/telemetry/status `limits`).', ['limit'], (c) => {
    for (const [limit, n] of Object.entries(limitHits())) c.inc({ limit }, n);
  });

  const tickSeconds = new client.Histogram({ name: 'vmpulse_collector_tick_duration_seconds', help: 'Duration of each collector tick, per host.', labelNames: ['host'], buckets: TICK_BUCKETS, registers });
  const tickCpu = new client.Counter({ name: 'vmpulse_collector_tick_cpu_seconds_total', help: 'CPU time (user + system) this process spent in collector ticks, per host (hosts that tick together share theirs by VMs read).', labelNames: ['host'], registers });
  const renderSeconds = new client.Histogram({ name: 'vmpulse_metrics_render_seconds', help: 'Time to build a /metrics answer.', labelNames: ['format'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers });

  // Every tick of every host, from the collector's status stream (a status after each tick).
  const seen = new Map<number, number>();
  let stream: AsyncIterator<ReturnType<typeof collector.status>> | undefined;
  async function follow() {
    stream = collector.watchStatus()[Symbol.asyncIterator]();
    // The first status is the current one: its ticks happened before we followed.
    let first = true;
    for (;;) {
      const r = await stream.next();
      if (r.done) return;
      for (const h of r.value.hosts) {
        if (h.lastTickAt === null || seen.get(h.hostId) === h.lastTickAt) continue;
        seen.set(h.hostId, h.lastTickAt);
        if (first) continue;
        if (h.lastTickMs !== null) tickSeconds.observe({ host: h.name }, h.lastTickMs / 1000);
        if (h.lastTickCpuMs !== null) tickCpu.inc({ host: h.name }, h.lastTickCpuMs / 1000);
      }
      first = false;
    }
  }

  return {
    start() {
      addLiveGauges();
      // The stream ends only at stop; should it fail, the histogram stops growing, nothing else does.
      follow().catch((err: unknown) => onError(err));
    },
    async stop() {
      await stream?.return?.();
    },
    observeRender(format: Format, seconds: number) {
      renderSeconds.observe({ format }, seconds);
    },
    /** Every family in a format (prom-client collects; the lines are written here, as the VM part's). */
    async render(format: Format): Promise<string> {
      let out = '';
      for (const m of await registry.getMetricsAsJSON()) {
        const values = m.values as { value: number; labels: Record<string, string | number>; metricName?: string }[];
        if (!values.length) continue;
        out += familyHeader({ name: m.name, help: m.help, type: m.type as unknown as FamilyType }, format);
        for (const v of values) {
          const labels = labelSet(Object.entries(v.labels).map(([k, x]) => [k, String(x)] as const));
          out += `${v.metricName ?? m.name}${labels} ${formatNumber(v.value)}\n`;
        }
      }
      return out;
    },
    /** prom-client's own text rendering, for tests to compare with. */
    registry,
  };
}

