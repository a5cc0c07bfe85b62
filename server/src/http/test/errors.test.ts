// Every status the edge can produce, under every endpoint family, answers in that family's body;
// an unexpected error reaches the client as "internal error", never with its stack or a path.
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../lib/errors.js';
import { createLimitCounters } from '../../lib/limits.js';
import { createThrottledLog } from '../../lib/log-throttle.js';
import { createLogger } from '../../lib/logger.js';
import { ERROR_FAMILIES, detailErrors, type RouteFamily } from '../../lib/rest.js';
import { acceptsGzip } from '../compress.js';
import { createErrorBodies, createErrorHandling, EdgeError } from '../errors.js';
import { serializeReply, toJson } from '../json.js';

const STATUSES = [400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500] as const;
const PREFIXES = [...ERROR_FAMILIES.map((f) => f.prefix), '/api/other', '/healthz', '/readyz', '/some/page', '/graphql'];
const logged: { obj: { err?: Error }; msg: string }[] = [];
const log = createLogger('info');
const limits = createLimitCounters();
// A family a feature hands the edge, with a body of its own, wins over the seeds' table.
const custom: RouteFamily = { prefix: '/api/custom', tag: 'custom', description: '', errors: { name: 'Custom', body: (m) => ({ oops: m }), schema: detailErrors.schema }, routes: [] };
const app = Fastify({ logger: false });

beforeAll(async () => {
  const errors = createErrorHandling({ errorBody: createErrorBodies([custom]), limits, log: Object.assign(Object.create(log), { error: (obj: { err?: Error }, msg: string) => logged.push({ obj, msg }) }), clientError: createThrottledLog(log, 5) });
  app.setErrorHandler(errors.onError);
  app.setReplySerializer(serializeReply as (b: unknown) => string);
  app.get('/*', async (request) => {
    const status = Number(new URL(request.url, 'http://x').searchParams.get('status'));
    if (status === 500) throw new Error('ENOENT: open /srv/vmpulse/secret/path.json');
    if (status === 422) throw new AppError('VALIDATION', 'name is too long');
    if (status === 409) throw new AppError('CONFLICT', 'already running');
    throw new EdgeError(status, `failed with ${status}`);
  });
  await app.ready();
});
afterAll(() => app.close());

describe('error bodies by family', () => {
  for (const prefix of [...PREFIXES, '/api/custom']) {
    it(`${prefix}: every status`, async () => {
      for (const status of STATUSES) {
        const res = await app.inject({ method: 'GET', url: `${prefix}/x?status=${status}` });
        expect(res.statusCode).toBe(status);
        const body = res.json();
        if (prefix === '/graphql') {
          expect(body).toEqual({ errors: [{ message: expect.any(String), extensions: { code: expect.any(String) } }] });
        } else if (prefix === '/api/v1') {
          expect(Object.keys(body).sort()).toEqual(['error', 'timestamp']);
          expect(Date.parse(body.timestamp)).not.toBeNaN();
        } else if (prefix === '/api/custom') {
          expect(Object.keys(body)).toEqual(['oops']);
        } else {
          expect(Object.keys(body)).toEqual(['detail']);
        }
        if (status === 401) expect(res.headers['www-authenticate']).toBe('Bearer');
        expect(res.body).not.toMatch(/\/srv\/|ENOENT|\bat \w|\.ts:|\.js:/);
      }
    });
  }

  it('a prefix matches whole segments only: /api/v10 is not /api/v1', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v10/x?status=404' });
    expect(Object.keys(res.json())).toEqual(['detail']);
  });

  it('an unexpected error is logged in full on the server and answered masked', async () => {
    logged.length = 0;
    const res = await app.inject({ method: 'GET', url: '/api/telemetry/x?status=500' });
    expect(res.json()).toEqual({ detail: 'internal error (logged on the server)' });
    expect(logged).toHaveLength(1);
    expect(logged[0]!.obj.err?.message).toMatch(/secret\/path\.json/);
    expect(logged[0]!.obj.err?.stack).toBeTruthy();
  });
});

describe('JSON writing', () => {
  it('writes BigInt as exact integer literals, and no string can pass for one', () => {
    const text = toJson({ n: 2n ** 64n + 1n, neg: -5n, s: '\u0000bigint:5', arr: [1n] });
    expect(text).toBe('{"n":18446744073709551617,"neg":-5,"s":"\\u0000bigint:5","arr":[1]}');
  });

  it('a large answer is one Buffer, a small one a string', () => {
    expect(typeof serializeReply({ a: 1 })).toBe('string');
    expect(Buffer.isBuffer(serializeReply({ a: 'x'.repeat(20_000) }))).toBe(true);
  });
});

describe('Accept-Encoding', () => {
  it.each([
    ['gzip', true],
    ['gzip, deflate, br', true],
    ['deflate, gzip;q=0.5', true],
    ['GZIP', true],
    ['*', true],
    ['gzip;q=0', false],
    ['gzip; q=0', false],
    ['identity', false],
    ['', false],
    ['xgzip', false],
  ])('%s → %s', (header, ok) => {
    expect(acceptsGzip(header)).toBe(ok);
  });
});
