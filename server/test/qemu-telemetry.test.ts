// A real QEMU/TCG guest: its CPU, disk and network counters rise in vm-stats and in the
// subscription; its disks' series in /metrics are the real exporter's; libvirtd stopped mid-run is
// reported, survived, and collection resumes.
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startTestApp, type TestApp } from './helpers/app.js';
import { createGuest, ensureGuestImage, ensureLibvirtd, REPO_ROOT, startGuest, virsh, type Guest } from './guest/qemu-guest.js';
import { freePort } from './helpers/ports.js';

const NAME = 'vmpulse-telemetry-guest';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const libvirtd = (cmd: 'start' | 'stop') => execFileSync('bash', [path.join(REPO_ROOT, 'scripts/libvirtd.sh'), cmd], { stdio: 'pipe', timeout: 120_000 });
let t: TestApp;
let guest: Guest | undefined;

beforeAll(async () => {
  await ensureGuestImage();
  await ensureLibvirtd();
  await virsh(['destroy', NAME]).catch(() => undefined);
  await virsh(['undefine', NAME]).catch(() => undefined);
  guest = await createGuest(NAME);
  await startGuest(NAME);
  t = await startTestApp({ LIBVIRT_URI: 'qemu:///system', POLL_INTERVAL: '1' });
  await sleep(6000); // boot to the guest's activity loop (~4 s under TCG)
}, 30 * 60_000);

afterAll(async () => {
  libvirtd('start');
  await t?.stop();
  await guest?.cleanup();
});

const stats = async () => (await (await t.api(`/api/telemetry/vm-stats/${NAME}`)).json()).metrics;

