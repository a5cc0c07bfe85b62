// vmpulse killed -9 (the OOM killer, a crash): its embedded PostgreSQL outlives it and keeps
// DATA_DIR/postgres locked. The next start stops that orphan and starts on the same DATA_DIR with
// tokens and history kept. A second vmpulse on a DATA_DIR whose vmpulse is alive is still refused,
// and the first one's PostgreSQL is left alone. Oracles: PostgreSQL's own postmaster.pid and /proc.
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { ADMIN } from './helpers/app.js';
import { postmasterPid, storedSampleTimes, until } from './helpers/faults.js';
import { startReplica, type Replica } from './helpers/replica.js';

const POLL = 0.5;
let dir: string;
let dataDir: string;
let fleet: string;
const replicas: Replica[] = [];

/** /proc/PID/stat from the state on ([state, parent, …]); undefined once the process is reaped */
const statOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  } catch {
    return undefined;
  }
};
/** running: a zombie has ended (this container's init reaps it a second or two later) */
const alive = (pid: number) => !!statOf(pid) && statOf(pid)![0] !== 'Z';
const parentOf = (pid: number) => Number(statOf(pid)?.[1]);
/** the running embedded PostgreSQL's URL, as vmpulse announces it (its port changes at each start) */
const dbUrl = () => JSON.parse(readFileSync(path.join(dataDir, 'postgres.json'), 'utf8')).url as string;
const start = async () => {
  const r = await startReplica({ LIBVIRT_URI: fleet, DATA_DIR: dataDir, POLL_INTERVAL: String(POLL) });
  replicas.push(r);
  return r;
};
const gql = (r: Replica, query: string, token?: string) =>
  fetch(`${r.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  }).then((res) => res.json());

const vmsWith = (r: Replica, token: string) => fetch(`${r.url}/api/telemetry/vms`, { headers: { authorization: `Bearer ${token}` } });

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-crash-'));
  chmodSync(dir, 0o755);
  dataDir = path.join(dir, 'data');
  fleet = writeDemoFleet(path.join(dir, 'fleet.xml'), { count: 6, prefix: 'crash-' });
});

afterAll(async () => {
  for (const r of replicas) await r.term('SIGKILL');
  try {
    const pid = postmasterPid(dataDir);
    if (alive(pid)) process.kill(pid, 'SIGQUIT'); // an orphan of a failed run
  } catch {
    /* none */
  }
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

it('after kill -9 the next start stops the orphaned PostgreSQL and keeps tokens and history; a live owner is never touched', async () => {
  const first = await start();
  const created = await gql(first, 'mutation { createToken(name: "crash", role: viewer) { token } }', ADMIN);
  const viewer = created.data.createToken.token as string;
  expect((await vmsWith(first, viewer)).status).toBe(200);
  // A minute's first block is written at its close or a shutdown: wait until one is stored.
  const before = await until('a history block stored', async () => {
    const times = await storedSampleTimes(dbUrl());
    return times.size > 0 && times;
  }, 90_000, 1000);
  const orphan = postmasterPid(dataDir);
  expect(parentOf(orphan)).toBe(first.pid);

  await first.term('SIGKILL');
  expect(alive(orphan)).toBe(true); // what PostgreSQL does when its parent dies: nothing

  const second = await start();
  expect(alive(orphan)).toBe(false);
  const now = postmasterPid(dataDir);
  expect(now).not.toBe(orphan);
  expect(parentOf(now)).toBe(second.pid);
  expect(second.logs.some((l) => l.msg === 'embedded PostgreSQL left running by a vmpulse that is gone: stopping it' && l.pid === orphan)).toBe(true);
  // The token made before the crash still answers; the history stored before it is still there.
  expect((await vmsWith(second, viewer)).status).toBe(200);
  expect((await vmsWith(second, `${viewer}x`)).status).toBe(401);
  const after = await storedSampleTimes(dbUrl());
  for (const [vmId, ts] of before) expect(after.get(vmId)?.slice(0, ts.length), `VM ${vmId}`).toEqual(ts);

  // A third vmpulse on the same DATA_DIR while the second runs: refused, and the second's PostgreSQL untouched.
  const third = await startReplica({ LIBVIRT_URI: fleet, DATA_DIR: dataDir, POLL_INTERVAL: String(POLL) }).then(
    (r) => {
      replicas.push(r);
      return 'started';
    },
    (err: Error) => err.message,
  );
  expect(third).toMatch(new RegExp(`exited \\(1\\) before listening: [\\s\\S]*another vmpulse \\(pid ${second.pid}\\) is using this DATA_DIR`));
  expect(alive(now)).toBe(true);
  expect(postmasterPid(dataDir)).toBe(now);
  expect((await (await second.api('/readyz')).json()).status).toBe('ready');
}, 180_000);
