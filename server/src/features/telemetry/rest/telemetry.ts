// Seeds 000_2cf0550f8e86cc6d.txt and 001_db509c336623b137.txt: /api/telemetry/*. Errors: {"detail": "…"}.
// The schemas are the contract: they validate the input, type the handlers and make the OpenAPI
// document; field names and units are the seeds'.
import { z } from 'zod';
import { METRIC_NAMES, METRIC_UNITS, type MetricName } from '../../../domain/metrics.js';
import { scopeKey } from '../../../domain/owner.js';
import type { Principal } from '../../../lib/auth.js';
import type { Services } from '../../../lib/module.js';
import { defineRoute, detailErrors, int64, isoTimestamp, TextAnswer, type RouteFamily } from '../../../lib/rest.js';
import type { Vm } from '../../inventory/feature.js';
import type { CollectorStatus } from '../collector-service.js';

const unixSeconds = (ms: number) => Math.floor(ms / 1000);

// ---- schemas ------------------------------------------------------------------------------------

/** What each seed-000 metric means (its table), with the unit from the domain. */
const METRIC_MEANING: Record<MetricName, string> = {
  cputime: 'CPU time, all vCPUs',
  timeusr: 'CPU time spent in user mode',
  timesys: 'CPU time spent in system/kernel mode',
  memactual: 'Physical memory currently used by VM (balloon size)',
  memrss: 'Resident set size (memory in RAM)',
  memavailable: 'Memory available for allocation',
  memusable: 'Memory actually usable by VM',
  memswap_in: 'Pages swapped from disk to RAM',
  memswap_out: 'Pages swapped from RAM to disk',
  memmajor_fault: 'Major page faults (required disk read)',
  memminor_fault: 'Minor page faults (in-memory)',
  memdisk_cache: 'Disk cache used by VM',
  net_rxbytes: 'Total bytes received on all interfaces',
  net_rxpackets: 'Total packets received on all interfaces',
  net_rxerrors: 'RX errors on all interfaces',
  net_rxdrops: 'RX dropped packets on all interfaces',
  net_txbytes: 'Total bytes transmitted on all interfaces',
  net_txpackets: 'Total packets transmitted on all interfaces',
  net_txerrors: 'TX errors on all interfaces',
  net_txdrops: 'TX dropped packets on all interfaces',
  disk_rd_req: 'Total disk read requests (all disks)',
  disk_rd_bytes: 'Total bytes read from disk (all disks)',
  disk_wr_reqs: 'Total disk write requests (all disks)',
  disk_wr_bytes: 'Total bytes written to disk (all disks)',
  disk_errors: 'Total disk I/O errors (all disks)',
};

const metricFields = Object.fromEntries(
  METRIC_NAMES.map((m) => [m, int64(`${METRIC_MEANING[m]}, ${METRIC_UNITS[m]}; absent when the hypervisor does not report it`).optional()]),
) as Record<MetricName, z.ZodOptional<z.ZodBigInt>>;

const vmRef = z.object({
  vm_id: z.string().min(1).max(200).describe('the VM: its vmpulse integer id, its uuid or its name'),
});

const LiveVms = z
  .object({
    count: z.number().int().describe('number of VMs listed'),
    source: z.literal('libvirt'),
    vms: z.array(
      z.object({
        id: z.number().int().describe('stable vmpulse VM id'),
        name: z.string(),
        uuid: z.string(),
        state: z.string().describe('libvirt domain state (running, for this list)'),
        cpu_count: z.number().int().describe('vCPUs'),
        memory_max: int64('maximum memory, KB'),
        memory_used: int64('memory in use, KB'),
        cputime: int64('CPU time, ns'),
      }),
    ),
  })
  .meta({ id: 'LiveVms', description: 'Seed 000: the running VMs' });

const VmStats = z
  .object({
    vm_id: z.string().describe('the vmpulse VM id, as a string'),
    timestamp: z.number().int().describe('sample time, unix seconds'),
    metrics: z.object({
      state: z.string().describe('libvirt domain state'),
      cpus: z.number().int().describe('vCPUs'),
      ...metricFields,
    }),
  })
  .meta({ id: 'VmStats', description: 'Seed 000: the latest sample of one VM (26 metrics + state); network and disk values are summed over every NIC and disk' });