describe('real QEMU guest telemetry', () => {
  it('shows cputime, disk and network counters rising over 10 s in vm-stats and the subscription', async () => {
    const sub = collect(t.ws(), `subscription($id: ID!) { vmMetrics(vmId: $id) { cputime disk_wr_bytes disk_rd_bytes net_txbytes memrss cpuPct diskWriteBps stale } }`, { id: NAME });
    const a = await stats();
    await sleep(10_000);
    const b = await stats();
    expect(b.state).toBe('running');
    expect(b.cputime).toBeGreaterThan(a.cputime);
    expect(b.disk_wr_bytes).toBeGreaterThan(a.disk_wr_bytes);
    expect(b.disk_rd_bytes).toBeGreaterThan(a.disk_rd_bytes);
    expect(b.net_txbytes).toBeGreaterThan(a.net_txbytes);
    expect(b.memrss).toBeGreaterThan(0);
    expect(b.memusable).toBeGreaterThan(0); // the virtio balloon reports guest memory
    const msgs = sub.seen.map((m: any) => m.vmMetrics).filter((m: any) => !m.stale);
    expect(msgs.length).toBeGreaterThanOrEqual(8);
    expect(BigInt(msgs.at(-1).cputime)).toBeGreaterThan(BigInt(msgs[0].cputime));
    expect(BigInt(msgs.at(-1).disk_wr_bytes)).toBeGreaterThan(BigInt(msgs[0].disk_wr_bytes));
    expect(msgs.some((m: any) => m.diskWriteBps > 0)).toBe(true);
    sub.dispose();
  });

  it('has the disk series of prometheus-libvirt-exporter on the same guest, and the times and flushes virsh reports, each between two readings of theirs', async () => {
    const port = await freePort();
    const exporter = spawn('/usr/bin/prometheus-libvirt-exporter', [`--web.listen-address=127.0.0.1:${port}`, '--libvirt.uri=qemu:///system'], { stdio: 'ignore' });
    try {
      /** the guest's block series: family → labels → value */
      const blockSeries = (text: string) => {
        const out = new Map<string, Map<string, number>>();
        for (const f of parsePrometheusTextFormat(text)) {
          if (!f.name.startsWith('libvirt_domain_block_stats_')) continue;
          for (const m of f.metrics) {
            if (m.labels?.domain !== NAME) continue;
            if (!out.has(f.name)) out.set(f.name, new Map());
            out.get(f.name)!.set(JSON.stringify(Object.entries(m.labels).sort()), Number(m.value));
          }
        }
        return out;
      };
      const scrape = async (get: () => Promise<Response>) => {
        for (let i = 0; ; i++) {
          const res = await get().catch((err: unknown) => (i < 100 ? undefined : Promise.reject(err)));
          if (res?.ok) return blockSeries(await res.text());
          await sleep(100);
        }
      };
      const theirs = () => scrape(() => fetch(`http://127.0.0.1:${port}/metrics`));
      /** `virsh domblkstat`: libvirt's own reading of vda ("vda rd_total_times 5464612" lines) */
      const domblkstat = async () => new Map((await virsh(['domblkstat', NAME, 'vda'])).trim().split('\n').map((l) => l.trim().split(/\s+/)).map(([, k, v]) => [k!, Number(v)]));
      const [before, virshBefore] = [await theirs(), await domblkstat()];
      await sleep(1500); // our latest sample is newer than both
      const ours = await scrape(() => t.api('/metrics'));
      const [after, virshAfter] = [await theirs(), await domblkstat()];
      const between = (what: string, v: number | undefined, lo: number, hi: number) => {
        expect(v, what).toBeGreaterThanOrEqual(lo * (1 - 1e-12));
        expect(v, what).toBeLessThanOrEqual(hi * (1 + 1e-12));
      };
      // Every series the exporter has (labels included: source_file, target_device), its value between its two scrapes.
      expect(after.size).toBeGreaterThanOrEqual(4);
      for (const [family, series] of after) {
        for (const [labels, hi] of series) between(`${family}${labels}`, ours.get(family)?.get(labels), before.get(family)!.get(labels)!, hi);
      }
      // The times and flushes QEMU reports (the exporter's build here writes none), as virsh reads them.
      const labels = [...after.get('libvirt_domain_block_stats_read_bytes_total')!.keys()][0]!;
      const fromVirsh: [string, string, number][] = [
        ['libvirt_domain_block_stats_read_seconds_total', 'rd_total_times', 1e-9],
        ['libvirt_domain_block_stats_write_seconds_total', 'wr_total_times', 1e-9],
        ['libvirt_domain_block_stats_flush_requests_total', 'flush_operations', 1],
        ['libvirt_domain_block_stats_flush_seconds_total', 'flush_total_times', 1e-9],
      ];
      for (const [family, field, unit] of fromVirsh) {
        between(family, ours.get(family)?.get(labels), virshBefore.get(field)! * unit, virshAfter.get(field)! * unit);
      }
    } finally {
      exporter.kill();
    }
  });

  it('survives libvirtd stopping mid-run: errors reported, no crash, collection resumes when it returns', async () => {
    const before = await (await t.api('/api/telemetry/status')).json();
    libvirtd('stop');
    await sleep(4000);
    const during = await (await t.api('/api/telemetry/status')).json();
    expect(during.hosts[0].connected).toBe(false);
    expect(during.errors).toBeGreaterThan(before.errors);
    expect(during.hosts[0].stale_vms).toBeGreaterThan(0);
    const stale = await (await t.api(`/api/metrics/vm/${NAME}`)).json();
    expect(stale.stale).toBe(true);

    libvirtd('start');
    const deadline = Date.now() + 60_000;
    let after: any;
    do {
      await sleep(1000);
      after = await (await t.api('/api/telemetry/status')).json();
    } while ((!after.hosts[0].connected || after.hosts[0].stale_vms > 0) && Date.now() < deadline);
    expect(after.hosts[0].connected).toBe(true);
    const x = await stats();
    await sleep(2500);
    const y = await stats();
    expect(y.cputime).toBeGreaterThan(x.cputime);
    expect((await (await t.api(`/api/metrics/vm/${NAME}`)).json()).stale).toBe(false);
  });
});
