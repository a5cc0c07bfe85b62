import { builder } from '../../../graphql/builder.js';
import type { CollectorStatus, HostCollectorStatus } from '../collector-service.js';
import type { StoreStatus } from '../stores/store.js';

const StoreStatusRef = builder.objectRef<StoreStatus>('StoreStatus').implement({
  fields: (t) => ({
    backend: t.exposeString('backend'),
    written: t.exposeInt('written', { description: 'snapshots written since start' }),
    failedWrites: t.exposeInt('failedWrites'),
    bufferDepth: t.exposeInt('bufferDepth', { description: 'rows/lines waiting to be written' }),
    dropped: t.exposeInt('dropped'),
    rejectedLines: t.exposeInt('rejectedLines', {
      nullable: true,
      description: 'of dropped: lines the server refused for good (InfluxDB partial writes, limits); null for PostgreSQL',
    }),
    lastError: t.exposeString('lastError', { nullable: true }),
    lastWriteMs: t.exposeFloat('lastWriteMs', { nullable: true }),
  }),
});

const HostStatusRef = builder.objectRef<HostCollectorStatus>('CollectorHostStatus').implement({
  fields: (t) => ({
    hostId: t.id({ resolve: (h) => h.hostId }),
    name: t.exposeString('name'),
    uri: t.exposeString('uri'),
    connected: t.exposeBoolean('connected'),
    demo: t.exposeBoolean('demo'),
    ticks: t.exposeInt('ticks'),
    samples: t.exposeInt('samples'),
    errors: t.exposeInt('errors'),
    staleVms: t.exposeInt('staleVms'),
    lastTickMs: t.exposeFloat('lastTickMs', { nullable: true, description: 'wall time of the last tick, ms' }),
    lastTickCpuMs: t.exposeFloat('lastTickCpuMs', { nullable: true, description: 'CPU time vmpulse spent on the last tick, ms (hosts that tick together share theirs by VMs read)' }),
    lastTickAt: t.field({ type: 'DateTime', nullable: true, resolve: (h) => (h.lastTickAt ? new Date(h.lastTickAt) : null) }),
    lastError: t.exposeString('lastError', { nullable: true }),
    owner: t.exposeString('owner', { nullable: true, description: 'the replica collecting this host ("hostname:pid"); null while none holds its lease' }),
    ownedHere: t.exposeBoolean('ownedHere', { description: 'true when the replica answering collects this host' }),
    leaseAgeSec: t.exposeFloat('leaseAgeSec', { nullable: true, description: "seconds since the owner took the host's lease; null without leases (one process)" }),
    leaseRenewedSecAgo: t.exposeFloat('leaseRenewedSecAgo', { nullable: true, description: 'seconds since the owner last renewed the lease' }),
  }),
});

const CollectorStatusRef = builder.objectRef<CollectorStatus>('CollectorStatus').implement({
  fields: (t) => ({
    running: t.exposeBoolean('running'),
    intervalSec: t.exposeFloat('intervalSec'),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => (s.startedAt ? new Date(s.startedAt) : null) }),
    ticks: t.exposeInt('ticks'),
    samples: t.exposeInt('samples'),
    errors: t.exposeInt('errors'),
    lastTickMs: t.exposeFloat('lastTickMs', { nullable: true }),
    store: t.field({ type: StoreStatusRef, resolve: (s) => s.store }),
    hosts: t.field({ type: [HostStatusRef], resolve: (s) => s.hosts }),
  }),
});

builder.queryFields((t) => ({
  collectorStatus: t.field({ type: CollectorStatusRef, resolve: (_r, _a, ctx) => ctx.services.collector.status() }),
  config: t.field({
    type: 'JSON',
    description: 'The configuration with secrets as *** (seed 001 safe view)',
    resolve: (_r, _a, ctx) => ctx.services.configView(),
  }),
}));

builder.mutationFields((t) => ({
  startCollector: t.field({ type: CollectorStatusRef, resolve: (_r, _a, ctx) => ctx.services.collector.start() }),
  stopCollector: t.field({ type: CollectorStatusRef, resolve: (_r, _a, ctx) => ctx.services.collector.stop() }),
}));

builder.subscriptionFields((t) => ({
  collectorStatus: t.field({
    type: CollectorStatusRef,
    description: 'The status now, then after every tick, start and stop',
    subscribe: (_r, _a, ctx) => ctx.services.collector.watchStatus(),
    resolve: (s) => s,
  }),
}));
