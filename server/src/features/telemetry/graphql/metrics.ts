import { GraphQLError } from 'graphql';
import { builder } from '../../../graphql/builder.js';
import { VmRef } from '../../inventory/graphql/vm.js';
import { METRIC_NAMES, METRIC_UNITS, COUNTER_METRICS } from '../../../domain/metrics.js';
import type { DiskSample, MetricSnapshot, NicSample } from '../../../domain/snapshot.js';
import { FLEET_COLUMNS, type FleetEntry, type FleetTick } from '../../../domain/fleet.js';
import { DEFAULT_HISTORY_FIELDS, HISTORY_FIELDS, type HistoryField, type HistoryPoint } from '../../../domain/history.js';

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

const RateRef = builder.objectRef<{ name: string; perSecond: number; angleDeg: number }>('MetricRate').implement({
  description: "A counter's per-second rate since the previous sample, and seed 001's angle feature (arctangent of the rate)",
  fields: (t) => ({
    name: t.exposeString('name'),
    perSecond: t.exposeFloat('perSecond'),
    angleDeg: t.exposeFloat('angleDeg'),
  }),
});

export const MetricSnapshotRef = builder.objectRef<MetricSnapshot>('MetricSnapshot').implement({
  description: 'One VM at one tick. The seed metrics keep their names and units; a metric the hypervisor does not report is null.',
  fields: (t) => ({
    vmId: t.id({ resolve: (s) => s.vmId }),
    vm: t.field({ type: VmRef, nullable: true, resolve: (s, _a, ctx) => ctx.services.vms.get(s.vmId) ?? null }),
    timestamp: t.field({ type: 'DateTime', description: 'when the values were sampled', resolve: (s) => new Date(s.ts) }),
    state: t.exposeString('state'),
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
      resolve: (s) =>
        COUNTER_METRICS.filter((m) => s.rates[m] !== undefined).map((m) => ({ name: m, perSecond: s.rates[m]!, angleDeg: s.angles[m]! })),
    }),
    nics: t.field({ type: [NicRef], resolve: (s) => s.nics }),
    disks: t.field({ type: [DiskRef], resolve: (s) => s.disks }),
  }),
});

const FleetEntryRef = builder.objectRef<FleetEntry>('FleetEntry').implement({
  description: 'One VM in the compact per-tick fleet message (rates in bytes/s, percentages of the VM)',
  fields: (t) => ({
    vmId: t.id({ resolve: (e) => e.vmId }),
    name: t.exposeString('name'),
    host: t.exposeString('host'),
    state: t.exposeString('state'),
    cpuPct: t.exposeFloat('cpuPct', { nullable: true }),
    memPct: t.exposeFloat('memPct', { nullable: true }),
    netRxBps: t.exposeFloat('netRxBps', { nullable: true }),
    netTxBps: t.exposeFloat('netTxBps', { nullable: true }),
    diskReadBps: t.exposeFloat('diskReadBps', { nullable: true }),
    diskWriteBps: t.exposeFloat('diskWriteBps', { nullable: true }),
    stale: t.exposeBoolean('stale'),
    timestamp: t.field({ type: 'DateTime', resolve: (e) => new Date(e.ts) }),
  }),
});

// Built once per tick and shared by every subscriber: resolving `vms` costs ~12 fields × 1,000 VMs
// per subscriber per tick, `rows` one array.
const fleetRows = new WeakMap<FleetTick, unknown[][]>();
function rowsOf(f: FleetTick): unknown[][] {
  let rows = fleetRows.get(f);
  if (!rows) {
    rows = f.vms.map((e) => [String(e.vmId), e.name, e.host, e.state, e.stale, e.cpuPct, e.memPct, e.netRxBps, e.netTxBps, e.diskReadBps, e.diskWriteBps, new Date(e.ts).toISOString()]);
    fleetRows.set(f, rows);
  }
  return rows;
}

