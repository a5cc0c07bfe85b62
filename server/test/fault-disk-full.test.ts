// DATA_DIR disk full (a 300 MiB tmpfs filled up): writes fail loudly (an error answer with the reason,
// errors in the log), nothing crashes, and everything recovers by itself when space returns.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import pg from 'pg';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { ADMIN } from './helpers/app.js';
import { sleep, until } from './helpers/faults.js';
import { startReplica, type Replica } from './helpers/replica.js';

let dir: string;
let mnt: string;
let r: Replica;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-diskfull-'));
  chmodSync(dir, 0o755);
  mnt = path.join(dir, 'data');
  mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=300m,mode=0755', 'tmpfs', mnt]);
  const fleet = writeDemoFleet(path.join(dir, 'fleet.xml'), { count: 4, prefix: 'full-' });
  r = await startReplica({ LIBVIRT_URI: fleet, DATA_DIR: mnt, POLL_INTERVAL: '0.5' });
}, 120_000);

afterAll(async () => {
  await r?.term('SIGKILL');
  await sleep(500);
  try {
    execFileSync('umount', ['-l', mnt]);
  } catch {
    /* not mounted */
  }
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

const createToken = (name: string) =>
  fetch(`${r.url}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: `mutation { createToken(name: "${name}", role: viewer) { token } }` }),
  });

function fill(file: string) {
  // Writes until the file system says ENOSPC.
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', 'count=400'], { stdio: 'ignore' });
  } catch {
    /* ENOSPC: that is the point */
  }
}

it('disk full: writes fail loudly, no crash; space back: recovers', async () => {
  expect((await createToken('before')).status).toBe(200);
  const filler = path.join(mnt, 'filler');
  fill(filler);
  // Someone else's big write (as a bulk import would) needs new WAL space that is not there.
  const { url } = JSON.parse(readFileSync(path.join(mnt, 'postgres.json'), 'utf8'));
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  const bulk = await sql
    .query("CREATE TABLE bulk AS SELECT repeat('x', 2000) AS v FROM generate_series(1, 50000)")
    .then(() => 'ok', (err: Error) => err.message);
  await sql.end().catch(() => {});
  expect(bulk).toMatch(/space|terminat|connection/i);
  const failed = await until('a write refused', async () => {
    fill(`${filler}-more`); // PostgreSQL may free WAL space meanwhile
    const res = await createToken(`during-${Date.now()}`);
    const body = await res.json();
    return body.errors ? { status: res.status, body } : undefined;
  }, 30_000, 500);
  console.log('disk full answer', JSON.stringify(failed).slice(0, 400));
  expect(failed.status).toBe(503);
  expect(failed.body.errors[0].extensions.code).toBe('UNAVAILABLE');
  expect(failed.body.errors[0].message).toMatch(/^database unavailable/);
  await sleep(2000);
  expect(r.proc.exitCode).toBeNull();
  expect((await fetch(`${r.url}/healthz`)).status).toBe(200);
  expect(r.logs.some((l) => (l.level as number) >= 50)).toBe(true); // loudly: errors in the log
  // Latest samples still flow from memory.
  const vms = await (await r.api('/api/telemetry/vms')).json();
  expect(vms.vms.length).toBe(4);

  rmSync(filler, { force: true });
  rmSync(`${filler}-more`, { force: true });
  const recoveredAt = Date.now();
  await until('writes work again', async () => (await createToken(`after-${Date.now()}`)).status === 200, 30_000, 250);
  await until('/readyz 200', async () => (await fetch(`${r.url}/readyz`)).status === 200, 30_000, 250);
  console.log('disk full recovery', JSON.stringify({ recoveryMs: Date.now() - recoveredAt }));
  const exit = await r.term('SIGTERM');
  expect(exit.code).toBe(0);
  expect(exit.ms).toBeLessThan(5000);
}, 120_000);
