// GraphQL, graphql-ws and SSE as a hostile client would use them: each limit answers with its
// status and reason, is counted in /api/telemetry/status, is logged as one line, and leaves the
// server (and the other operations on the same socket) working.
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_FIELDS } from '../src/domain/history.js';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { startTestApp, testDataDir, type TestApp } from './helpers/app.js';
import { deepSelection, fanOut, initSocket, manyAliases, rawSocket, readSse } from './helpers/hostile.js';

let t: TestApp;
const logLines: any[] = [];

beforeAll(async () => {
  const dataDir = testDataDir();
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
      done();
    },
  });
  t = await startTestApp(
    {
      LIBVIRT_URI: writeDemoFleet(path.join(dataDir, 'fleet.xml')),
      POLL_INTERVAL: '0.5',
      WS_INIT_TIMEOUT: '1.5',
      WS_MAX_SOCKETS_PER_TOKEN: '3',
      SSE_MAX_STREAMS_PER_TOKEN: '2',
    },
    dataDir,
    pino({ level: 'info' }, sink),
  );
});
afterAll(() => t?.stop());

async function token(role: 'viewer' | 'operator' | 'admin', name = `${role}-${Math.random().toString(36).slice(2, 8)}`): Promise<string> {
  const { body } = await t.gql(`mutation($n: String!, $r: Role!) { createToken(name: $n, role: $r) { token } }`, { n: name, r: role });
  return body.data.createToken.token;
}
const limitHits = async (): Promise<Record<string, number>> => (await (await t.api('/api/telemetry/status')).json()).limits;
const running = () => t.app.services.vms.list({ state: 'running' });

/** POST /graphql as an API client does (Accept: application/json): status and body. */
async function post(query: string, variables?: Record<string, unknown>, tok?: string | null) {
  return t.gql(query, variables, tok);
}

function expectRefused(res: { status: number; body: any }, limit: string, status = 400) {
  expect(res.status).toBe(status);
  expect(res.body.data).toBeUndefined();
  expect(res.body.errors).toHaveLength(1);
  expect(res.body.errors[0].extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', limit });
  expect(res.body.errors[0].message).not.toMatch(/Unexpected error/);
}

describe('documents', () => {
  it('a selection nested 2,000 deep is 400 (token limit), not a parser stack overflow', async () => {
    const res = await post(deepSelection(2000));
    expectRefused(res, 'graphql.tokens');
    expect(res.body.errors[0].message).toMatch(/more than 1000 tokens.*GRAPHQL_MAX_TOKENS/);
    const deep = await post(deepSelection(50)); // within the token limit: the depth limit
    expectRefused(deep, 'graphql.depth');
    expect((await t.api('/healthz')).status).toBe(200);
  });

  it('10,000 aliases are refused before validation; 16 aliases past the alias limit', async () => {
    const t0 = Date.now();
    expectRefused(await post(manyAliases(10_000)), 'graphql.tokens');
    expect(Date.now() - t0).toBeLessThan(2000);
    const res = await post(manyAliases(16));
    expectRefused(res, 'graphql.aliases');
    expect(res.body.errors[0].message).toMatch(/Aliases limit of 15 exceeded, found 16/);
    expect((await post(manyAliases(15))).body.errors).toBeUndefined();
  });

  it("fragments fanning out are refused: the 1 KB 'doubling' document by depth, a shallow one by aliases counted through each spread", async () => {
    const doc = fanOut(16, 'id uuid name state cpuCount memoryMax memoryUsed cputime present updatedAt host { id name uri demo connected }');
    expect(doc.length).toBeGreaterThan(1000);
    const t0 = Date.now();
    const res = await post(doc);
    expectRefused(res, 'graphql.depth');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(JSON.stringify(res.body).length).toBeLessThan(500);
    // Within the depth limit, aliases are counted through every spread: 4 levels make 2 + 2·(2 + 2·2) = 14 (allowed), 5 make 30.
    expect((await post(fanOut(4))).body.errors).toBeUndefined();
    const wider = await post(fanOut(5));
    expectRefused(wider, 'graphql.aliases');
    expect(wider.body.errors[0].message).toMatch(/found 30/);
  });

  it('more than 20 directives are refused', async () => {
    const fields = ['me', 'serverInfo', 'fleet', 'hosts', 'collectorStatus'];
    const many = `{ ${fields.map((f) => `${f} @include(if: true) @skip(if: false) { __typename @include(if: true) @skip(if: false) }`).join(' ')} me { name @include(if: true) } }`;
    const refused = await post(many);
    expectRefused(refused, 'graphql.directives');
  });

  it('the same document sent again gets the same answer: a refusal is refused and counted every time, over HTTP and graphql-ws; a document that passed keeps running', async () => {
    const tooMany = manyAliases(16);
    const fine = manyAliases(15);
    const counted = async () => (await limitHits())['graphql.aliases'] ?? 0;
    const before = await counted();
    for (let i = 0; i < 3; i++) {
      expect((await post(fine)).body.errors).toBeUndefined();
      expectRefused(await post(tooMany), 'graphql.aliases');
    }
    const s = await initSocket(t.url, await token('viewer'));
    for (let i = 0; i < 2; i++) {
      s.send({ id: `ok${i}`, type: 'subscribe', payload: { query: fine } });
      expect((await s.next((m) => m.id === `ok${i}` && m.type !== 'complete')).type).toBe('next');
      s.send({ id: `no${i}`, type: 'subscribe', payload: { query: tooMany } });
      const err = await s.next((m) => m.id === `no${i}`);
      expect(err.type).toBe('error');
      expect(err.payload[0].extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 'graphql.aliases' });
    }
    s.ws.close();
    expect((await counted()) - before).toBe(5);
  });

  it('a syntax error is 400 with the parser message; an unknown field is 400 with the validation message', async () => {
    const syntax = await post('{ vms { id ');
    expect(syntax.status).toBe(400);
    expect(syntax.body.errors[0].message).toMatch(/Syntax Error/);
    const unknown = await post('{ vms { nope } }');
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].message).toMatch(/Cannot query field "nope"/);
  });
});

