// The dumps service: what REST and GraphQL both call. It triggers dumps (one job each in the
// queue), runs them (runner.ts), answers records, status, stats, custody, verify and download,
// and is the only publisher of `dump:updated`.
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { createHash } from 'node:crypto';
import { filter, pipe, map } from 'graphql-yoga';
import { ACTIVE_DUMP_STATUSES, type DumpFormat, type DumpProgress, type DumpStatus, type TriggerStatus } from '../../domain/dumps.js';
import type { Principal } from '../../lib/auth.js';
import { AppError, badRequest, notFound } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { PubSub } from '../../lib/pubsub.js';
import { snapshotThen } from '../../lib/stream.js';
import type { HostService, LeaseService, Vm, VmService } from '../inventory/feature.js';
import { createMemDumpWriter } from './influx.js';
import { partialPath } from './pipeline.js';
import type { DumpQueue } from './queue.js';
import type { DumpListFilter, DumpRecords, DumpRow, TriggerRow } from './records.js';
import { applyRetention, type RetentionLimits } from './retention.js';
import { runDump } from './runner.js';
import { type DumpAhead, dumpAhead, type FreeSpace, freeSpace, guestMemoryBytes, isRemoteUri, type RemotePool, spaceRefusal } from './space.js';

/** A dump as every reader sees it: the record and its live progress. */
export interface DumpJob extends DumpRow {
  progress: DumpProgress;
}

/** A VM reference refused at trigger time, and why. */
export interface DumpRefusal {
  ref: string;
  reason: string;
}

export interface TriggerResult {
  trigger: TriggerRow;
  scheduled: DumpJob[];
  refused: DumpRefusal[];
}

export type DumpsTopics = {
  'dump:updated': [DumpJob];
  /** a cancel asked on one replica for a dump another runs: the replica running it stops it */
  'dump:cancel': [{ id: number; by: string }];
};

export interface DumpsOptions {
  dumpDir: string;
  /** remote hosts: the storage pool dumps are written into there first */
  remotePool: RemotePool;
  defaultFormat: DumpFormat;
  timeoutMs: number;
  minIntervalSec: number;
  retention: RetentionLimits;
  influx: { url?: string; database: string; token?: string };
}

/** how long a cancel of a dump running on another replica waits for that replica to stop it */
const CANCEL_WAIT_MS = 15_000;
const CONFLICT = (msg: string) => new AppError('CONFLICT', msg);
const DATE_KEYS = ['createdAt', 'startedAt', 'finishedAt', 'deletedAt'] as const;
/** seed 003 timestamps: ISO 8601 UTC with microseconds, no zone suffix */
export const seedTimestamp = (d: Date) => d.toISOString().replace(/Z$/, '000');

/** A dump's progress from its record alone (not running in this process). */
function recordedProgress(r: DumpRow): DumpProgress {
  const raw = Number(r.rawBytes ?? 0n);
  const gz = Number(r.gzipBytes ?? 0n);
  const ended = !ACTIVE_DUMP_STATUSES.includes(r.status as DumpStatus);
  const ok = r.status === 'completed' || r.status === 'deleted';
  return {
    phase: r.status === 'queued' ? 'queued' : ended ? 'done' : 'dumping',
    percent: ok ? 100 : r.status === 'queued' ? 0 : null,
    rawBytes: raw,
    gzipBytes: gz,
    mbPerSec: ok && r.durationSec ? Math.round((raw / 1e6 / r.durationSec) * 100) / 100 : null,
    etaSec: ended ? 0 : null,
    compressionRatio: gz > 0 ? Math.round((raw / gz) * 100) / 100 : null,
  };
}

