// The metrics service's per-tick work: fleet messages coalesced across staggered hosts, the raw
// libvirt record built only when read.
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FleetTick } from '../../../domain/fleet.js';
import type { MetricSnapshot } from '../../../domain/snapshot.js';
import { createLocalPubSub } from '../../../lib/pubsub.js';
import type { Vm, VmService } from '../../inventory/feature.js';
import { createMetricsService, type MetricsTopics } from '../metrics-service.js';
import type { MetricStore } from '../stores/store.js';

afterEach(() => {
  vi.useRealTimers();
});

const vmOf = (id: number, hostId: number): Vm => ({
  id, hostId, hostName: `h${hostId}`, uuid: `u${id}`, name: `vm${id}`, state: 'running', cpuCount: 1,
  memoryMax: 1024n, memoryUsed: 0n, cputime: 0n, present: true, updatedAt: new Date(0),
});

function setup(fleetGapMs?: number, { fleetListener = true } = {}) {
  const pubsub = createLocalPubSub<MetricsTopics>();
  const vms = new Map<number, Vm>();
  const reads = { ownerOf: 0 };
  const vmService = {
    get: (id: number) => vms.get(id),
    ownerOf: () => {
      reads.ownerOf++;
      return null;
    },
    noteUsage: () => {},
    scopeFilter: () => () => true,
  } as unknown as VmService;
  const written: MetricSnapshot[][] = [];
  const store = { write: async (b: MetricSnapshot[]) => void written.push(b) } as unknown as MetricStore;
  const metrics = createMetricsService({ pubsub, store, vms: vmService, log: pino({ level: 'silent' }), ...(fleetGapMs ? { fleetGapMs } : {}) });
  const fleet: FleetTick[] = [];
  if (fleetListener) {
    void (async () => {
      for await (const t of pubsub.subscribe('fleet:metrics')) fleet.push(t);
    })();
  }
  const ingest = (id: number, hostId: number, libvirt?: () => Record<string, bigint>) => {
    const vm = vmOf(id, hostId);
    vms.set(id, vm);
    return metrics.ingest([{ vm, state: 'running', cpus: 1, sample: { metrics: { cputime: BigInt(Date.now()) * 1_000_000n }, nics: [], disks: [] }, ...(libvirt ? { libvirt } : {}) }]);
  };
  return { metrics, fleet, ingest, written, reads, vms };
}

