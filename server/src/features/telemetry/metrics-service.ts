// metrics.ingest() per host per tick: update the in-memory latest cache, write the store,
// publish. Nothing else publishes metrics. "Latest metrics of VM X" is answered from here.
import type { FleetEntry, FleetTick } from '../../domain/fleet.js';
import { DEFAULT_HISTORY_POINTS, HISTORY_RANGES, HISTORY_RANGE_NAMES, MAX_HISTORY_POINTS, isHistoryRange, type HistoryField, type HistoryPoint } from '../../domain/history.js';
import { scopeKey, type OwnerScope, type VmOwner } from '../../domain/owner.js';
import type { MetricSnapshot } from '../../domain/snapshot.js';
import { badRequest } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { LocalPubSub, PubSub } from '../../lib/pubsub.js';
import { snapshotThen } from '../../lib/stream.js';
import { map, pipe } from 'graphql-yoga';
import { coalesce } from '../../lib/coalesce.js';
import { CHUNK, paced } from '../../lib/yield.js';
import type { Vm, VmService } from '../inventory/feature.js';
import type { VmReading } from './collector/loop.js';
import { hasAnyMetric } from './collector/metric-record.js';
import { FreshSnapshot, HeldSnapshot } from './snapshots.js';
import type { MetricStore } from './stores/store.js';

/**
 * Work between two event-loop yields of a tick: CHUNK snapshots, a subscriber's message counting as
 * CHUNK / 16 of them. A message is made and sent in the microtasks after its publish (execute, JSON,
 * deflate, write: ~0.3-1 ms here), so 100 subscribers of VMs sampled in one chunk held the loop for
 * 40-100 ms (bench/README.md, "Subscribers' messages between yields").
 */
const MESSAGE_WORK = CHUNK / 16;

/** The topics this service publishes (it is their only publisher), each replica for its own subscribers. */
export type MetricsTopics = {
  'vm:metrics': [vmId: number, snapshot: MetricSnapshot];
  'fleet:metrics': [FleetTick];
};

/** Between replicas (REDIS_URL): one message per host per tick from the host's owner, feeding the others' caches. */
export type ReplicaMetricsTopics = {
  'host:samples': [HostSamples];
};
interface HostSamples {
  hostId: number;
  snapshots: MetricSnapshot[];
}

function toFleetEntry(s: MetricSnapshot, owner: VmOwner | null = null): FleetEntry {
  return {
    vmId: s.vmId,
    name: s.vmName,
    host: s.hostName,
    state: s.state,
    cpuPct: s.cpuPct.total,
    memPct: s.memPct,
    netRxBps: s.rates.net_rxbytes ?? null,
    netTxBps: s.rates.net_txbytes ?? null,
    diskReadBps: s.rates.disk_rd_bytes ?? null,
    diskWriteBps: s.rates.disk_wr_bytes ?? null,
    stale: s.stale,
    ts: s.ts,
    ownerUser: owner ? (owner.user ?? owner.userId) : null,
    ownerGroup: owner ? (owner.group ?? owner.groupId) : null,
  };
}

