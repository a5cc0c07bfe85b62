// Many hosts on one server (as a cloud has them: many hosts of a few VMs each): the messages that
// list every host or every VM go out once per burst of host ticks, not once per host tick.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { collect, startTestApp, type TestApp } from './helpers/app.js';

const HOSTS = 12;
const VMS_PER_HOST = 4;
let t: TestApp;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-test-'));
  const uris: string[] = [];
  for (let h = 1; h <= HOSTS; h++) {
    const file = path.join(dataDir, `host-${h}.xml`);
    uris.push(writeDemoFleet(file, { count: VMS_PER_HOST, prefix: `h${h}-` }));
    // demo uuids count from 0 in each file: unique across hosts
    writeFileSync(file, readFileSync(file, 'utf8').replaceAll('7d3a5e00-0000-4000-8000-', `7d3a5e00-0000-4000-${(0x8000 + h).toString(16)}-`));
  }
  t = await startTestApp({ LIBVIRT_URI: uris.join(','), POLL_INTERVAL: '1' }, dataDir);
  while ((t.app.services.collector.status().ticks ?? 0) < 2 * HOSTS) await sleep(100);
}, 120_000);
afterAll(() => t?.stop());

describe(`${HOSTS} hosts of ${VMS_PER_HOST} VMs`, () => {
  it('fleetMetrics: every message lists every VM, at most one every quarter interval (250 ms), with fresh samples', async () => {
    const sub = collect(t.ws(), `subscription { fleetMetrics { timestamp columns rows } }`);
    await sub.next(() => true);
    const t0 = Date.now();
    const from = sub.seen.length;
    await sleep(4000);
    const msgs = sub.seen.slice(from).map((m: any) => m.fleetMetrics);
    const seconds = (Date.now() - t0) / 1000;
    sub.dispose();
    expect(sub.failure).toBeUndefined();
    expect(msgs.length).toBeGreaterThanOrEqual(3); // ~one a second
    expect(msgs.length).toBeLessThanOrEqual(Math.ceil(seconds / 0.25) + 1);
    const names = t.app.services.vms.list().map((v) => v.name).sort();
    expect(names.length).toBe(HOSTS * VMS_PER_HOST);
    const nameAt = msgs[0].columns.indexOf('name');
    const tsAt = msgs[0].columns.indexOf('timestamp');
    for (const m of msgs) expect(m.rows.map((r: unknown[]) => r[nameAt]).sort()).toEqual(names);
    // The newest sample moves on from message to message (entries are reused only while unchanged).
    const newest = msgs.map((m: any) => Math.max(...m.rows.map((r: unknown[]) => Date.parse(String(r[tsAt])))));
    expect(newest.at(-1)!).toBeGreaterThan(newest[0]!);
  });

  it('collectorStatus: at most one message every quarter interval, not one per host tick (each lists every host)', async () => {
    const sub = collect(t.ws(), `subscription { collectorStatus { ticks hosts { name ticks } } }`);
    await sub.next(() => true);
    const from = sub.seen.length;
    await sleep(4000);
    const msgs = sub.seen.slice(from).map((m: any) => m.collectorStatus);
    sub.dispose();
    expect(msgs.length).toBeGreaterThan(0);
    for (const m of msgs) expect(m.hosts.length).toBe(HOSTS);
    // Host ticks in the window (the status' own count) against the messages that reported them.
    const before = (sub.seen[from - 1] as any).collectorStatus.ticks as number;
    const hostTicks = msgs.at(-1).ticks - before;
    expect(hostTicks).toBeGreaterThanOrEqual(HOSTS * 2);
    expect(msgs.length).toBeLessThan(hostTicks);
  });
});