describe('cost', () => {
  it('history of every VM at the finest step over 30 days costs too much; one VM is fine', async () => {
    const all = HISTORY_FIELDS.join(' ');
    const q = `{ vms { history(input: { range: LAST_30_DAYS, step: 1296, fields: [${all}] }) { points { timestamp } } } }`;
    const res = await post(q);
    expectRefused(res, 'graphql.cost');
    expect(res.body.errors[0].message).toMatch(/would cost \d+ \(max 200000, GRAPHQL_MAX_COST\)/);
    const vm = running()[0]!;
    const one = await post(`query($id: ID) { vm(id: $id) { history(input: { range: LAST_30_DAYS, step: 1296, fields: [${all}] }) { stepSec } } }`, { id: String(vm.id) });
    expect(one.body.errors).toBeUndefined();
    expect(one.body.data.vm.history.stepSec).toBe(1296);
  });

  it('the cost reads variables', async () => {
    const q = `query($f: [HistoryField!]) { vms { history(input: { range: LAST_30_DAYS, step: 1296, fields: $f }) { stepSec } } }`;
    expectRefused(await post(q, { f: [...HISTORY_FIELDS] }), 'graphql.cost');
    expect((await post(q, { f: ['cpu_pct'] })).body.errors).toBeUndefined();
  });
});

