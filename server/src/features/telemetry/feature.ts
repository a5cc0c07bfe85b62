// Telemetry: the collector loop, the metrics service (latest cache, history, live streams), the
// metric stores, and the REST shims of seeds 000–002.
import { safeConfig } from '../../config.js';
import type { Feature } from '../../lib/module.js';
import { createCollectorLoop } from './collector/loop.js';
import { createCollectorService, type CollectorService, type CollectorTopics } from './collector-service.js';
import { createMetricsService, type MetricsService, type MetricsTopics, type ReplicaMetricsTopics } from './metrics-service.js';
import { metricsRoutes } from './rest/metrics.js';
import { telemetryRoutes } from './rest/telemetry.js';
import { createMetricStore } from './stores/select.js';
import './graphql/collector.js';
import './graphql/metrics.js';
import './graphql/history.js';

declare module '../../lib/module.js' {
  interface Services {
    metrics: MetricsService;
    collector: CollectorService;
    /** the configuration with secrets as *** (seed 001's safe view) */
    configView(): Record<string, unknown>;
    /** requests refused by each limit since start */
    limitHits(): Record<string, number>;
  }
}

export const telemetry: Feature = {
  name: 'telemetry',
  create({ config, db, bus, log, limits, services }) {
    const { hosts, vms, hostLeases } = services;
    const store = createMetricStore(config, db, log.child({ part: 'store' }));
    // Hosts tick staggered over the interval: messages listing every VM or every host go out at
    // most 4 times per interval, whatever the number of hosts.
    const listGapMs = (config.POLL_INTERVAL * 1000) / 4;
    const metrics = createMetricsService({
      pubsub: bus.local<MetricsTopics>(),
      replicas: bus.distributed ? bus.topics<ReplicaMetricsTopics>() : undefined,
      // History only from a certain owner: a replica unsure of its lease (database unreachable,
      // another replica may have taken the host) keeps the live view going but stores nothing.
      mayStore: hostLeases.owns,
      fleetGapMs: listGapMs,
      store,
      vms,
      log: log.child({ part: 'metrics' }),
    });
    const loop = createCollectorLoop({
      hosts,
      owns: hostLeases.holds,
      vmsOf: (hostId) => vms.ofHost(hostId),
      ingest: (readings) => metrics.ingest(readings),
      log: log.child({ part: 'collector' }),
      opts: { intervalMs: config.POLL_INTERVAL * 1000, timeoutMs: config.LIBVIRT_TIMEOUT * 1000, deviceCacheTtlMs: config.DEVICE_CACHE_TTL * 1000, rawRecords: store.readsRawRecords },
    });
    const collector = createCollectorService({ loop, hosts, leases: hostLeases, metrics, pubsub: bus.local<CollectorTopics>(), intervalSec: config.POLL_INTERVAL, statusGapMs: listGapMs, log: log.child({ part: 'collector' }) });
    // A host given up (rebalanced, or a lease this replica could not renew): its tick in flight ends first.
    hostLeases.onChange({ acquired: (hostId) => loop.kick(hostId), released: (hostId) => loop.settle(hostId) });
    const configView = () => safeConfig(config);
    const own = { metrics, collector, configView, limitHits: () => limits.snapshot() };
    return {
      services: own,
      rest: [telemetryRoutes({ ...services, ...own }), metricsRoutes({ ...services, ...own })],
      start() {
        collector.start();
      },
      async stop() {
        await collector.stop();
        metrics.stop();
        await store.close();
      },
    };
  },
};
