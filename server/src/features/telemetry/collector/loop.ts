// Hosts tick in phases on a fixed grid, one timer per phase (a host still busy with its last tick
// skips a slot instead of piling up). Per tick: one bulk virConnectGetAllDomainStats (NOWAIT), then the
// per-domain calls for the groups the driver's bulk call did not return (the test driver returns
// only `state`). A failing domain is marked stale; a lost connection is handed to the host service.
import { RUNNING_STATE_CODE, domainStateOf } from '../../../domain/vm-state.js';
import type { Logger } from '../../../lib/logger.js';
import { CHUNK, yieldToEventLoop } from '../../../lib/yield.js';
import { collectYoungGeneration } from '../../../lib/young-gc.js';
import type { LibvirtConnection } from '../../../libvirt/connection.js';
import { isConnectionLost } from '../../../libvirt/errors.js';
import { trimNativeHeap } from '../../../libvirt/malloc.js';
import { withTimeout } from '../../../libvirt/timeout.js';
import { StatsTableReader } from '../../../libvirt/stats-table.js';
import type { PerCallStatsItem, StatParams, StatsGroup, StatValue } from '../../../libvirt/types.js';
import { mapStatsOf, type MappedStats, type StatsRow } from './mapping.js';
import { phaseOffsetsMs } from './stagger.js';

/** The stats groups a tick asks for (the bench's libvirt-alone figures ask for the same). */
export const STATS_GROUPS: StatsGroup[] = ['state', 'cpu-total', 'balloon', 'vcpu', 'interface', 'block'];

/** What the collector needs of a host (the inventory's hosts have it). */
export interface CollectedHost {
  id: number;
  name: string;
  conn: LibvirtConnection | null;
  /** why the host is disconnected, when it is */
  lastError?: string | null;
}

/** What a host without a connection reports (its VMs' error, the status' last_error), with why when known. */
export const disconnectedError = (host: { name: string; lastError?: string | null }) => `host ${host.name} is disconnected${host.lastError ? `: ${host.lastError}` : ''}`;

/** What the collector needs of a VM (the inventory's VMs have it). */
export interface CollectedVm {
  id: number;
  hostId: number;
  uuid: string;
  state: string;
  cpuCount: number;
  present: boolean;
}

/** What the collector read for one VM at one tick: a sample, or why there is none. */
export interface VmReading<V extends CollectedVm = CollectedVm> {
  vm: V;
  state: string;
  cpus: number;
  sample?: MappedStats;
  /** the raw stats record `sample` was mapped from, built when asked for (see MetricSnapshot.libvirt) */
  libvirt?: () => StatParams;
  error?: string;
}

/** The narrow interfaces the collector is given: where hosts and VMs come from, where readings go. */
export interface CollectorPorts<H extends CollectedHost, V extends CollectedVm> {
  hosts: { list(): H[]; lost(host: H, reason: string): void };
  /** does this replica collect the host now (its lease)? Hosts it does not own are skipped tick by tick */
  owns?(hostId: number): boolean;
  vmsOf(hostId: number): V[];
  ingest(readings: VmReading<V>[]): Promise<readonly { stale: boolean }[]>;
}

export interface HostTickStats {
  hostId: number;
  ticks: number;
  samples: number;
  errors: number;
  staleVms: number;
  lastTickMs: number | null;
  lastTickAt: number | null;
  /** the last tick's failed call, if it failed (a disconnected host's error is the host's: collector-service.ts) */
  lastError: string | null;
  /** CPU time this process spent on the last tick (user + system), ms: hosts that tick together share theirs by VMs read */
  lastTickCpuMs: number | null;
}

export interface CollectorOptions {
  intervalMs: number;
  timeoutMs: number;
  deviceCacheTtlMs: number;
  /**
   * Give each reading its raw stats record, built when asked for (MetricSnapshot.libvirt). It keeps
   * the tick's stats tables alive until the next tick (a third of what a tick leaves for the
   * scavenger to copy): only for a store that writes libvirt's own fields.
   */
  rawRecords?: boolean;
}

