// The HTTP edge as a hostile client meets it: malformed paths and request lines, bodies too large
// (with and without a token), headers that trickle in, idle connections past the cap, floods of
// wrong tokens, a token over its rate, repeated and prototype-named parameters; and the SPA for
// every page a browser asks for. Each refusal: the right status, the family's body, counted.
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { ADMIN, startTestApp, testDataDir, type TestApp } from './helpers/app.js';
import { idleConnections, rawRequest } from './helpers/raw-http.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const request = (method: string, target: string, headers: Record<string, string> = {}, body = '') =>
  `${method} ${target} HTTP/1.1\r\nHost: localhost\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}${body ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : ''}\r\n${body}`;
const bearer = { Authorization: `Bearer ${ADMIN}` };

let t: TestApp;
const limitHits = async (app: TestApp) => (await (await app.api('/api/telemetry/status')).json()).limits as Record<string, number>;

beforeAll(async () => {
  const dataDir = testDataDir();
  t = await startTestApp(
    {
      // 300 VMs: /api/telemetry/vms is ~40 KB, the size of answer that goes out as one gzip call
      LIBVIRT_URI: writeDemoFleet(path.join(dataDir, 'fleet.xml'), { count: 300 }),
      HTTP_HEADERS_TIMEOUT: '1',
      HTTP_REQUEST_TIMEOUT: '2',
      HTTP_BODY_LIMIT: '65536',
      GRAPHQL_BODY_LIMIT: '131072',
      HTTP_MAX_CONNECTIONS: '60',
    },
    dataDir,
  );
});
afterAll(() => t?.stop());

describe('malformed paths and request lines get 400, never 500', () => {
  it.each(['/%', '/%E0%A4%A', '/assets/%ff', '/api/telemetry/vm-stats/%E0%A4%A', '/graphql%'])('GET %s', async (target) => {
    const res = await rawRequest(t.url, request('GET', target, bearer));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ detail: 'malformed path: invalid percent-encoding' });
  });

  it('answers in the family body of the URL: /api/v1 is {"error","timestamp"}', async () => {
    const res = await rawRequest(t.url, request('GET', '/api/v1/vm-contexts/%zz'));
    expect(res.status).toBe(400);
    const body = JSON.parse(res.body);
    expect(Object.keys(body).sort()).toEqual(['error', 'timestamp']);
    expect(Date.parse(body.timestamp)).not.toBeNaN();
  });

  it.each([
    ['an absolute-form junk target', 'GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['an asterisk target', 'GET * HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a relative target', 'GET api/telemetry/live-vms HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a control character in the target', 'GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['no request line at all', 'GARBAGE\r\n\r\n'],
    ['a header without a colon', 'GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n'],
    ['a bad HTTP version', 'GET / HTTP/9.9\r\nHost: x\r\n\r\n'],
  ])('%s', async (_what, raw) => {
    const res = await rawRequest(t.url, raw);
    expect(res.status).toBe(400);
    expect(Object.keys(JSON.parse(res.body))).toEqual(['detail']);
    expect(res.body).not.toMatch(/at |\/src\/|node_modules|Error:/);
  });

  it('routes an absolute-form target by its path, as a proxy sends it', async () => {
    const res = await rawRequest(t.url, request('GET', `${t.url}/api/telemetry/live-vms`, bearer));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).source).toBe('libvirt');
  });

  it.each([
    ['/api/telemetry/vm-stats/', { detail: 'request target longer than 8192 bytes' }],
    ['/api/v1/vm-contexts/', null],
    ['/', { detail: 'request target longer than 8192 bytes' }],
  ])('414 for a target past HTTP_MAX_URL (%s…), in the family body, counted', async (prefix, body) => {
    const before = (await limitHits(t))['http.url_length'] ?? 0;
    const res = await rawRequest(t.url, request('GET', prefix + 'a'.repeat(9000), bearer));
    expect(res.status).toBe(414);
    const got = JSON.parse(res.body);
    if (body) expect(got).toEqual(body);
    else expect(Object.keys(got).sort()).toEqual(['error', 'timestamp']);
    expect((await limitHits(t))['http.url_length']).toBe(before + 1);
  });

  it('a long path under the limit: 400 for a parameter, 404 for an unknown API path, the page for a page path', async () => {
    for (const n of [300, 5000, 8000]) {
      const api = await rawRequest(t.url, request('GET', `/api/telemetry/vm-stats/${'a'.repeat(n)}`, bearer));
      expect(api.status).toBe(400);
      expect(JSON.parse(api.body)).toEqual({ detail: 'a path segment is too long' });
      const unknown = await rawRequest(t.url, request('GET', `/api/${'b'.repeat(n)}`, bearer));
      expect(unknown.status).toBe(404);
      expect(JSON.parse(unknown.body)).toEqual({ detail: 'Not Found' });
      const page = await rawRequest(t.url, request('GET', `/vms/${'c'.repeat(n)}`));
      expect(page.status).toBe(200);
      expect(page.body).toMatch(/<div id="root">|The dashboard is not built yet/);
    }
  });

  it('431 for headers past 16 KiB', async () => {
    const res = await rawRequest(t.url, request('GET', '/api/telemetry/live-vms', { ...bearer, 'X-Big': 'a'.repeat(20_000) }));
    expect(res.status).toBe(431);
    expect(Object.keys(JSON.parse(res.body))).toEqual(['detail']);
  });
});

