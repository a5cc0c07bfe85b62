// Memory dumps: pipeline throughput against a plain `virsh dump --memory-only` of the same guest
// to a file, the event loop's longest delay while dumps run, and GET /api/memory-dumps/records
// with 10,000 records. `pnpm --filter @vmpulse/bench dumps [--mib 128,1024] [--reps 3]` (`--mib 0`: records only).
// The server runs in this process (its event loop is the one measured); the guest is a real
// TCG guest under the system libvirtd, removed again at the end.
import { mkdtempSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildApp } from '../../server/src/app.js';
import { loadConfig } from '../../server/src/config.js';
import { hashAndGzip } from '../../server/src/features/dumps/pipeline.js';
import { FifoSource } from '../../server/src/libvirt/dump.js';
import { createLogger } from '../../server/src/lib/logger.js';
import { createGuest, ensureGuestImage, ensureLibvirtd, run, startGuest, type Guest } from '../../server/test/guest/qemu-guest.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const SIZES = arg('mib', '128').split(',').map(Number).filter((n) => n > 0); // --mib 0: records only
const REPS = Number(arg('reps', '3'));
const RECORDS = Number(arg('records', '10000'));
/** how often the bench polls the server while it waits (the same during the idle window) */
const POLL_MS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

const TOKEN = 'bench-admin-token-0123456789';
const dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-bench-dumps-'));
const lines: string[] = [];
const say = (s: string) => {
  console.log(s);
  lines.push(s);
};
const guests: Guest[] = [];

