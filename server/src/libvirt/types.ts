// Types of the libvirt wrapper's inputs and results.

import type { DomainState } from '../domain/vm-state.js';

export interface DomainInfo {
  uuid: string;
  name: string;
  /** hypervisor id; -1 when the domain is not running */
  id: number;
  state: DomainState;
  /** virDomainState number behind `state` */
  stateCode: number;
  maxMemKiB: bigint;
  memoryKiB: bigint;
  nrVirtCpu: number;
  cpuTimeNs: bigint;
  persistent: boolean;
  active: boolean;
}

/** Which domains a listing or a stats call covers; all false/absent = every domain. */
interface DomainSelection {
  active?: boolean;
  inactive?: boolean;
  persistent?: boolean;
  transient?: boolean;
  running?: boolean;
  paused?: boolean;
  shutoff?: boolean;
  other?: boolean;
}

/** Filters of virConnectListAllDomains. */
export interface ListDomainsFilter extends DomainSelection {
  /** extra raw VIR_CONNECT_LIST_DOMAINS_* bits (managedsave, autostart, snapshot …) */
  rawFlags?: number;
}

export type StatsGroup =
  | 'state'
  | 'cpu-total'
  | 'balloon'
  | 'vcpu'
  | 'interface'
  | 'block'
  | 'perf'
  | 'iothread'
  | 'memory'
  | 'dirtyrate'
  | 'vm';

/** A typed-parameter value: (u)llong → bigint, (u)int/double → number. */
export type StatValue = bigint | number | string | boolean;
/** Flat libvirt stats keys, e.g. "cpu.time", "net.0.rx.bytes", "block.1.name". */
export type StatParams = Record<string, StatValue>;

export interface DomainStatsRecord {
  uuid: string;
  name: string;
  params: StatParams;
}

export interface GetAllDomainStatsOptions extends DomainSelection {
  /** groups by name or as a VIR_DOMAIN_STATS_* bitmask; default: all the driver offers (0) */
  groups?: readonly StatsGroup[] | number;
  /** VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT: skip domains whose job lock is busy */
  nowait?: boolean;
  /**
   * Best effort: drop groups the driver cannot give instead of failing. libvirt
   * 9.0 has no BEST_EFFORT flag; leaving enforceStats off already behaves so.
   */
  bestEffort?: boolean;
  /** VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS: fail if a group is unsupported */
  enforceStats?: boolean;
  /** include backing-chain block stats */
  backing?: boolean;
  /** restrict to these domains (virDomainListGetStats); unknown uuids are left out */
  uuids?: readonly string[];
}

/** virDomainMemoryStats, keyed by libvirt tag name (actual_balloon → actual). KiB except faults/last_update. */
export interface MemoryStats {
  swap_in?: bigint;
  swap_out?: bigint;
  major_fault?: bigint;
  minor_fault?: bigint;
  unused?: bigint;
  available?: bigint;
  actual?: bigint;
  rss?: bigint;
  usable?: bigint;
  last_update?: bigint;
  disk_caches?: bigint;
  hugetlb_pgalloc?: bigint;
  hugetlb_pgfail?: bigint;
}

export interface InterfaceStats {
  rx_bytes?: bigint;
  rx_packets?: bigint;
  rx_errs?: bigint;
  rx_drop?: bigint;
  tx_bytes?: bigint;
  tx_packets?: bigint;
  tx_errs?: bigint;
  tx_drop?: bigint;
}

export interface BlockStats {
  rd_req?: bigint;
  rd_bytes?: bigint;
  wr_req?: bigint;
  wr_bytes?: bigint;
  errs?: bigint;
  flush_req?: bigint;
  rd_total_times?: bigint;
  wr_total_times?: bigint;
  flush_total_times?: bigint;
}

export interface VcpuInfo {
  number: number;
  /** 0 offline, 1 running, 2 blocked */
  state: number;
  cpuTime: bigint;
  /** host CPU it runs on, -1 if offline */
  cpu: number;
}

/** virDomainGetCPUStats totals in ns; absent ones are omitted. */
export interface CpuStats {
  cpu_time?: bigint;
  user_time?: bigint;
  system_time?: bigint;
  vcpu_time?: bigint;
}