export function createDumpService(deps: {
  records: DumpRecords;
  queue: DumpQueue;
  vms: VmService;
  hosts: HostService;
  /** host leases (issue 10): a dump runs on the replica that owns its VM's host */
  leases: Pick<LeaseService, 'owns' | 'onChange' | 'replicaId'>;
  /** true when the bus reaches other replicas (Redis): a cancel then reaches the replica running the dump */
  distributed: boolean;
  pubsub: PubSub<DumpsTopics>;
  log: Logger;
  opts: DumpsOptions;
}) {
  const { records, queue, vms, hosts, leases, pubsub, log, opts } = deps;
  const live = new Map<number, DumpProgress>();
  const running = new Map<number, { stop: AbortController; done: Promise<void> }>();
  const writeInflux = createMemDumpWriter({ ...opts.influx, log });
  let stopping = false;
  let started = false;
  let cancels: AsyncIterator<{ id: number; by: string }> | undefined;

  const toJob = (r: DumpRow): DumpJob => ({ ...r, progress: live.get(r.id) ?? recordedProgress(r) });
  const publish = (r: DumpRow) => pubsub.publish('dump:updated', toJob(r));

  /**
   * THE lookup of VMs on behalf of a caller: every VM this service touches for someone passes
   * here, scoped by the caller's tenancy (issue 11). Dumps are then seen through their VM:
   * `canSee` / `visibleVmIds` below.
   */
  function lookupVms(principal: Principal, refs: readonly string[]): { found: Vm[]; refused: DumpRefusal[] } {
    if (refs.length === 1 && refs[0]!.trim().toLowerCase() === 'all') {
      const found = vms.listFor(principal, { state: 'running' });
      return { found, refused: found.length ? [] : [{ ref: 'all', reason: 'no running VM is monitored (or visible to this token) to dump' }] };
    }
    const found = new Map<number, Vm>();
    const refused: DumpRefusal[] = [];
    for (const ref of refs) {
      try {
        // A VM outside the caller's scope answers exactly as an unknown one.
        const vm = vms.resolveFor(principal, ref);
        found.set(vm.id, vm);
      } catch (err) {
        if (err instanceof AppError) refused.push({ ref, reason: err.message });
        else throw err;
      }
    }
    return { found: [...found.values()], refused };
  }

  /**
   * The dumps ahead of dump `selfId` (null: one not recorded yet) that will still write into this
   * DUMP_DIR or into a remote host's pool: those running, and those queued before it, on any
   * replica (a dump whose file is in a directory of the same path is counted as this DUMP_DIR's:
   * replicas on other machines are over-counted, never under-counted).
   */
  async function dumpsAhead(selfId: number | null): Promise<DumpAhead[]> {
    const dir = path.resolve(opts.dumpDir);
    const ahead: DumpAhead[] = [];
    for (const r of await records.active()) {
      if (r.id === selfId || (selfId !== null && r.status === 'queued' && r.id > selfId)) continue;
      const inDumpDir = path.dirname(path.resolve(r.path)) === dir;
      const d = dumpAhead({ id: r.id, vmName: r.vmName, hostUri: r.hostUri, memoryBytes: guestMemoryBytes(vms.get(r.vmId)), inDumpDir }, live.get(r.id));
      if (d.dumpDirBytes > 0 || d.poolBytes > 0) ahead.push(d);
    }
    return ahead;
  }

  /** Admission (the checks, then the records) one trigger at a time: two at once would both count the space free. */
  let admission: Promise<unknown> = Promise.resolve();
  const serially = <T>(f: () => Promise<T>): Promise<T> => {
    const r = admission.then(f);
    admission = r.catch(() => {});
    return r;
  };

  /**
   * Why this VM cannot be dumped now, or null. `ahead`: the dumps before it (space they still need);
   * `last`: its latest dump that counts for DUMP_MIN_INTERVAL; `space`: free space read for this admission.
   */
  async function refusalOf(vm: Vm, ahead: DumpAhead[], last: DumpRow | undefined, space: FreeSpace): Promise<string | null> {
    const host = hosts.get(vm.hostId);
    if (!host?.connected || !host.conn) return `host ${host?.name ?? vm.hostId} is not connected`;
    if (host.readOnly) return `host ${host.name} is connected read-only; dumps need a read-write connection`;
    if (vm.state !== 'running' && vm.state !== 'paused') return `VM ${vm.name} is ${vm.state}: only a running or paused VM has memory to dump`;
    if (last && ACTIVE_DUMP_STATUSES.includes(last.status as DumpStatus)) return `a dump of VM ${vm.name} is already ${last.status} (dump ${last.id})`;
    if (last && opts.minIntervalSec > 0) {
      const ago = (Date.now() - (last.finishedAt ?? last.createdAt).getTime()) / 1000;
      if (ago < opts.minIntervalSec) {
        return `VM ${vm.name} was dumped ${Math.floor(ago)} s ago; DUMP_MIN_INTERVAL is ${opts.minIntervalSec} s, try again in ${Math.ceil(opts.minIntervalSec - ago)} s`;
      }
    }
    return spaceRefusal(vm, host, opts, ahead, space);
  }

  async function finalPathFor(vm: Vm): Promise<string> {
    const unix = Math.floor(Date.now() / 1000);
    for (let n = 0; ; n++) {
      const name = n === 0 ? `${vm.id}_${unix}.mem.gz` : `${vm.id}_${unix}-${n}.mem.gz`;
      const p = path.join(opts.dumpDir, name);
      const taken = await stat(p).then(() => true, () => false);
      if (!taken && !(await records.pathTaken(p))) return p;
    }
  }

  async function trigger(principal: Principal, refs: readonly string[], format: DumpFormat = opts.defaultFormat): Promise<TriggerResult> {
    const cleaned = refs.map((r) => String(r));
    if (!cleaned.length) throw badRequest('No VM IDs specified');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters in a client's VM reference is the point
    const bad = cleaned.find((r) => r.length > 255 || /[\u0000-\u001f\u007f]/.test(r));
    if (bad !== undefined) throw badRequest(`invalid vm_id ${JSON.stringify(bad.slice(0, 80))}: at most 255 printable characters`);
    const { found, refused } = lookupVms(principal, cleaned);
    return serially(() => admit(principal, cleaned, found, refused, format));
  }

  async function admit(principal: Principal, cleaned: string[], found: Vm[], refused: DumpRefusal[], format: DumpFormat): Promise<TriggerResult> {
    const accepted: Vm[] = [];
    // Each VM accepted here is ahead of the next ones of the same trigger.
    const ahead = await dumpsAhead(null);
    const lasts = await records.lastOfVms(found.map((v) => v.id));
    const space = freeSpace(opts);
    for (const vm of found) {
      const why = await refusalOf(vm, ahead, lasts.get(vm.id), space);
      if (why) refused.push({ ref: String(vm.id), reason: why });
      else {
        accepted.push(vm);
        ahead.push(dumpAhead({ id: null, vmName: vm.name, hostUri: hosts.get(vm.hostId)!.uri, memoryBytes: guestMemoryBytes(vm), inDumpDir: true }));
      }
    }
    const trig = await records.createTrigger(cleaned, principal.name, refused.map((r) => `${r.ref}: ${r.reason}`));
    const scheduled: DumpJob[] = [];
    for (const vm of accepted) {
      const host = hosts.get(vm.hostId)!;
      const row = await records.createQueued({
        triggerId: trig.id,
        vmId: vm.id,
        vmName: vm.name,
        hostName: host.name,
        hostUri: host.uri,
        domainUuid: vm.uuid,
        format: host.uri.startsWith('test:') ? 'test-driver' : format,
        triggeredBy: principal.name,
        path: await finalPathFor(vm),
      });
      if (!row) {
        refused.push({ ref: String(vm.id), reason: `a dump of VM ${vm.name} is already queued or running` });
        continue;
      }
      if (leases.owns(host.id)) await queue.serve(host.id);
      const jobId = await queue.send(host.id, { dumpId: row.id });
      const withJob = await records.setJobId(row.id, jobId);
      log.info({ dump: row.id, vm: vm.name, host: host.name, by: principal.name, format: row.format }, 'dump queued');
      publish(withJob);
      scheduled.push(toJob(withJob));
    }
    return { trigger: trig, scheduled, refused };
  }

  /** The job handler: one dump, start to end. */
  async function execute(dumpId: number): Promise<void> {
    const row = await records.get(dumpId);
    if (row?.status !== 'queued' || stopping) return;
    const fail = async (error: string, status: DumpStatus = 'failed') => {
      const r = await records.finish(dumpId, { status, error, finishedAt: new Date() });
      live.delete(dumpId);
      log.warn({ dump: dumpId, vm: row.vmName, status, error }, 'dump did not complete');
      publish(r);
    };
    const vm = vms.get(row.vmId);
    const host = vm && hosts.get(vm.hostId);
    if (!vm || !host?.conn) return fail(`VM ${row.vmName} or its host ${row.hostName} is not reachable`);
    const stop = new AbortController();
    let release!: () => void;
    // Listed before the record says running: a cancel from another replica that reads 'running'
    // can reach this process before markRunning's answer does, and must find the dump to stop.
    running.set(dumpId, { stop, done: new Promise<void>((r) => (release = r)) });
    try {
      if (!(await records.markRunning(dumpId, new Date(), leases.replicaId))) return;
      const space = await spaceRefusal(vm, host, opts, await dumpsAhead(dumpId));
      if (space) return await fail(space);
      live.set(dumpId, { phase: 'dumping', percent: 0, rawBytes: 0, gzipBytes: 0, mbPerSec: null, etaSec: null, compressionRatio: null });
      publish({ ...row, status: 'running', startedAt: new Date() });
      const testDriver = host.uri.startsWith('test:');
      const outcome = await runDump(
        { conn: host.conn, uuid: vm.uuid, testDriver, remote: isRemoteUri(host.uri) ? opts.remotePool : null, memoryBytes: guestMemoryBytes(vm) },
        {
          format: row.format === 'kdump-zlib' ? 'kdump-zlib' : 'elf',
          finalPath: row.path,
          workDir: opts.dumpDir,
          timeoutMs: opts.timeoutMs,
          signal: stop.signal,
          onProgress: (p) => {
            live.set(dumpId, p);
            publish({ ...row, status: 'running' });
          },
        },
      );
      live.delete(dumpId);
      if (outcome.status === 'completed') {
        const { result } = outcome;
        const done = await records.finish(dumpId, {
          status: 'completed',
          sha256: result.sha256,
          gzipSha256: result.gzipSha256,
          rawBytes: BigInt(result.rawBytes),
          gzipBytes: BigInt(result.gzipBytes),
          startedAt: outcome.startedAt,
          finishedAt: outcome.finishedAt,
          durationSec: outcome.durationSec,
          fileCtime: result.ctime,
          fileMtime: result.mtime,
          fileAtime: result.atime,
        });
        log.info({ dump: dumpId, vm: row.vmName, rawBytes: result.rawBytes, gzipBytes: result.gzipBytes, sec: outcome.durationSec }, 'dump completed');
        publish(done);
        void writeInflux(done);
        const deleted = await applyRetention(records, opts.retention);
        for (const id of deleted) {
          const d = await records.get(id);
          if (d) publish(d);
        }
      } else {
        const interrupted = stopping && outcome.status === 'cancelled';
        await fail(interrupted ? 'interrupted: the server stopped while this dump ran' : outcome.error, interrupted ? 'interrupted' : outcome.status);
      }
    } catch (err) {
      log.error({ err, dump: dumpId }, 'dump failed unexpectedly');
      await fail(`unexpected error: ${err instanceof Error ? err.message : String(err)}`).catch(() => {});
    } finally {
      running.delete(dumpId);
      live.delete(dumpId);
      release();
    }
  }

  /** The host of a dump's record (its queue), by URI: the VM may be gone. */
  const hostIdOf = (r: DumpRow) => hosts.list().find((h) => h.uri === r.hostUri)?.id ?? vms.get(r.vmId)?.hostId;

  /** Dumps interrupted by a stopped or dead replica: files removed, pg-boss jobs cancelled, subscribers told. */
  async function settleOrphans(rows: DumpRow[]) {
    for (const r of rows) {
      await rm(partialPath(r.path), { force: true });
      await rm(r.path, { force: true });
      const hostId = hostIdOf(r);
      if (r.jobId && hostId !== undefined) await queue.cancel(hostId, [r.jobId]).catch(() => {});
      log.warn({ dump: r.id, vm: r.vmName, replica: r.replica }, 'dump interrupted: the process running it stopped; marked interrupted, its files removed');
      publish(r);
    }
  }

  /**
   * The upgrade from versions with one shared queue (LEGACY_QUEUE), which nobody works any more: a
   * dump still waiting there moves to its host's queue and runs as if queued now (as a queued dump
   * does across any restart); one a worker had fetched (that process is gone) is interrupted, as
   * any orphan; one whose host is no longer monitored fails, saying so. Then the old queue goes.
   */
  async function adoptLegacyJobs() {
    const jobs = await queue.legacyJobs();
    for (const j of jobs) {
      const row = await records.get(j.dumpId);
      if (row?.status !== 'queued' || row.jobId !== j.jobId) continue;
      const hostId = hostIdOf(row);
      if (j.waiting && hostId !== undefined) {
        const jobId = await queue.send(hostId, { dumpId: row.id });
        // Another replica starting at the same time may have moved it first.
        if (await records.moveJob(row.id, j.jobId, jobId)) log.info({ dump: row.id, vm: row.vmName, host: row.hostName }, 'dump queued before an upgrade moved to its host\'s queue');
        else await queue.cancel(hostId, [jobId]);
        continue;
      }
      const ended = j.waiting
        ? await records.endQueued(row.id, j.jobId, 'failed', `queued before vmpulse was upgraded, for host ${row.hostName} (${row.hostUri}), which is no longer monitored`)
        : await records.endQueued(row.id, j.jobId, 'interrupted', 'interrupted: the server stopped before this dump started');
      if (ended) {
        log.warn({ dump: row.id, vm: row.vmName, status: ended.status, error: ended.error }, 'dump queued before an upgrade did not run');
        publish(ended);
      }
    }
    await queue.dropLegacy();
  }

  /** Cancels asked on other replicas for the dumps running here. */
  async function listenForCancels() {
    cancels = pubsub.subscribe('dump:cancel')[Symbol.asyncIterator]();
    for (;;) {
      const next = await cancels.next().catch(() => ({ done: true as const, value: undefined }));
      if (next.done) return;
      const run = running.get(next.value.id);
      if (run) {
        log.info({ dump: next.value.id, by: next.value.by }, 'running dump cancelled from another replica');
        run.stop.abort();
      }
    }
  }

  /** Whether the caller may see this dump: it sees the dumps of the VMs it may see. */
  const canSee = (principal: Principal, vmId: number) => !principal.scope || vms.owns(principal, vmId);
  /** null: every VM (unscoped); otherwise the ids of the VMs the caller may see, present or not. */
  const visibleVmIds = (principal: Principal) => (principal.scope ? vms.listFor(principal, { includeUndefined: true }).map((v) => v.id) : null);

  async function getRow(principal: Principal, id: number): Promise<DumpRow> {
    const row = await records.get(id);
    // A dump of a VM outside the caller's scope answers exactly as an unknown one.
    if (!row || !canSee(principal, row.vmId)) throw notFound(`memory dump ${id} not found`);
    return row;
  }

  return {
    lookupVms,
    trigger,

    async get(principal: Principal, id: number): Promise<DumpJob> {
      return toJob(await getRow(principal, id));
    },

    custody: (id: number) => records.custody(id),

    async cancel(principal: Principal, id: number): Promise<DumpJob> {
      const row = await getRow(principal, id);
      if (row.status === 'queued' && (await records.cancelQueued(id))) {
        const hostId = hostIdOf(row);
        if (row.jobId && hostId !== undefined) await queue.cancel(hostId, [row.jobId]).catch((err: unknown) => log.warn({ err: String(err) }, 'pg-boss cancel failed'));
        const r = (await records.get(id))!;
        log.info({ dump: id, by: principal.name }, 'queued dump cancelled');
        publish(r);
        return toJob(r);
      }
      const run = running.get(id);
      if (run) {
        log.info({ dump: id, by: principal.name }, 'running dump cancelled');
        run.stop.abort();
        await run.done;
        return toJob((await records.get(id))!);
      }
      let now = (await records.get(id))!;
      if (now.status === 'running' && now.replica !== leases.replicaId && deps.distributed) {
        // It runs on another replica: ask it through the bus, then wait for its record to end.
        log.info({ dump: id, by: principal.name, replica: now.replica }, 'cancel of a dump running on another replica sent');
        pubsub.publish('dump:cancel', { id, by: principal.name });
        for (let i = 0; i < CANCEL_WAIT_MS / 200 && ACTIVE_DUMP_STATUSES.includes(now.status as DumpStatus); i++) {
          await new Promise((r) => setTimeout(r, 200));
          now = (await records.get(id))!;
        }
      }
      if (ACTIVE_DUMP_STATUSES.includes(now.status as DumpStatus)) throw CONFLICT(`memory dump ${id} runs on another vmpulse process; cancel it there`);
      // Idempotent: a dump that already ended is answered as it is (its status says how it ended).
      return toJob(now);
    },

    /** Re-hashes the stored .gz (and, gunzipped, the raw dump) against the record; records the result. */
    async verify(principal: Principal, id: number) {
      const row = await getRow(principal, id);
      if (row.status !== 'completed') throw CONFLICT(`memory dump ${id} has no file to verify (${row.status})`);
      let gzipSha256: string | null = null;
      let sha256: string | null = null;
      let detail: string;
      try {
        const gz = createHash('sha256');
        const raw = createHash('sha256');
        await pipeline(
          createReadStream(row.path, { highWaterMark: 1 << 20 }).on('data', (c) => gz.update(c as Buffer)),
          createGunzip(),
          new Writable({
            write(c: Buffer, _e, next) {
              raw.update(c);
              next();
            },
          }),
        );
        gzipSha256 = gz.digest('hex');
        sha256 = raw.digest('hex');
        detail = gzipSha256 === row.gzipSha256 && sha256 === row.sha256 ? 'file and raw dump match the record' : 'MISMATCH: the file changed since it was written';
      } catch (err) {
        detail = `cannot read the file: ${(err as Error).message}`;
      }
      const ok = gzipSha256 === row.gzipSha256 && sha256 === row.sha256;
      const ev = await records.addCustody(id, 'verify', principal.name, ok, detail);
      log.info({ dump: id, by: principal.name, ok }, 'dump verified');
      return { dump: toJob(row), ok, gzipSha256, sha256, detail, verifiedAt: ev.at };
    },

    /** The .gz as a stream; the download is logged (who, when, whether every byte went out). */
    async download(principal: Principal, id: number): Promise<{ stream: Readable; size: number; gzipSha256: string; filename: string }> {
      const row = await getRow(principal, id);
      if (row.status !== 'completed') throw CONFLICT(`memory dump ${id} has no file to download (${row.status})`);
      const st = await stat(row.path).catch(() => null);
      if (!st) throw CONFLICT(`memory dump ${id}: its file is missing from ${opts.dumpDir}`);
      const stream = createReadStream(row.path, { highWaterMark: 1 << 20 });
      let sent = 0;
      stream.on('data', (c) => (sent += (c as Buffer).length));
      stream.once('close', () => {
        const ok = sent === st.size;
        void records.addCustody(id, 'download', principal.name, ok, `${sent} of ${st.size} bytes sent`).catch((err: unknown) => log.error({ err }, 'custody log failed'));
        log.info({ dump: id, by: principal.name, bytes: sent, complete: ok }, 'dump downloaded');
      });
      return { stream, size: st.size, gzipSha256: row.gzipSha256 ?? '', filename: path.basename(row.path) };
    },

    records: (principal: Principal, limit: number, offset: number) => records.records(limit, offset, visibleVmIds(principal)),

    /** Dumps newest first, `first` of them after the cursor; `vmRef` (id, uuid or name) goes through the VM lookup. */
    async list(principal: Principal, f: Omit<DumpListFilter, 'vmIds'> & { vmRef?: string; vmId?: number }, first: number) {
      let vmIds: number[] | undefined;
      if (f.vmRef !== undefined) {
        const { found, refused } = lookupVms(principal, [f.vmRef]);
        if (refused.length) throw notFound(refused[0]!.reason);
        vmIds = found.map((v) => v.id);
      } else if (f.vmId !== undefined) vmIds = canSee(principal, f.vmId) ? [f.vmId] : [];
      const scoped = visibleVmIds(principal);
      if (scoped) vmIds = vmIds ? vmIds.filter((id) => scoped.includes(id)) : scoped;
      const filter: DumpListFilter = { status: f.status, host: f.host, beforeId: f.beforeId, vmIds };
      const rows = await records.list(filter, first + 1);
      const page = rows.slice(0, first);
      return {
        nodes: page.map(toJob),
        hasNextPage: rows.length > first,
        endCursor: page.length ? String(page[page.length - 1]!.id) : null,
        totalCount: () => records.count(filter),
      };
    },

    /** Seed 003 /status: the last trigger as a whole. */
    async status(principal: Principal) {
      const t = await records.lastTrigger(visibleVmIds(principal));
      if (!t) return { status: 'idle' as TriggerStatus, trigger: null, durationSec: null, error: null };
      const statuses = t.dumps.map((d) => d.status as DumpStatus);
      const errors = [...t.dumps.filter((d) => d.error).map((d) => `${d.vmName}: ${d.error}`), ...t.refused];
      let status: TriggerStatus;
      if (statuses.some((s) => ACTIVE_DUMP_STATUSES.includes(s))) status = 'in_progress';
      else if (!statuses.length) status = 'error';
      else if (statuses.includes('timeout')) status = 'timeout';
      else if (statuses.some((s) => s === 'failed' || s === 'cancelled' || s === 'interrupted')) status = 'failed';
      else status = 'completed';
      const ends = t.dumps.map((d) => d.finishedAt?.getTime() ?? 0);
      const durationSec = status === 'in_progress' || !ends.length ? null : Math.max(0, Math.max(...ends) - t.createdAt.getTime()) / 1000;
      return { status, trigger: t, durationSec, error: status === 'in_progress' || !errors.length ? null : errors.join('; ') };
    },

    stats: (principal: Principal) => records.stats(visibleVmIds(principal)),

    /** One dump (its current state first) or every dump (those queued or running now first), then each change. */
    async watch(principal: Principal, id?: number): Promise<AsyncIterable<DumpJob>> {
      const changes = pipe(
        pubsub.subscribe('dump:updated'),
        // Across Redis, dates arrive as strings.
        map((j: DumpJob) => {
          for (const k of DATE_KEYS) if (typeof j[k] === 'string') (j as unknown as Record<string, Date>)[k] = new Date(j[k] as unknown as string);
          return j;
        }),
      );
      if (id !== undefined) {
        const current = toJob(await getRow(principal, id));
        return snapshotThen([current], pipe(changes, filter((j: DumpJob) => j.id === id)));
      }
      const vmIds = visibleVmIds(principal) ?? undefined;
      const active = await records.list({ status: 'running', vmIds }, 100);
      const queued = await records.list({ status: 'queued', vmIds }, 100);
      return snapshotThen([...active, ...queued].map(toJob), pipe(changes, filter((j: DumpJob) => canSee(principal, j.vmId))));
    },

    async start() {
      await mkdir(opts.dumpDir, { recursive: true, mode: 0o700 });
      const interrupted = await records.interruptOrphans();
      for (const f of await readdir(opts.dumpDir)) if (/^\.dump-.*\.fifo$/.test(f)) await rm(path.join(opts.dumpDir, f), { force: true });
      await queue.start(
        ({ dumpId }) => execute(dumpId),
        async ({ dumpId }) => void (await records.claim(dumpId, leases.replicaId)),
      );
      await adoptLegacyJobs();
      await settleOrphans(interrupted);
      // Work the queues of the hosts this replica owns, and follow the leases from now on. A lease
      // taken over from a dead replica also ends that replica's running dumps (no one runs them).
      started = true;
      leases.onChange({
        acquired: (hostId) => {
          if (!started || stopping) return;
          void queue
            .serve(hostId)
            .then(async () => settleOrphans(await records.interruptOrphans()))
            .catch((err: unknown) => log.warn({ hostId, err: String(err) }, 'serving a host\'s dump queue failed'));
        },
        released: (hostId) => queue.unserve(hostId).catch((err: unknown) => log.warn({ hostId, err: String(err) }, 'leaving a host\'s dump queue failed')),
      });
      for (const h of hosts.list()) if (leases.owns(h.id)) await queue.serve(h.id);
      if (deps.distributed) void listenForCancels();
      await applyRetention(records, opts.retention);
    },

    async stop() {
      stopping = true;
      cancels?.return?.(undefined);
      for (const r of running.values()) r.stop.abort();
      await Promise.all([...running.values()].map((r) => r.done));
      await queue.stop();
    },
  };
}

export type DumpService = ReturnType<typeof createDumpService>;
