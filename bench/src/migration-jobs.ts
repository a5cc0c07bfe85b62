// What noticing libvirt jobs costs (issue 9): the native bulk job scan (scanJobs: job info per
// domain, block job info per disk, job stats only where a job runs) over a 1,000-domain test-driver
// fleet and over real TCG guests, against the naive alternative (one jobStats call per VM, as a
// per-tick poll would make); and the replicator ingest path (REST progress reports, sequential).
// `pnpm --filter @vmpulse/bench migration-jobs` → prints and writes bench/migration-jobs.txt.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LibvirtConnection } from '../../server/src/libvirt/connection.js';
import { writeDemoFleet } from '../../server/src/libvirt/demo-fleet.js';
import { createGuest, ensureGuestImage, ensureLibvirtd, startGuest, type Guest } from '../../server/test/guest/qemu-guest.js';
import { ADMIN, startTestApp } from '../../server/test/helpers/app.js';

const lines: string[] = [];
const say = (s: string) => {
  console.log(s);
  lines.push(s);
};
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const f = (n: number, d = 2) => n.toFixed(d);

async function timeIt(reps: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

async function testDriverFleet() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vmp-bench-jobs-'));
  const uri = writeDemoFleet(path.join(dir, 'fleet.xml'), { count: 1000 });
  const conn = await LibvirtConnection.open(uri);
  const running = (await conn.listAllDomains()).filter((d) => d.state === 'running');
  let disks = new Map<string, string[]>();
  const cpu0 = process.cpuUsage();
  const first = await timeIt(1, async () => {
    const r = await conn.scanJobs(running.map((d) => d.uuid));
    disks = new Map(r.map((x) => [x.uuid, x.disks ?? []]));
  });
  const items = running.map((d) => ({ uuid: d.uuid, disks: disks.get(d.uuid) ?? [] }));
  const scans = await timeIt(20, () => conn.scanJobs(items));
  const cpu = process.cpuUsage(cpu0);
  const naive = await timeIt(3, () => Promise.all(running.map((d) => conn.jobStats(d.uuid).catch(() => null))));
  say(`test driver, ${running.length} running domains (of 1,000):`);
  say(`  scanJobs, first (reads each domain's XML for its disks): ${f(first[0]!)} ms`);
  say(`  scanJobs, disks cached: median ${f(pct(scans, 50))} ms, p95 ${f(pct(scans, 95))} ms per scan = ${f((pct(scans, 50) * 1000) / running.length)} µs per VM (wall, one worker thread)`);
  say(`  process CPU over those 21 scans: ${f((cpu.user + cpu.system) / 1000 / 21)} ms per scan`);
  say(`  naive: one jobStats call per VM (${running.length} calls, pool of 4): median ${f(pct(naive, 50))} ms per round`);
  await conn.close();
}

async function realGuests(n: number) {
  await ensureGuestImage();
  await ensureLibvirtd();
  const guests: Guest[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const g = await createGuest(`vmpbench-jobs-${process.pid}-${i}`);
      await startGuest(g.name);
      guests.push(g);
    }
    const conn = await LibvirtConnection.open('qemu:///system');
    const first = await conn.scanJobs(guests.map((g) => g.uuid));
    const items = guests.map((g) => ({ uuid: g.uuid, disks: first.find((r) => r.uuid === g.uuid)?.disks ?? [] }));
    const scans = await timeIt(50, () => conn.scanJobs(items));
    const noBlock = await timeIt(50, () => conn.scanJobs(items, { blockJobs: false }));
    const stats = await timeIt(50, () => conn.jobStats(guests[0]!.uuid));
    say(`real TCG guests under libvirtd (${n} running, 1 disk each):`);
    say(`  scanJobs (job info + block job info): median ${f(pct(scans, 50))} ms, p95 ${f(pct(scans, 95))} ms per scan = ${f((pct(scans, 50) * 1000) / n)} µs per VM`);
    say(`  scanJobs without block jobs (job info only): median ${f((pct(noBlock, 50) * 1000) / n)} µs per VM`);
    say(`  one jobStats call: median ${f(pct(stats, 50) * 1000, 0)} µs`);
    await conn.close();
  } finally {
    for (const g of guests) await g.cleanup().catch(() => {});
  }
}

async function ingest(reports: number) {
  const t = await startTestApp({ LIBVIRT_URI: 'test:///default' });
  try {
    const post = (p: string, body: object) =>
      fetch(`${t.url}/api/v1${p}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => {
        if (r.status !== 200) throw new Error(`${p}: ${r.status} ${await r.text()}`);
      });
    await post('/vm-contexts', { vm_name: 'bench' });
    await post('/replication-jobs', { vm_name: 'bench', job_id: 'bench-1', replication_type: 'initial', disks: [{ disk_id: 'a', capacity_bytes: 1e12 }, { disk_id: 'b', capacity_bytes: 1e12 }] });
    let bytes = 0;
    const t0 = performance.now();
    const lat = await timeIt(reports, () => {
      bytes += 1e6;
      return post('/replication-jobs/progress', { job_id: 'bench-1', bytes_transferred: bytes, disks: [{ disk_id: 'a', bytes_synced: bytes / 2 }, { disk_id: 'b', bytes_synced: bytes / 2 }] });
    });
    const secs = (performance.now() - t0) / 1000;
    say(`replicator ingest (REST progress report with 2 disks, sequential, embedded PostgreSQL): ${reports} reports, ${f(reports / secs, 0)}/s, p50 ${f(pct(lat, 50))} ms, p99 ${f(pct(lat, 99))} ms`);
  } finally {
    await t.stop();
  }
}

say(`migration jobs bench, ${new Date().toISOString()}, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(2)}`);
await testDriverFleet();
await realGuests(Number(process.env.BENCH_GUESTS ?? 2));
await ingest(500);
writeFileSync(new URL('../migration-jobs.txt', import.meta.url), `${lines.join('\n')}\n`);
process.exit(0);
