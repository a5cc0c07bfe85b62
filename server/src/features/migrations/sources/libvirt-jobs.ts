// libvirt's own jobs on monitored VMs become replication jobs by themselves: an outgoing live
// migration, a save to file (domain job stats), a block copy (block job cur/end per disk).
// Cost: jobs are noticed by libvirt's events (block job, migration iteration, job completed) and a
// cheap periodic scan (one native task per host every MIGRATION_SCAN_INTERVAL); job stats are
// polled every MIGRATION_JOB_POLL only for the VMs with a job running — never a call per VM per tick.
import type { Logger } from '../../../lib/logger.js';
import type { JobEvent, JobScan } from '../../../libvirt/jobs.js';
import type { StatParams } from '../../../libvirt/types.js';
import type { Host, HostService, Vm, VmService } from '../../inventory/feature.js';
import type { LiveStats, MigrationService } from '../service.js';

/** virDomainJobOperation: which domain jobs are migrations vmpulse follows */
const OPERATION = { save: 2, migrationOut: 5, dump: 8 } as const;

interface Tracked {
  jobId: string;
  hostId: number;
  uuid: string;
  kind: 'block_copy' | 'live_migration' | 'save';
  /** the last block job state per disk (block copies) */
  lastBlock: Map<string, { cur: bigint; end: bigint }>;
  /** a block copy reached its end (mirroring) */
  ready?: boolean;
  /** the outcome an event announced, if any */
  outcome?: { ok: boolean; error?: string };
  /** a report in flight: the next one waits */
  busy: Promise<void>;
}

const num = (p: StatParams, k: string) => {
  const v = p[k];
  return typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : 0;
};

export interface LibvirtJobSourceOptions {
  hosts: HostService;
  vms: VmService;
  migrations: MigrationService;
  log: Logger;
  scanMs: number;
  pollMs: number;
  /** Does this replica own the host (hostLeases.owns)? Only the owner scans, polls and records its jobs, so two replicas never record the same job. */
  owns: (hostId: number) => boolean;
}