describe('arguments', () => {
  it('createToken with a NUL in the name and revokeToken past the integer range are 400 with a reason', async () => {
    const nul = await post(`mutation { createToken(name: "\\u0000evil", role: viewer) { token } }`);
    expect(nul.status).toBe(400);
    expect(nul.body.errors[0]).toMatchObject({ extensions: { code: 'BAD_REQUEST' } });
    expect(nul.body.errors[0].message).toMatch(/control characters/);
    const big = await post(`mutation { revokeToken(id: "2147483648") { id } }`);
    expect(big.status).toBe(400);
    expect(big.body.errors[0].message).toMatch(/id must be from 1 to 2147483647/);
    const word = await post(`mutation { revokeToken(id: "abc") { id } }`);
    expect(word.status).toBe(400);
    const long = await post(`mutation($n: String!) { createToken(name: $n, role: viewer) { token } }`, { n: 'x'.repeat(101) });
    expect(long.status).toBe(400);
    expect(long.body.errors[0].message).toMatch(/at most 100/);
  });

  it('history: out-of-range steps, too many points, both range and from/to are 400 with a reason', async () => {
    const id = String(running()[0]!.id);
    const ask = (input: string) => post(`query($id: ID) { vm(id: $id) { history(input: ${input}) { stepSec } } }`, { id });
    for (const [input, reason] of [
      ['{ range: LAST_HOUR, step: 0 }', /step must be at least 1/],
      ['{ range: LAST_HOUR, step: 999999999 }', /step must be at most 2592000/],
      ['{ range: LAST_24_HOURS, step: 1 }', /86400 points; use a step of at least 44 s/],
      ['{ range: LAST_HOUR, from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z" }', /either a range or from and to/],
      ['{ from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z" }', /from must be before to/],
      ['{ fields: [] , range: LAST_HOUR }', /at least one/],
    ] as const) {
      const res = await ask(input);
      expect(res.status, input).toBe(400);
      expect(res.body.errors[0].message, input).toMatch(reason);
      expect(res.body.errors[0].extensions.code, input).toBe('BAD_REQUEST');
    }
  });

  it('names that exist on Object.prototype are not ranges, states or fields', async () => {
    const id = String(running()[0]!.id);
    for (const q of [
      `query($id: ID) { vm(id: $id) { history(input: { range: toString }) { stepSec } } }`,
      `query($id: ID) { vm(id: $id) { history(input: { range: LAST_HOUR, fields: [__proto__] }) { stepSec } } }`,
      `{ vms(filter: { state: constructor }) { id } }`,
    ]) {
      const res = await post(q, { id });
      expect(res.status, q).toBe(400);
      expect(res.body.errors[0].message, q).toMatch(/does not exist in|Enum|cannot represent|Expected/);
    }
    const viaVariable = await post(`query($id: ID, $r: HistoryRange!) { vm(id: $id) { history(input: { range: $r }) { stepSec } } }`, { id, r: 'toString' });
    expect(viaVariable.status).toBe(400);
    expect(viaVariable.body.errors[0].message).toMatch(/Value "toString" does not exist in "HistoryRange" enum/);
  });

  it('vm() wants exactly one of id, uuid, name', async () => {
    const res = await post(`{ vm(id: "1", name: "x") { id } }`);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].message).toMatch(/exactly one of id, uuid, name/);
  });
});

