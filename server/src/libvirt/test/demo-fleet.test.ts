import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtConnection } from '../connection.js';
import { demoDomains, demoFleetXml, writeDemoFleet } from '../demo-fleet.js';
import { type LibvirtError, VirErr } from '../errors.js';
import { sleep, tempDir } from './helpers.js';

const dir = tempDir();

function ms(t0: number): string {
  return `${(performance.now() - t0).toFixed(1)} ms`;
}

describe('demo fleet generator', () => {
  it('is deterministic with demo names, mixed sizes and a couple shut off', () => {
    const d = demoDomains();
    expect(d.map((x) => x.name)).toEqual([
      'web-01', 'db-01', 'cache-01', 'app-01', 'build-01', 'queue-01', 'search-01', 'mon-01',
    ]);
    expect(d.filter((x) => !x.running).map((x) => x.name)).toEqual(['queue-01', 'mon-01']);
    expect(new Set(d.map((x) => x.vcpus)).size).toBeGreaterThan(2);
    expect(new Set(d.map((x) => x.memoryKiB)).size).toBeGreaterThan(2);
    expect(d.some((x) => x.disks.length === 2) && d.some((x) => x.nics.length === 2)).toBe(true);
    // Stable across runs and restarts: the ids are a function of the index (999 = 0x3e7).
    expect(d[0]!.uuid).toBe('7d3a5e00-0000-4000-8000-000000000000');
    expect(demoFleetXml()).toContain('<uuid>7d3a5e00-0000-4000-8000-000000000007</uuid>');
    const big = demoDomains({ count: 1000 });
    expect(new Set(big.map((x) => x.name)).size).toBe(1000);
    expect(new Set(big.map((x) => x.uuid)).size).toBe(1000);
    expect(big[999]).toMatchObject({ name: 'mon-125', uuid: '7d3a5e00-0000-4000-8000-0000000003e7' });
  });
});

describe('8-domain demo fleet on the test driver', () => {
  let conn: LibvirtConnection;
  const domains = demoDomains();

  beforeAll(async () => {
    conn = await LibvirtConnection.open(writeDemoFleet(join(dir, 'demo8.xml')));
  });
  afterAll(async () => {
    await conn.close();
  });

  it('loads and lists as described', async () => {
    const list = await conn.listAllDomains();
    expect(list).toHaveLength(8);
    for (const want of domains) {
      const got = list.find((x) => x.uuid === want.uuid)!;
      expect(got.name).toBe(want.name);
      expect(got.state).toBe(want.running ? 'running' : 'shutoff');
      expect(got.nrVirtCpu).toBe(want.vcpus);
      expect(got.maxMemKiB).toBe(BigInt(want.memoryKiB));
    }
  });

  it('per-domain calls the test driver answers (see the comment in demo-fleet.ts)', async () => {
    const web = domains[0]!; // running, 2 disks, 1 NIC
    const db = domains[1]!; // running, 2 NICs
    expect(typeof (await conn.memoryStats(web.uuid)).actual).toBe('bigint');
    expect(typeof (await conn.cpuStats(web.uuid)).cpu_time).toBe('bigint');
    expect(await conn.vcpus(web.uuid)).toHaveLength(web.vcpus);
    const n1 = await conn.interfaceStats(db.uuid, db.nics[1]!.target);
    const byMac = await conn.interfaceStats(db.uuid, db.nics[1]!.mac);
    expect(byMac.rx_bytes! >= n1.rx_bytes!).toBe(true);
    const b1 = await conn.blockStats(web.uuid, 'vdb');
    await sleep(20);
    const b2 = await conn.blockStats(web.uuid, 'vdb');
    expect(b2.rd_bytes! > b1.rd_bytes!).toBe(true);
    const bad = await conn.interfaceStats(web.uuid, 'vnet0').catch((e: unknown) => e);
    expect((bad as LibvirtError).code).toBe(VirErr.INVALID_ARG);

    const off = domains[5]!; // shut off
    for (const f of [() => conn.memoryStats(off.uuid), () => conn.vcpus(off.uuid), () => conn.blockStats(off.uuid, 'vda')]) {
      expect(((await f().catch((e: unknown) => e)) as LibvirtError).code).toBe(VirErr.OPERATION_INVALID);
    }
    const bulk = await conn.getAllDomainStats({ groups: ['state', 'cpu-total', 'balloon', 'interface', 'block'] });
    expect(bulk).toHaveLength(8);
    expect(Object.keys(bulk[0]!.params).sort()).toEqual(['state.reason', 'state.state']);
    const noState = await conn.getAllDomainStats({ groups: ['cpu-total', 'balloon'] });
    expect(noState.every((r) => Object.keys(r.params).length === 0)).toBe(true);
  });

  it('batched per-domain stats cover every device of every domain', async () => {
    const recs = await conn.domainStatsPerCall(domains.map((d) => d.uuid));
    for (const [i, d] of domains.entries()) {
      const r = recs[i]!;
      expect(r.uuid).toBe(d.uuid);
      expect(r.error).toBeUndefined();
      expect(r.devices).toEqual({ interfaces: d.nics.map((n) => n.target), blocks: d.disks });
      if (!d.running) {
        expect(r.params['state.state']).toBe(5);
        expect(r.params['net.0.rx.bytes']).toBeUndefined();
        continue;
      }
      expect(r.partial).toBeUndefined();
      expect(r.params['net.count']).toBe(d.nics.length);
      expect(r.params['block.count']).toBe(d.disks.length);
      expect(typeof r.params[`net.${d.nics.length - 1}.tx.bytes`]).toBe('bigint');
      expect(typeof r.params[`block.${d.disks.length - 1}.wr.bytes`]).toBe('bigint');
      expect(typeof r.params[`vcpu.${d.vcpus - 1}.time`]).toBe('bigint');
    }
  });
});

