// A NIC's and a disk's counters of one sample (the snapshot's NicSample / DiskSample), kept as
// doubles like a VM's metrics (CounterRow): a NIC's 8 and a disk's 5 counters used to be BigInts
// made and kept every tick, the largest share of BigInts left after the metrics themselves.
import type { DiskLibvirtLeaf, DiskSample, NicSample } from '../../../domain/snapshot.js';
import { Float64Slabs } from '../../../lib/slabs.js';
import { CounterRow, readAsRecord } from './metric-record.js';

/** a plain record's field, set by name (a handful of keys: no dictionary mode to fear) */
const setField = <N extends string>(o: Partial<Record<N, unknown>>, name: N, v: unknown) => {
  o[name] = v;
};

/** NicSample's counters, in the order a NicRecord takes them */
export const NIC_COUNTERS = ['rxbytes', 'rxpackets', 'rxerrors', 'rxdrops', 'txbytes', 'txpackets', 'txerrors', 'txdrops'] as const;
const nicSlabs = new Float64Slabs(NIC_COUNTERS.length);

/** One NIC's counters (0 where the hypervisor reports none), read as BigInts; `name` last in JSON, as the samples have always listed it. */
export class NicRecord extends CounterRow implements NicSample {
  readonly #name: string;
  declare readonly rxbytes: bigint;
  declare readonly rxpackets: bigint;
  declare readonly rxerrors: bigint;
  declare readonly rxdrops: bigint;
  declare readonly txbytes: bigint;
  declare readonly txpackets: bigint;
  declare readonly txerrors: bigint;
  declare readonly txdrops: bigint;
  declare readonly name: string;

  /** `v[k]`: NIC_COUNTERS[k]'s value (see CounterRow) */
  constructor(name: string, v: readonly (bigint | number | undefined)[]) {
    super(nicSlabs, v);
    this.#name = name;
  }

  static {
    readAsRecord(NicRecord.prototype, [...NIC_COUNTERS, 'name'], (r, k) => (k < NIC_COUNTERS.length ? r.counter(k) : r.#name), setField);
  }
}

/** DiskSample's counters, then its two sizes (absent when not reported), in the order a DiskRecord takes them */
export const DISK_COUNTERS = ['rd_req', 'rd_bytes', 'wr_reqs', 'wr_bytes', 'errors', 'allocation', 'capacity'] as const;
/** how many of DISK_COUNTERS are counters (unreported ones read 0); the sizes after them stay absent when unreported */
export const DISK_ZEROED = 5;
/** libvirt's counters a DiskRecord also keeps, after DISK_COUNTERS (absent when unreported; DiskSample.libvirt) */
export const DISK_LIBVIRT_COUNTERS = ['rd.times', 'wr.times', 'fl.reqs', 'fl.times'] as const satisfies readonly DiskLibvirtLeaf[];
const diskSlabs = new Float64Slabs(DISK_COUNTERS.length + DISK_LIBVIRT_COUNTERS.length);

/**
 * One disk's counters (0 where the hypervisor reports none) and sizes (absent when it reports none),
 * read as BigInts; `name` after the counters in JSON. Also libvirt's path and times for /metrics
 * (DiskSample.libvirt), so that no tick keeps its whole stats table alive for them.
 */
export class DiskRecord extends CounterRow implements DiskSample {
  readonly #name: string;
  readonly #path: string | undefined;
  declare readonly rd_req: bigint;
  declare readonly rd_bytes: bigint;
  declare readonly wr_reqs: bigint;
  declare readonly wr_bytes: bigint;
  declare readonly errors: bigint;
  declare readonly allocation?: bigint;
  declare readonly capacity?: bigint;
  declare readonly name: string;

  /** `v[k]`: DISK_COUNTERS[k]'s value, then DISK_LIBVIRT_COUNTERS' (see CounterRow) */
  constructor(name: string, v: readonly (bigint | number | undefined)[], path?: string) {
    super(diskSlabs, v);
    this.#name = name;
    this.#path = path;
  }

  libvirt(leaf: DiskLibvirtLeaf): string | bigint | undefined {
    if (leaf === 'path') return this.#path;
    return this.counter(DISK_COUNTERS.length + DISK_LIBVIRT_COUNTERS.indexOf(leaf));
  }

  static {
    // JSON as the plain samples had it: counters, name, then the sizes when there are any
    const names = [...DISK_COUNTERS.slice(0, DISK_ZEROED), 'name', ...DISK_COUNTERS.slice(DISK_ZEROED)] as const;
    readAsRecord(DiskRecord.prototype, names, (r, k) => (k < DISK_ZEROED ? r.counter(k) : k === DISK_ZEROED ? r.#name : r.counter(k - 1)), setField);
  }
}
