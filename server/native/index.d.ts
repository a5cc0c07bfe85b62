// Raw shape of the native addon. Use the typed wrapper in server/src/libvirt
// instead of calling this directly: it maps option objects to libvirt flags.

export type NativeParams = Record<string, number | bigint | string | boolean>;

export interface NativeDomainInfo {
  uuid: string;
  name: string;
  /** -1 when inactive */
  id: number;
  state: 'nostate' | 'running' | 'blocked' | 'paused' | 'shutdown' | 'shutoff' | 'crashed' | 'pmsuspended';
  stateCode: number;
  maxMemKiB: bigint;
  memoryKiB: bigint;
  nrVirtCpu: number;
  cpuTimeNs: bigint;
  persistent: boolean;
  active: boolean;
}

export interface NativeStatsRecord {
  uuid: string;
  name: string;
  params: NativeParams;
}

export interface NativeErrorInfo {
  code: number;
  domain: number;
  message: string;
}

export interface NativeBatchRecord extends NativeStatsRecord {
  devices: { interfaces: string[]; blocks: string[] };
  /** the whole domain failed (lookup/info); params then is empty */
  error?: NativeErrorInfo;
  /** individual calls that failed for this domain; their keys are absent */
  partial?: Array<NativeErrorInfo & { call: string }>;
}

export interface NativeBatchItem {
  uuid: string;
  interfaces?: string[];
  blocks?: string[];
}

export interface NativeVcpu {
  number: number;
  state: number;
  cpuTime: bigint;
  cpu: number;
}

export interface NativeLifecyclePayload {
  uuid: string;
  name: string;
  event: string;
  eventCode: number;
  detail: number;
}

export interface NativeClosePayload {
  reason: number;
  reasonName: 'error' | 'eof' | 'keepalive' | 'client' | 'unknown';
}

export type NativeSink = (
  kind: 'lifecycle' | 'close',
  payload: NativeLifecyclePayload | NativeClosePayload,
) => void;

export interface NativeConnection {
  /** set when lifecycle events could not be registered for this driver */
  readonly eventsError?: string;
  close(): Promise<void>;
  isAlive(): boolean;
  isClosed(): boolean;
  hostname(): Promise<string>;
  uri(): Promise<string>;
  listAllDomains(flags?: number): Promise<NativeDomainInfo[]>;
  domainInfo(uuid: string): Promise<NativeDomainInfo>;
  domainXml(uuid: string, flags?: number): Promise<string>;
  lifecycle(op: 'create' | 'destroy' | 'shutdown' | 'suspend' | 'resume' | 'reboot', uuid: string, flags?: number): Promise<void>;
  defineXML(xml: string, flags?: number): Promise<string>;
  createXML(xml: string, flags?: number): Promise<string>;
  undefine(uuid: string, flags?: number): Promise<void>;
  getAllDomainStats(groups: number, flags: number, uuids?: string[]): Promise<NativeStatsRecord[]>;
  /** stats_table.cc: the same records as one table (see StatsTable in server/src/libvirt/types.ts) */
  getAllDomainStats(groups: number, flags: number, uuids: string[] | null, table: true): Promise<NativeStatsTable>;
  memoryStats(uuid: string): Promise<Record<string, bigint>>;
  interfaceStats(uuid: string, dev: string): Promise<Record<string, bigint>>;
  blockStats(uuid: string, dev: string): Promise<NativeParams>;
  vcpus(uuid: string): Promise<NativeVcpu[]>;
  cpuStats(uuid: string): Promise<NativeParams>;
  domainStatsPerCall(
    items: Array<string | NativeBatchItem>,
    opts?: { memory?: boolean; interfaces?: boolean; blocks?: boolean; vcpus?: boolean; cpu?: boolean },
  ): Promise<NativeBatchRecord[]>;
  domainStatsPerCall(
    items: Array<string | NativeBatchItem>,
    opts: { memory?: boolean; interfaces?: boolean; blocks?: boolean; vcpus?: boolean; cpu?: boolean; table: true },
  ): Promise<NativeStatsTable & { extra: (Partial<Pick<NativeBatchRecord, 'devices' | 'error' | 'partial'>> | undefined)[] }>;
  coreDump(uuid: string, path: string, format: number, flags: number): Promise<void>;
  jobStats(uuid: string, flags?: number): Promise<{ type: number; params: NativeParams; fromJobInfo: boolean }>;
  abortJob(uuid: string): Promise<void>;
  /** jobs.cc: job info (and, where a job runs, job stats) and block job info of many domains in one task; only domains with something to report (or whose disks were read) are answered */
  scanJobs(items: Array<string | { uuid: string; disks?: string[] }>, opts?: { blockJobs?: boolean }): Promise<NativeJobScan[]>;
  /** jobs.cc: block job, migration iteration and job completed events → fn; resolves to the callback ids */
  watchJobEvents(fn: (event: NativeJobEvent) => void): Promise<number[]>;
  unwatchJobEvents(ids: number[]): Promise<void>;
  /** a directory pool named `pool` (transient, directory built, when missing); resolves to its target path */
  storagePoolEnsureDir(pool: string, dir: string): Promise<string>;
  storageVolDelete(pool: string, vol: string): Promise<void>;
  /** virStorageVolDownload of the whole volume; read() pulls one virStreamRecv on a worker thread */
  storageVolDownload(pool: string, vol: string): Promise<NativeVolStream>;
  /** per domain (all, or the listed uuids), the metadata element of each namespace URI (null: none) */
  domainMetadata(uris: string[], uuids?: string[] | null): Promise<Array<{ uuid: string; elements: Array<string | null> }>>;
  /** sets one metadata element (xml '' removes it), live and persistent as the domain is */
  setDomainMetadata(uuid: string, xml: string, key: string, uri: string): Promise<void>;
  /** pool_info.cc: a storage pool's sizes in bytes (virStoragePoolGetInfo), refreshed first */
  storagePoolInfo(pool: string): Promise<{ state: number; capacity: number; allocation: number; available: number }>;
}

