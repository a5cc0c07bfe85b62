// A token revoked while its streams are open ends them within 5 s: graphql-ws sockets close 4403,
// SSE streams end. On the replica that revoked it at once; on another replica that shares only
// PostgreSQL (no Redis) through the periodic check of open streams' tokens.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { initSocket, readSse } from './helpers/hostile.js';

let a: TestApp;
let b: TestApp;

beforeAll(async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-test-'));
  const env = { LIBVIRT_URI: writeDemoFleet(path.join(dataDir, 'fleet.xml')), POLL_INTERVAL: '0.5' };
  a = await startTestApp(env, dataDir);
  b = await startTestApp({ ...env, DATABASE_URL: a.app.db.url }, mkdtempSync(path.join(os.tmpdir(), 'vmpulse-test-')));
}, 60_000);

afterAll(async () => {
  await b?.stop();
  await a?.stop();
});

async function viewerToken(): Promise<{ token: string; id: string }> {
  const { body } = await a.gql(`mutation { createToken(name: "soon revoked", role: viewer) { token apiToken { id } } }`);
  return { token: body.data.createToken.token, id: body.data.createToken.apiToken.id };
}

function openSse(app: TestApp, token: string) {
  return app.api('/graphql', {
    method: 'POST',
    token,
    headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
    body: JSON.stringify({ query: `subscription { fleetMetrics { timestamp } }` }),
  });
}

async function openStreams(app: TestApp, token: string) {
  const socket = await initSocket(app.url, token);
  socket.send({ id: '1', type: 'subscribe', payload: { query: `subscription { fleetMetrics { timestamp } }` } });
  await socket.next((m) => m.id === '1' && m.type === 'next');
  const sse = await openSse(app, token);
  expect(sse.status).toBe(200);
  expect((await readSse(sse, (x) => x.includes('event: next'))).text).toContain('timestamp');
  return { socket, sse };
}

describe('revoking a token with open streams', () => {
  for (const where of ['the same replica', 'another replica sharing only PostgreSQL'] as const) {
    it(`ends its graphql-ws sockets (4403) and SSE streams within 5 s on ${where}`, async () => {
      const app = where === 'the same replica' ? a : b;
      const { token, id } = await viewerToken();
      const { socket, sse } = await openStreams(app, token);
      const other = await initSocket(app.url, (await a.gql(`mutation { createToken(name: "stays", role: viewer) { token } }`)).body.data.createToken.token);

      const t0 = Date.now();
      const revoked = await a.gql(`mutation($id: ID!) { revokeToken(id: $id) { revokedAt } }`, { id });
      expect(revoked.body.data.revokeToken.revokedAt).not.toBeNull();

      const closed = await socket.closed;
      expect(closed.code).toBe(4403);
      expect(closed.reason).toMatch(/revoked/);
      expect(closed.at - t0).toBeLessThan(5000);
      const rest = await readSse(sse, () => false, 5000);
      expect(rest.ended).toBe(true);
      expect(Date.now() - t0).toBeLessThan(5500);

      expect(other.ws.readyState).toBe(other.ws.OPEN); // other tokens' sockets are untouched
      other.ws.close();

      // …and the revoked token opens nothing new (here within the 5 s cache of the other replica).
      await new Promise((r) => setTimeout(r, where === 'the same replica' ? 0 : 5000));
      const again = await app.gql(`{ me { name } }`, undefined, token);
      expect(again.status).toBe(401);
    });
  }
});
