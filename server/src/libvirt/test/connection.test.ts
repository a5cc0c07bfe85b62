import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibvirtConnection } from '../connection.js';
import { LibvirtError, VirErr, isConnectionLost, isNoDomain } from '../errors.js';
import { statsGroupsMask } from '../flags.js';
import { withTimeout } from '../timeout.js';
import { isTimeout, sleep } from './helpers.js';

describe('LibvirtConnection on test:///default', () => {
  let conn: LibvirtConnection;
  let uuid: string;

  beforeAll(async () => {
    conn = await LibvirtConnection.open('test:///default');
  });
  afterAll(async () => {
    await conn.close();
  });

  it('reports uri, hostname and liveness', async () => {
    expect(await conn.uri()).toBe('test:///default');
    expect(typeof (await conn.hostname())).toBe('string');
    expect(conn.isAlive()).toBe(true);
    expect(conn.closed).toBe(false);
  });

  it('lists domains with typed info (64-bit values as BigInt)', async () => {
    const doms = await conn.listAllDomains();
    expect(doms.length).toBeGreaterThanOrEqual(1);
    const d = doms.find((x) => x.name === 'test');
    expect(d).toBeDefined();
    uuid = d!.uuid;
    expect(d!.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(d!.state).toBe('running');
    expect(d!.active).toBe(true);
    expect(d!.id).toBeGreaterThan(0);
    expect(d!.persistent).toBe(true);
    expect(typeof d!.maxMemKiB).toBe('bigint');
    expect(typeof d!.memoryKiB).toBe('bigint');
    expect(typeof d!.cpuTimeNs).toBe('bigint');
    // The test driver's fake CPU time is already beyond 2^53: exactness matters.
    expect(d!.cpuTimeNs > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(d!.maxMemKiB).toBe(8388608n);
    expect(typeof d!.nrVirtCpu).toBe('number');

    const info = await conn.domainInfo(uuid);
    expect(info.name).toBe('test');
    expect(info.maxMemKiB).toBe(d!.maxMemKiB);
    expect(await conn.listAllDomains({ inactive: true })).toEqual([]);
  });

  it('returns the domain XML', async () => {
    const xml = await conn.domainXml(uuid);
    expect(xml).toContain(`<uuid>${uuid}</uuid>`);
    expect(await conn.domainXml(uuid, { inactive: true })).toContain('<domain');
  });

  it('bulk stats: the test driver answers the state group', async () => {
    const recs = await conn.getAllDomainStats({ groups: ['state', 'cpu-total', 'balloon'] });
    const r = recs.find((x) => x.uuid === uuid)!;
    expect(r.name).toBe('test');
    expect(r.params['state.state']).toBe(1);
    expect(typeof r.params['state.reason']).toBe('number');
    const subset = await conn.getAllDomainStats({ uuids: [uuid, '00000000-0000-0000-0000-00000000dead'] });
    expect(subset.map((x) => x.uuid)).toEqual([uuid]);
    expect(statsGroupsMask(['state', 'block'])).toBe(1 | 32);
  });

  it('single per-domain calls', async () => {
    const mem = await conn.memoryStats(uuid);
    expect(typeof mem.actual).toBe('bigint');
    expect(typeof mem.rss).toBe('bigint');
    const vcpus = await conn.vcpus(uuid);
    expect(vcpus.length).toBe(2);
    expect(typeof vcpus[0]!.cpuTime).toBe('bigint');
    const cpu = await conn.cpuStats(uuid);
    expect(typeof cpu.cpu_time).toBe('bigint');
    const net = await conn.interfaceStats(uuid, 'testnet0');
    expect(typeof net.rx_bytes).toBe('bigint');
    const blk = await conn.blockStats(uuid, 'vda');
    expect(typeof blk.rd_bytes).toBe('bigint');
    expect(typeof blk.wr_req).toBe('bigint');
  });

  it('batched per-domain stats: moving counters in bulk-style keys', async () => {
    const [a] = await conn.domainStatsPerCall([uuid]);
    await sleep(50);
    const [b] = await conn.domainStatsPerCall([{ uuid, ...a!.devices }]);
    expect(a!.error).toBeUndefined();
    expect(a!.devices).toEqual({ interfaces: ['testnet0'], blocks: ['vda'] });
    const pa = a!.params;
    const pb = b!.params;
    expect(typeof pa['cpu.time']).toBe('bigint');
    expect((pb['cpu.time'] as bigint) > (pa['cpu.time'] as bigint)).toBe(true);
    expect((pb['net.0.rx.bytes'] as bigint) > (pa['net.0.rx.bytes'] as bigint)).toBe(true);
    expect((pb['block.0.rd.bytes'] as bigint) > (pa['block.0.rd.bytes'] as bigint)).toBe(true);
    expect(pa['net.count']).toBe(1);
    expect(pa['net.0.name']).toBe('testnet0');
    expect(pa['block.count']).toBe(1);
    expect(pa['block.0.name']).toBe('vda');
    expect(pa['vcpu.current']).toBe(2);
    expect(pa['vcpu.maximum']).toBe(2);
    expect(typeof pa['vcpu.1.time']).toBe('bigint');
    expect(pa['balloon.current']).toBe(2097152n);
    expect(pa['balloon.maximum']).toBe(8388608n);
    for (const k of ['balloon.rss', 'balloon.available', 'balloon.usable', 'balloon.swap_in', 'balloon.major_fault', 'balloon.disk_caches']) {
      expect(typeof pa[k], k).toBe('bigint');
    }
    for (const k of ['block.0.wr.reqs', 'block.0.wr.bytes', 'block.0.rd.reqs', 'block.0.errors', 'net.0.tx.bytes', 'net.0.rx.pkts']) {
      expect(typeof pa[k], k).toBe('bigint');
    }
    expect(pa['state.state']).toBe(1);
  });

  it('batched per-domain stats mark failing domains without failing the batch', async () => {
    const recs = await conn.domainStatsPerCall(
      [uuid, '00000000-0000-0000-0000-00000000dead', { uuid, interfaces: ['nope0'], blocks: [] }],
      { memory: false, vcpus: false },
    );
    expect(recs).toHaveLength(3);
    expect(recs[0]!.error).toBeUndefined();
    expect(recs[0]!.params['balloon.rss']).toBeUndefined();
    expect(recs[1]!.error?.code).toBe(VirErr.NO_DOMAIN);
    expect(recs[1]!.params).toEqual({});
    expect(recs[2]!.partial?.[0]?.call).toBe('virDomainInterfaceStats');
    expect(recs[2]!.params['net.0.name']).toBe('nope0');
    expect(recs[2]!.params['block.count']).toBe(0);
    const par = await conn.domainStatsPerCall([uuid, uuid, uuid], { parallel: 3 });
    expect(par.map((r) => r.uuid)).toEqual([uuid, uuid, uuid]);
  });

  it('libvirt errors carry virErrorNumber and virErrorDomain', async () => {
    const err = await conn.domainInfo('00000000-0000-0000-0000-00000000dead').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibvirtError);
    expect((err as LibvirtError).code).toBe(42);
    expect((err as LibvirtError).domain).toBeGreaterThan(0);
    expect((err as LibvirtError).message).toMatch(/not found/i);
    expect(isNoDomain(err)).toBe(true);
    expect(isConnectionLost(err)).toBe(false);

    const bad = await conn.interfaceStats(uuid, 'nope0').catch((e: unknown) => e);
    expect((bad as LibvirtError).code).toBe(VirErr.INVALID_ARG);
    const badUuid = await conn.domainInfo('not-a-uuid').catch((e: unknown) => e);
    expect((badUuid as LibvirtError).code).toBe(VirErr.INVALID_ARG);
  });

  it('withTimeout rejects with code TIMEOUT', async () => {
    const slow = new Promise((r) => setTimeout(r, 200));
    const err = await withTimeout(slow, 10, 'slow thing').catch((e: unknown) => e);
    expect(isTimeout(err)).toBe(true);
    expect((err as LibvirtError).code).toBe('TIMEOUT');
    expect((err as LibvirtError).message).toContain('slow thing');
    expect(await withTimeout(conn.uri(), 5000, 'uri')).toBe('test:///default');
  });
});

describe('connection lifecycle', () => {
  it('open of a bad URI rejects with a libvirt error', async () => {
    const err = await LibvirtConnection.open('test:///nonexistent/file.xml').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibvirtError);
    expect(typeof (err as LibvirtError).code).toBe('number');
  });

  it('close during in-flight calls is safe; later calls reject as connection lost', async () => {
    const conn = await LibvirtConnection.open('test:///default', { readOnly: true });
    const inflight = Array.from({ length: 20 }, () => conn.listAllDomains());
    const closing = conn.close();
    const results = await Promise.all(inflight);
    await closing;
    expect(results.every((r) => r.length >= 1)).toBe(true);
    expect(conn.closed).toBe(true);
    expect(conn.isAlive()).toBe(false);
    const err = await conn.listAllDomains().catch((e: unknown) => e);
    expect((err as LibvirtError).code).toBe(VirErr.INVALID_CONN);
    expect(isConnectionLost(err)).toBe(true);
    await conn.close(); // idempotent
  });

  it('read-only connections refuse writes', async () => {
    const conn = await LibvirtConnection.open('test:///default', { readOnly: true });
    const [d] = await conn.listAllDomains();
    const err = await conn.suspend(d!.uuid).catch((e: unknown) => e);
    expect((err as LibvirtError).code).toBe(VirErr.OPERATION_DENIED);
    await conn.close();
  });
});