export function createCollectorLoop<H extends CollectedHost, V extends CollectedVm>(deps: CollectorPorts<H, V> & { log: Logger; opts: CollectorOptions }) {
  const { hosts, vmsOf, ingest, log, opts } = deps;
  const owns = deps.owns ?? (() => true);
  /** each phase's timer, by its offset into the interval */
  const timers = new Map<number, NodeJS.Timeout>();
  const hostTicks = new Map<number, Promise<unknown>>();
  const stats = new Map<number, HostTickStats>();
  const devices = new Map<string, { interfaces: string[]; blocks: string[]; at: number }>();
  const inFlight = new Set<Promise<unknown>>();
  let running = false;
  const listeners: ((s: HostTickStats) => void)[] = [];

  const statsOf = (hostId: number): HostTickStats => {
    let s = stats.get(hostId);
    if (!s) {
      s = { hostId, ticks: 0, samples: 0, errors: 0, staleVms: 0, lastTickMs: null, lastTickAt: null, lastError: null, lastTickCpuMs: null };
      stats.set(hostId, s);
    }
    return s;
  };

  async function readHost(host: H): Promise<VmReading<V>[]> {
    const conn = host.conn;
    const known = vmsOf(host.id);
    if (!conn) {
      const error = disconnectedError(host);
      return known.map((vm) => ({ vm, state: vm.state, cpus: vm.cpuCount, error }));
    }
    // Stats as tables (one per call, values in typed arrays), not an object of ~40 BigInts per domain.
    const bulk = new StatsTableReader(
      await withTimeout(conn.getAllDomainStatsTable({ groups: STATS_GROUPS, nowait: true }), opts.timeoutMs, `domain stats on ${host.name}`),
    );
    const stateKey = bulk.keyOf('state.state');
    const cpuKey = bulk.keyOf('cpu.time');
    const rowOf = new Map<string, number>();
    const stateCodes: number[] = [];
    const items: PerCallStatsItem[] = [];
    const now = Date.now();
    for (let row = 0; row < bulk.rows; row++) {
      const uuid = bulk.table.uuids[row]!;
      rowOf.set(uuid, row);
      const j = bulk.entry(row, stateKey);
      const code = j < 0 ? -1 : Number(bulk.value(j));
      stateCodes.push(code);
      // Running domains whose bulk record lacks CPU time: the driver's bulk call lacks those groups.
      if (code === RUNNING_STATE_CODE && bulk.entry(row, cpuKey) < 0) {
        const d = devices.get(uuid);
        items.push(d && now - d.at < opts.deviceCacheTtlMs ? { uuid, interfaces: d.interfaces, blocks: d.blocks } : { uuid });
      }
    }
    const perCall = new Map<string, { reader: StatsTableReader; row: number }>();
    const perCallErrors = new Map<string, string>();
    if (items.length) {
      const tables = await withTimeout(
        conn.domainStatsPerCallTable(items, { memory: true, interfaces: true, blocks: true, vcpus: true, cpu: true, parallel: 2 }),
        opts.timeoutMs,
        `per-domain stats on ${host.name}`,
      );
      for (const t of tables) {
        const reader = new StatsTableReader(t);
        for (let row = 0; row < reader.rows; row++) {
          const uuid = t.uuids[row]!;
          const extra = t.extra[row];
          if (extra?.error) {
            perCallErrors.set(uuid, extra.error.message);
            continue;
          }
          perCall.set(uuid, { reader, row });
          // Devices come back only when read from the domain XML (none cached, or the cache expired).
          if (extra?.devices) devices.set(uuid, { ...extra.devices, at: now });
        }
      }
    }
    const readings: VmReading<V>[] = [];
    const merged = new MergedRow(bulk);
    for (let i = 0; i < known.length; i++) {
      if (i > 0 && i % CHUNK === 0) await yieldToEventLoop();
      const vm = known[i]!;
      if (!vm.present) continue;
      const row = rowOf.get(vm.uuid);
      if (row === undefined) {
        // NOWAIT skips a domain busy with a job: stale this tick, back next tick.
        readings.push({ vm, state: vm.state, cpus: vm.cpuCount, error: 'no stats this tick (domain busy or just changed)' });
        continue;
      }
      const stateCode = stateCodes[row]!;
      const state = domainStateOf(stateCode) ?? vm.state;
      if (stateCode !== RUNNING_STATE_CODE && bulk.entry(row, cpuKey) < 0) {
        readings.push({ vm, state, cpus: vm.cpuCount });
        continue;
      }
      const error = perCallErrors.get(vm.uuid);
      if (error !== undefined) {
        readings.push({ vm, state, cpus: vm.cpuCount, error });
        continue;
      }
      const extra = perCall.get(vm.uuid);
      const sample = mapStatsOf(merged.at(row, extra));
      if (!opts.rawRecords) {
        readings.push({ vm, state, cpus: vm.cpuCount, sample });
        continue;
      }
      // Built when the store first reads it (MetricSnapshot.libvirt), not for every VM every tick.
      const libvirt = (): StatParams => bulk.record(row, extra ? extra.reader.record(extra.row) : {});
      readings.push({ vm, state, cpus: vm.cpuCount, sample, libvirt });
    }
    return readings;
  }

  /** One host's tick; answers how many VMs it read (its share of the batch's CPU, see run). */
  async function tick(host: H): Promise<number> {
    const s = statsOf(host.id);
    const t0 = performance.now();
    let readings: VmReading<V>[];
    try {
      readings = await readHost(host);
      // A host without a connection is not the tick's error: the status reads why from the host.
      s.lastError = null;
      s.errors += readings.filter((r) => r.error).length;
    } catch (err) {
      s.errors++;
      s.lastError = err instanceof Error ? err.message : String(err);
      log.warn({ host: host.name, err: s.lastError }, 'collector tick failed');
      if (isConnectionLost(err)) hosts.lost(host, s.lastError);
      readings = vmsOf(host.id).map((vm) => ({ vm, state: vm.state, cpus: vm.cpuCount, error: s.lastError! }));
    }
    const snapshots = await ingest(readings);
    s.ticks++;
    s.samples += snapshots.filter((x) => !x.stale).length;
    s.staleVms = snapshots.filter((x) => x.stale).length;
    s.lastTickMs = Math.round((performance.now() - t0) * 100) / 100;
    s.lastTickAt = Date.now();
    return readings.length;
  }

  /**
   * Starts the hosts' ticks together (a phase's slot, or one host kicked); each host is busy until
   * its own tick ends. The process' CPU is read once for the batch, from its start until its last
   * tick ends, and shared out by VMs read: ticks of one phase overlap, so a window per host would
   * count the others' work too. (A host still busy from the previous slot, a tick longer than the
   * interval, has what it does meanwhile counted in both batches.)
   */
  function run(batch: H[]) {
    if (!batch.length) return;
    // Only the previous tick's snapshots are alive now: a scavenge here is short, and the tick's own
    // garbage then fits in the young generation instead of a scavenge copying it mid-tick.
    collectYoungGeneration(opts.intervalMs * 0.9);
    const cpu0 = process.cpuUsage();
    const ticks = batch.map((host) => {
      const p = tick(host)
        .catch((err) => {
          log.error({ err, host: host.name }, 'collector tick crashed');
          return 0;
        })
        .finally(() => hostTicks.delete(host.id));
      hostTicks.set(host.id, p);
      return p;
    });
    const done = Promise.all(ticks)
      .then((vms) => {
        const cpu = process.cpuUsage(cpu0);
        const weights = vms.map((n) => Math.max(1, n));
        const total = weights.reduce((a, b) => a + b, 0);
        batch.forEach((host, i) => {
          const s = statsOf(host.id);
          s.lastTickCpuMs = Math.round((((cpu.user + cpu.system) / 1000) * weights[i]!) / total * 100) / 100;
          for (const l of listeners) l(s);
        });
        // The ticks' native buffers are freed now: give their pages back (at most every 10 s, for all hosts).
        trimNativeHeap();
      })
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  }

  /**
   * One timer per phase, on a fixed grid (`due` on the monotonic clock, one interval apart): every
   * host of the phase that this replica owns and that is not still busy with its last tick starts
   * one in the same callback. Their libvirt calls then go to the pool together, and the process and
   * libvirt's threads wake once for all of them: twelve 1-VM real hosts cost ~0.4 ms of libvirt's
   * CPU per extra host a tick together, ~1.2 ms when their calls are 20 ms apart
   * (bench/README.md, "Per-host fixed cost"). A host whose tick outlasts the interval skips the
   * slots it is busy for, and a slot the loop was too late for is skipped: the grid never drifts.
   */
  function schedulePhase(offset: number, members: H[], due: number) {
    timers.set(
      offset,
      setTimeout(() => {
        run(members.filter((host) => owns(host.id) && !hostTicks.has(host.id)));
        if (!running) return;
        const now = performance.now();
        let next = due + opts.intervalMs;
        if (next <= now) next += Math.ceil((now - next) / opts.intervalMs) * opts.intervalMs;
        schedulePhase(offset, members, next);
      }, Math.max(0, due - performance.now())),
    );
  }

  return {
    get running() {
      return running;
    },
    start() {
      if (running) return;
      running = true;
      // Staggered: hosts in phases spread over the interval (small hosts share one, stagger.ts), so
      // the hosts' CPU spreads over the interval instead of landing all at once.
      const all = hosts.list();
      const offsets = phaseOffsetsMs(
        all.map((h) => vmsOf(h.id).length),
        opts.intervalMs,
      );
      const phases = new Map<number, H[]>();
      all.forEach((host, i) => {
        const members = phases.get(offsets[i]!) ?? [];
        members.push(host);
        phases.set(offsets[i]!, members);
      });
      const t0 = performance.now();
      for (const [offset, members] of phases) schedulePhase(offset, members, t0 + offset);
      log.info({ intervalMs: opts.intervalMs, hosts: all.length }, 'collector started');
    },
    async stop() {
      if (!running) return;
      running = false;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      await Promise.all(inFlight);
      log.info('collector stopped');
    },
    /** Tick the host now (a lease just came our way) instead of at its phase's next slot. */
    kick(hostId: number) {
      const host = hosts.list().find((h) => h.id === hostId);
      if (!running || !host || hostTicks.has(hostId)) return;
      run([host]);
    },
    /** Resolves when the host's tick in flight (if any) is over: after a lease is given up, before it is freed. */
    async settle(hostId: number): Promise<void> {
      await hostTicks.get(hostId);
    },
    stats(): HostTickStats[] {
      return hosts.list().map((h) => statsOf(h.id));
    },
    onTick(listener: (s: HostTickStats) => void) {
      listeners.push(listener);
    },
  };
}

