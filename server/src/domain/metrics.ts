// The metrics of seed 000_2cf0550f8e86cc6d.txt, under their exact names (odd spellings kept:
// `disk_rd_req` beside `disk_wr_reqs`) and units. Network and disk values are totals over
// every NIC and disk of the VM. The web app imports this file too (@vmpulse/domain/metrics).

export const COUNTER_METRICS = [
  'cputime', // ns
  'timeusr', // ns
  'timesys', // ns
  'memswap_in', // pages
  'memswap_out', // pages
  'memmajor_fault', // count
  'memminor_fault', // count
  'net_rxbytes', // bytes
  'net_rxpackets', // packets
  'net_rxerrors', // count
  'net_rxdrops', // count
  'net_txbytes', // bytes
  'net_txpackets', // packets
  'net_txerrors', // count
  'net_txdrops', // count
  'disk_rd_req', // requests
  'disk_rd_bytes', // bytes
  'disk_wr_reqs', // requests
  'disk_wr_bytes', // bytes
  'disk_errors', // count
] as const;

export const GAUGE_METRICS = [
  'memactual', // KB
  'memrss', // KB
  'memavailable', // KB
  'memusable', // KB
  'memdisk_cache', // KB
] as const;

export type CounterMetric = (typeof COUNTER_METRICS)[number];
type GaugeMetric = (typeof GAUGE_METRICS)[number];
/** The 25 numeric seed metrics besides `cpus`; with `cpus` they are the seed's 26. */
export type MetricName = CounterMetric | GaugeMetric;
export const METRIC_NAMES: readonly MetricName[] = [
  'cputime', 'timeusr', 'timesys',
  'memactual', 'memrss', 'memavailable', 'memusable', 'memswap_in', 'memswap_out', 'memmajor_fault', 'memminor_fault', 'memdisk_cache',
  'net_rxbytes', 'net_rxpackets', 'net_rxerrors', 'net_rxdrops', 'net_txbytes', 'net_txpackets', 'net_txerrors', 'net_txdrops',
  'disk_rd_req', 'disk_rd_bytes', 'disk_wr_reqs', 'disk_wr_bytes', 'disk_errors',
];

/** Each metric's place in METRIC_NAMES (where records and columns keep them by index). */
export const METRIC_INDEX = Object.fromEntries(METRIC_NAMES.map((m, i) => [m, i])) as Readonly<Record<MetricName, number>>;

/** The units the seed gives its metrics in. */
export type MetricUnit = 'ns' | 'KB' | 'bytes' | 'pages' | 'count' | 'packets' | 'requests';

export const METRIC_UNITS: Readonly<Record<MetricName, MetricUnit>> = {
  cputime: 'ns', timeusr: 'ns', timesys: 'ns',
  memactual: 'KB', memrss: 'KB', memavailable: 'KB', memusable: 'KB', memdisk_cache: 'KB',
  memswap_in: 'pages', memswap_out: 'pages', memmajor_fault: 'count', memminor_fault: 'count',
  net_rxbytes: 'bytes', net_rxpackets: 'packets', net_rxerrors: 'count', net_rxdrops: 'count',
  net_txbytes: 'bytes', net_txpackets: 'packets', net_txerrors: 'count', net_txdrops: 'count',
  disk_rd_req: 'requests', disk_rd_bytes: 'bytes', disk_wr_reqs: 'requests', disk_wr_bytes: 'bytes', disk_errors: 'count',
};
