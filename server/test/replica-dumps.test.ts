// Memory dumps across replicas (issue 10): two replicas as separate processes on one PostgreSQL and
// one redis-server share two test-driver hosts through leases. A dump triggered on one replica of a
// VM whose host the other owns runs on that other replica (its record names it) and completes;
// kill -9 a replica: the survivor marks the killed replica's running dump interrupted but not a
// live replica's, and a dump queued for the dead replica's host runs on the survivor once it owns
// that host.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/lib/db.js';
import { createLogger } from '../src/lib/logger.js';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { until } from './helpers/faults.js';
import { startRedis, startReplica, type RedisServer, type Replica } from './helpers/replica.js';

const LEASE_TTL = 4;
const HOSTS = 2;

let dir: string;
let db: Database;
let sql: pg.Client;
let redis: RedisServer;
let replicas: Replica[] = [];

interface HostRow {
  uri: string;
  owner: string | null;
}
interface VmRow {
  id: number;
  name: string;
  uuid: string;
  host: string;
  state: string;
}
interface DumpRecord {
  id: number;
  status: string;
  error: string | null;
  replica: string | null;
  sha256: string | null;
}

const pidOf = (replicaId: string) => Number(replicaId.split(':')[1]);
const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });


async function hostsOf(r: Replica): Promise<HostRow[]> {
  return ((await (await r.api('/api/telemetry/status')).json()) as { hosts: HostRow[] }).hosts;
}
async function vmsOf(r: Replica): Promise<VmRow[]> {
  return ((await (await r.api('/api/telemetry/vms')).json()) as { vms: VmRow[] }).vms;
}
async function dumpOf(r: Replica, id: number): Promise<DumpRecord> {
  const res = await r.api(`/api/memory-dumps/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as DumpRecord;
}
/** The replica that owns host i (its fleet file is fleet-i.xml), and a running VM of that host. */
async function ownerAndVm(i: number): Promise<{ owner: Replica; vm: VmRow }> {
  const host = (await hostsOf(replicas[0]!)).find((h) => h.uri.includes(`fleet-${i}.xml`))!;
  const owner = replicas.find((r) => r.pid === pidOf(host.owner!))!;
  const vm = (await vmsOf(replicas[0]!)).find((v) => v.name.startsWith(`h${i}-`) && v.state === 'running')!;
  expect(owner).toBeDefined();
  expect(vm).toBeDefined();
  return { owner, vm };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-replica-dumps-'));
  chmodSync(dir, 0o755); // the embedded PostgreSQL runs as the postgres user
  db = await openDatabase({ dataDir: path.join(dir, 'pg'), log: createLogger('silent') });
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  redis = await startRedis();
  const uris = Array.from({ length: HOSTS }, (_, i) => writeDemoFleet(path.join(dir, `fleet-${i}.xml`), { count: 4, prefix: `h${i}-` }));
  const env = {
    LIBVIRT_URI: uris.join(','),
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    POLL_INTERVAL: '1',
    LEASE_TTL: String(LEASE_TTL),
    INVENTORY_INTERVAL: '30',
    DUMP_MIN_INTERVAL: '0',
  };
  for (let i = 0; i < 2; i++) replicas.push(await startReplica({ ...env, DATA_DIR: path.join(dir, `r${i}`) }));
  await until('one host each', async () => {
    const rows = await hostsOf(replicas[0]!);
    const owners = new Set(rows.map((h) => h.owner));
    return rows.every((h) => h.owner) && owners.size === 2;
  });
}, 180_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.term('SIGKILL')));
  await sql?.end();
  await redis?.stop();
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('memory dumps with two replicas', () => {
  it('a dump triggered on one replica of a VM whose host the other owns runs on the owner and completes', async () => {
    for (const i of [0, 1]) {
      const { owner, vm } = await ownerAndVm(i);
      const asker = replicas.find((r) => r !== owner)!;
      const res = await asker.api('/api/memory-dumps/trigger', json({ vm_ids: [vm.name] }));
      expect(res.status).toBe(200);
      const { dump_ids } = (await res.json()) as { dump_ids: number[] };
      expect(dump_ids).toHaveLength(1);
      const done = await until('the dump completes', async () => {
        const d = await dumpOf(asker, dump_ids[0]!);
        return d.status !== 'queued' && d.status !== 'running' ? d : undefined;
      });
      expect(done.status).toBe('completed');
      expect(done.sha256).toMatch(/^[0-9a-f]{64}$/);
      // The record names the owner: its pid, and its id as the database's Replica table has it.
      expect(pidOf(done.replica!)).toBe(owner.pid);
      const { rows } = await sql.query<{ id: string }>('SELECT "id" FROM "Replica" WHERE "name" LIKE $1', [`%:${owner.pid}`]);
      expect(rows.map((r) => r.id)).toEqual([done.replica]);
      // The owner's log says it ran it; the asker's does not. The line is written after the record
      // (which the API just read) and crosses a pipe: wait for it.
      await until('the owner logs the dump', async () => owner.logs.some((l) => l.msg === 'dump completed' && l.dump === done.id) || undefined);
      expect(asker.logs.some((l) => l.msg === 'dump completed' && l.dump === done.id)).toBe(false);
    }
  }, 60_000);

  it('kill -9 a replica: the survivor interrupts its running dump, not a live replica\'s, and runs the dump queued for its host', async () => {
    const { owner: victim, vm: victimVm } = await ownerAndVm(0);
    const survivor = replicas.find((r) => r !== victim)!;
    const survivorHost = (await hostsOf(survivor)).find((h) => h.owner && pidOf(h.owner) === survivor.pid)!;
    const survivorHostIdx = Number(/fleet-(\d+)\.xml/.exec(survivorHost.uri)![1]);
    const { vm: survivorVm } = await ownerAndVm(survivorHostIdx);
    const ids = Object.fromEntries(
      (await sql.query<{ id: string }>('SELECT "id" FROM "Replica"')).rows.map((r) => [pidOf(r.id), r.id]),
    ) as Record<number, string>;
    // A dump running on each replica at the moment of the kill (test-driver dumps end in
    // milliseconds, so the records are written as a replica writes them when a dump starts).
    const trig = (await sql.query<{ id: number }>(`INSERT INTO "DumpTrigger" ("vmIds", "triggeredBy", "refused") VALUES ('{}', 'test', '{}') RETURNING "id"`)).rows[0]!.id;
    const row = async (vm: VmRow, replica: string, status = 'running') =>
      (
        await sql.query<{ id: number }>(
          `INSERT INTO "MemoryDump" ("triggerId", "vmId", "vmName", "hostName", "hostUri", "domainUuid", "format", "status", "triggeredBy", "path", "startedAt", "replica")
           VALUES ($1, $2, $3, $4, 'test:///', $5, 'test-driver', $8, 'test', $6, now(), $7) RETURNING "id"`,
          [trig, vm.id, vm.name, vm.host, vm.uuid, path.join(dir, `fake-${vm.id}.mem.gz`), replica, status],
        )
      ).rows[0]!.id;
    const onVictim = await row(victimVm, ids[victim.pid]!);
    const onSurvivor = await row(survivorVm, ids[survivor.pid]!);
    // A queued dump a worker of the victim had fetched (claimed: waiting for a free slot there).
    const vms = await vmsOf(survivor);
    const claimedVm = vms.find((v) => v.name.startsWith('h1-') && v.state === 'running' && v.id !== survivorVm.id && v.id !== victimVm.id)!;
    const claimedByVictim = await row(claimedVm, ids[victim.pid]!, 'queued');

    const killedAt = Date.now();
    victim.proc.kill('SIGKILL');
    await victim.exited;
    replicas = replicas.filter((r) => r !== victim);
    // While the victim's lease is still valid, a dump of another VM of its host is queued: nobody serves that host's queue yet.
    const queuedVm = vms.find((v) => v.name.startsWith('h0-') && v.state === 'running' && v.id !== victimVm.id && v.id !== claimedVm.id)!;
    const res = await survivor.api('/api/memory-dumps/trigger', json({ vm_ids: [queuedVm.name] }));
    expect(res.status).toBe(200);
    const queuedId = ((await res.json()) as { dump_ids: number[] }).dump_ids[0]!;

    const interrupted = await until('the survivor marks the dead replica\'s dump interrupted', async () => {
      const d = await dumpOf(survivor, onVictim);
      return d.status === 'interrupted' ? d : undefined;
    }, (LEASE_TTL + 10) * 1000);
    expect(interrupted.error).toMatch(/interrupted/);
    expect(interrupted.replica).toBe(ids[victim.pid]);
    expect(await dumpOf(survivor, claimedByVictim)).toMatchObject({ status: 'interrupted', error: 'interrupted: the server stopped before this dump started' });
    // The live replica's running dump is left running.
    expect((await dumpOf(survivor, onSurvivor)).status).toBe('running');
    // The queued dump runs on the survivor once it owns the host.
    const queued = await until('the queued dump completes on the survivor', async () => {
      const d = await dumpOf(survivor, queuedId);
      return d.status !== 'queued' && d.status !== 'running' ? d : undefined;
    }, (LEASE_TTL + 15) * 1000);
    expect(queued).toMatchObject({ status: 'completed', replica: ids[survivor.pid] });
    expect((await dumpOf(survivor, onSurvivor)).status).toBe('running');
    console.log('failover', JSON.stringify({ leaseTtlS: LEASE_TTL, killToQueuedDumpCompletedMs: Date.now() - killedAt }));
    await sql.query(`UPDATE "MemoryDump" SET "status" = 'failed', "finishedAt" = now() WHERE "id" = $1`, [onSurvivor]);
  }, 90_000);
});