const FleetTickRef = builder.objectRef<FleetTick>('FleetTick').implement({
  fields: (t) => ({
    timestamp: t.field({ type: 'DateTime', resolve: (f) => new Date(f.ts) }),
    vms: t.field({ type: [FleetEntryRef], description: 'one object per VM (at 1,000 VMs prefer `columns` + `rows`)', resolve: (f) => f.vms }),
    columns: t.stringList({ description: 'the names of the values in each of `rows`', resolve: () => [...FLEET_COLUMNS] }),
    rows: t.field({
      type: 'JSON',
      description: 'compact form: one array per VM, values in `columns` order (ids as strings, rates in bytes/s, percentages, ISO timestamps)',
      resolve: rowsOf,
    }),
  }),
});

const HistoryValueRef = builder.objectRef<{ field: string; avg: number; min: number; max: number }>('HistoryValue').implement({
  fields: (t) => ({ field: t.exposeString('field'), avg: t.exposeFloat('avg'), min: t.exposeFloat('min'), max: t.exposeFloat('max') }),
});

const HistoryPointRef = builder.objectRef<HistoryPoint>('HistoryPoint').implement({
  fields: (t) => ({
    timestamp: t.field({ type: 'DateTime', description: 'start of the bucket', resolve: (p) => p.ts }),
    values: t.field({
      type: [HistoryValueRef],
      resolve: (p) => Object.entries(p.values).map(([field, v]) => ({ field, ...v! })),
    }),
  }),
});

const HistorySeriesRef = builder.objectRef<{ from: Date; to: Date; stepSec: number; points: HistoryPoint[] }>('HistorySeries').implement({
  fields: (t) => ({
    from: t.expose('from', { type: 'DateTime' }),
    to: t.expose('to', { type: 'DateTime' }),
    stepSec: t.exposeInt('stepSec'),
    points: t.field({ type: [HistoryPointRef], resolve: (h) => h.points }),
  }),
});

builder.objectFields(VmRef, (t) => ({
  latest: t.field({
    type: MetricSnapshotRef,
    nullable: true,
    description: 'The latest sample, from memory (null until the collector has sampled this VM)',
    resolve: (vm, _a, ctx) => ctx.services.metrics.latest(vm.id) ?? null,
  }),
  history: t.field({
    type: HistorySeriesRef,
    description: 'Stored history: a range (15m, 1h, 6h, 24h, 7d, 30d) or from/to; step in seconds (default: about 300 points)',
    args: {
      range: t.arg.string({ required: false }),
      from: t.arg({ type: 'DateTime', required: false }),
      to: t.arg({ type: 'DateTime', required: false }),
      step: t.arg.int({ required: false }),
      fields: t.arg.stringList({ required: false, description: `default: ${DEFAULT_HISTORY_FIELDS.join(', ')}` }),
    },
    resolve: (vm, args, ctx) => {
      const fields = (args.fields ?? DEFAULT_HISTORY_FIELDS) as HistoryField[];
      const bad = fields.filter((f) => !(HISTORY_FIELDS as readonly string[]).includes(f));
      if (bad.length) throw new GraphQLError(`unknown history field(s) ${bad.join(', ')}; valid: ${HISTORY_FIELDS.join(', ')}`, { extensions: { code: 'BAD_REQUEST' } });
      return ctx.services.metrics.history(vm.id, { range: args.range, from: args.from, to: args.to, stepSec: args.step, fields });
    },
  }),
}));

builder.queryFields((t) => ({
  fleet: t.field({ type: FleetTickRef, description: 'The latest fleet overview, from memory', resolve: (_r, _a, ctx) => ctx.services.metrics.fleet() }),
}));

builder.subscriptionFields((t) => ({
  vmMetrics: t.field({
    type: MetricSnapshotRef,
    description: "One VM's snapshot every tick (vmId: the id, uuid or name); the latest snapshot first",
    args: { vmId: t.arg.id({ required: true }) },
    subscribe: (_r, { vmId }, ctx) => ctx.services.metrics.watchVm(ctx.services.vms.resolve(String(vmId)).id),
    resolve: (s) => s,
  }),
  fleetMetrics: t.field({
    type: FleetTickRef,
    description: 'One compact message per tick for all VMs; the current overview first',
    subscribe: (_r, _a, ctx) => ctx.services.metrics.watchFleet(),
    resolve: (f) => f,
  }),
}));
