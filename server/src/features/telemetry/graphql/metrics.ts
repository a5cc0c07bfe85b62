import { FLEET_COLUMNS, type FleetEntry, type FleetTick } from '../../../domain/fleet.js';
import { COUNTER_METRICS, METRIC_NAMES, METRIC_UNITS, type CounterMetric } from '../../../domain/metrics.js';
import type { DiskSample, MetricSnapshot, NicSample } from '../../../domain/snapshot.js';
import type { VmState } from '../../../domain/vm-state.js';
import { builder } from '../../../graphql/builder.js';
import { shareJson } from '../../../lib/shared-json.js';
import { VmRef, VmStateEnum } from '../../inventory/feature.js';

const MetricNameEnum = builder.enumType('MetricName', {
  description: 'The seed metrics (seed 000), named exactly as there',
  values: METRIC_NAMES,
});

/** NICs and disks per VM, as a cost estimate (a guest rarely has more). */
const DEVICES_PER_VM = 4;

const NicRef = builder.objectRef<NicSample>('NicStats').implement({
  description: 'One NIC: counters since the interface appeared (bytes, packets, count)',
  fields: (t) => ({
    name: t.exposeString('name'),
    rxbytes: t.expose('rxbytes', { type: 'BigInt' }),
    rxpackets: t.expose('rxpackets', { type: 'BigInt' }),
    rxerrors: t.expose('rxerrors', { type: 'BigInt' }),
    rxdrops: t.expose('rxdrops', { type: 'BigInt' }),
    txbytes: t.expose('txbytes', { type: 'BigInt' }),
    txpackets: t.expose('txpackets', { type: 'BigInt' }),
    txerrors: t.expose('txerrors', { type: 'BigInt' }),
    txdrops: t.expose('txdrops', { type: 'BigInt' }),
  }),
});

const DiskRef = builder.objectRef<DiskSample>('DiskStats').implement({
  description: 'One disk: counters since the VM started (requests, bytes, count)',
  fields: (t) => ({
    name: t.exposeString('name'),
    rd_req: t.expose('rd_req', { type: 'BigInt' }),
    rd_bytes: t.expose('rd_bytes', { type: 'BigInt' }),
    wr_reqs: t.expose('wr_reqs', { type: 'BigInt' }),
    wr_bytes: t.expose('wr_bytes', { type: 'BigInt' }),
    errors: t.expose('errors', { type: 'BigInt' }),
    allocation: t.field({ type: 'BigInt', nullable: true, description: 'bytes', resolve: (d) => d.allocation ?? null }),
    capacity: t.field({ type: 'BigInt', nullable: true, description: 'bytes', resolve: (d) => d.capacity ?? null }),
  }),
});

const RateRef = builder.objectRef<{ name: CounterMetric; perSecond: number; angleDeg: number }>('MetricRate').implement({
  description: "A counter's per-second rate since the previous sample, and seed 001's angle feature (arctangent of the rate)",
  fields: (t) => ({
    name: t.field({ type: MetricNameEnum, resolve: (r) => r.name }),
    perSecond: t.exposeFloat('perSecond'),
    angleDeg: t.exposeFloat('angleDeg'),
  }),
});

const MetricSnapshotRef = builder.objectRef<MetricSnapshot>('MetricSnapshot').implement({
  description: 'One VM at one tick. The seed metrics keep their names and units; a metric the hypervisor does not report is null.',
  fields: (t) => ({
    vmId: t.id({ resolve: (s) => s.vmId }),
    vm: t.field({ type: VmRef, nullable: true, resolve: (s, _a, ctx) => ctx.services.vms.get(s.vmId) ?? null }),
    timestamp: t.field({ type: 'DateTime', description: 'when the values were sampled', resolve: (s) => new Date(s.ts) }),
    state: t.field({ type: VmStateEnum, resolve: (s) => s.state as VmState }),
    cpus: t.exposeInt('cpus'),
    stale: t.exposeBoolean('stale', { description: 'this tick could not sample the VM; the values are ageMs old' }),
    ageMs: t.exposeInt('ageMs'),
    error: t.string({ nullable: true, resolve: (s) => s.error ?? null }),
    ...Object.fromEntries(
      METRIC_NAMES.map((m) => [
        m,
        t.field({ type: 'BigInt', nullable: true, description: METRIC_UNITS[m], resolve: (s: MetricSnapshot) => s.metrics[m] ?? null }),
      ]),
    ),
    cpuPct: t.float({ nullable: true, description: '% of all vCPUs', resolve: (s) => s.cpuPct.total }),
    cpuUserPct: t.float({ nullable: true, resolve: (s) => s.cpuPct.user }),
    cpuSystemPct: t.float({ nullable: true, resolve: (s) => s.cpuPct.system }),
    memPct: t.exposeFloat('memPct', { nullable: true }),
    netRxBps: t.float({ nullable: true, description: 'bytes/s received, all NICs', resolve: (s) => s.rates.net_rxbytes ?? null }),
    netTxBps: t.float({ nullable: true, description: 'bytes/s sent, all NICs', resolve: (s) => s.rates.net_txbytes ?? null }),
    diskReadBps: t.float({ nullable: true, description: 'bytes/s read, all disks', resolve: (s) => s.rates.disk_rd_bytes ?? null }),
    diskWriteBps: t.float({ nullable: true, description: 'bytes/s written, all disks', resolve: (s) => s.rates.disk_wr_bytes ?? null }),
    rates: t.field({
      type: [RateRef],
      complexity: { field: 1, multiplier: COUNTER_METRICS.length },
      resolve: (s) =>
        COUNTER_METRICS.filter((m) => s.rates[m] !== undefined).map((m) => ({ name: m, perSecond: s.rates[m]!, angleDeg: s.angles[m]! })),
    }),
    nics: t.field({ type: [NicRef], complexity: { field: 1, multiplier: DEVICES_PER_VM }, resolve: (s) => s.nics }),
    disks: t.field({ type: [DiskRef], complexity: { field: 1, multiplier: DEVICES_PER_VM }, resolve: (s) => s.disks }),
  }),
});