describe('metrics service', () => {
  it('one fleet message for hosts ticking together; staggered hosts: at most one per gap', async () => {
    vi.useFakeTimers({ now: 0 });
    const { fleet, ingest, metrics } = setup(250);
    // 4 hosts within 20 ms: one message with all of them
    for (let h = 1; h <= 4; h++) {
      await ingest(h, h);
      await vi.advanceTimersByTimeAsync(5);
    }
    await vi.advanceTimersByTimeAsync(100);
    expect(fleet).toHaveLength(1);
    expect(fleet[0]!.vms.map((v) => v.vmId)).toEqual([1, 2, 3, 4]);
    // 10 hosts staggered 100 ms apart over one second: not 10 messages but one per 250 ms
    for (let h = 1; h <= 10; h++) {
      await ingest(h, h);
      await vi.advanceTimersByTimeAsync(100);
    }
    await vi.advanceTimersByTimeAsync(300);
    const later = fleet.slice(1);
    expect(later.length).toBeGreaterThanOrEqual(3);
    expect(later.length).toBeLessThanOrEqual(5);
    for (let i = 1; i < fleet.length; i++) expect(fleet[i]!.ts - fleet[i - 1]!.ts).toBeGreaterThanOrEqual(250);
    // the last message has every host's latest sample
    expect(fleet.at(-1)!.vms.every((v) => v.ts === metrics.latest(v.vmId)!.ts)).toBe(true);
    metrics.stop();
  });

  it('builds no fleet message while nobody listens to the fleet, and does again once somebody does', async () => {
    vi.useFakeTimers({ now: 0 });
    const { ingest, metrics, reads } = setup(250, { fleetListener: false });
    for (let h = 1; h <= 3; h++) {
      await ingest(h, h);
      await vi.advanceTimersByTimeAsync(300);
    }
    // a fleet entry reads each VM's owner: none was built
    expect(reads.ownerOf).toBe(0);
    const got: FleetTick[] = [];
    const stream = metrics.watchFleet()[Symbol.asyncIterator]();
    got.push((await stream.next()).value as FleetTick); // the current overview, at once
    const next = stream.next();
    await ingest(4, 4);
    await vi.advanceTimersByTimeAsync(300);
    got.push((await next).value as FleetTick);
    expect(got.map((t) => t.vms.map((v) => v.vmId))).toEqual([[1, 2, 3], [1, 2, 3, 4]]);
    expect(reads.ownerOf).toBeGreaterThan(0);
    await stream.return?.();
    metrics.stop();
  });

  it("spreads one tick's subscriber messages over event-loop iterations, at most 16 in one", async () => {
    const { metrics, vms } = setup(undefined, { fleetListener: false });
    const ids = Array.from({ length: 40 }, (_, i) => i + 1);
    for (const id of ids) vms.set(id, vmOf(id, 1));
    // an iteration counter: an immediate scheduled from an immediate runs in the next iteration
    let iteration = 0;
    let counting = true;
    const count = () => {
      iteration++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    const got: { id: number; iteration: number }[] = [];
    const done = ids.map(async (id) => {
      for await (const s of metrics.watchVm(id)) {
        got.push({ id: s.vmId, iteration });
        break;
      }
    });
    await new Promise((r) => setImmediate(r)); // every subscriber listening
    const sample = { metrics: { cputime: 1n }, nics: [], disks: [] };
    await metrics.ingest(ids.map((id) => ({ vm: vms.get(id)!, state: 'running' as const, cpus: 1, sample })));
    await Promise.all(done);
    counting = false;
    expect(got.map((g) => g.id).sort((a, b) => a - b)).toEqual(ids);
    const perIteration = new Map<number, number>();
    for (const g of got) perIteration.set(g.iteration, (perIteration.get(g.iteration) ?? 0) + 1);
    expect(Math.max(...perIteration.values())).toBeLessThanOrEqual(16);
    expect(perIteration.size).toBeGreaterThanOrEqual(3);
    metrics.stop();
  });

  it('builds the raw libvirt record once, when read, and leaves it out of JSON and spreads', async () => {
    const { ingest, written } = setup();
    const record = { 'cpu.time': 5n, 'state.state': 1n };
    const build = vi.fn(() => ({ ...record }));
    const [s] = await ingest(1, 1, build);
    expect(build).not.toHaveBeenCalled();
    expect(Object.keys(s!)).not.toContain('libvirt');
    expect(JSON.stringify(s, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain('cpu.time');
    expect({ ...s! }.libvirt).toBeUndefined();
    expect(s!.libvirt).toEqual(record);
    expect(s!.libvirt).toBe(s!.libvirt);
    expect(build).toHaveBeenCalledTimes(1);
    expect(written[0]![0]).toBe(s);
  });

  it('a tick without a sample of a VM: the last good values held and marked stale, or none while it is not running; neither stored', async () => {
    const { metrics, ingest, written, vms } = setup();
    const [good] = await ingest(1, 1);
    const vm = vms.get(1)!;
    const [failed] = await metrics.ingest([{ vm, state: 'running', cpus: 1, error: 'no stats this tick' }], good!.ts + 1000);
    expect(failed).toMatchObject({ vmId: 1, vmName: 'vm1', state: 'running', stale: true, ageMs: 1000, error: 'no stats this tick', ts: good!.ts });
    expect(failed!.metrics).toBe(good!.metrics);
    expect(failed!.rates).toBe(good!.rates);
    expect(metrics.latest(1)).toBe(failed);

    const [off] = await metrics.ingest([{ vm, state: 'shutoff', cpus: 1 }], good!.ts + 2000);
    expect(off).toMatchObject({ state: 'shutoff', stale: false, ageMs: 0, ts: good!.ts + 2000, memPct: null, cpuPct: { user: null, system: null, total: null } });
    expect(off).not.toHaveProperty('error');
    expect(Object.keys(off!.metrics)).toEqual([]);
    expect([off!.nics, off!.disks, Object.keys(off!.rates)]).toEqual([[], [], []]);
    // The empties are shared by every such snapshot: nothing may write them.
    expect(() => {
      (off!.metrics as Record<string, bigint>).cputime = 1n;
    }).toThrow(TypeError);
    expect(written.flat().map((s) => s.ts)).toEqual([good!.ts]);
  });
});