const HostStatus = z.object({
  name: z.string(),
  uri: z.string().describe('libvirt URI'),
  connected: z.boolean(),
  demo: z.boolean().describe("true for libvirt's test driver (simulated VMs)"),
  ticks: z.number().int(),
  samples: z.number().int(),
  errors: z.number().int(),
  stale_vms: z.number().int().describe('VMs whose last tick failed (values kept, marked stale)'),
  last_tick_ms: z.number().nullable().describe('wall time of the last tick, ms'),
  last_tick_cpu_ms: z.number().nullable().describe('CPU time of the last tick, ms (hosts that tick together share theirs by VMs read)'),
  last_tick_at: isoTimestamp('when the last tick ended').nullable(),
  last_error: z.string().nullable(),
  owner: z.string().nullable().describe('the replica collecting this host ("hostname:pid"); null while none holds its lease'),
  owned_here: z.boolean().describe('true when the replica answering collects this host'),
  lease_age_s: z.number().nullable().describe("seconds since the owner took the host's lease; null without leases (one process)"),
  lease_renewed_s_ago: z.number().nullable().describe('seconds since the owner last renewed the lease'),
});

const statusFields = {
  running: z.boolean().describe('whether collection runs'),
  poll_interval: z.number().describe('tick interval, s'),
  started_at: isoTimestamp('when collection last started').nullable(),
  ticks: z.number().int().describe('ticks since start, all hosts'),
  samples: z.number().int().describe('VM samples since start'),
  errors: z.number().int().describe('failed VM reads since start'),
  last_tick_ms: z.number().nullable().describe("the slowest host's last tick, ms"),
  buffer_depth: z.number().int().describe('history rows/lines waiting to be written'),
  drops: z.number().int().describe('history rows/lines dropped (buffer full, or refused for good)'),
  store: z.object({
    backend: z.enum(['postgres', 'influxdb3']),
    written: z.number().int().describe('snapshots written since start'),
    failed_writes: z.number().int(),
    rejected_lines: z.number().int().nullable().describe('of drops: lines the store refused for good (InfluxDB partial writes); null for PostgreSQL'),
    last_error: z.string().nullable(),
    last_write_ms: z.number().nullable().describe('duration of the last write, ms'),
  }),
  hosts: z.array(HostStatus),
};

const CollectorStatusBody = z
  .object({
    ...statusFields,
    limits: z.record(z.string(), z.number().int()).describe('requests refused by each limit since start (http.body_size, http.rate_limit, …)'),
  })
  .meta({ id: 'CollectorStatus', description: 'Seed 001: collector status and statistics' });

const CollectorCommand = (id: string, statuses: [string, string]) =>
  z
    .object({ status: z.enum(statuses), message: z.string(), ...statusFields })
    .meta({ id, description: 'Seed 001: the outcome, then the collector status' });

const MonitoredVms = z
  .object({
    count: z.number().int(),
    vms: z.array(
      z.object({
        id: z.number().int(),
        name: z.string(),
        uuid: z.string(),
        host: z.string(),
        state: z.string(),
        cpu_count: z.number().int(),
        last_sample: z.number().int().nullable().describe('time of the last sample, unix seconds'),
        stale: z.boolean().nullable().describe('true when the last tick could not read the VM'),
      }),
    ),
  })
  .meta({ id: 'MonitoredVms', description: 'Seed 001: every monitored VM' });

const SafeConfig = z
  .record(z.string(), z.union([z.string(), z.number(), z.null()]))
  .meta({ id: 'SafeConfig', description: 'Seed 001: every setting by its lower-cased variable name; secrets as ***, lists comma-separated' });

// ---- shaping ------------------------------------------------------------------------------------