export function createLibvirtJobSource(o: LibvirtJobSourceOptions) {
  const { hosts, vms, migrations, log } = o;
  const tracked = new Map<string, Tracked>(); // key host/uuid
  const wanted = new Map<number, Set<string>>(); // VMs an event asked to look at now, by host
  const disks = new Map<string, string[]>(); // disk targets by host/uuid
  const unwatch = new Map<number, () => Promise<void>>();
  const stats = { scans: 0, polls: 0, scannedVms: 0, polledVms: 0, nativeMs: 0 };
  let timer: NodeJS.Timeout | undefined;
  let lastScan = 0;
  let stopped = false;
  const key = (hostId: number, uuid: string) => `${hostId}/${uuid}`;

  async function watch(host: Host) {
    const conn = host.conn;
    if (!conn) return;
    try {
      const stop = await conn.watchJobEvents((e) => onEvent(host, e));
      unwatch.set(host.id, stop);
    } catch (err) {
      log.warn({ host: host.name, err: String(err) }, 'job events unavailable; the periodic scan alone notices jobs');
    }
  }

  function onEvent(host: Host, e: JobEvent) {
    if (!o.owns(host.id)) return;
    const set = wanted.get(host.id) ?? new Set<string>();
    wanted.set(host.id, set);
    set.add(e.uuid);
    const t = tracked.get(key(host.id, e.uuid));
    if (t && e.kind === 'blockJob') {
      if (e.status === 'ready') t.ready = true;
      // A copy finished without a pivot (virsh blockcopy --finish) is cancelled once ready: it copied everything.
      else t.outcome = { ok: e.status === 'completed' || (e.status === 'canceled' && t.ready === true), error: `block job ${e.status} on ${e.disk}` };
    }
    if (t && e.kind === 'jobCompleted') t.outcome = { ok: true };
    // A job shorter than a poll (a save of a small guest) is known only from its completion event.
    if (!t && e.kind === 'jobCompleted') void completedUnseen(host, e.uuid, e.params);
    log.debug({ host: host.name, event: e }, 'libvirt job event');
  }

  async function completedUnseen(host: Host, uuid: string, params: StatParams) {
    const op = num(params, 'operation');
    const kind = op === OPERATION.save ? 'save' : op === OPERATION.migrationOut ? 'live_migration' : null;
    const vm = vms.list({ host: String(host.id), includeUndefined: true }).find((v) => v.uuid === uuid);
    if (!kind || !vm) return;
    const r: JobScan = { uuid, job: { type: 'completed', params }, blockJobs: [] };
    const t = await begin(host, vm, r, kind);
    tracked.delete(key(host.id, uuid));
    await report(t, () => migrations.libvirtJobEnded(t.jobId, true));
  }

  function jobKind(r: JobScan): Tracked['kind'] | null {
    if (r.blockJobs.some((b) => b.kind === 'copy' || b.kind === 'active_commit' || b.kind === 'commit' || b.kind === 'pull')) return 'block_copy';
    if (!r.job) return null;
    const op = num(r.job.params, 'operation');
    if (op === OPERATION.migrationOut) return 'live_migration';
    if (op === OPERATION.save) return 'save';
    return null; // dumps belong to the dumps feature; other jobs are not migrations
  }

  /** Progress of a job from one scan result. */
  function progressOf(t: Tracked, r: JobScan) {
    if (t.kind === 'block_copy') {
      for (const b of r.blockJobs) t.lastBlock.set(b.disk, { cur: b.cur, end: b.end });
      const ds = [...t.lastBlock.entries()];
      const bytes = ds.reduce((s, [, b]) => s + Number(b.cur), 0);
      const total = ds.reduce((s, [, b]) => s + Number(b.end), 0);
      const ready = ds.every(([, b]) => b.end > 0n && b.cur === b.end);
      return {
        bytes,
        totalBytes: total,
        phase: 'Disk transfer',
        operation: ready ? 'Mirroring (ready to pivot)' : 'Copying disk',
        disks: ds.map(([disk, b]) => ({ disk_id: disk, bytes_synced: Number(b.cur), capacity_bytes: Number(b.end) })),
      };
    }
    const p = r.job!.params;
    const total = num(p, 'data_total') || num(p, 'memory_total');
    const processed = Math.min(num(p, 'data_processed') || num(p, 'memory_processed'), total);
    if (t.kind === 'save') return { bytes: processed, totalBytes: total, phase: 'Memory transfer', operation: 'Saving memory' };
    const iteration = num(p, 'memory_iteration');
    const diskTotal = num(p, 'disk_total');
    const diskRemaining = num(p, 'disk_remaining');
    const live: Omit<LiveStats, 'converging' | 'stalledSince'> = {
      dataTotal: total,
      dataProcessed: processed,
      remainingBytes: num(p, 'data_remaining'),
      transferRateBps: num(p, 'memory_bps'),
      dirtyRateBps: num(p, 'memory_dirty_rate') * (num(p, 'memory_page_size') || 4096),
      iteration,
      expectedDowntimeMs: num(p, 'downtime'),
    };
    const phase = diskTotal > 0 && diskRemaining > 0 ? 'Disk transfer' : 'Memory pre-copy';
    return { bytes: processed, totalBytes: total, phase, operation: `${phase}, iteration ${iteration}`, live };
  }

  function report(t: Tracked, work: () => Promise<void>) {
    t.busy = t.busy.then(work).catch((err: unknown) => log.warn({ job: t.jobId, err: String(err) }, 'libvirt job report refused'));
    return t.busy;
  }

  async function begin(host: Host, vm: Vm, r: JobScan, kind: Tracked['kind']) {
    const t: Tracked = { jobId: `lv-${kind}-${vm.uuid.slice(0, 8)}-${Date.now().toString(36)}`, hostId: host.id, uuid: vm.uuid, kind, lastBlock: new Map(), busy: Promise.resolve() };
    tracked.set(key(host.id, vm.uuid), t);
    const first = progressOf(t, r);
    const diskList =
      kind === 'block_copy'
        ? r.blockJobs.map((b) => ({ disk_id: b.disk, label: b.disk, vmdk_path: b.disk, capacity_bytes: Number(b.end) }))
        : (disks.get(key(host.id, vm.uuid)) ?? []).map((d) => ({ disk_id: d, label: d, vmdk_path: d, capacity_bytes: 0 }));
    log.info({ host: host.name, vm: vm.name, kind, job: t.jobId }, 'libvirt job noticed');
    await report(t, () =>
      migrations.libvirtJobStarted({
        vmName: vm.name,
        host: host.name,
        uuid: vm.uuid,
        jobId: t.jobId,
        type: kind,
        disks: diskList,
        totalBytes: first.totalBytes,
        cpuCount: vm.cpuCount,
        memoryMb: Number(vm.memoryMax / 1024n),
        powerState: vm.state,
      }),
    );
    await report(t, () => migrations.libvirtJobProgress({ jobId: t.jobId, ...first }));
    return t;
  }

  async function end(host: Host, t: Tracked) {
    tracked.delete(key(host.id, t.uuid));
    let outcome = t.outcome;
    if (!outcome && t.kind !== 'block_copy') {
      // The job is gone and no event said how: libvirt keeps the completed job's stats.
      const done = await host.conn?.jobStats(t.uuid, { completed: true }).catch(() => null);
      if (done && done.type !== 'none') outcome = { ok: done.type === 'completed', error: `libvirt job ${done.type}` };
    }
    if (!outcome && t.kind !== 'block_copy') {
      // An outgoing migration or a save that succeeded leaves the domain stopped here; a failed one leaves it running.
      const info = await host.conn?.domainInfo(t.uuid).catch(() => null);
      const stopped = !info || (info.state !== 'running' && info.state !== 'paused');
      outcome = stopped ? { ok: true } : { ok: false, error: `${t.kind} ended with the domain still ${info?.state}` };
    }
    if (!outcome) {
      const all = [...t.lastBlock.values()];
      const finished = all.length > 0 && all.every((b) => b.end > 0n && b.cur === b.end);
      outcome = finished ? { ok: true } : { ok: false, error: 'block job ended before it finished' };
    }
    log.info({ host: host.name, job: t.jobId, ok: outcome.ok }, 'libvirt job ended');
    await report(t, () => migrations.libvirtJobEnded(t.jobId, outcome.ok, outcome.error));
  }

  /** One native task for the host's listed VMs; then start, advance or end their jobs. */
  async function look(host: Host, list: Vm[]) {
    const conn = host.conn;
    if (!conn || !list.length) return;
    const t0 = performance.now();
    const results = await conn.scanJobs(list.map((v) => ({ uuid: v.uuid, ...(disks.has(key(host.id, v.uuid)) ? { disks: disks.get(key(host.id, v.uuid)) } : {}) })));
    stats.nativeMs += performance.now() - t0;
    const byUuid = new Map(results.map((r) => [r.uuid, r]));
    const work: Promise<void>[] = [];
    for (const vm of list) {
      const r = byUuid.get(vm.uuid);
      if (r?.disks) disks.set(key(host.id, vm.uuid), r.disks);
      const t = tracked.get(key(host.id, vm.uuid));
      const kind = r ? jobKind(r) : null;
      if (t && (!kind || kind !== t.kind)) work.push(end(host, t));
      else if (t && r) work.push(report(t, () => migrations.libvirtJobProgress({ jobId: t.jobId, ...progressOf(t, r) })));
      else if (!t && r && kind) work.push(begin(host, vm, r, kind).then(() => undefined));
    }
    await Promise.all(work);
  }

  async function tick() {
    const now = Date.now();
    const full = now - lastScan >= o.scanMs;
    for (const host of hosts.list()) {
      if (!host.connected || !host.conn) continue;
      if (!o.owns(host.id)) {
        // Another replica owns it now: it records the host's jobs; forget ours without ending them (the owner goes on).
        for (const [k, t] of tracked) if (t.hostId === host.id) tracked.delete(k);
        wanted.delete(host.id);
        continue;
      }
      const mine = vms.list({ host: String(host.id) });
      let list: Vm[];
      if (full) {
        list = mine.filter((v) => v.state === 'running' || v.state === 'paused');
        stats.scans++;
        stats.scannedVms += list.length;
      } else {
        const ask = wanted.get(host.id) ?? new Set<string>();
        for (const t of tracked.values()) if (t.hostId === host.id) ask.add(t.uuid);
        list = mine.filter((v) => ask.has(v.uuid));
        if (list.length) {
          stats.polls++;
          stats.polledVms += list.length;
        }
      }
      wanted.delete(host.id);
      // VMs that left the list (undefined, stopped) while tracked end here.
      const present = new Set(list.map((v) => v.uuid));
      for (const t of [...tracked.values()]) {
        if (t.hostId === host.id && !present.has(t.uuid) && !mine.some((v) => v.uuid === t.uuid && v.state === 'running')) await end(host, t);
      }
      await look(host, list).catch((err: unknown) => log.warn({ host: host.name, err: String(err) }, 'libvirt job scan failed'));
    }
    if (full) lastScan = now;
  }

  async function loop() {
    if (stopped) return;
    await tick().catch((err: unknown) => log.error({ err }, 'libvirt job source tick failed'));
    if (!stopped) timer = setTimeout(loop, o.pollMs);
  }

  return {
    async start() {
      stopped = false;
      hosts.onHostEvents({ connected: (h) => watch(h), domainEvent: () => {} });
      await Promise.all(hosts.list().filter((h) => h.connected).map(watch));
      timer = setTimeout(loop, 0);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.all([...unwatch.values()].map((u) => u().catch(() => {})));
      unwatch.clear();
      await Promise.all([...tracked.values()].map((t) => t.busy));
    },
    /** what noticing jobs costs: scans, polls, VMs looked at, native time */
    stats: () => ({ ...stats, tracked: tracked.size }),
  };
}

export type LibvirtJobSource = ReturnType<typeof createLibvirtJobSource>;