export type CollectorLoop = ReturnType<typeof createCollectorLoop>;

/**
 * A domain's bulk row merged with its per-call row, read by key for mapStatsOf(): the bulk
 * record's keys win over the per-call ones (as Object.assign(perCall, bulk) would). One per host
 * tick, pointed at each domain in turn (mapping is synchronous), instead of closures per domain.
 */
class MergedRow implements StatsRow {
  #row = -1;
  #extra: { reader: StatsTableReader; row: number } | undefined;
  constructor(private readonly bulk: StatsTableReader) {}

  at(row: number, extra: { reader: StatsTableReader; row: number } | undefined): this {
    this.#row = row;
    this.#extra = extra;
    return this;
  }

  get(slot: number): StatValue | undefined {
    const j = this.bulk.entry(this.#row, this.bulk.keyAt(slot));
    if (j >= 0) return this.bulk.value(j);
    const k = this.#extraEntry(slot);
    return k >= 0 ? this.#extra!.reader.value(k) : undefined;
  }

  counter(slot: number): number | bigint | undefined {
    const j = this.bulk.entry(this.#row, this.bulk.keyAt(slot));
    if (j >= 0) return this.bulk.counter(j);
    const k = this.#extraEntry(slot);
    return k >= 0 ? this.#extra!.reader.counter(k) : undefined;
  }

  #extraEntry(slot: number): number {
    const x = this.#extra;
    return x ? x.reader.entry(x.row, x.reader.keyAt(slot)) : -1;
  }
}
