// What hosts cost the server and its PostgreSQL every tick, for several builds side by side.
// `pnpm --filter @vmpulse/bench per-host -- --builds base=/tmp/old/server/dist/src/main.js,new=server/dist/src/main.js [--hosts 1,10]`
// A build's V8 flags after `@` (`new16=server/dist/src/main.js@--max-semi-space-size=16`); default `pnpm start`'s.
// One big host instead, to compare builds per VM: `--hosts 1 --vms 1000`.
// Each build runs as servers of its own (own DATA_DIR, embedded PostgreSQL), one per host count,
// each host a test-driver fleet file with `--vms` (1) running VMs (libvirt in-process, nearly
// free), all at the same time, so every build shares the machine's load of the moment. After a
// warm-up, the CPU of each server process (all threads) and of its PostgreSQL (its child
// processes, from /proc) over `--seconds` (default 120: two minutes of history blocks) is divided
// by the ticks (1 s interval), beside each server's RSS maximum; with two host counts, the
// difference per extra host is what each further host costs per tick (per-process costs such as
// timers cancel out).
// libvirt's part: the collector's libvirt calls alone (libvirt-bare.ts) on one host's fleet file,
// in a process of their own, right after the window; "beyond libvirt" = per extra host − that.
// With `--real`, libvirt-paced.mjs instead: one process per host count, side by side with the
// servers over the same window, each calling the stats call once a second on as many connections
// as that count's servers have hosts; libvirt's cost per extra host is their difference, as for
// the servers (so the machine's load of the moment and the processes' own costs cancel alike).
// `--real`: the hosts are the system libvirtd with one real QEMU/TCG guest booted for the run, each
// host reached through a socket path of its own (`qemu+unix:///system?socket=DIR/libvirt-sock-N`, a
// symlink to libvirtd's socket), so every host is a real remote-protocol connection with one domain
// (and any other domain of the daemon): what a further real host of a cloud costs.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeDemoFleet } from '../../server/src/libvirt/demo-fleet.js';
import { bareLibvirt, bootGuests, cleanupGuests } from './guests.js';
import { nodeFlagsOf } from './server.js';
import { BENCH_DIR, REPO_ROOT, median, sleep, trackChild, treeCpuSeconds } from './util.js';

const argv = process.argv.slice(2).filter((a) => a !== '--');
const opt = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : def;
};
const builds = opt('builds', 'current=server/dist/src/main.js')
  .split(',')
  .map((b) => {
    const name = b.slice(0, b.indexOf('='));
    const [main, flags] = b.slice(name.length + 1).split('@') as [string, string | undefined];
    return [name, main, nodeFlagsOf(flags)] as const;
  });
const hostCounts = opt('hosts', '1').split(',').map(Number);
const vmsPerHost = Number(opt('vms', '1'));
const seconds = Number(opt('seconds', '120'));
const real = argv.includes('--real');
const warmupS = 30;
const LIBVIRTD_SOCKET = '/run/libvirt/libvirt-sock';

if (real) {
  const { booted, otherDomains } = await bootGuests({ max: 1, memoryMiB: 128, bootTimeoutMs: 120_000, maxLoad: os.cpus().length * 3, log: (m) => process.stderr.write(`[per-host] ${m}\n`) });
  if (!booted.length) throw new Error('per-host --real: no TCG guest booted');
  process.stderr.write(`[per-host] hosts are the system libvirtd: 1 bench guest${otherDomains.length ? ` + ${otherDomains.length} other domain(s)` : ''} per host\n`);
}

/** the URIs of `hosts` hosts of `vmsPerHost` VMs each, their files in `dir` */
function hostUris(dir: string, hosts: number): string[] {
  return Array.from({ length: hosts }, (_, h) => {
    if (!real) return writeDemoFleet(path.join(dir, `host-${h}.xml`), { count: vmsPerHost, prefix: `h${h}-` });
    const socket = path.join(dir, `libvirt-sock-${h}`);
    symlinkSync(LIBVIRTD_SOCKET, socket);
    return `qemu+unix:///system?socket=${socket}`;
  });
}

/** a process's resident set, KiB (0 once it is gone) */
function rssKiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

const servers = builds.flatMap(([name, main, flags]) =>
  hostCounts.map((hosts) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), `vmpulse-per-host-${name}-`));
    const uris = hostUris(dir, hosts);
    const child = spawn(process.execPath, [...flags, path.resolve(REPO_ROOT, main)], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, LIBVIRT_URI: uris.join(','), LOG_LEVEL: 'warn', POLL_INTERVAL: '1' },
      stdio: 'ignore',
    });
    trackChild(child);
    return { name, main: [...flags, main].join(' '), hosts, dir, child, uris };
  }),
);
/** with `--real`: libvirt alone on each host count's connections, running beside the servers */
const pacers = real
  ? hostCounts.map((hosts) => {
      const child = spawn(process.execPath, [path.join(BENCH_DIR, 'src', 'libvirt-paced.mjs'), '1000', ...servers.find((s) => s.hosts === hosts)!.uris], {
        cwd: REPO_ROOT,
        stdio: 'ignore',
      });
      trackChild(child);
      return { hosts, child };
    })
  : [];
