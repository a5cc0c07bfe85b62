// A VM's snapshot at one tick, as the metrics service makes it: from a fresh sample, or without one.
import type { MetricSnapshot } from '../../domain/snapshot.js';
import type { StatParams } from '../../libvirt/types.js';
import type { Vm } from '../inventory/feature.js';
import type { VmReading } from './collector/loop.js';
import type { MappedStats } from './collector/mapping.js';
import { derive } from './collector/rates.js';

type SampleValues = Pick<MetricSnapshot, 'metrics' | 'nics' | 'disks'>;
type DerivedValues = Pick<MetricSnapshot, 'rates' | 'angles' | 'cpuPct' | 'memPct'>;

/** What every snapshot holds: the VM itself, its state at the tick, and the values of one sample. */
abstract class VmSnapshot {
  readonly vmId: number;
  readonly hostId: number;
  readonly hostName: string;
  readonly vmName: string;
  readonly uuid: string;
  readonly memoryMax: bigint;
  readonly state: string;
  readonly ts: number;
  readonly cpus: number;
  readonly metrics: MetricSnapshot['metrics'];
  readonly nics: MetricSnapshot['nics'];
  readonly disks: MetricSnapshot['disks'];
  readonly rates: MetricSnapshot['rates'];
  readonly angles: MetricSnapshot['angles'];
  readonly cpuPct: MetricSnapshot['cpuPct'];
  readonly memPct: number | null;

  constructor(r: VmReading<Vm>, ts: number, cpus: number, sample: SampleValues, derived: DerivedValues) {
    const vm = r.vm;
    this.vmId = vm.id;
    this.hostId = vm.hostId;
    this.hostName = vm.hostName;
    this.vmName = vm.name;
    this.uuid = vm.uuid;
    this.memoryMax = vm.memoryMax;
    this.state = r.state;
    this.ts = ts;
    this.cpus = cpus;
    this.metrics = sample.metrics;
    this.nics = sample.nics;
    this.disks = sample.disks;
    this.rates = derived.rates;
    this.angles = derived.angles;
    this.cpuPct = derived.cpuPct;
    this.memPct = derived.memPct;
  }
}

/**
 * A fresh sample's snapshot. Its raw libvirt record (MetricSnapshot.libvirt) sits in a private field
 * behind a getter: built on first read (the InfluxDB store, /metrics), not every tick for every VM;
 * left out of JSON (pubsub over Redis, API answers) and spreads, so a replica's messages stay their
 * size (~1.7 KB a VM, ~3.6 KB with the record); and no Object.defineProperty per snapshot (two of
 * them cost ~0.3 µs per VM per tick, side test).
 */
export class FreshSnapshot extends VmSnapshot implements MetricSnapshot {
  readonly stale = false;
  readonly ageMs = 0;
  #raw: (() => StatParams) | undefined;
  #record: StatParams | undefined;

  constructor(r: VmReading<Vm>, sample: MappedStats, ts: number, prev: MetricSnapshot | undefined) {
    const cpus = sample.cpus ?? r.cpus;
    super(r, ts, cpus, sample, derive(prev, { ts, metrics: sample.metrics, cpus, memoryMax: r.vm.memoryMax }));
    this.#raw = r.libvirt;
  }

  get libvirt(): StatParams | undefined {
    if (this.#raw) {
      this.#record = this.#raw();
      this.#raw = undefined;
    }
    return this.#record;
  }
}

// What a snapshot without a sample holds: shared and frozen (never written, one set for every VM).
const NO_VALUES: MetricSnapshot['metrics'] & MetricSnapshot['rates'] = Object.freeze({});
const NO_SAMPLE: SampleValues & DerivedValues = Object.freeze({
  metrics: NO_VALUES,
  nics: Object.freeze([]) as never[],
  disks: Object.freeze([]) as never[],
  rates: NO_VALUES,
  angles: NO_VALUES,
  cpuPct: Object.freeze({ user: null, system: null, total: null }),
  memPct: null,
});

/**
 * A VM's snapshot at a tick that has no sample of it: the last good values held, `ageMs` old (the
 * tick failed for it: `stale`, with the error; `ts` stays the last good sample's), or none at all
 * (not running, or failing before any good sample). One object with named fields: an object spread
 * of the previous snapshot plus a dozen more keys cost ~9 µs and ~4 KB per VM per tick (side test;
 * every shut-off VM takes this path every tick).
 */
export class HeldSnapshot extends VmSnapshot implements MetricSnapshot {
  readonly stale: boolean;
  readonly ageMs: number;
  declare readonly error?: string;

  constructor(r: VmReading<Vm>, now: number, prev: MetricSnapshot | undefined) {
    const held = r.error && prev ? prev : undefined;
    super(r, held ? held.ts : now, held ? held.cpus : r.cpus, held ?? NO_SAMPLE, held ?? NO_SAMPLE);
    this.stale = !!r.error;
    this.ageMs = held ? now - held.ts : 0;
    if (r.error) this.error = r.error;
  }
}