const FleetEntryRef = builder.objectRef<FleetEntry>('FleetEntry').implement({
  description: 'One VM in the compact per-tick fleet message (rates in bytes/s, percentages of the VM)',
  fields: (t) => ({
    vmId: t.id({ resolve: (e) => e.vmId }),
    name: t.exposeString('name'),
    host: t.exposeString('host'),
    state: t.field({ type: VmStateEnum, resolve: (e) => e.state as VmState }),
    cpuPct: t.exposeFloat('cpuPct', { nullable: true }),
    memPct: t.exposeFloat('memPct', { nullable: true }),
    netRxBps: t.exposeFloat('netRxBps', { nullable: true }),
    netTxBps: t.exposeFloat('netTxBps', { nullable: true }),
    diskReadBps: t.exposeFloat('diskReadBps', { nullable: true }),
    diskWriteBps: t.exposeFloat('diskWriteBps', { nullable: true }),
    stale: t.exposeBoolean('stale'),
    timestamp: t.field({ type: 'DateTime', resolve: (e) => new Date(e.ts) }),
    ownerUser: t.exposeString('ownerUser', { nullable: true, description: "the owner's user (name, else id); null when none is recorded" }),
    ownerGroup: t.exposeString('ownerGroup', { nullable: true, description: "the owner's group or project (name, else id)" }),
  }),
});

// Built once per tick and shared by every subscriber: resolving `vms` costs ~12 fields × 1,000 VMs
// per subscriber per tick, `rows` one array, JSON-encoded once for every socket (shareJson). Each
// entry's row is built once too (an entry is reused by every fleet message until its VM's next sample).
const fleetRows = new WeakMap<FleetTick, unknown[][]>();
const entryRows = new WeakMap<FleetEntry, unknown[]>();
function rowOf(e: FleetEntry): unknown[] {
  let row = entryRows.get(e);
  if (!row) {
    row = [String(e.vmId), e.name, e.host, e.state, e.stale, e.cpuPct, e.memPct, e.netRxBps, e.netTxBps, e.diskReadBps, e.diskWriteBps, new Date(e.ts).toISOString(), e.ownerUser, e.ownerGroup];
    entryRows.set(e, row);
  }
  return row;
}
function rowsOf(f: FleetTick): unknown[][] {
  let rows = fleetRows.get(f);
  if (!rows) {
    rows = shareJson(f.vms.map(rowOf));
    fleetRows.set(f, rows);
  }
  return rows;
}

const FleetTickRef = builder.objectRef<FleetTick>('FleetTick').implement({
  fields: (t) => ({
    timestamp: t.field({ type: 'DateTime', resolve: (f) => new Date(f.ts) }),
    vms: t.field({
      type: [FleetEntryRef],
      description: 'one object per VM (at 1,000 VMs prefer `columns` + `rows`)',
      complexity: (_a, ctx) => ({ field: 1, multiplier: Math.max(1, ctx.services.vms.listFor(ctx.principal).length) }),
      resolve: (f) => f.vms,
    }),
    columns: t.stringList({ description: 'the names of the values in each of `rows`', resolve: () => [...FLEET_COLUMNS] }),
    rows: t.field({
      type: 'JSON',
      complexity: (_a, ctx) => Math.max(1, ctx.services.vms.listFor(ctx.principal).length),
      description: 'compact form: one array per VM, values in `columns` order (ids as strings, rates in bytes/s, percentages, ISO timestamps)',
      resolve: rowsOf,
    }),
  }),
});

builder.objectFields(VmRef, (t) => ({
  latest: t.field({
    type: MetricSnapshotRef,
    nullable: true,
    description: 'The latest sample, from memory (null until the collector has sampled this VM)',
    resolve: (vm, _a, ctx) => ctx.services.metrics.latest(vm.id) ?? null,
  }),
}));

builder.queryFields((t) => ({
  fleet: t.field({
    type: FleetTickRef,
    description: "The latest fleet overview, from memory (a scoped token: its scope's VMs)",
    resolve: (_r, _a, ctx) => ctx.services.metrics.fleet(ctx.principal.scope),
  }),
}));

builder.subscriptionFields((t) => ({
  vmMetrics: t.field({
    type: MetricSnapshotRef,
    description: "One VM's snapshot every tick (vmId: the id, uuid or name); the latest snapshot first",
    args: { vmId: t.arg.id({ required: true }) },
    subscribe: (_r, { vmId }, ctx) => ctx.services.metrics.watchVm(ctx.services.vms.resolveFor(ctx.principal, String(vmId)).id),
    resolve: (s) => s,
  }),
  fleetMetrics: t.field({
    type: FleetTickRef,
    description: "One compact message per tick for all VMs (a scoped token: its scope's VMs); the current overview first",
    subscribe: (_r, _a, ctx) => ctx.services.metrics.watchFleet(ctx.principal.scope),
    resolve: (f) => f,
  }),
}));
