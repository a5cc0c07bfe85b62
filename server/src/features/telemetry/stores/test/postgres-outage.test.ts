// PostgreSQL going away under the store. The store reaches the real embedded PostgreSQL through a
// TCP relay this test owns: "down" closes the relay's port and cuts every open connection (what
// the client sees when the server dies: reset sockets, then refused connects); "up" reopens it.
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createPostgresStore } from '../postgres.js';
import { log, snap, startPostgres, truncateAll } from './postgres-fixtures.js';

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
const rowsIn = async () => Number((await pgh.sql.query('SELECT count(*) AS n FROM "VmSample"')).rows[0].n);
const tick = (k: number, vms = 50) => Array.from({ length: vms }, (_, v) => snap(v + 1, Date.now() - 60_000 + k * 1000, k));
async function until(pred: () => Promise<boolean> | boolean, ms = 30_000) {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('buffers while PostgreSQL is unreachable, never throws, and writes the buffer when it is back', async () => {
  const store = createPostgresStore({ db: viaRelay(), log, rollupEveryMs: 0 });
  await store.write(tick(0));
  expect(await rowsIn()).toBe(50);

  await relay.down();
  const t0 = performance.now();
  for (let k = 1; k <= 10; k++) await expect(store.write(tick(k))).resolves.toBeUndefined();
  const outageWriteMs = performance.now() - t0;
  const during = store.status();
  expect(during.bufferDepth).toBe(500);
  expect(during.failedWrites).toBeGreaterThanOrEqual(1);
  expect(during.lastError).toBeTruthy();
  expect(during.dropped).toBe(0);
  // Reading fails loudly (the caller shows an error); it is writing that must not.
  await expect(store.history({ vmId: 1, from: new Date(Date.now() - 120_000), to: new Date(), stepSec: 1, fields: ['cpu_pct'] })).rejects.toThrow();

  await relay.up();
  await until(() => store.status().bufferDepth === 0);
  expect(await rowsIn()).toBe(550);
  expect(store.status()).toMatchObject({ written: 550, dropped: 0, bufferDepth: 0 });
  // After the outage the buffered ticks are visible to history right away (raw), rollup or not.
  const points = await store.history({ vmId: 1, from: new Date(Date.now() - 120_000), to: new Date(), stepSec: 1, fields: ['cpu_pct'] });
  expect(points).toHaveLength(11);
  console.log(`[pg outage] 10 writes during the outage returned in ${outageWriteMs.toFixed(1)} ms in all; failed attempts ${store.status().failedWrites}`);
  await store.close();
});

it('keeps at most bufferTicks ticks and counts the rest as dropped', async () => {
  const store = createPostgresStore({ db: viaRelay(), log, rollupEveryMs: 0, bufferTicks: 5 });
  await relay.down();
  for (let k = 1; k <= 12; k++) await store.write(tick(k, 10));
  expect(store.status()).toMatchObject({ bufferDepth: 50, dropped: 70 });
  await relay.up();
  await until(() => store.status().bufferDepth === 0);
  // the newest five ticks survive
  const { rows } = await pgh.sql.query('SELECT DISTINCT cpu_pct FROM "VmSample" ORDER BY 1');
  expect(rows.map((r) => r.cpu_pct)).toEqual([8, 9, 10, 11, 12].map((k) => (k * 7) % 101).sort((a, b) => a - b));
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
