// LibvirtConnection: one libvirt connection with typed, promise-based calls.
// Every call runs on a native worker thread; nothing here blocks the event loop.
import type {
  NativeBatchItem,
  NativeClosePayload,
  NativeConnection,
  NativeLifecyclePayload,
} from '@vmpulse/libvirt-native';
import { toLibvirtError } from './errors.js';
import {
  coreDumpArgs,
  domainXmlFlags,
  jobTypeName,
  listFlags,
  statsFlags,
  statsGroupsMask,
  undefineFlags,
} from './flags.js';
import { type JobEvent, type JobScan, toJobEvent, toJobScan } from './jobs.js';
import { native } from './native.js';
import type {
  BlockStats,
  ConnectionClosedEvent,
  CoreDumpOptions,
  CpuStats,
  DomainEventType,
  DomainInfo,
  DomainLifecycleEvent,
  DomainStatsRecord,
  DomainXmlOptions,
  GetAllDomainStatsOptions,
  InterfaceStats,
  JobStats,
  ListDomainsFilter,
  MemoryStats,
  OpenOptions,
  PerCallStatsItem,
  PerCallStatsOptions,
  PerCallStatsRecord,
  PerCallStatsTable,
  StatsTable,
  UndefineOptions,
  VcpuInfo,
} from './types.js';

type Listener<T> = (event: T) => void;

async function call<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw toLibvirtError(err);
  }
}

export class LibvirtConnection {
  private readonly lifecycleListeners = new Set<Listener<DomainLifecycleEvent>>();
  private readonly closeListeners = new Set<Listener<ConnectionClosedEvent>>();
  // Assigned right after construction; the native sink needs `this` first.
  private nativeConn!: NativeConnection;

  private constructor(
    /** the URI as passed to open() */
    readonly requestedUri: string,
    readonly readOnly: boolean,
  ) {}

  /**
   * Opens any libvirt URI (test:///default, test:///abs/fleet.xml,
   * qemu:///system, qemu+ssh://user@host/system …) with libvirt's default
   * auth callbacks. Remote connections get keepalive 5 s × 3.
   */
  static async open(uri: string, opts: OpenOptions = {}): Promise<LibvirtConnection> {
    const conn = new LibvirtConnection(uri, opts.readOnly ?? false);
    conn.nativeConn = await call(
      native.open(uri, conn.readOnly, (kind, payload) => conn.dispatch(kind, payload), opts.events ?? true),
    );
    return conn;
  }

  /** Why lifecycle events are unavailable on this connection, if they are. */
  get eventsError(): string | undefined {
    return this.nativeConn.eventsError;
  }

  get closed(): boolean {
    return this.nativeConn.isClosed();
  }

  /** Domain lifecycle events of this connection; returns the unsubscribe function. */
  onDomainEvent(listener: Listener<DomainLifecycleEvent>): () => void {
    this.lifecycleListeners.add(listener);
    return () => this.lifecycleListeners.delete(listener);
  }

  /** libvirt's close callback: the connection dropped (not called for close()). */
  onClose(listener: Listener<ConnectionClosedEvent>): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  private dispatch(kind: 'lifecycle' | 'close', payload: NativeLifecyclePayload | NativeClosePayload): void {
    if (kind === 'lifecycle') {
      const p = payload as NativeLifecyclePayload;
      const ev: DomainLifecycleEvent = {
        uuid: p.uuid,
        name: p.name,
        event: p.event as DomainEventType,
        detail: p.detail,
      };
      for (const l of this.lifecycleListeners) l(ev);
    } else {
      const p = payload as NativeClosePayload;
      const ev: ConnectionClosedEvent = { reason: p.reasonName, reasonCode: p.reason };
      for (const l of this.closeListeners) l(ev);
    }
  }

  /** Deregisters events and closes. Calls still in flight finish safely first. Idempotent. */
  async close(): Promise<void> {
    await call(this.nativeConn.close());
  }

  /** Non-blocking liveness check of the transport (always true for local drivers). */
  isAlive(): boolean {
    return this.nativeConn.isAlive();
  }

  hostname(): Promise<string> {
    return call(this.nativeConn.hostname());
  }

  /** The canonical URI libvirt reports for this connection. */
  uri(): Promise<string> {
    return call(this.nativeConn.uri());
  }

  // ---- domains ----------------------------------------------------------------

  /** All domains (or a filtered subset) with their info, in one worker call. */
  listAllDomains(filter?: ListDomainsFilter): Promise<DomainInfo[]> {
    return call(this.nativeConn.listAllDomains(listFlags(filter)));
  }

  domainInfo(uuid: string): Promise<DomainInfo> {
    return call(this.nativeConn.domainInfo(uuid));
  }

