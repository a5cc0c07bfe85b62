// PostgreSQL going away under the store. The store reaches the real embedded PostgreSQL through a
// TCP relay this test owns: "down" closes the relay's port and cuts every open connection (what
// the client sees when the server dies: reset sockets, then refused connects); "up" reopens it.
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createPostgresStore } from '../postgres.js';
import { MIN, cpuPctOf, floorTo, log, snap, startPostgres, truncateAll } from './postgres-fixtures.js';

let pgh: Awaited<ReturnType<typeof startPostgres>>;
let relay: Awaited<ReturnType<typeof startRelay>>;

async function startRelay(target: number) {
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(target, '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => {});
        }
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  await listen();
  return {
    get port() {
      return port;
    },
    up: listen,
    down: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server!.close(() => resolve());
      }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => (server?.listening ? server.close(r) : r(null)));
    },
  };
}

beforeAll(async () => {
  pgh = await startPostgres();
  relay = await startRelay(Number(new URL(pgh.db.url).port));
});
afterAll(async () => {
  await relay?.close();
  await pgh?.stop();
});
beforeEach(() => truncateAll(pgh.sql));

const viaRelay = () => {
  const url = new URL(pgh.db.url);
  url.port = String(relay.port);
  return { url: url.toString() };
};
/** Samples in PostgreSQL (the blocks' sample counts). */
const samplesIn = async () => Number((await pgh.sql.query('SELECT coalesce(sum(samples), 0) AS n FROM "VmSampleBlock"')).rows[0].n);
// Simulated time: minute m of the test starts ten minutes ago, one tick a second.
const base = floorTo(Date.now(), MIN) - 20 * MIN;
const tick = (k: number, vms = 50) => Array.from({ length: vms }, (_, v) => snap(v + 1, base + k * 1000, k));
const minutes = async (store: { write(b: ReturnType<typeof tick>): Promise<void> }, from: number, to: number, vms = 50) => {
  for (let k = from * 60; k < to * 60; k++) await expect(store.write(tick(k, vms))).resolves.toBeUndefined();
};
async function until(pred: () => Promise<boolean> | boolean, ms = 30_000) {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('buffers while PostgreSQL is unreachable, never throws, and writes the buffer when it is back', async () => {
  const store = createPostgresStore({ db: viaRelay(), log, rollupEveryMs: 0 });
  await minutes(store, 0, 1);
  await store.write(tick(60)); // the first tick of minute 1 closes minute 0: its blocks go out
  expect(await samplesIn()).toBe(3000);

  await relay.down();
  const t0 = performance.now();
  await minutes(store, 1, 4); // minutes 1 and 2 close while PostgreSQL is away
  const outageWriteMs = performance.now() - t0;
  const during = store.status();
  expect(during.bufferDepth).toBe(50 * 180); // minutes 1–3: not in PostgreSQL
  expect(during.failedWrites).toBeGreaterThanOrEqual(1);
  expect(during.lastError).toBeTruthy();
  expect(during.dropped).toBe(0);
  // Reading fails loudly (the caller shows an error); it is writing that must not.
  await expect(store.history({ vmId: 1, from: new Date(base), to: new Date(base + 4 * MIN), stepSec: 1, fields: ['cpu_pct'] })).rejects.toThrow();

  await relay.up();
  await until(async () => (await samplesIn()) === 50 * 180); // the closed minutes, by the retry loop
  await store.flush(); // and the open one
  expect(await samplesIn()).toBe(50 * 240);
  expect(store.status()).toMatchObject({ written: 50 * 240, dropped: 0, bufferDepth: 0 });
  const points = await store.history({ vmId: 1, from: new Date(base), to: new Date(base + 4 * MIN), stepSec: 1, fields: ['cpu_pct'] });
  expect(points).toHaveLength(240);
  expect(points.map((p) => p.values.cpu_pct!.avg)).toEqual(Array.from({ length: 240 }, (_, k) => cpuPctOf(k)));
  console.log(`[pg outage] 180 ticks written during the outage returned in ${outageWriteMs.toFixed(1)} ms in all; failed attempts ${store.status().failedWrites}`);
  await store.close();
});

it('keeps at most bufferBytes of blocks and counts the rest as dropped, oldest first', async () => {
  // One minute of 10 VMs of snap() is ~10 blocks of ~1.2 kB: room for about three minutes.
  const store = createPostgresStore({ db: viaRelay(), log, rollupEveryMs: 0, bufferBytes: 40_000 });
  await relay.down();
  await minutes(store, 0, 12, 10);
  expect(store.status().dropped).toBeGreaterThan(0);
  await relay.up();
  await store.flush();
  const { dropped } = store.status();
  expect(dropped % 600).toBe(0); // whole minutes
  // what is left is the newest minutes, whole and in order, and what is gone was counted
  const kept = 12 * 600 - dropped;
  expect(await samplesIn()).toBe(kept);
  expect(kept).toBeGreaterThanOrEqual(2 * 600);
  const points = await store.history({ vmId: 3, from: new Date(base), to: new Date(base + 12 * MIN), stepSec: 60, fields: ['cpu_pct'] });
  expect(points.map((p) => (p.ts.getTime() - base) / MIN)).toEqual(Array.from({ length: kept / 600 }, (_, i) => 12 - kept / 600 + i));
  expect(store.status()).toMatchObject({ bufferDepth: 0, written: kept });
  await store.close();
});

it('close() with PostgreSQL down returns within its bound and reports what it could not write', async () => {
  const store = createPostgresStore({ db: viaRelay(), log, rollupEveryMs: 0 });
  await relay.down();
  await store.write(tick(1, 10));
  const t0 = performance.now();
  await store.close();
  expect(performance.now() - t0).toBeLessThan(6_000);
  expect(store.status()).toMatchObject({ bufferDepth: 0, dropped: 10 });
  await relay.up();
});
