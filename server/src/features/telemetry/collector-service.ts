// Start, stop and status of the collector at run time. The only publisher of `collector:status`.
import { coalesce } from '../../lib/coalesce.js';
import type { Logger } from '../../lib/logger.js';
import type { LocalPubSub } from '../../lib/pubsub.js';
import { snapshotThen } from '../../lib/stream.js';
import type { HostService, LeaseService } from '../inventory/feature.js';
import { type CollectorLoop, disconnectedError, type HostTickStats } from './collector/loop.js';
import type { MetricsService } from './metrics-service.js';
import type { StoreStatus } from './stores/store.js';

/** The topic this service publishes (it is its only publisher). */
export type CollectorTopics = { 'collector:status': [CollectorStatus] };

export interface HostCollectorStatus extends HostTickStats {
  name: string;
  uri: string;
  connected: boolean;
  demo: boolean;
  /** the replica collecting this host ("hostname:pid"); null while no replica holds its lease */
  owner: string | null;
  /** true when this replica collects it */
  ownedHere: boolean;
  /** seconds since the owner took the host's lease (null without leases: one process) */
  leaseAgeSec: number | null;
  /** seconds since the owner last renewed the lease */
  leaseRenewedSecAgo: number | null;
}

export interface CollectorStatus {
  running: boolean;
  intervalSec: number;
  startedAt: number | null;
  ticks: number;
  samples: number;
  errors: number;
  /** the slowest host's last tick, ms */
  lastTickMs: number | null;
  store: StoreStatus;
  hosts: HostCollectorStatus[];
}

export function createCollectorService(deps: {
  loop: CollectorLoop;
  hosts: HostService;
  leases: LeaseService;
  metrics: MetricsService;
  pubsub: LocalPubSub<CollectorTopics>;
  intervalSec: number;
  log: Logger;
  /** the least time between two status messages, ms (hosts tick staggered over the interval) */
  statusGapMs?: number;
}) {
  const { loop, hosts, leases, metrics, pubsub, intervalSec, log } = deps;
  let startedAt: number | null = null;

  function status(): CollectorStatus {
    const perHost = loop.stats().map((s) => {
      const h = hosts.get(s.hostId)!;
      const lease = leases.info(s.hostId);
      return {
        ...s,
        // A host reads as disconnected from the moment its connection drops, not from its next tick
        // (until then the tick's figure is null, or the failed call's own words).
        lastError: h.connected ? s.lastError : disconnectedError(h),
        name: h.name,
        uri: h.uri,
        connected: h.connected,
        demo: h.demo,
        owner: lease.ownerName,
        ownedHere: lease.mine,
        leaseAgeSec: lease.ageSec,
        leaseRenewedSecAgo: lease.renewedSecAgo,
      };
    });
    const sum = (k: 'ticks' | 'samples' | 'errors') => perHost.reduce((a, h) => a + h[k], 0);
    const ticks = perHost.map((h) => h.lastTickMs).filter((v): v is number => v !== null);
    return {
      running: loop.running,
      intervalSec,
      startedAt,
      ticks: sum('ticks'),
      samples: sum('samples'),
      errors: sum('errors'),
      lastTickMs: ticks.length ? Math.max(...ticks) : null,
      store: metrics.storeStatus(),
      hosts: perHost,
    };
  }

  // Built only for a listener (every host's figures, several times a second with many hosts).
  const publish = () => {
    if (pubsub.listeners('collector:status')) pubsub.publish('collector:status', status());
  };
  // Each message lists every host: hosts ticking together share one, at most one per statusGapMs.
  const publishSoon = coalesce(publish, (err) => log.error({ err }, 'collector:status: message not sent'), deps.statusGapMs ?? 0);
  loop.onTick(() => publishSoon.request());

  return {
    status,

    /** The status now, then after every tick, start and stop. */
    watchStatus(): AsyncIterable<CollectorStatus> {
      return snapshotThen([status()], pubsub.subscribe('collector:status'));
    },

    /** Starts collecting; `changed` is false when it was already running. */
    start(): CollectorStatus & { changed: boolean } {
      const changed = !loop.running;
      if (changed) {
        leases.setActive(true);
        loop.start();
        startedAt = Date.now();
      }
      publish();
      return { ...status(), changed };
    },
    /** Stops collecting (waits for ticks in flight); `changed` is false when it was not running. */
    async stop(): Promise<CollectorStatus & { changed: boolean }> {
      const changed = loop.running;
      leases.setActive(false);
      await loop.stop();
      startedAt = null;
      publish();
      return { ...status(), changed };
    },
  };
}

export type CollectorService = ReturnType<typeof createCollectorService>;