  domainXml(uuid: string, opts?: DomainXmlOptions): Promise<string> {
    return call(this.nativeConn.domainXml(uuid, domainXmlFlags(opts)));
  }

  /** Defines a persistent domain; resolves to its uuid. */
  defineXML(xml: string): Promise<string> {
    return call(this.nativeConn.defineXML(xml));
  }

  /** Creates and starts a transient domain; resolves to its uuid. */
  createXML(xml: string): Promise<string> {
    return call(this.nativeConn.createXML(xml));
  }

  undefine(uuid: string, opts?: UndefineOptions): Promise<void> {
    return call(this.nativeConn.undefine(uuid, undefineFlags(opts)));
  }

  /** Starts a defined domain (virDomainCreate). */
  create(uuid: string): Promise<void> {
    return call(this.nativeConn.lifecycle('create', uuid));
  }

  destroy(uuid: string): Promise<void> {
    return call(this.nativeConn.lifecycle('destroy', uuid));
  }

  shutdown(uuid: string): Promise<void> {
    return call(this.nativeConn.lifecycle('shutdown', uuid));
  }

  reboot(uuid: string): Promise<void> {
    return call(this.nativeConn.lifecycle('reboot', uuid));
  }

  suspend(uuid: string): Promise<void> {
    return call(this.nativeConn.lifecycle('suspend', uuid));
  }

  resume(uuid: string): Promise<void> {
    return call(this.nativeConn.lifecycle('resume', uuid));
  }

  // ---- stats ------------------------------------------------------------------

  /**
   * virConnectGetAllDomainStats (or virDomainListGetStats with `uuids`) in one
   * worker call. Note the test driver only answers the `state` group here; use
   * {@link domainStatsPerCall} for it.
   */
  getAllDomainStats(opts: GetAllDomainStatsOptions = {}): Promise<DomainStatsRecord[]> {
    const groups = statsGroupsMask(opts.groups);
    const flags = statsFlags(opts);
    return call(
      opts.uuids
        ? this.nativeConn.getAllDomainStats(groups, flags, [...opts.uuids])
        : this.nativeConn.getAllDomainStats(groups, flags),
    );
  }

  /** {@link getAllDomainStats} as one table instead of an object per record (the collector's per-tick read). */
  getAllDomainStatsTable(opts: GetAllDomainStatsOptions = {}): Promise<StatsTable> {
    return call(this.nativeConn.getAllDomainStats(statsGroupsMask(opts.groups), statsFlags(opts), opts.uuids ? [...opts.uuids] : null, true));
  }

  /** {@link domainStatsPerCall} as tables (one per parallel worker) instead of an object per record. */
  async domainStatsPerCallTable(items: readonly PerCallStatsItem[], opts: PerCallStatsOptions = {}): Promise<PerCallStatsTable[]> {
    const { parallel = 1, ...want } = opts;
    return Promise.all(perWorker(items, parallel).map((c) => call(this.nativeConn.domainStatsPerCall(c, { ...want, table: true }))));
  }

  /**
   * For each domain, every per-domain stats call (info, CPU, memory, vCPUs,
   * interfaces, disks) done on ONE worker thread, keyed like the bulk stats
   * (cpu.time, balloon.current, net.0.rx.bytes, block.0.wr.bytes, vcpu.0.time…).
   * A failing domain gets `error` and does not fail the batch. Device names
   * come from the domain XML unless the item carries them: cache
   * `record.devices` and pass them back to skip that XML fetch.
   */
  async domainStatsPerCall(
    items: ReadonlyArray<string | PerCallStatsItem>,
    opts: PerCallStatsOptions = {},
  ): Promise<PerCallStatsRecord[]> {
    const { parallel = 1, ...want } = opts;
    const chunks = perWorker(items, parallel);
    if (chunks.length <= 1) return call(this.nativeConn.domainStatsPerCall(items as NativeItems, want));
    const results = await Promise.all(chunks.map((c) => call(this.nativeConn.domainStatsPerCall(c, want))));
    return results.flat();
  }

  memoryStats(uuid: string): Promise<MemoryStats> {
    return call(this.nativeConn.memoryStats(uuid));
  }

  /** `dev` is the interface's target dev (e.g. vnet0) or its MAC. */
  interfaceStats(uuid: string, dev: string): Promise<InterfaceStats> {
    return call(this.nativeConn.interfaceStats(uuid, dev));
  }

  /** `dev` is the disk's target dev (e.g. vda) or its source path. */
  blockStats(uuid: string, dev: string): Promise<BlockStats> {
    return call(this.nativeConn.blockStats(uuid, dev) as Promise<BlockStats>);
  }

  vcpus(uuid: string): Promise<VcpuInfo[]> {
    return call(this.nativeConn.vcpus(uuid));
  }

  cpuStats(uuid: string): Promise<CpuStats> {
    return call(this.nativeConn.cpuStats(uuid) as Promise<CpuStats>);
  }

