// Demo fleet for libvirt's in-process test driver: a `<node>` file with N
// `<domain type='test'>`s, opened as test:///abs/path.xml.
//
// What the test driver (libvirt 9.0) answers for these XML-defined domains,
// checked by test/demo-fleet.test.ts:
// - virConnectGetAllDomainStats: only the `state` group (state.state,
//   state.reason); other groups are silently empty (a record with no params
//   when `state` is not asked for), with enforceStats the call fails.
// - virDomainGetInfo: yes; cpuTime is derived from the wall clock (ns since
//   1970 / vcpus…) so it is huge (> 2^53) and rises between calls.
// - virDomainGetCPUStats (total): yes (cpu_time, user_time, system_time),
//   rising with time.
// - virDomainMemoryStats: yes, fixed values derived from <currentMemory>
//   (actual, available, unused, usable, rss, disk_caches …, last_update).
// - virDomainInterfaceStats(target dev or MAC): yes, counters that rise with
//   time; unknown devs fail with VIR_ERR_INVALID_ARG (8). NIC target devs are
//   named tapN, not vnetN: libvirt treats vnet*/vif* as auto-generated and
//   drops them when parsing, after which the test driver names them testnetN.
// - virDomainBlockStats(Flags)(target dev, e.g. vda): yes, rising counters
//   (rd_req, rd_bytes, wr_req, wr_bytes, errs); unknown devs fail with 8.
// - virDomainGetVcpus: yes (state running, cpuTime rising, cpu number).
// - Shut-off domains (<test:runstate>5</test:runstate>): info only; the
//   per-domain stats calls fail with VIR_ERR_OPERATION_INVALID (55).
// - virDomainCoreDumpWithFormat: writes a tiny placeholder file; memory-only
//   (VIR_DUMP_MEMORY_ONLY, i.e. 'elf'/'kdump-*') is rejected (code 8).
//   virDomainGetJobStats/JobInfo/AbortJob: unsupported (code 3).
// - Lifecycle events are delivered for define/create/destroy/suspend/resume/undefine.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const DEMO_ROLES = ['web', 'db', 'cache', 'app', 'build', 'queue', 'search', 'mon'] as const;

/** OpenNebula-style owners of the demo fleet: two users in two groups (a third of the VMs have none). */
/** @internal exported for tests only: the tests' oracle for the fleet file */
export const DEMO_OWNERS = [
  { uname: 'alice', uid: 5, gname: 'engineering', gid: 100 },
  { uname: 'bob', uid: 6, gname: 'finance', gid: 101 },
] as const;
type DemoOwner = (typeof DEMO_OWNERS)[number];

/** @internal exported for tests only: the tests' oracle for the fleet file */
export interface DemoDomain {
  name: string;
  uuid: string;
  vcpus: number;
  memoryKiB: number;
  running: boolean;
  disks: string[];
  nics: Array<{ target: string; mac: string }>;
  /** written as OpenNebula's <one:vm> metadata; null: no owner metadata */
  owner: DemoOwner | null;
}

export interface DemoFleetOptions {
  /** number of domains (default 8) */
  count?: number;
  /** name prefix for every domain, e.g. 'bench-' (default none) */
  prefix?: string;
}

const VCPUS = [2, 4, 1, 8, 2, 4, 2, 1];
const MEM_GIB = [2, 8, 4, 4, 16, 2, 8, 1];

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** Deterministic description of demo domain `i` (stable names and uuids across runs). */
function demoDomain(i: number, count: number, prefix = ''): DemoDomain {
  const role = DEMO_ROLES[i % DEMO_ROLES.length]!;
  const ordinal = Math.floor(i / DEMO_ROLES.length) + 1;
  const width = Math.max(2, String(Math.ceil(count / DEMO_ROLES.length)).length);
  const name = `${prefix}${role}-${String(ordinal).padStart(width, '0')}`;
  const uuid = `7d3a5e00-0000-4000-8000-${hex(i, 12)}`;
  // A couple in eight are shut off (queue-*, mon-*); the rest run.
  const running = i % 8 !== 5 && i % 8 !== 7;
  const nDisks = i % 3 === 0 ? 2 : 1;
  const nNics = i % 4 === 1 ? 2 : 1;
  const disks = ['vda', 'vdb'].slice(0, nDisks);
  const nics = Array.from({ length: nNics }, (_, k) => {
    const n = i * 2 + k;
    return {
      target: `tap${n}`,
      mac: `52:54:00:${hex((n >> 16) & 0xff, 2)}:${hex((n >> 8) & 0xff, 2)}:${hex(n & 0xff, 2)}`,
    };
  });
  return {
    name,
    uuid,
    vcpus: VCPUS[i % VCPUS.length]!,
    memoryKiB: MEM_GIB[i % MEM_GIB.length]! * 1024 * 1024,
    running,
    disks,
    nics,
    owner: i % 3 === 2 ? null : DEMO_OWNERS[i % 3]!,
  };
}

/** @internal exported for tests only: the tests' oracle for the fleet file */
export function demoDomains(opts: DemoFleetOptions = {}): DemoDomain[] {
  const count = opts.count ?? 8;
  return Array.from({ length: count }, (_, i) => demoDomain(i, count, opts.prefix));
}

function domainXml(d: DemoDomain): string {
  const disks = d.disks
    .map(
      (dev) => `      <disk type='file' device='disk'>
        <source file='/guest/${d.name}-${dev}.img'/>
        <target dev='${dev}' bus='virtio'/>
      </disk>`,
    )
    .join('\n');
  const nics = d.nics
    .map(
      (n) => `      <interface type='network'>
        <mac address='${n.mac}'/>
        <source network='default'/>
        <target dev='${n.target}'/>
        <model type='virtio'/>
      </interface>`,
    )
    .join('\n');
  // As OpenNebula's LibVirtDriverKVM.cc writes it (names are plain ASCII here: no escaping needed).
  const metadata = d.owner
    ? `
    <metadata>
      <one:vm xmlns:one="http://opennebula.org/xmlns/libvirt/1.0">
        <one:name>${d.name}</one:name>
        <one:uname>${d.owner.uname}</one:uname>
        <one:uid>${d.owner.uid}</one:uid>
        <one:gname>${d.owner.gname}</one:gname>
        <one:gid>${d.owner.gid}</one:gid>
      </one:vm>
    </metadata>`
    : '';
  return `  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>${d.name}</name>
    <uuid>${d.uuid}</uuid>${metadata}
    <memory unit='KiB'>${d.memoryKiB}</memory>
    <currentMemory unit='KiB'>${d.memoryKiB}</currentMemory>
    <vcpu placement='static'>${d.vcpus}</vcpu>
    <os>
      <type arch='x86_64'>hvm</type>
    </os>
    <devices>
${disks}
${nics}
      <memballoon model='virtio'/>
    </devices>
    <test:runstate>${d.running ? 1 : 5}</test:runstate>
  </domain>`;
}

/** The test-driver node XML for the demo fleet. */
/** @internal exported for tests only: its unit test drives it */
export function demoFleetXml(opts: DemoFleetOptions = {}): string {
  const domains = demoDomains(opts).map(domainXml).join('\n');
  return `<?xml version='1.0' encoding='UTF-8'?>
<node>
${domains}
</node>
`;
}

/** Writes the fleet XML to `path` and returns the URI to open it: test:///abs/path.xml. */
export function writeDemoFleet(path: string, opts: DemoFleetOptions = {}): string {
  const abs = resolve(path);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, demoFleetXml(opts));
  return `test://${abs}`;
}