describe('authentication comes before the body', () => {
  it('401 with WWW-Authenticate for a 25 MB REST body announced without a token, before it is sent', async () => {
    const head = `POST /api/telemetry/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 25000000\r\n\r\n{"x":`;
    const res = await rawRequest(t.url, head);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.headers.connection).toBe('close'); // the rest of the body is never read
    expect(Object.keys(JSON.parse(res.body))).toEqual(['detail']);
  });

  it('401 with WWW-Authenticate and a GraphQL-shaped body on /graphql, before the body is read', async () => {
    const head = `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 25000000\r\n\r\n{"query":"{ __schema`;
    const res = await rawRequest(t.url, head);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(JSON.parse(res.body)).toEqual({ errors: [{ message: expect.stringMatching(/token/), extensions: { code: 'UNAUTHENTICATED' } }] });
  });

  it('a stranger learns nothing of the schema: no "Did you mean"', async () => {
    const res = await t.gql('{ tokenz { id } }', undefined, 'wrong-token');
    expect(res.status).toBe(401);
    expect(JSON.stringify(res.body)).not.toMatch(/Did you mean/);
  });

  it('GraphiQL stays reachable without a token; an operation over GET does not', async () => {
    const page = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const op = await fetch(`${t.url}/graphql?query=${encodeURIComponent('{ vms { id } }')}`, { headers: { accept: 'text/html' } });
    expect(op.status).toBe(401);
    expect(op.headers.get('www-authenticate')).toBe('Bearer');
  });
});