async function main() {
  await ensureGuestImage();
  await ensureLibvirtd();
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, VMPULSE_ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'warn', LIBVIRT_URI: 'qemu:///system', DUMP_MIN_INTERVAL: '0', POLL_INTERVAL: '60', HTTP_RATE_LIMIT: '1000000' });
  const app = await buildApp(config, createLogger('warn'));
  const { url } = await app.start();
  const api = (p: string, init: RequestInit = {}) => fetch(url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...(init.headers as object) } });
  say(`memory dumps bench, ${new Date().toISOString()}, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(2)}`);
  try {
    for (const mib of SIZES) {
      const name = `vmpbench-dump-${process.pid}-${mib}`;
      const g = await createGuest(name, { memoryMiB: mib });
      guests.push(g);
      await startGuest(name);
      for (let i = 0; i < 600 && !app.services.vms.list({ name, state: 'running' }).length; i++) await sleep(100);
      await sleep(8000); // let it boot
      const ours: number[] = [];
      const virsh: number[] = [];
      const engine: { mbps: number; cpuMsPerGiB: number }[] = [];
      const loopMax: number[] = [];
      const idleMax: number[] = [];
      const loopP99: number[] = [];
      const idleP99: number[] = [];
      for (let r = 0; r < REPS; r++) {
        // virsh: the same kind of dump to a plain file, timed around the whole command.
        const file = path.join(dir, `virsh-${mib}.elf`);
        const t0 = performance.now();
        await run('timeout', ['-k', '5', '600', 'virsh', '-q', '-c', 'qemu:///system', 'dump', '--memory-only', '--format', 'elf', name, file], 700_000);
        const sec = (performance.now() - t0) / 1000;
        virsh.push(statSync(file).size / 1e6 / sec);
        // The engine alone on virsh's file (from the page cache, no QEMU writing beside it): what
        // hashing and compressing cost, apart from libvirt.
        const e0 = performance.now();
        const c0 = process.cpuUsage();
        const alone = await hashAndGzip(new FifoSource(openSync(file, 'r')), path.join(dir, `alone-${mib}.gz`));
        const cpu = process.cpuUsage(c0);
        engine.push({ mbps: alone.rawBytes / 1e6 / ((performance.now() - e0) / 1000), cpuMsPerGiB: ((cpu.user + cpu.system) / 1000 / alone.rawBytes) * 2 ** 30 });
        rmSync(path.join(dir, `alone-${mib}.gz`), { force: true });
        rmSync(file, { force: true });
        // The same process with no dump, as long as a dump takes and polled as often: what the
        // machine's load and the polling alone cost the event loop.
        const idle = monitorEventLoopDelay({ resolution: 1 });
        idle.enable();
        const idleUntil = performance.now() + Math.max(1000, (ours.at(-1) ? (134 * mib) / 128 / ours.at(-1)! : 3) * 1000);
        while (performance.now() < idleUntil) {
          await api('/api/memory-dumps/status').then((x) => x.arrayBuffer());
          await sleep(POLL_MS);
        }
        idle.disable();
        idleMax.push(idle.max / 1e6);
        idleP99.push(idle.percentile(99) / 1e6);
        // vmpulse: the same dump through the FIFO, SHA-256 and gzip; duration_sec is the dump's own.
        const h = monitorEventLoopDelay({ resolution: 1 });
        h.enable();
        const res = (await (await api('/api/memory-dumps/trigger', { method: 'POST', body: JSON.stringify({ vm_ids: [name] }) })).json()) as { dump_ids: number[] };
        const id = res.dump_ids[0]!;
        let d: { status: string; duration_sec: number; raw_size_bytes: number; gzip_size_bytes: number; dump_path: string; error: string | null };
        for (;;) {
          d = (await (await api(`/api/memory-dumps/${id}`)).json()) as typeof d;
          if (!['queued', 'running'].includes(d.status)) break;
          await api('/api/memory-dumps/status').then((x) => x.arrayBuffer());
          await sleep(POLL_MS);
        }
        h.disable();
        if (d.status !== 'completed') throw new Error(`dump ${id}: ${d.status} ${d.error}`);
        ours.push(d.raw_size_bytes / 1e6 / d.duration_sec);
        loopMax.push(h.max / 1e6);
        loopP99.push(h.percentile(99) / 1e6);
        say(`  ${mib} MiB rep ${r + 1}: virsh ${round(virsh.at(-1)!)} MB/s, vmpulse ${round(ours.at(-1)!)} MB/s, engine alone on virsh's file ${round(engine.at(-1)!.mbps)} MB/s at ${round(engine.at(-1)!.cpuMsPerGiB, 0)} ms CPU per GiB (${round(d.duration_sec, 3)} s, raw ${d.raw_size_bytes} B, gzip ${d.gzip_size_bytes} B, ratio ${round(d.raw_size_bytes / d.gzip_size_bytes, 1)}), event loop max ${round(loopMax.at(-1)!, 1)} ms, p99 ${round(loopP99.at(-1)!, 1)} ms (idle, no dump: max ${round(idleMax.at(-1)!, 1)} ms, p99 ${round(idleP99.at(-1)!, 1)} ms), load ${os.loadavg()[0]!.toFixed(1)}`);
        rmSync(d.dump_path, { force: true });
      }
      say(`${mib} MiB guest, ELF, median of ${REPS}: vmpulse ${round(median(ours))} MB/s vs virsh dump ${round(median(virsh))} MB/s = ${round(median(ours) / median(virsh))}x (the engine alone on virsh's file: ${round(median(engine.map((e) => e.mbps)))} MB/s, ${round(median(engine.map((e) => e.cpuMsPerGiB)), 0)} ms CPU per GiB); event loop longest delay during the dumps: median ${round(median(loopMax), 1)} ms, max ${round(Math.max(...loopMax), 1)} ms, p99 median ${round(median(loopP99), 1)} ms (same process idle as long, polled alike: max median ${round(median(idleMax), 1)} ms, p99 median ${round(median(idleP99), 1)} ms)`);
      await g.cleanup();
      guests.splice(guests.indexOf(g), 1);
    }

    // records: 10,000 rows, then GET /records (default limit 1000, and limit 50) many times.
    const prisma = app.db.prisma;
    const trig = await prisma.dumpTrigger.create({ data: { vmIds: ['bench'], triggeredBy: 'bench', refused: [] } });
    const now = Date.now();
    for (let i = 0; i < RECORDS; i += 1000) {
      await prisma.memoryDump.createMany({
        data: Array.from({ length: Math.min(1000, RECORDS - i) }, (_, k) => {
          const n = i + k;
          const at = new Date(now - n * 60_000);
          return { triggerId: trig.id, vmId: 1_000_000 + (n % 50), vmName: `bench-${n % 50}`, hostName: 'bench', hostUri: 'test:///', domainUuid: '00000000-0000-0000-0000-000000000000', format: 'elf', status: 'completed', triggeredBy: 'bench', path: `/var/dumps/${n}_${Math.floor(at.getTime() / 1000)}.mem.gz`, sha256: 'a'.repeat(64), gzipSha256: 'b'.repeat(64), rawBytes: 134217728n, gzipBytes: 20000000n, createdAt: at, startedAt: at, finishedAt: at, durationSec: 1.234, fileCtime: 1, fileMtime: 1, fileAtime: 1 };
        }),
      });
    }
    for (const q of ['', '?limit=50', '?limit=50&offset=9000']) {
      const ms: number[] = [];
      for (let i = 0; i < 20; i++) await api(`/api/memory-dumps/records${q}`).then((r) => r.arrayBuffer());
      const cpu0 = process.cpuUsage(); // less noisy than latency on a shared machine (server and client: one process)
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        const r = await api(`/api/memory-dumps/records${q}`);
        await r.arrayBuffer();
        ms.push(performance.now() - t0);
      }
      const cpu = process.cpuUsage(cpu0);
      say(`GET /api/memory-dumps/records${q} with ${RECORDS} records: p50 ${round(pct(ms, 50))} ms, p99 ${round(pct(ms, 99))} ms, CPU ${round((cpu.user + cpu.system) / 1000 / 200)} ms/request in this process (200 sequential requests)`);
    }
  } finally {
    for (const g of guests) await g.cleanup().catch(() => {});
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  writeFileSync(new URL('../dumps.txt', import.meta.url), `${lines.join('\n')}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
