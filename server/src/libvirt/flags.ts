// Option objects → libvirt flag bitmasks.
import type {
  CoreDumpOptions,
  DomainXmlOptions,
  GetAllDomainStatsOptions,
  JobType,
  ListDomainsFilter,
  StatsGroup,
  UndefineOptions,
} from './types.js';

const STATS_GROUP_BITS: Readonly<Record<StatsGroup, number>> = {
  state: 1 << 0,
  'cpu-total': 1 << 1,
  balloon: 1 << 2,
  vcpu: 1 << 3,
  interface: 1 << 4,
  block: 1 << 5,
  perf: 1 << 6,
  iothread: 1 << 7,
  memory: 1 << 8,
  dirtyrate: 1 << 9,
  vm: 1 << 10,
};

const LIST_BITS = {
  active: 1,
  inactive: 2,
  persistent: 4,
  transient: 8,
  running: 16,
  paused: 32,
  shutoff: 64,
  other: 128,
} as const;

const STATS_NOWAIT = 1 << 29;
const STATS_BACKING = 1 << 30;
const STATS_ENFORCE = 2 ** 31;

export function statsGroupsMask(groups: GetAllDomainStatsOptions['groups']): number {
  if (groups === undefined) return 0;
  if (typeof groups === 'number') return groups >>> 0;
  let mask = 0;
  for (const g of groups) {
    const bit = STATS_GROUP_BITS[g];
    if (bit === undefined) throw new TypeError(`unknown stats group '${String(g)}'`);
    mask |= bit;
  }
  return mask >>> 0;
}

export function listFlags(filter: ListDomainsFilter = {}): number {
  let flags = filter.rawFlags ?? 0;
  for (const [key, bit] of Object.entries(LIST_BITS)) {
    if (filter[key as keyof ListDomainsFilter]) flags |= bit;
  }
  return flags >>> 0;
}

export function statsFlags(opts: GetAllDomainStatsOptions = {}): number {
  // virDomainListGetStats (uuids given) rejects the list filters.
  let flags = opts.uuids ? 0 : listFlags(opts);
  if (opts.nowait) flags |= STATS_NOWAIT;
  if (opts.backing) flags |= STATS_BACKING;
  // Unsigned: bit 31 would turn the number negative.
  return (flags >>> 0) + (opts.enforceStats && !opts.bestEffort ? STATS_ENFORCE : 0);
}

export function domainXmlFlags(opts: DomainXmlOptions = {}): number {
  return (opts.secure ? 1 : 0) | (opts.inactive ? 2 : 0) | (opts.updateCpu ? 4 : 0) | (opts.migratable ? 8 : 0);
}

export function undefineFlags(opts: UndefineOptions = {}): number {
  return (
    (opts.managedSave ? 1 : 0) |
    (opts.snapshotsMetadata ? 2 : 0) |
    (opts.nvram ? 4 : 0) |
    (opts.checkpointsMetadata ? 16 : 0)
  );
}

const DUMP_FORMATS = { raw: 0, elf: 0, 'kdump-zlib': 1, 'kdump-lzo': 2, 'kdump-snappy': 3, 'win-dmp': 4 } as const;

/** → [virDomainCoreDumpFormat, virDomainCoreDumpFlags] */
export function coreDumpArgs(opts: CoreDumpOptions = {}): [number, number] {
  const format = opts.format ?? 'raw';
  const code = DUMP_FORMATS[format];
  if (code === undefined) throw new TypeError(`unknown dump format '${String(format)}'`);
  // Every format but full 'raw' is produced by QEMU's dump-guest-memory,
  // i.e. libvirt's memory-only mode (ELF = RAW + MEMORY_ONLY).
  const memoryOnly = opts.memoryOnly || format !== 'raw';
  const flags =
    (opts.crash ? 1 : 0) |
    (opts.live ? 2 : 0) |
    (opts.bypassCache ? 4 : 0) |
    (opts.reset ? 8 : 0) |
    (memoryOnly ? 16 : 0);
  return [code, flags];
}

const JOB_TYPES: readonly JobType[] = ['none', 'bounded', 'unbounded', 'completed', 'failed', 'cancelled'];

export function jobTypeName(code: number): JobType {
  return JOB_TYPES[code] ?? 'unknown';
}