export function createMetricsService(deps: {
  pubsub: LocalPubSub<MetricsTopics>;
  /** with several replicas: where owners send their hosts' samples to the others (undefined: one process) */
  replicas?: PubSub<ReplicaMetricsTopics>;
  /** may this replica store the host's samples (it owns the host for certain)? default: yes */
  mayStore?: (hostId: number) => boolean;
  /**
   * Least time between two 'fleet:metrics' messages, ms (default 0). Hosts tick staggered over the
   * interval: without it every host's tick would publish the whole fleet once more.
   */
  fleetGapMs?: number;
  store: MetricStore;
  vms: VmService;
  log: Logger;
}) {
  const { pubsub, replicas, mayStore = () => true, fleetGapMs = 0, store, vms, log } = deps;
  const latest = new Map<number, MetricSnapshot>();
  // Several hosts tick close together: one fleet message for all of them, and at most one per fleetGapMs.
  // Built only for a listener: unread, a fleet tick is ~1,000 entries of garbage a second.
  const fleet = coalesce(() => {
    if (pubsub.listeners('fleet:metrics')) pubsub.publish('fleet:metrics', fleetNow());
  }, (err) => log.error({ err }, 'fleet:metrics: message not sent'), fleetGapMs);

  // Another replica's host: cache and pass on to this replica's subscribers; its owner stores it.
  // (This replica's own messages come back as the very objects it cached: skipped.)
  const fromOwners = replicas?.subscribe('host:samples');
  void (async () => {
    if (!fromOwners) return;
    for await (const { snapshots } of fromOwners) {
      if (!snapshots.length || latest.get(snapshots[0]!.vmId) === snapshots[0]) continue;
      await paced(snapshots.length, (i) => 1 + take(snapshots[i]!) * MESSAGE_WORK);
      fleet.request();
    }
  })().catch((err: unknown) => log.error({ err }, 'samples from other replicas: stream failed'));

  /** Caches a VM's snapshot and publishes it to this replica's subscribers; answers how many it reached. */
  function take(s: MetricSnapshot): number {
    latest.set(s.vmId, s);
    if (!s.stale && s.metrics.cputime !== undefined) vms.noteUsage(s.vmId, s.metrics.cputime, s.metrics.memactual);
    const listeners = pubsub.listeners('vm:metrics', s.vmId);
    if (listeners) pubsub.publish('vm:metrics', s.vmId, s);
    return listeners;
  }

  function snapshotOf(r: VmReading<Vm>, ts: number): MetricSnapshot {
    const prev = latest.get(r.vm.id);
    return r.sample && !(r.error && prev) ? new FreshSnapshot(r, r.sample, ts, prev) : new HeldSnapshot(r, ts, prev);
  }

  // Each snapshot's fleet entry is built once: with many hosts a fleet message goes out several
  // times a second, and most VMs' snapshots did not change between two of them.
  const fleetEntries = new WeakMap<MetricSnapshot, { owner: VmOwner | null; entry: FleetEntry }>();
  function fleetEntryOf(s: MetricSnapshot): FleetEntry {
    const owner = vms.ownerOf(s.vmId);
    const cached = fleetEntries.get(s);
    if (cached && cached.owner === owner) return cached.entry;
    const entry = toFleetEntry(s, owner);
    fleetEntries.set(s, { owner, entry });
    return entry;
  }
  const fleetNow = (): FleetTick => {
    const entries: FleetEntry[] = [];
    for (const s of latest.values()) if (vms.get(s.vmId)?.present) entries.push(fleetEntryOf(s));
    return { ts: Date.now(), vms: entries };
  };

  /**
   * The tick as a scope sees it: built once per tick per distinct scope and shared by every
   * subscriber of that scope (and their `rows`), never once per subscriber.
   */
  const scopedTicks = new WeakMap<FleetTick, Map<string, FleetTick>>();
  function fleetFor(tick: FleetTick, scope: OwnerScope | null): FleetTick {
    if (!scope) return tick;
    let byScope = scopedTicks.get(tick);
    if (!byScope) {
      byScope = new Map();
      scopedTicks.set(tick, byScope);
    }
    const k = scopeKey(scope);
    let scoped = byScope.get(k);
    if (!scoped) {
      const can = vms.scopeFilter(scope);
      scoped = { ts: tick.ts, vms: tick.vms.filter((e) => can(e.vmId)) };
      byScope.set(k, scoped);
    }
    return scoped;
  }

  return {
    /** One host's tick: cache, store (one write), publish. Returns the snapshots. */
    async ingest(readings: VmReading<Vm>[], ts = Date.now()): Promise<MetricSnapshot[]> {
      const snapshots: MetricSnapshot[] = [];
      await paced(readings.length, (i) => {
        const s = snapshotOf(readings[i]!, ts);
        snapshots.push(s);
        return 1 + take(s) * MESSAGE_WORK;
      });
      fleet.request();
      const hostId = readings[0]?.vm.hostId;
      if (replicas && hostId !== undefined) replicas.publish('host:samples', { hostId, snapshots });
      // History keeps samples; a shut-off VM has none to keep.
      const fresh = snapshots.filter((s) => !s.stale && hasAnyMetric(s.metrics));
      if (fresh.length && mayStore(fresh[0]!.hostId)) {
        await store.write(fresh).catch((err: unknown) => log.error({ err }, 'metric store write failed'));
      }
      return snapshots;
    },

    latest(vmId: number): MetricSnapshot | undefined {
      return latest.get(vmId);
    },

    /** The fleet overview now, as the scope sees it (null: every VM). */
    fleet: (scope: OwnerScope | null = null) => fleetFor(fleetNow(), scope),

    /** One VM's snapshot every tick, the latest first. */
    watchVm(vmId: number): AsyncIterable<MetricSnapshot> {
      const current = latest.get(vmId);
      return snapshotThen(current ? [current] : [], pubsub.subscribe('vm:metrics', vmId));
    },

    /** The fleet overview every tick, the current one first; with a scope, only the VMs it owns. */
    watchFleet(scope: OwnerScope | null = null): AsyncIterable<FleetTick> {
      const ticks = pubsub.subscribe('fleet:metrics');
      return snapshotThen([fleetFor(fleetNow(), scope)], scope ? pipe(ticks, map((t) => fleetFor(t, scope))) : ticks);
    },

    /** History for a range name (15m … 30d) or from/to; step defaults to about DEFAULT_HISTORY_POINTS points. */
    async history(vmId: number, opts: { range?: string | null; from?: Date | null; to?: Date | null; stepSec?: number | null; fields: HistoryField[] }) {
      const now = new Date();
      let from: Date;
      let to: Date;
      if (opts.range != null) {
        if (!isHistoryRange(opts.range)) throw badRequest(`range must be one of ${HISTORY_RANGE_NAMES.join(', ')}`);
        const seconds = HISTORY_RANGES[opts.range];
        to = now;
        from = new Date(now.getTime() - seconds * 1000);
      } else if (opts.from && opts.to) {
        from = opts.from;
        to = opts.to;
      } else throw badRequest(`give a range (${HISTORY_RANGE_NAMES.join(', ')}) or both from and to`);
      if (!(from < to)) throw badRequest('from must be before to');
      const span = (to.getTime() - from.getTime()) / 1000;
      const stepSec = opts.stepSec ?? Math.max(1, Math.ceil(span / DEFAULT_HISTORY_POINTS));
      if (!Number.isInteger(stepSec) || stepSec < 1) throw badRequest('step must be a whole number of seconds ≥ 1');
      if (span / stepSec > MAX_HISTORY_POINTS) throw badRequest(`that is ${Math.ceil(span / stepSec)} points; use a step of at least ${Math.ceil(span / MAX_HISTORY_POINTS)} s`);
      const points: HistoryPoint[] = await store.history({ vmId, from, to, stepSec, fields: opts.fields });
      return { from, to, stepSec, points };
    },

    latestValues(vmId: number, field: HistoryField, limit: number, since: Date) {
      return store.latestValues(vmId, field, limit, since);
    },

    storeStatus() {
      return store.status();
    },

    stop() {
      fleet.cancel();
      void fromOwners?.return?.();
    },
  };
}

export type MetricsService = ReturnType<typeof createMetricsService>;
