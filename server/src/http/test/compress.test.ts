// The one-call gzip of large answers (compress.ts) read back with node's gunzip: each answer's own
// bytes, also when a kept answer is sent again and when it is replaced by a new one.
import { gunzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCompression } from '../compress.js';

const LARGE = 16 * 1024;
const app = Fastify();
/** what the route answers: a kept Buffer, replaced now and then (as live-vms' answer is at each tick) */
let kept = answer(1);

function answer(n: number): Buffer {
  return Buffer.from(JSON.stringify({ n, vms: Array.from({ length: 800 }, (_, i) => ({ id: i, cputime: String(BigInt(n) * 1_000_000_007n + BigInt(i)) })) }));
}

beforeAll(async () => {
  await registerCompression(app, { largeJsonBytes: LARGE });
  app.get('/kept', (_req, reply) => reply.type('application/json').send(kept));
  await app.ready();
});
afterAll(() => app.close());

const get = async (encoding?: string) => {
  const res = await app.inject({ method: 'GET', url: '/kept', headers: encoding ? { 'accept-encoding': encoding } : {} });
  return { encoding: res.headers['content-encoding'], body: res.rawPayload, length: Number(res.headers['content-length']) };
};

describe('large answers, gzipped in one call', () => {
  it('each answer gunzips to its own bytes: the same kept Buffer again, then a new one', async () => {
    expect(kept.length).toBeGreaterThan(LARGE);
    for (let n = 1; n <= 3; n++) {
      kept = answer(n);
      for (let again = 0; again < 2; again++) {
        const z = await get('gzip');
        expect(z.encoding).toBe('gzip');
        expect(z.length).toBe(z.body.length);
        expect(gunzipSync(z.body).equals(kept)).toBe(true);
      }
    }
  });

  it('sends the bytes as they are to a client that does not take gzip', async () => {
    for (const enc of [undefined, 'gzip;q=0', 'br']) {
      const plain = await get(enc);
      expect(plain.encoding, String(enc)).toBeUndefined();
      expect(plain.body.equals(kept)).toBe(true);
    }
  });
});