export interface PerCallStatsOptions {
  memory?: boolean;
  interfaces?: boolean;
  blocks?: boolean;
  vcpus?: boolean;
  cpu?: boolean;
  /**
   * Split the domains over this many concurrent workers (default 1 = one worker
   * call for the whole list). Worth raising for remote hosts where each
   * per-domain call is a round trip.
   */
  parallel?: number;
}

/** A domain for {@link PerCallStatsOptions}; pass cached device lists to skip the XML fetch. */
export interface PerCallStatsItem {
  uuid: string;
  interfaces?: readonly string[];
  blocks?: readonly string[];
}

interface LibvirtErrorInfo {
  code: number;
  domain: number;
  message: string;
}

export interface PerCallStatsRecord extends DomainStatsRecord {
  /** devices that were polled (from the item or the domain XML): cache them */
  devices: { interfaces: string[]; blocks: string[] };
  /** the domain could not be read at all (gone, …); params is then empty */
  error?: LibvirtErrorInfo;
  /** per-call failures whose keys are absent from params */
  partial?: Array<LibvirtErrorInfo & { call: string }>;
}

/**
 * Stats records as one table ({@link LibvirtConnection.getAllDomainStatsTable}): each distinct key and
 * string once, values in one buffer, instead of an object of ~40 keys per record. Row i's entries
 * are `start[i]` … `start[i + 1] - 1`; entry j is key `keys[key[j]]` of kind `kind[j]`, its value in
 * the 8 bytes at `values[8j]`. Read it with {@link StatsTableReader} (libvirt/stats-table.ts).
 */
export interface StatsTable {
  uuids: string[];
  names: string[];
  keys: string[];
  strings: string[];
  start: Uint32Array;
  key: Uint32Array;
  /** 0 int, 1 uint, 2 llong, 3 ullong (the 8 bytes as int64 / uint64), 4 double, 5 boolean (1/0), 6 string (index into `strings`); 0, 1, 4–6 stored as a double */
  kind: Uint8Array;
  values: ArrayBuffer;
}

/** {@link LibvirtConnection.domainStatsPerCallTable}: the table, and per row what a record says besides params. */
export interface PerCallStatsTable extends StatsTable {
  /** undefined where there is nothing more: devices only when read from the domain XML (not given by the item) */
  extra: (Partial<Pick<PerCallStatsRecord, 'devices' | 'error' | 'partial'>> | undefined)[];
}

type CoreDumpFormat = 'raw' | 'kdump-zlib' | 'kdump-lzo' | 'kdump-snappy' | 'win-dmp' | 'elf';

export interface CoreDumpOptions {
  /** default 'raw' (full dump through QEMU migration); 'elf' = memory-only ELF */
  format?: CoreDumpFormat;
  /** VIR_DUMP_MEMORY_ONLY; implied by 'elf', 'kdump-*' and 'win-dmp' */
  memoryOnly?: boolean;
  live?: boolean;
  crash?: boolean;
  reset?: boolean;
  bypassCache?: boolean;
}

export type JobType = 'none' | 'bounded' | 'unbounded' | 'completed' | 'failed' | 'cancelled' | 'unknown';

export interface JobStats {
  type: JobType;
  typeCode: number;
  /** libvirt's typed params: time_elapsed, data_total, data_processed, data_remaining, memory_total, … */
  params: StatParams;
  /** filled from the older virDomainGetJobInfo because the driver lacks job stats */
  fromJobInfo: boolean;
}

export type DomainEventType =
  | 'defined'
  | 'undefined'
  | 'started'
  | 'suspended'
  | 'resumed'
  | 'stopped'
  | 'shutdown'
  | 'pmsuspended'
  | 'crashed'
  | 'unknown';

export interface DomainLifecycleEvent {
  uuid: string;
  name: string;
  event: DomainEventType;
  /** event-specific virDomainEvent*DetailType number */
  detail: number;
}

type CloseReason = 'error' | 'eof' | 'keepalive' | 'client' | 'unknown';

export interface ConnectionClosedEvent {
  reason: CloseReason;
  reasonCode: number;
}

export interface OpenOptions {
  readOnly?: boolean;
  /** register for domain lifecycle events (default true) */
  events?: boolean;
}

export interface DomainXmlOptions {
  secure?: boolean;
  inactive?: boolean;
  updateCpu?: boolean;
  migratable?: boolean;
}

export interface UndefineOptions {
  managedSave?: boolean;
  snapshotsMetadata?: boolean;
  nvram?: boolean;
  checkpointsMetadata?: boolean;
}