function statusBody(s: CollectorStatus) {
  return {
    running: s.running,
    poll_interval: s.intervalSec,
    started_at: s.startedAt ? new Date(s.startedAt).toISOString() : null,
    ticks: s.ticks,
    samples: s.samples,
    errors: s.errors,
    last_tick_ms: s.lastTickMs,
    buffer_depth: s.store.bufferDepth,
    drops: s.store.dropped,
    store: {
      backend: s.store.backend,
      written: s.store.written,
      failed_writes: s.store.failedWrites,
      rejected_lines: s.store.rejectedLines ?? null,
      last_error: s.store.lastError,
      last_write_ms: s.store.lastWriteMs,
    },
    hosts: s.hosts.map((h) => ({
      name: h.name,
      uri: h.uri,
      connected: h.connected,
      demo: h.demo,
      ticks: h.ticks,
      samples: h.samples,
      errors: h.errors,
      stale_vms: h.staleVms,
      last_tick_ms: h.lastTickMs,
      last_tick_cpu_ms: h.lastTickCpuMs,
      last_tick_at: h.lastTickAt ? new Date(h.lastTickAt).toISOString() : null,
      last_error: h.lastError,
      owner: h.owner,
      owned_here: h.ownedHere,
      lease_age_s: h.leaseAgeSec,
      lease_renewed_s_ago: h.leaseRenewedSecAgo,
    })),
  };
}

/**
 * live-vms is polled by many clients and is 140 KB of JSON at 1,000 VMs (700 KB at 5,000): each VM's
 * entry is encoded once per change of its values (once per tick for a running VM, whose cputime
 * rises) and reused by every request until then, instead of encoding the whole answer per request.
 * Same fields, order and exact 64-bit integers as the schema's JSON.
 */
interface LiveVmText {
  id: number;
  name: string;
  uuid: string;
  state: string;
  cpuCount: number;
  memoryMax: bigint;
  memoryUsed: bigint;
  cputime: bigint;
  json: string;
}
const liveVmTexts = new WeakMap<Vm, LiveVmText>();
function liveVmText(v: Vm): string {
  const c = liveVmTexts.get(v);
  if (c && c.cputime === v.cputime && c.memoryUsed === v.memoryUsed && c.state === v.state && c.id === v.id && c.name === v.name && c.uuid === v.uuid && c.cpuCount === v.cpuCount && c.memoryMax === v.memoryMax) {
    return c.json;
  }
  const { id, name, uuid, state, cpuCount, memoryMax, memoryUsed, cputime } = v;
  const json = `{"id":${id},"name":${JSON.stringify(name)},"uuid":${JSON.stringify(uuid)},"state":${JSON.stringify(state)},"cpu_count":${cpuCount},"memory_max":${memoryMax},"memory_used":${memoryUsed},"cputime":${cputime}}`;
  liveVmTexts.set(v, { id, name, uuid, state, cpuCount, memoryMax, memoryUsed, cputime, json });
  return json;
}

/** how many scopes' live-vms answers are kept (each ~140 KB at 1,000 VMs, less for a scope) */
const LIVE_ANSWERS_KEPT = 16;

/**
 * The whole live-vms answer, kept per scope while each listed VM's text is the very string it was
 * (liveVmText makes a new one when a VM's values change: every tick for a running VM). Requests
 * between two ticks then send the same bytes: building ~140 KB again for each cost ~1.8 ms, most
 * of it copying into a large string that is garbage right after (bench/README.md, "live-vms").
 */
function liveVmsAnswers() {
  const kept = new Map<string, { texts: string[]; body: Buffer }>();
  return (running: Vm[], scope: string): Buffer => {
    const texts = running.map(liveVmText);
    const k = kept.get(scope);
    if (k && k.texts.length === texts.length && k.texts.every((t, i) => t === texts[i])) return k.body;
    // z.output<typeof LiveVms>, written as JSON text
    const body = Buffer.from(`{"count":${texts.length},"source":"libvirt","vms":[${texts.join(',')}]}`);
    if (!k && kept.size >= LIVE_ANSWERS_KEPT) kept.clear();
    kept.set(scope, { texts, body });
    return body;
  };
}

function vmStats(principal: Principal, ref: string, { vms, metrics }: Services): z.output<typeof VmStats> {
  const vm = vms.resolveFor(principal, ref);
  const s = metrics.latest(vm.id);
  const out: z.output<typeof VmStats>['metrics'] = { state: s?.state ?? vm.state, cpus: s?.cpus ?? vm.cpuCount };
  // A metric the hypervisor does not report is left out, never 0.
  for (const m of METRIC_NAMES) if (s?.metrics[m] !== undefined) out[m] = s.metrics[m];
  return { vm_id: String(vm.id), timestamp: unixSeconds(s?.ts ?? Date.now()), metrics: out };
}

// ---- routes -------------------------------------------------------------------------------------