describe('body size', () => {
  it('413 for a REST body over HTTP_BODY_LIMIT (with a token), counted', async () => {
    const before = (await limitHits(t))['http.body_size'] ?? 0;
    const res = await t.api('/api/telemetry/start', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(70_000) }) });
    expect(res.status).toBe(413);
    expect(Object.keys(await res.json())).toEqual(['detail']);
    expect((await limitHits(t))['http.body_size']).toBe(before + 1);
  });

  it('413 in the GraphQL shape for a /graphql body over GRAPHQL_BODY_LIMIT', async () => {
    const res = await t.api('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ vms { id } } # ${'x'.repeat(140_000)}` }) });
    expect(res.status).toBe(413);
    expect((await res.json()).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('a body over HTTP_BODY_LIMIT but under GRAPHQL_BODY_LIMIT is fine on /graphql', async () => {
    const res = await t.gql(`{ me { role } } # ${'x'.repeat(100_000)}`);
    expect(res.status).toBe(200);
    expect(res.body.data.me.role).toBe('admin');
  });

  it('415 in the GraphQL shape for a body type yoga does not read', async () => {
    const res = await t.api('/graphql', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{ vms { id } }' });
    expect(res.status).toBe(415);
    expect((await res.json()).errors[0].extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('slow and idle clients', () => {
  it('a request whose headers trickle in (slowloris) gets 408 and is closed after HTTP_HEADERS_TIMEOUT', async () => {
    const before = (await limitHits(t))['http.request_timeout'] ?? 0;
    const lines = ['GET /api/telemetry/live-vms HTTP/1.1\r\n', 'Host: x\r\n', ...Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: y\r\n`)];
    const t0 = Date.now();
    const res = await rawRequest(t.url, lines, { gapMs: 200, timeoutMs: 6000, waitClose: true });
    expect(res.status).toBe(408);
    expect(res.closed).toBe(true);
    expect(Date.now() - t0).toBeLessThan(3500); // 1 s timeout, checked every second
    expect(Object.keys(JSON.parse(res.body))).toEqual(['detail']);
    expect((await limitHits(t))['http.request_timeout']).toBeGreaterThan(before);
  });

  it('a body that trickles in is cut off after HTTP_REQUEST_TIMEOUT', async () => {
    const head = `POST /api/telemetry/start HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
    const res = await rawRequest(t.url, [head, ...Array.from({ length: 30 }, () => ' ')], { gapMs: 200, timeoutMs: 8000, waitClose: true });
    expect(res.closed).toBe(true);
    expect([0, 408]).toContain(res.status);
  });

  it('idle connections are closed after HTTP_HEADERS_TIMEOUT; past HTTP_MAX_CONNECTIONS at once, counted', async () => {
    const before = (await limitHits(t))['http.connections'] ?? 0;
    const idle = await idleConnections(t.url, 75);
    await sleep(300);
    expect(idle.closed()).toBeGreaterThanOrEqual(15); // the ones past the cap of 60
    await sleep(2500);
    expect(idle.closed()).toBe(75); // the rest by the header timeout
    idle.destroy();
    expect((await limitHits(t))['http.connections']).toBeGreaterThanOrEqual(before + 15);
    expect((await t.api('/api/telemetry/live-vms')).status).toBe(200);
  });
});

describe('query parameters and user-supplied keys', () => {
  const history = (q: string) => t.api(`/api/metrics/vm/${t.app.services.vms.list({ state: 'running' })[0]!.id}/history?${q}`);

  it('a repeated query parameter is refused with 400 naming it', async () => {
    const res = await history('metric_name=cpu_usage&limit=1&limit=2');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ detail: 'query parameter "limit" is given more than once' });
  });

  it('a validation error names the field and why', async () => {
    const res = await history('metric_name=cpu_usage&limit=0');
    expect(res.status).toBe(400);
    expect((await res.json()).detail).toBe('query parameter "limit": must be an integer from 1 to 10000');
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])('metric_name=%s is not found through a prototype', async (name) => {
    const res = await history(`metric_name=${name}`);
    expect(res.status).toBe(400);
    expect((await res.json()).detail).toMatch(/unknown metric .*valid: cpu_usage/);
  });

  it('__proto__ and constructor as parameter names change nothing', async () => {
    const res = await history('__proto__[limit]=5&constructor=x&__proto__=y&metric_name=cpu_usage&limit=2');
    expect(res.status).toBe(200);
    expect((await res.json()).length).toBeLessThanOrEqual(2);
    expect(({} as Record<string, unknown>).limit).toBeUndefined();
  });

  it.each(['__proto__', 'constructor', 'toString'])('vm_id %s is a plain unknown name', async (name) => {
    const res = await t.api(`/api/telemetry/vm-stats/${name}`);
    expect(res.status).toBe(404);
    expect(Object.keys(await res.json())).toEqual(['detail']);
  });

  it('a JSON body with __proto__ is refused by name on /graphql, nothing polluted', async () => {
    const res = await t.api('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ me { role } }","__proto__":{"polluted":1}}' });
    expect(res.status).toBe(400);
    expect((await res.json()).errors[0].message).toMatch(/__proto__/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('methods, paths and answers', () => {
  it('405 with Allow for a known path with another method', async () => {
    const res = await t.api('/api/telemetry/live-vms', { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(await res.json()).toEqual({ detail: 'Method Not Allowed' });
    const gql = await t.api('/graphql', { method: 'PUT' });
    expect(gql.status).toBe(405);
    expect((await gql.json()).errors[0].extensions.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('404 in the family body for unknown API paths, whatever the method', async () => {
    for (const [p, keys] of [['/api/telemetry/nope', ['detail']], ['/api/memory-dumps/1/nope', ['detail']], ['/api/v1/nope', ['error', 'timestamp']], ['/api/other', ['detail']], ['/healthzz', ['detail']]] as const) {
      for (const method of ['GET', 'POST']) {
        const res = await t.api(p, { method });
        if (method === 'GET' && p === '/healthzz') continue; // a client-side route: the SPA
        expect(res.status, `${method} ${p}`).toBe(404);
        expect(Object.keys(await res.json()).sort()).toEqual([...keys]);
      }
    }
  });

  it('HEAD answers the headers of GET without a body', async () => {
    const res = await rawRequest(t.url, request('HEAD', '/api/telemetry/live-vms', bearer));
    expect(res.status).toBe(200);
    expect(Number(res.headers['content-length'])).toBeGreaterThan(0);
    expect(res.body).toBe('');
  });

  it('a large JSON answer is gzipped for a client that accepts it, exact and whole', async () => {
    const res = await rawRequest(t.url, request('GET', '/api/telemetry/vms', { ...bearer, 'Accept-Encoding': 'gzip, deflate' }));
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers.vary).toMatch(/Accept-Encoding/i);
    const zipped = Buffer.from(res.body, 'latin1');
    expect(zipped.length).toBe(Number(res.headers['content-length']));
    expect(JSON.parse(gunzipSync(zipped).toString()).count).toBe(300);
    const refused = await t.api('/api/telemetry/vms', { headers: { 'accept-encoding': 'gzip;q=0' } });
    expect(refused.headers.get('content-encoding')).toBeNull();
  });

  it('the health checks need no token', async () => {
    expect(await (await fetch(`${t.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await (await fetch(`${t.url}/readyz`)).json()).status).toBe('ready');
  });
});

describe('the SPA', () => {
  it.each([
    ['/', '*/*'],
    ['/', 'application/json'],
    ['/resource-monitoring', 'text/html'],
    ['/vms/3', 'application/json'],
    ['/collector', '*/*'],
  ])('GET %s (Accept %s) serves the page', async (p, accept) => {
    const res = await fetch(`${t.url}${p}`, { headers: { accept } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toMatch(/<div id="root">|The dashboard is not built yet/);
  });

  it('a missing /assets/* file is a 404, not the page', async () => {
    const res = await fetch(`${t.url}/assets/nope-123.js`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ detail: 'Not Found' });
  });
});

describe('failed authentications are limited per address', () => {
  let f: TestApp;
  beforeAll(async () => {
    f = await startTestApp({ LIBVIRT_URI: 'test:///default', HTTP_AUTH_FAILURE_LIMIT: '10' });
  });
  afterAll(() => f?.stop());

  it('a flood of wrong tokens gets 429 with Retry-After in the family body, counted; the address waits', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const path = i % 2 ? '/api/telemetry/live-vms' : '/api/metrics/vm/1';
      const res = await f.api(path, { token: `wrong-${i}` });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(Object.keys(await res.json())).toEqual(['detail']);
      } else await res.arrayBuffer();
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual(Array(30).fill(429));
    const gql = await f.gql('{ me { role } }', undefined, 'wrong-again');
    expect(gql.status).toBe(429);
    expect(gql.body.errors[0].extensions.code).toBe('RATE_LIMITED');
    // Blocked, the address gets no answer about any token (no oracle), good ones included.
    expect((await f.api('/api/telemetry/live-vms')).status).toBe(429);
    expect((await f.api('/healthz', { token: null })).status).toBe(200);
    expect(f.app.services.limitHits()['http.auth_failures']).toBeGreaterThanOrEqual(30);
  });
});

describe('per-token rate limit', () => {
  let r: TestApp;
  beforeAll(async () => {
    r = await startTestApp({ LIBVIRT_URI: 'test:///default', HTTP_RATE_LIMIT: '8' });
  });
  afterAll(() => r?.stop());

  it('a token past HTTP_RATE_LIMIT a minute gets 429 with Retry-After; another token is not slowed', async () => {
    const { body } = await r.gql(`mutation { createToken(name: "poller", role: viewer) { token } }`);
    const poller = body.data.createToken.token;
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await r.api('/api/telemetry/live-vms', { token: poller });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        expect((await res.json()).detail).toMatch(/rate limit of 8 requests per minute/);
      } else await res.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 429, 429]);
    expect((await r.api('/api/telemetry/status')).status).toBe(200); // the admin token has its own count
    const gql = await r.gql('{ me { role } }', undefined, poller);
    expect(gql.status).toBe(429);
    expect(r.app.services.limitHits()['http.rate_limit']).toBeGreaterThanOrEqual(3);
  });
});
