// SIGTERM under load (REST clients, graphql-ws subscribers, 200 VMs at 2 Hz): the process exits 0
// within 5 s and the samples it held in memory are in PostgreSQL afterwards, up to its last tick.
// And a terminal's Ctrl-C or hangup (SIGINT / SIGHUP to the whole foreground process group, the
// embedded PostgreSQL included unless it has a group of its own): the same, PostgreSQL stopped last.
import { existsSync } from 'node:fs';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../src/lib/db.js';
import { createLogger } from '../src/lib/logger.js';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { ADMIN, collect } from './helpers/app.js';
import { postmasterPid, sleep, storedSampleTimes, until } from './helpers/faults.js';
import { startReplica, type Replica } from './helpers/replica.js';

const POLL = 0.5;
const VMS = 200;
let dir: string;
let r: Replica;
const grouped: Replica[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-sigterm-'));
  chmodSync(dir, 0o755);
  const fleet = writeDemoFleet(path.join(dir, 'fleet.xml'), { count: VMS, prefix: 'term-' });
  r = await startReplica({ LIBVIRT_URI: fleet, DATA_DIR: path.join(dir, 'data'), POLL_INTERVAL: String(POLL), HTTP_RATE_LIMIT: '1000000' });
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await r?.term('SIGKILL');
  for (const g of grouped) await g.term('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

/** every running VM's samples in PostgreSQL, without gaps, up to the last tick or two before `signalAt` */
async function expectFlushed(dataDir: string, running: number, signalAt: number, poll: number) {
  const db = await openDatabase({ dataDir, log: createLogger('silent') });
  try {
    const times = await storedSampleTimes(db.url);
    expect(times.size).toBe(running);
    for (const [vmId, ts] of times) {
      expect(signalAt - ts.at(-1)!, `VM ${vmId}`).toBeLessThan(3 * poll * 1000);
      const gaps = ts.slice(1).map((t, i) => t - ts[i]!);
      expect(Math.max(...gaps), `VM ${vmId}`).toBeLessThan(3 * poll * 1000);
    }
  } finally {
    await db.close();
  }
}

it('SIGTERM under load: exit 0 within 5 s, every VM stored up to its last tick', async () => {
  await until('the fleet sampled', async () => {
    const body = await (await r.api('/api/telemetry/status')).json();
    return body.samples >= VMS * 2;
  });
  const running = (await (await r.api('/api/telemetry/live-vms')).json()).count as number; // shut-off VMs have no samples
  expect(running).toBeGreaterThan(VMS / 2);
  for (let i = 0; i < 10; i++) {
    const c = createClient({ url: `${r.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${ADMIN}` }, retryAttempts: 0 });
    clients.push(c);
    collect(c, 'subscription { fleetMetrics { timestamp } }');
  }
  let stop = false;
  let requests = 0;
  const load = Array.from({ length: 16 }, async () => {
    while (!stop) {
      await r
        .api('/api/telemetry/live-vms')
        .then((res) => res.arrayBuffer())
        .then(() => requests++)
        .catch(() => {});
    }
  });
  await sleep(4000);
  const termAt = Date.now();
  const exit = await r.term('SIGTERM');
  stop = true;
  await Promise.all(load);
  console.log('sigterm under load', JSON.stringify({ requests, exitMs: exit.ms, code: exit.code }));
  expect(exit.code).toBe(0);
  expect(exit.ms).toBeLessThan(5000);

  await expectFlushed(path.join(dir, 'data'), running, termAt, POLL);
}, 120_000);

// A terminal's Ctrl-C, and the terminal closed (SIGHUP to its foreground group; Node's default exits at once).
for (const signal of ['SIGINT', 'SIGHUP'] as const) {
  it(`${signal} to the process group (a terminal's ${signal === 'SIGINT' ? 'Ctrl-C' : 'hangup'}): exit 0 within 5 s, PostgreSQL stopped last, nothing lost`, async () => {
    const dataDir = path.join(dir, `data-${signal}`);
    const fleet = writeDemoFleet(path.join(dir, `fleet-${signal}.xml`), { count: 20, prefix: `${signal.toLowerCase()}-` });
    // A minute's history blocks are written when the minute closes: what the signal catches is held in memory.
    const r = await startReplica({ LIBVIRT_URI: fleet, DATA_DIR: dataDir, POLL_INTERVAL: String(POLL) }, 60_000, { ownGroup: true });
    grouped.push(r);
    await until('the fleet sampled', async () => (await (await r.api('/api/telemetry/status')).json()).samples >= 20 * 4);
    const running = (await (await r.api('/api/telemetry/live-vms')).json()).count as number;
    const postmaster = postmasterPid(dataDir);
    const signalAt = Date.now();
    const exit = await r.term(signal, { group: true });
    expect(exit.code).toBe(0);
    expect(exit.ms).toBeLessThan(5000);
    expect(r.logs.filter((l) => (l.level as number) >= 50).map((l) => l.msg)).toEqual([]); // no "PostgreSQL died", no failed flush
    expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false); // stopped, not left behind
    expect(() => process.kill(postmaster, 0)).toThrow();
    await expectFlushed(dataDir, running, signalAt, POLL);
  }, 120_000);
}