export function telemetryRoutes(services: Services): RouteFamily {
  const { vms, metrics, collector, configView, limitHits } = services;
  const liveVmsAnswer = liveVmsAnswers();
  return {
    prefix: '/api/telemetry',
    tag: 'telemetry',
    description: 'Seeds 000 (resource monitoring: live VMs, VM stats) and 001 (the collector)',
    errors: detailErrors,
    routes: [
      defineRoute({
        method: 'GET',
        path: '/api/telemetry/live-vms',
        role: 'viewer',
        summary: 'The running VMs',
        description: 'Seed 000. Memory in KB, CPU time in ns; sorted by id. A scoped token: only the VMs its scope owns.',
        schema: { response: LiveVms },
        handle: ({ principal }) => {
          const running = vms.listFor(principal, { state: 'running' }).sort((a, b) => a.id - b.id);
          return new TextAnswer('application/json; charset=utf-8', liveVmsAnswer(running, scopeKey(principal.scope)));
        },
      }),
      defineRoute({
        method: 'GET',
        path: '/api/telemetry/vm-stats/:vm_id',
        role: 'viewer',
        summary: 'The latest metrics of one VM',
        description:
          'Seed 000, answered from memory (the last collector tick). CPU times in ns, memory in KB, swap in pages, network and disk totals over every NIC and disk. A metric the hypervisor does not report is left out; a shut-off VM has only state and cpus.',
        schema: { params: vmRef, response: VmStats },
        handle: ({ params, principal }) => vmStats(principal, params.vm_id, services),
      }),
      defineRoute({
        method: 'POST',
        path: '/api/telemetry/start',
        role: 'operator',
        summary: 'Start collection',
        description: 'Seed 001. No body. `status` is started or already_running.',
        schema: { response: CollectorCommand('CollectorStarted', ['started', 'already_running']) },
        handle: () => {
          const { changed, ...s } = collector.start();
          return {
            status: changed ? ('started' as const) : ('already_running' as const),
            message: changed ? 'Telemetry collection started' : 'Telemetry collection is already running',
            ...statusBody(s),
          };
        },
      }),
      defineRoute({
        method: 'POST',
        path: '/api/telemetry/stop',
        role: 'operator',
        summary: 'Stop collection',
        description: 'Seed 001. No body. `status` is stopped or already_stopped.',
        schema: { response: CollectorCommand('CollectorStopped', ['stopped', 'already_stopped']) },
        handle: async () => {
          const { changed, ...s } = await collector.stop();
          return {
            status: changed ? ('stopped' as const) : ('already_stopped' as const),
            message: changed ? 'Telemetry collection stopped' : 'Telemetry collection was not running',
            ...statusBody(s),
          };
        },
      }),
      defineRoute({
        method: 'GET',
        path: '/api/telemetry/status',
        role: 'viewer',
        summary: 'Collector status and statistics',
        description: 'Seed 001, plus `limits`: how many requests each limit refused since start.',
        schema: { response: CollectorStatusBody },
        handle: () => ({ ...statusBody(collector.status()), limits: limitHits() }),
      }),
      defineRoute({
        method: 'GET',
        path: '/api/telemetry/vms',
        role: 'viewer',
        summary: 'Every monitored VM',
        description: 'Seed 001: each VM with the time of its last sample and its stale flag; sorted by id.',
        schema: { response: MonitoredVms },
        handle: ({ principal }) => {
          const list = vms.listFor(principal).sort((a, b) => a.id - b.id);
          return {
            count: list.length,
            vms: list.map((v) => {
              const s = metrics.latest(v.id);
              return {
                id: v.id,
                name: v.name,
                uuid: v.uuid,
                host: v.hostName,
                state: v.state,
                cpu_count: v.cpuCount,
                last_sample: s ? unixSeconds(s.ts) : null,
                stale: s?.stale ?? null,
              };
            }),
          };
        },
      }),
      defineRoute({
        method: 'GET',
        path: '/api/telemetry/config',
        role: 'viewer',
        summary: 'The configuration, secrets masked',
        description: 'Seed 001: every setting, secrets shown as ***.',
        schema: { response: SafeConfig },
        handle: () =>
          Object.fromEntries(
            Object.entries(configView()).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(',') : (v as string | number | null)]),
          ),
      }),
    ],
  };
}