  // ---- dumps and jobs ---------------------------------------------------------------

  /**
   * virDomainCoreDumpWithFormat to `path` (on the hypervisor host). Runs on
   * a dedicated native thread, so jobStats()/abortJob() answer meanwhile.
   * Needs a read-write connection.
   */
  coreDump(uuid: string, path: string, opts?: CoreDumpOptions): Promise<void> {
    const [format, flags] = coreDumpArgs(opts);
    return call(this.nativeConn.coreDump(uuid, path, format, flags));
  }

  /** Progress of the domain's current job (or the last completed one with `completed`). */
  async jobStats(uuid: string, opts: { completed?: boolean } = {}): Promise<JobStats> {
    const r = await call(this.nativeConn.jobStats(uuid, opts.completed ? 1 : 0));
    return { type: jobTypeName(r.type), typeCode: r.type, params: r.params, fromJobInfo: r.fromJobInfo };
  }

  abortJob(uuid: string): Promise<void> {
    return call(this.nativeConn.abortJob(uuid));
  }

  /** Jobs and block jobs of many domains in one native task (jobs.ts); pass cached disk targets back. */
  async scanJobs(items: Array<string | { uuid: string; disks?: string[] }>, opts: { blockJobs?: boolean } = {}): Promise<JobScan[]> {
    return (await call(this.nativeConn.scanJobs(items, opts))).map(toJobScan);
  }

  /** Block job, migration iteration and job completed events; resolves to a function that stops them. */
  async watchJobEvents(fn: (e: JobEvent) => void): Promise<() => Promise<void>> {
    const ids = await call(this.nativeConn.watchJobEvents((e) => fn(toJobEvent(e))));
    return () => call(this.nativeConn.unwatchJobEvents(ids));
  }
  // ---- storage and streams (memory dumps of remote hosts) ---------------------------

  /** A directory storage pool named `pool` on the host (transient, directory built, when missing); resolves to its target path. */
  storagePoolEnsureDir(pool: string, dir: string): Promise<string> {
    return call(this.nativeConn.storagePoolEnsureDir(pool, dir));
  }

  /** A storage pool's sizes in bytes (capacity, allocation, available), refreshed first. */
  storagePoolInfo(pool: string): Promise<{ state: number; capacity: number; allocation: number; available: number }> {
    return call(this.nativeConn.storagePoolInfo(pool));
  }

  storageVolDelete(pool: string, vol: string): Promise<void> {
    return call(this.nativeConn.storageVolDelete(pool, vol));
  }

  /** The volume's bytes as a libvirt stream (virStorageVolDownload), pulled chunk by chunk. */
  async storageVolDownload(pool: string, vol: string): Promise<VolumeStream> {
    const s = await call(this.nativeConn.storageVolDownload(pool, vol));
    return { size: s.size, read: (max) => call(s.read(max)), finish: () => call(s.finish()), abort: () => call(s.abort()) };
  }

  // ---- metadata ---------------------------------------------------------------------

  /**
   * For every domain (or the listed uuids), its metadata element in each namespace URI, in that
   * order (null: none), in one worker call. Domains gone meanwhile are left out.
   */
  domainMetadata(uris: readonly string[], uuids?: readonly string[]): Promise<Array<{ uuid: string; elements: Array<string | null> }>> {
    return call(this.nativeConn.domainMetadata([...uris], uuids ? [...uuids] : null));
  }

  /**
   * Sets the domain's metadata element of namespace `uri` (prefix `key`), in its live definition
   * when it runs and its persistent one when it is defined; `xml` null removes it. Needs a
   * read-write connection.
   */
  setDomainMetadata(uuid: string, xml: string | null, key: string, uri: string): Promise<void> {
    return call(this.nativeConn.setDomainMetadata(uuid, xml ?? '', key, uri));
  }
}

export interface VolumeStream {
  /** the volume's capacity, bytes */
  size: bigint;
  /** up to `max` bytes; null at the end */
  read(max?: number): Promise<Buffer | null>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

type NativeItems = Array<string | NativeBatchItem>;

/**
 * Per-domain stats items cut into `parallel` chunks, one per worker thread. Passed to the addon as
 * given, not copied (the collector's per-tick call: a copy was ~3 objects per VM): it reads them
 * into its own strings before it returns and writes nothing back.
 */
function perWorker(items: ReadonlyArray<string | PerCallStatsItem>, parallel: number): NativeItems[] {
  const all = items as NativeItems;
  const workers = Math.max(1, Math.min(Math.floor(parallel), all.length));
  const size = Math.ceil(all.length / workers);
  const chunks: NativeItems[] = [];
  for (let i = 0; i < all.length; i += size) chunks.push(all.slice(i, i + size));
  return chunks;
}