describe('1,000-domain demo fleet', () => {
  let conn: LibvirtConnection;
  let uris: string;
  const count = 1000;

  beforeAll(async () => {
    let t0 = performance.now();
    uris = writeDemoFleet(join(dir, 'demo1000.xml'), { count });
    console.log(`[timing] generate+write ${count}-domain XML: ${ms(t0)}`);
    t0 = performance.now();
    conn = await LibvirtConnection.open(uris);
    console.log(`[timing] open (parse) ${count}-domain test driver: ${ms(t0)}`);
  });
  afterAll(async () => {
    await conn.close();
  });

  it('lists, bulk-polls and batch-polls 1,000 domains', async () => {
    let t0 = performance.now();
    const list = await conn.listAllDomains();
    console.log(`[timing] listAllDomains x${count}: ${ms(t0)}`);
    expect(list).toHaveLength(count);
    expect(list.filter((d) => d.state === 'shutoff')).toHaveLength(250);

    t0 = performance.now();
    const bulk = await conn.getAllDomainStats();
    console.log(`[timing] getAllDomainStats (all groups) x${count}: ${ms(t0)}`);
    expect(bulk).toHaveLength(count);

    const running = list.filter((d) => d.active).map((d) => d.uuid);
    t0 = performance.now();
    const first = await conn.domainStatsPerCall(running);
    console.log(`[timing] domainStatsPerCall x${running.length} running (with XML fetch): ${ms(t0)}`);
    expect(first.every((r) => !r.error && !r.partial)).toBe(true);

    const cached = first.map((r) => ({ uuid: r.uuid, ...r.devices }));
    t0 = performance.now();
    const second = await conn.domainStatsPerCall(cached);
    console.log(`[timing] domainStatsPerCall x${running.length} running (cached devices): ${ms(t0)}`);
    t0 = performance.now();
    await conn.domainStatsPerCall(cached, { parallel: 4 });
    console.log(`[timing] domainStatsPerCall x${running.length} running (cached devices, 4 workers): ${ms(t0)}`);
    t0 = performance.now();
    const all = await conn.domainStatsPerCall(list.map((d) => d.uuid));
    console.log(`[timing] domainStatsPerCall x${count} all (with XML fetch): ${ms(t0)}`);
    expect(all).toHaveLength(count);
    for (let i = 0; i < first.length; i++) {
      expect(second[i]!.params['cpu.time']! > first[i]!.params['cpu.time']!).toBe(true);
    }
  });
});
