import type { MetricName } from './metrics.js';

export interface NicSample {
  name: string;
  rxbytes: bigint; rxpackets: bigint; rxerrors: bigint; rxdrops: bigint;
  txbytes: bigint; txpackets: bigint; txerrors: bigint; txdrops: bigint;
}

export interface DiskSample {
  name: string;
  rd_req: bigint; rd_bytes: bigint; wr_reqs: bigint; wr_bytes: bigint; errors: bigint;
  /** bytes; absent when the hypervisor does not report them */
  allocation?: bigint; capacity?: bigint;
  /**
   * libvirt's own fields of this disk that the sample does not list, by leaf (`path`, `rd.times`,
   * `wr.times`, `fl.reqs`, `fl.times`: what /metrics labels and writes); undefined where libvirt
   * reports none. On the collector's own records only: not in JSON (a replica's, history's).
   */
  libvirt?(leaf: DiskLibvirtLeaf): string | bigint | undefined;
}

/** The disk fields DiskSample.libvirt answers. */
export type DiskLibvirtLeaf = 'path' | 'rd.times' | 'wr.times' | 'fl.reqs' | 'fl.times';

/** One VM at one tick. Metrics the hypervisor does not report are absent, never zero. */
export interface MetricSnapshot {
  vmId: number;
  hostId: number;
  hostName: string;
  vmName: string;
  uuid: string;
  /** sample time, ms since the epoch */
  ts: number;
  state: string;
  cpus: number;
  /** exact values (BigInt) under the seed's names and units */
  metrics: Partial<Record<MetricName, bigint>>;
  nics: NicSample[];
  disks: DiskSample[];
  /** KB, the VM's maximum memory (for memory %) */
  memoryMax: bigint;
  /** per-second rates of every counter since the previous sample of the same series */
  rates: Partial<Record<MetricName, number>>;
  /** seed 001 features: arctangent of each rate, in degrees */
  angles: Partial<Record<MetricName, number>>;
  /** % of the VM's vCPUs (100 = all vCPUs busy) */
  cpuPct: { user: number | null; system: number | null; total: number | null };
  /** memory in use as % of memactual (or of the maximum) */
  memPct: number | null;
  /** true when this tick could not sample the VM: values are the last good ones, `ageMs` old */
  stale: boolean;
  ageMs: number;
  error?: string;
  /**
   * The raw libvirt stats record of a fresh sample (keys as virConnectGetAllDomainStats names them:
   * "cpu.time", "vcpu.0.delay", "block.0.rd.times"…): stores that keep libvirt's own fields, like the
   * InfluxDB store's Telegraf tables, read it. Absent when nothing was sampled, and unless the store
   * reads it (MetricStore.readsRawRecords). Not enumerable on the snapshots the metrics service
   * makes: JSON and spreads leave it out.
   */
  libvirt?: Readonly<Record<string, bigint | number | string | boolean>>;
}