describe('authentication first', () => {
  it('introspection and field suggestions need a token: a stranger gets 401 and nothing of the schema', async () => {
    for (const q of ['{ __schema { types { name } } }', '{ token }', '{ vms { id } }']) {
      const res = await t.api('/graphql', { method: 'POST', token: null, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q }) });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const text = await res.text();
      expect(text).not.toMatch(/Did you mean|__schema|MetricSnapshot|Query/);
      expect(JSON.parse(text).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
    const viewer = await token('viewer');
    const ok = await post('{ __schema { queryType { name } } }', undefined, viewer);
    expect(ok.body.data.__schema.queryType.name).toBe('Query');
  });

  it('GraphiQL, a static page, opens without a token; what it sends needs one', async () => {
    const page = await t.api('/graphql', { token: null, headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('GraphiQL');
    const get = await t.api(`/graphql?query=${encodeURIComponent('{ me { name } }')}`, { token: null });
    expect(get.status).toBe(401);
  });

  it('answers 401 before reading a large body', async () => {
    const body = JSON.stringify({ query: `{ me { name } }`, variables: { pad: 'x'.repeat(5_000_000) } });
    const t0 = Date.now();
    const res = await t.api('/graphql', { method: 'POST', token: 'wrong', headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(401);
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});

describe('graphql-ws', () => {
  it('a 100 MiB frame before connection_init is refused from its header (1009); the server keeps answering', async () => {
    const frame = Buffer.alloc(100 * 1024 * 1024, 0x20);
    const rssBefore = process.memoryUsage().rss;
    const s = rawSocket(t.url);
    await s.opened;
    s.ws.send(frame, { compress: false });
    const { code } = await s.closed;
    expect(code).toBe(1009);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(300 * 1024 * 1024); // the client's own buffer, not the server's copy
    expect((await t.api('/healthz')).status).toBe(200);
    expect((await limitHits())['ws.payload_before_init']).toBeGreaterThanOrEqual(1);
  });

  it('a message over 64 KiB after connection_init is refused too (1009)', async () => {
    const s = await initSocket(t.url, await token('viewer'));
    s.send({ id: '1', type: 'subscribe', payload: { query: `subscription { fleetMetrics { timestamp } }`, variables: { pad: 'x'.repeat(70_000) } } });
    expect((await s.closed).code).toBe(1009);
    expect((await limitHits())['ws.payload']).toBeGreaterThanOrEqual(1);
  });

  it('a socket that sends no connection_init is closed 4408 after WS_INIT_TIMEOUT', async () => {
    const s = rawSocket(t.url);
    await s.opened;
    const t0 = Date.now();
    const { code, at } = await s.closed;
    expect(code).toBe(4408);
    expect(at - t0).toBeLessThan(3000);
    expect((await limitHits())['ws.init_timeout']).toBeGreaterThanOrEqual(1);
  });

  it('a syntax error in one subscribe is an error for that id; the other subscription keeps receiving on the same socket', async () => {
    const s = await initSocket(t.url, await token('viewer'));
    s.send({ id: 'good', type: 'subscribe', payload: { query: `subscription { fleetMetrics { timestamp } }` } });
    await s.next((m) => m.id === 'good' && m.type === 'next');
    s.send({ id: 'bad', type: 'subscribe', payload: { query: `subscription { fleetMetrics { timestamp ` } });
    const err = await s.next((m) => m.id === 'bad');
    expect(err.type).toBe('error');
    expect(err.payload[0].message).toMatch(/Syntax Error/);
    s.send({ id: 'invalid', type: 'subscribe', payload: { query: `subscription { nope }` } });
    expect((await s.next((m) => m.id === 'invalid')).type).toBe('error');
    s.send({ id: 'deep', type: 'subscribe', payload: { query: deepSelection(2000) } });
    expect((await s.next((m) => m.id === 'deep')).payload[0].extensions).toMatchObject({ limit: 'graphql.tokens' });
    const before = s.messages.filter((m) => m.id === 'good').length;
    await s.next((m) => m.id === 'good' && s.messages.filter((x) => x.id === 'good').length > before + 1, 5000);
    expect(s.ws.readyState).toBe(s.ws.OPEN);
    s.ws.close();
  });

  it('10,000 subscriptions on one socket: 50 run, the rest get an error each, the socket stays open', async () => {
    const s = await initSocket(t.url, await token('viewer'));
    for (let i = 0; i < 10_000; i++) s.send({ id: String(i), type: 'subscribe', payload: { query: `subscription { collectorStatus { ticks } }` } });
    await s.next(() => s.messages.filter((m) => m.type === 'error').length >= 10_000 - 50, 30_000);
    const refused = s.messages.filter((m) => m.type === 'error');
    expect(refused).toHaveLength(10_000 - 50);
    expect(refused[0].payload[0].extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 'ws.subscriptions_per_socket' });
    const live = new Set(s.messages.filter((m) => m.type === 'next').map((m) => m.id));
    expect(live.size).toBeLessThanOrEqual(50);
    expect(s.ws.readyState).toBe(s.ws.OPEN);
    // Completing one frees a place.
    s.send({ id: '0', type: 'complete' });
    await new Promise((r) => setTimeout(r, 100));
    s.send({ id: 'again', type: 'subscribe', payload: { query: `subscription { collectorStatus { ticks } }` } });
    expect((await s.next((m) => m.id === 'again')).type).toBe('next');
    s.ws.close();
    expect((await limitHits())['ws.subscriptions_per_socket']).toBeGreaterThanOrEqual(10_000 - 50);
  });

  it('at most WS_MAX_SOCKETS_PER_TOKEN sockets per token (1013 past it); other tokens are not affected', async () => {
    const mine = await token('viewer');
    const open = await Promise.all([1, 2, 3].map(() => initSocket(t.url, mine)));
    const fourth = rawSocket(t.url);
    await fourth.opened;
    fourth.send({ type: 'connection_init', payload: { authorization: `Bearer ${mine}` } });
    const { code, reason } = await fourth.closed;
    expect(code).toBe(1013);
    expect(reason).toMatch(/too many sockets for this token \(max 3\)/);
    const other = await initSocket(t.url, await token('viewer'));
    open[0]!.ws.close();
    await open[0]!.closed;
    await new Promise((r) => setTimeout(r, 100));
    const again = await initSocket(t.url, mine); // a place is free again
    for (const s of [...open, other, again]) s.ws.close();
    expect((await limitHits())['ws.sockets_per_token']).toBeGreaterThanOrEqual(1);
  });

  it('a query and a mutation run over graphql-ws too, with the role checked per operation', async () => {
    const viewer = await token('viewer');
    const client = t.ws(viewer);
    const me = await new Promise<any>((resolve) => client.subscribe({ query: '{ me { role } }' }, { next: resolve, error: resolve, complete: () => {} }));
    expect(me.data.me.role).toBe('viewer');
    const denied = await new Promise<any>((resolve) => client.subscribe({ query: 'mutation { stopCollector { running } }' }, { next: resolve, error: resolve, complete: () => {} }));
    expect(denied.errors[0].extensions.code).toBe('FORBIDDEN');
    await client.dispose();
  });
});

describe('SSE', () => {
  const sse = (tok: string, query: string, signal?: AbortSignal) =>
    t.api('/graphql', { method: 'POST', token: tok, signal, headers: { accept: 'text/event-stream', 'content-type': 'application/json' }, body: JSON.stringify({ query }) });

  it('at most SSE_MAX_STREAMS_PER_TOKEN open streams per token: 429 past it, a place frees when one ends', async () => {
    const tok = await token('viewer');
    const ctrls = [new AbortController(), new AbortController()];
    const streams = await Promise.all(ctrls.map((c) => sse(tok, `subscription { fleetMetrics { timestamp } }`, c.signal)));
    for (const s of streams) expect((await readSse(s, (x) => x.includes('event: next'))).text).toContain('timestamp');
    const third = await sse(tok, `subscription { fleetMetrics { timestamp } }`);
    expect(third.status).toBe(429);
    expect(await third.text()).toMatch(/too many open SSE streams for this token \(max 2/);
    ctrls[0]!.abort();
    await new Promise((r) => setTimeout(r, 300));
    const ctrl = new AbortController();
    const again = await sse(tok, `subscription { fleetMetrics { timestamp } }`, ctrl.signal);
    expect(again.status).toBe(200);
    ctrl.abort();
    ctrls[1]!.abort();
    expect((await limitHits())['sse.streams_per_token']).toBeGreaterThanOrEqual(1);
  });
});

describe('logging', () => {
  it('a client-caused error logs one line without a stack; an unexpected one is logged in full and answered masked', async () => {
    logLines.length = 0;
    await post('{ vms { id ');
    await post(`mutation { revokeToken(id: "2147483648") { id } }`);
    const client = logLines.filter((l) => /^graphql\./.test(l.kind ?? ''));
    expect(client.length).toBeGreaterThanOrEqual(2);
    for (const l of client) {
      expect(l.level).toBe(30);
      expect(JSON.stringify(l)).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack
    }
    const hosts = t.app.services.hosts;
    const list = hosts.list;
    hosts.list = () => {
      throw new Error('boom: disk on fire at /var/lib/secret');
    };
    try {
      const res = await post('{ hosts { id } }');
      expect(res.body.errors[0].message).toBe('Unexpected error.');
      expect(JSON.stringify(res.body)).not.toMatch(/boom|secret/);
    } finally {
      hosts.list = list;
    }
    const full = logLines.find((l) => l.level === 50 && l.err?.message?.includes('boom'));
    expect(full?.err.stack).toMatch(/at /);
  });

  it('a flood of bad requests logs at most 20 lines a minute per kind', async () => {
    logLines.length = 0;
    await Promise.all(Array.from({ length: 60 }, () => post('{ nope ')));
    expect(logLines.filter((l) => l.kind === 'graphql.parse').length).toBeLessThanOrEqual(20);
  });
});

describe('limits are counted', () => {
  it('/api/telemetry/status lists each limit that refused something', async () => {
    const hits = await limitHits();
    for (const name of ['graphql.tokens', 'graphql.depth', 'graphql.aliases', 'graphql.directives', 'graphql.cost', 'ws.payload_before_init', 'ws.subscriptions_per_socket']) {
      expect(hits[name], name).toBeGreaterThan(0);
    }
  });
});

describe('a 1,000-VM fleet', () => {
  let big: TestApp;
  beforeAll(async () => {
    const dataDir = testDataDir();
    big = await startTestApp({ LIBVIRT_URI: writeDemoFleet(path.join(dataDir, 'fleet.xml'), { count: 1000 }), POLL_INTERVAL: '60' }, dataDir);
  });
  afterAll(() => big?.stop());

  it('refuses history for 1,000 VMs × 30 days, and still lists the fleet', async () => {
    const res = await big.gql(`{ vms { name history(input: { range: LAST_30_DAYS }) { points { timestamp values { field avg } } } } }`);
    expectRefused(res, 'graphql.cost');
    const list = await big.gql(`{ vms { id name state host { name } } }`);
    expect(list.body.errors).toBeUndefined();
    expect(list.body.data.vms).toHaveLength(1000);
    const one = await big.gql(`{ vm(name: "web-001") { history(input: { range: LAST_30_DAYS }) { stepSec } } }`);
    expect(one.body.errors).toBeUndefined();
  });
});
