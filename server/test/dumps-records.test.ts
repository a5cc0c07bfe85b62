// GET /api/memory-dumps/records (seed 003): PostgreSQL writes the records' JSON and the server
// sends that text as it is. The oracle here is JSON.stringify of the seed's record fields, built
// in this file from the rows as they were inserted: the answer must be the same, byte for byte,
// for names and paths with quotes, backslashes, control characters and non-ASCII text, durations
// and sizes of every kind, ties on the finish time, and every page. Hostile queries get a 400 in
// the seed's body and change nothing.
import { gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { ADMIN, startTestApp, type TestApp } from './helpers/app.js';

let t: TestApp;
let dir: string;

/** the seed's timestamp: ISO 8601 UTC with microseconds, no zone suffix */
const seedTime = (d: Date) => `${d.toISOString().slice(0, 23)}000`;

const NAMES = ['quote"d', 'back\\slash', 'tab\tnew\nline\rret', 'ctl\u0001\u001f\u007f\b\f', 'uni é 日本 😀 \u2028\u2029', '</script><!--', '', 'x'.repeat(255)];
const DURATIONS = [0, 0.001, 1.5, 12345.678, 99999.999, 0.007, 3, 250.25];
const SIZES = [0n, 1n, 2n ** 40n + 3n, 2n ** 53n - 1n, 20_000_000n];

interface Inserted {
  id: number;
  vmId: number;
  vmName: string;
  sha256: string | null;
  durationSec: number;
  gzipBytes: bigint;
  fileCtime: number;
  fileMtime: number;
  fileAtime: number;
  path: string;
  finishedAt: Date;
  status: string;
}
const kept: Inserted[] = [];

/** The oracle: the seed records of `rows`, newest first, as JSON.stringify writes them. */
function expected(limit: number, offset: number): string {
  const page = [...kept].sort((a, b) => b.finishedAt.getTime() - a.finishedAt.getTime() || b.id - a.id).slice(offset, offset + limit);
  const records = page.map((d) => ({
    timestamp: seedTime(d.finishedAt),
    dom: d.vmName,
    vmid: String(d.vmId),
    sha256: d.sha256 ?? '',
    duration_sec: d.durationSec,
    gzip_size_bytes: Number(d.gzipBytes),
    ctime: d.fileCtime,
    mtime: d.fileMtime,
    atime: d.fileAtime,
    dump_path: d.path,
  }));
  return JSON.stringify({ records, count: records.length, limit, offset });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-dumprecords-'));
  t = await startTestApp({ LIBVIRT_URI: writeDemoFleet(path.join(dir, 'fleet.xml'), { count: 2 }), POLL_INTERVAL: '60' }, dir);
  const prisma = t.app.db.prisma;
  const trig = await prisma.dumpTrigger.create({ data: { vmIds: ['x'], triggeredBy: 'test', refused: [] } });
  const base = Date.UTC(2026, 10, 30, 10, 30, 45, 123);
  const statuses = ['completed', 'completed', 'deleted', 'completed', 'failed', 'queued', 'cancelled', 'interrupted', 'timeout', 'running'];
  for (let i = 0; i < 150; i++) {
    const status = statuses[i % statuses.length]!;
    const active = status === 'queued' || status === 'running';
    const name = NAMES[i % NAMES.length]! + (i < NAMES.length ? '' : `-${i}`);
    // Every third one shares its finish time with the one before: the id decides.
    const finishedAt = new Date(base - Math.floor(i / 3) * 61_001 - (i % 3 === 2 ? 0 : i % 3) * 7);
    const row = await prisma.memoryDump.create({
      data: {
        triggerId: trig.id,
        vmId: 1000 + i, // one dump per VM: the partial unique index on active dumps allows it
        vmName: name,
        hostName: 'h',
        hostUri: 'test:///',
        domainUuid: '00000000-0000-0000-0000-000000000000',
        format: 'elf',
        status,
        triggeredBy: 'test',
        path: `/var/dumps/${name}/${i}_${Math.floor(finishedAt.getTime() / 1000)}.mem.gz`,
        sha256: i % 17 === 5 ? null : i.toString(16).padStart(64, 'a'),
        gzipBytes: SIZES[i % SIZES.length]!,
        durationSec: DURATIONS[i % DURATIONS.length]!,
        fileCtime: i === 0 ? 2_147_483_647 : 1_700_000_000 + i,
        fileMtime: 1_700_000_001 + i,
        fileAtime: i % 4 === 0 ? 0 : 1_700_000_002 + i,
        finishedAt: active ? null : finishedAt,
      },
    });
    if (status === 'completed' || status === 'deleted') kept.push({ ...row, finishedAt, sha256: row.sha256, durationSec: row.durationSec!, gzipBytes: row.gzipBytes!, fileCtime: row.fileCtime!, fileMtime: row.fileMtime!, fileAtime: row.fileAtime! });
  }
}, 60_000);
afterAll(async () => {
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** GET without compression (a plain client, as curl is): the body's exact bytes. */
function rawGet(pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(t.url + pathname, { headers: { authorization: `Bearer ${ADMIN}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /api/memory-dumps/records', () => {
  it('is JSON.stringify of the seed records, byte for byte, on every page', async () => {
    expect(kept.length).toBeGreaterThan(40);
    const pages: [string, number, number][] = [
      ['', 1000, 0],
      ['?limit=1', 1, 0],
      ['?limit=2&offset=1', 2, 1],
      ['?limit=7&offset=13', 7, 13],
      ['?limit=1000&offset=44', 1000, 44],
      [`?offset=${kept.length}`, 1000, kept.length],
      ['?offset=1000000000', 1000, 1_000_000_000],
    ];
    for (const [q, limit, offset] of pages) {
      const r = await rawGet(`/api/memory-dumps/records${q}`);
      expect(r.status, q).toBe(200);
      expect(r.headers['content-type'], q).toBe('application/json; charset=utf-8');
      expect(r.body.toString('utf8'), q).toBe(expected(limit, offset));
      expect(Number(r.headers['content-length']), q).toBe(r.body.length);
    }
  });

  it('after pages were read: a dump written since comes first, one retention deleted keeps its record, one failed since is absent', async () => {
    expect((await rawGet('/api/memory-dumps/records')).body.toString('utf8')).toBe(expected(1000, 0));
    const prisma = t.app.db.prisma;
    const trig = await prisma.dumpTrigger.findFirstOrThrow();
    const finishedAt = new Date(Date.UTC(2026, 11, 1, 8, 0, 0, 5));
    const row = await prisma.memoryDump.create({
      data: { triggerId: trig.id, vmId: 5000, vmName: 'late "one"', hostName: 'h', hostUri: 'test:///', domainUuid: '0', format: 'elf', status: 'completed', triggeredBy: 'test', path: '/var/dumps/late.mem.gz', sha256: 'c'.repeat(64), gzipBytes: 7n, durationSec: 2.5, fileCtime: 1, fileMtime: 2, fileAtime: 3, finishedAt },
    });
    const newest = kept.find((d) => d.status === 'completed')!;
    await prisma.memoryDump.update({ where: { id: newest.id }, data: { status: 'deleted', deletedAt: new Date() } });
    const gone = kept.at(-1)!;
    await prisma.memoryDump.update({ where: { id: gone.id }, data: { status: 'failed' } });
    kept.splice(kept.indexOf(gone), 1);
    kept.push({ ...row, finishedAt, sha256: row.sha256, durationSec: 2.5, gzipBytes: 7n, fileCtime: 1, fileMtime: 2, fileAtime: 3 });
    for (const [limit, offset] of [[1000, 0], [3, 0], [5, kept.length - 5]] as const) {
      const r = await rawGet(`/api/memory-dumps/records?limit=${limit}&offset=${offset}`);
      expect(r.body.toString('utf8'), `${limit}/${offset}`).toBe(expected(limit, offset));
    }
    expect(JSON.parse((await rawGet('/api/memory-dumps/records?limit=1')).body.toString('utf8')).records[0].dom).toBe('late "one"');
  });

  it('a large page asked with gzip comes gzipped, the same bytes inside', async () => {
    const r = await rawGet('/api/memory-dumps/records', { 'accept-encoding': 'gzip' });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(r.body).toString('utf8')).toBe(expected(1000, 0));
  });

  it('reads the page in the order of an index: no sort of every written dump', async () => {
    // The same query shape as records.ts, with whole-table scans priced out: an index in the
    // answer's order makes the plan an index scan under the limit, with no Sort node.
    await t.app.db.prisma.$executeRawUnsafe('ANALYZE "MemoryDump"');
    const plan = await t.app.db.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('SET LOCAL enable_seqscan = off');
      await tx.$executeRawUnsafe('SET LOCAL enable_bitmapscan = off');
      const rows = await tx.$queryRawUnsafe<{ 'QUERY PLAN': unknown }[]>(
        `EXPLAIN (FORMAT JSON) SELECT * FROM "MemoryDump" WHERE "status" IN ('completed', 'deleted') ORDER BY "finishedAt" DESC, "id" DESC LIMIT 50 OFFSET 10`,
      );
      return JSON.stringify(rows[0]!['QUERY PLAN']);
    });
    expect(plan).toContain('MemoryDump_finishedAt_id_idx');
    expect(plan).not.toContain('"Node Type":"Sort"');
  });

  it('hostile queries: 400 in the seed body, nothing changes', async () => {
    const before = expected(1000, 0);
    const bad = [
      'limit=0', 'limit=1001', 'limit=-1', 'limit=abc', 'limit=1.5', 'limit=NaN', 'limit=Infinity', `limit=${'9'.repeat(400)}`,
      'limit=100000000000000000000', 'limit=%00', 'limit=', 'offset=-1', 'offset=abc', 'offset=1.5', 'offset=1000000001', `offset=${'9'.repeat(5000)}`,
      'offset=-0.5', 'limit=1&limit=2', 'offset=1&offset=1',
    ];
    for (const q of bad) {
      const r = await rawGet(`/api/memory-dumps/records?${q}`);
      expect(r.status, q).toBe(400);
      const body = JSON.parse(r.body.toString('utf8'));
      expect(Object.keys(body), q).toEqual(['detail']);
      expect(typeof body.detail, q).toBe('string');
    }
    // A query string of 60 KB: a 4xx in the family body, never a 5xx.
    const long = await rawGet(`/api/memory-dumps/records?junk=${'a'.repeat(60_000)}`);
    expect(long.status).toBeGreaterThanOrEqual(400);
    expect(long.status).toBeLessThan(500);
    expect(Object.keys(JSON.parse(long.body.toString('utf8')))).toEqual(['detail']);
    // Without a token: 401 in the same body.
    const anon = await new Promise<number>((resolve) => request(`${t.url}/api/memory-dumps/records`, (res) => resolve(res.statusCode!)).end());
    expect(anon).toBe(401);
    // Parameters the endpoint does not take are ignored, as the seed's server does.
    for (const q of ['limit[]=1', 'limit[a]=1', 'vm=1', 'limit_=5']) expect((await rawGet(`/api/memory-dumps/records?${q}`)).body.toString('utf8'), q).toBe(before);
    expect((await rawGet('/api/memory-dumps/records')).body.toString('utf8')).toBe(before);
  });
});

describe('the seed example', () => {
  it('the two records of seed 003 in the database answer ?limit=50 exactly as the seed shows them', async () => {
    const seedDir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-dumprecords-seed-'));
    const s = await startTestApp({ LIBVIRT_URI: 'test:///default', POLL_INTERVAL: '60' }, seedDir);
    try {
      const seed = JSON.parse(readFileSync(new URL('./fixtures/seeds/003-records.200.json', import.meta.url), 'utf8'));
      const trig = await s.app.db.prisma.dumpTrigger.create({ data: { vmIds: ['101', '102'], triggeredBy: 'seed', refused: [] } });
      for (const r of [...seed.records].reverse()) {
        const finishedAt = new Date(`${r.timestamp.slice(0, 23)}Z`);
        await s.app.db.prisma.memoryDump.create({
          data: {
            triggerId: trig.id, vmId: Number(r.vmid), vmName: r.dom, hostName: 'h', hostUri: 'test:///', domainUuid: '00000000-0000-0000-0000-000000000000',
            format: 'elf', status: 'completed', triggeredBy: 'seed', path: r.dump_path, sha256: r.sha256, durationSec: r.duration_sec,
            gzipBytes: BigInt(r.gzip_size_bytes), fileCtime: r.ctime, fileMtime: r.mtime, fileAtime: r.atime, finishedAt,
          },
        });
      }
      const res = await fetch(`${s.url}/api/memory-dumps/records?limit=50&offset=0`, { headers: { authorization: `Bearer ${ADMIN}` } });
      expect(await res.text()).toBe(JSON.stringify(seed));
    } finally {
      await s.stop();
      rmSync(seedDir, { recursive: true, force: true });
    }
  }, 60_000);
});