export interface NativeVolStream {
  /** the volume's capacity, bytes */
  size: bigint;
  /** up to `max` bytes (default 1 MiB); null at the end */
  read(max?: number): Promise<Buffer | null>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

export interface NativeJobScan {
  uuid: string;
  /** the disk targets, when the scan had to read them (cache them and pass them back) */
  disks?: string[];
  jobType: number;
  job?: NativeParams;
  blockJobs: { disk: string; type: number; bandwidth: number; cur: bigint; end: bigint }[];
}

export type NativeJobEvent =
  | { kind: 'blockJob'; uuid: string; name: string; disk: string; type: number; status: number }
  | { kind: 'migrationIteration'; uuid: string; name: string; iteration: number }
  | { kind: 'jobCompleted'; uuid: string; name: string; params: NativeParams };

export interface NativeModule {
  open(uri: string, readOnly: boolean, sink?: NativeSink, events?: boolean): Promise<NativeConnection>;
  libVersion(): number;
  /** C++ device extraction used by domainStatsPerCall (exposed for tests) */
  targetDevs(xml: string, element: 'interface' | 'disk'): string[];
  /** the memory-dump pipeline's SHA-256 + gzip engine, on threads of its own (gzip_pipeline.cc) */
  gzipPipeline(options: NativeGzipOptions, onEvent: (e: NativeGzipEvent) => void): NativeGzipPipeline;
  /** mkfifo(2), synchronous; throws an Error with `errno` */
  mkfifo(path: string, mode: number): void;
  /** glibc malloc_trim(0) on the libuv pool: free pages of every malloc arena back to the kernel; true when some were (false off glibc) */
  mallocTrim(): Promise<boolean>;
}

export interface NativeGzipOptions {
  /** a descriptor the engine reads to its end and closes (a FIFO); absent: chunks are push()ed */
  inFd?: number;
  /** where the gzip members go, in order; left open */
  outFd: number;
  threads?: number;
  level?: number;
  blockSize?: number;
  /** nice value of the engine's threads (0: unchanged) */
  nice?: number;
}

export interface NativeGzipEvent {
  type: 'progress' | 'eof' | 'consumed' | 'done' | 'error';
  rawBytes: number;
  gzipBytes: number;
  /** 'done': hex SHA-256 of the raw bytes and of the gzip bytes */
  sha256?: string;
  gzipSha256?: string;
  /** 'error' */
  message?: string;
}

export interface NativeGzipPipeline {
  /** takes a chunk; JS keeps it alive until its 'consumed' event (or the engine's end) */
  push(chunk: Uint8Array): void;
  end(): void;
  abort(): void;
}

declare const native: NativeModule;
export = native;

/** stats_table.cc: records as one table (keys and strings once, 8 bytes a value in `values`) */
export interface NativeStatsTable {
  uuids: string[];
  names: string[];
  keys: string[];
  strings: string[];
  start: Uint32Array;
  key: Uint32Array;
  kind: Uint8Array;
  values: ArrayBuffer;
}