const what = real ? 'real libvirtd' : `${vmsPerHost} VM(s)`;
process.stderr.write(`[per-host] ${builds.length} builds × ${hostCounts.join('/')} hosts of ${what}: ${warmupS} s warm-up, then ${seconds} s measured\n`);
await sleep(warmupS * 1000);
const before = servers.map((s) => treeCpuSeconds(s.child.pid!));
const pacersBefore = pacers.map((p) => treeCpuSeconds(p.child.pid!).self);
// each server process's RSS, every second of the window (its PostgreSQL not included)
const rssMax = servers.map(() => 0);
for (let t = 0; t < seconds; t++) {
  await sleep(1000);
  servers.forEach((s, i) => {
    rssMax[i] = Math.max(rssMax[i]!, rssKiB(s.child.pid!));
  });
}
const after = servers.map((s) => treeCpuSeconds(s.child.pid!));
const pacersAfter = pacers.map((p) => treeCpuSeconds(p.child.pid!).self);
const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
console.log(`server + PostgreSQL CPU per tick, ${real ? 'hosts on the system libvirtd (one TCG guest)' : `test-driver hosts of ${vmsPerHost} VM(s)`}, ${seconds} s side by side, load ${load}`);
const total = new Map<string, number>();
servers.forEach((s, i) => {
  if (s.child.exitCode !== null) console.log(`  ${s.name} exited during the run (code ${s.child.exitCode}): its figures below are not a measurement`);
  const server = ((after[i]!.self - before[i]!.self) * 1000) / seconds;
  const pg = ((after[i]!.descendants - before[i]!.descendants) * 1000) / seconds;
  total.set(`${s.name}/${s.hosts}`, server + pg);
  console.log(`  ${s.name.padEnd(10)} ${String(s.hosts).padStart(3)} host(s): server ${server.toFixed(2)} ms + PostgreSQL ${pg.toFixed(2)} ms = ${(server + pg).toFixed(2)} ms; server RSS max ${(rssMax[i]! / 1024).toFixed(0)} MiB   (${s.main})`);
});
if (hostCounts.length === 2) {
  const [a, b] = hostCounts as [number, number];
  for (const [name] of builds) console.log(`  ${name.padEnd(10)} per extra host: ${((total.get(`${name}/${b}`)! - total.get(`${name}/${a}`)!) / (b - a)).toFixed(2)} ms per tick`);
}
for (const s of servers) s.child.kill('SIGTERM');
let libvirtMs: number;
if (real) {
  // A real connection's cost lies between the calls too (event thread, keepalives): paced, whole process.
  const perTick = pacersAfter.map((cpu, i) => ((cpu - pacersBefore[i]!) * 1000) / seconds);
  for (const [i, p] of pacers.entries()) {
    if (p.child.exitCode !== null) console.log(`  libvirt alone on ${p.hosts} connection(s) exited during the run (code ${p.child.exitCode}): not a measurement`);
    console.log(`  libvirt alone  ${String(p.hosts).padStart(3)} host(s): ${perTick[i]!.toFixed(2)} ms per tick (the stats call once a second on each connection, whole process, side by side)`);
    p.child.kill('SIGTERM');
  }
  const [a, b] = hostCounts as [number, number];
  libvirtMs = hostCounts.length === 2 ? (perTick[1]! - perTick[0]!) / (b - a) : perTick[0]!;
  if (hostCounts.length === 2) console.log(`  libvirt alone  per extra host: ${libvirtMs.toFixed(2)} ms per tick`);
} else {
  const bare = await bareLibvirt(servers[0]!.uris[0]!, 30);
  libvirtMs = median(bare.runs.map((r) => r.cpuMs));
  console.log(`  libvirt alone (the collector's calls on one host, own process, median of ${bare.runs.length}): ${libvirtMs.toFixed(2)} ms per tick`);
}
if (hostCounts.length === 2) {
  const [a, b] = hostCounts as [number, number];
  for (const [name] of builds) console.log(`  ${name.padEnd(10)} per extra host beyond libvirt: ${((total.get(`${name}/${b}`)! - total.get(`${name}/${a}`)!) / (b - a) - libvirtMs).toFixed(2)} ms per tick`);
}
await sleep(5000);
for (const s of servers) rmSync(s.dir, { recursive: true, force: true });
if (real) {
  const problems = await cleanupGuests();
  if (problems.length) process.stderr.write(`[per-host] guest cleanup problems: ${problems.join('; ')}\n`);
}
