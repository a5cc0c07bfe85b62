// /api/openapi.json against the seeds: every seed endpoint the server serves is documented with the
// seeds' field names, units and error bodies, and every JSON example of the seeds (fixtures/seeds,
// copied verbatim) validates against the schema the document gives for it. An example whose
// endpoint no feature serves yet (seeds 003, 004) is skipped until its feature lands, except its
// error bodies, whose families the edge already answers for every path under their prefix.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { createValidator, fetchOpenapi, responseSchema, type OpenapiDoc } from './helpers/openapi.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/seeds/${name}.json`, import.meta.url), 'utf8'));

/** Each example: the operation and status it documents, or the body of the request. */
const EXAMPLES: { file: string; method: string; path: string; status: number | 'request'; family: 'DetailError' | 'TimestampedError' }[] = [
  { file: '000-live-vms.200', method: 'get', path: '/api/telemetry/live-vms', status: 200, family: 'DetailError' },
  { file: '000-vm-stats.200', method: 'get', path: '/api/telemetry/vm-stats/{vm_id}', status: 200, family: 'DetailError' },
  { file: '003-trigger.request', method: 'post', path: '/api/memory-dumps/trigger', status: 'request', family: 'DetailError' },
  { file: '003-trigger.200', method: 'post', path: '/api/memory-dumps/trigger', status: 200, family: 'DetailError' },
  { file: '003-trigger.400', method: 'post', path: '/api/memory-dumps/trigger', status: 400, family: 'DetailError' },
  { file: '003-records.200', method: 'get', path: '/api/memory-dumps/records', status: 200, family: 'DetailError' },
  { file: '003-records.500', method: 'get', path: '/api/memory-dumps/records', status: 500, family: 'DetailError' },
  { file: '003-status-completed.200', method: 'get', path: '/api/memory-dumps/status', status: 200, family: 'DetailError' },
  { file: '003-status-in-progress.200', method: 'get', path: '/api/memory-dumps/status', status: 200, family: 'DetailError' },
  { file: '003-status-idle.200', method: 'get', path: '/api/memory-dumps/status', status: 200, family: 'DetailError' },
  { file: '003-stats.200', method: 'get', path: '/api/memory-dumps/stats', status: 200, family: 'DetailError' },
  { file: '003-error-format', method: 'post', path: '/api/memory-dumps/trigger', status: 400, family: 'DetailError' },
  { file: '003-error-no-vm-ids', method: 'post', path: '/api/memory-dumps/trigger', status: 400, family: 'DetailError' },
  { file: '003-error-influx-unavailable', method: 'get', path: '/api/memory-dumps/records', status: 500, family: 'DetailError' },
  { file: '003-error-timeout', method: 'get', path: '/api/memory-dumps/status', status: 500, family: 'DetailError' },
  { file: '004-vm-contexts.200', method: 'get', path: '/api/v1/vm-contexts', status: 200, family: 'TimestampedError' },
  { file: '004-vm-context.200', method: 'get', path: '/api/v1/vm-contexts/{vm_name}', status: 200, family: 'TimestampedError' },
  { file: '004-vm-context.404', method: 'get', path: '/api/v1/vm-contexts/{vm_name}', status: 404, family: 'TimestampedError' },
  { file: '004-vm-contexts.401', method: 'get', path: '/api/v1/vm-contexts', status: 401, family: 'TimestampedError' },
  { file: '004-vm-context.500', method: 'get', path: '/api/v1/vm-contexts/{vm_name}', status: 500, family: 'TimestampedError' },
];

/** The endpoints served today (seeds 000–002 and 004). */
const SERVED = [
  'GET /api/telemetry/live-vms',
  'GET /api/telemetry/vm-stats/{vm_id}',
  'POST /api/telemetry/start',
  'POST /api/telemetry/stop',
  'GET /api/telemetry/status',
  'GET /api/telemetry/vms',
  'GET /api/telemetry/config',
  'GET /api/metrics/vm/{vm_id}',
  'GET /api/metrics/vm/{vm_id}/history',
  'GET /api/v1/vm-contexts',
  'GET /api/v1/vm-contexts/{vm_name}',
  // vmpulse's additions under seed 004's prefix: the replicators' reports
  'POST /api/v1/vm-contexts',
  'POST /api/v1/replication-jobs',
  'POST /api/v1/replication-jobs/progress',
  'POST /api/v1/replication-jobs/cbt',
  'POST /api/v1/replication-jobs/complete',
  'POST /api/v1/replication-jobs/fail',
  'GET /metrics',
];

let t: TestApp;
let doc: OpenapiDoc;
let validate: ReturnType<typeof createValidator>;

// The document is generated from the routes when the server starts: fetched from a real one.
beforeAll(async () => {
  t = await startTestApp({ LIBVIRT_URI: 'test:///default' });
  doc = await fetchOpenapi(t.url);
  validate = createValidator(doc);
});
afterAll(() => t?.stop());

const operation = (method: string, path: string) => doc.paths[path]?.[method];

describe('the seeds’ examples validate against /api/openapi.json', () => {
  for (const ex of EXAMPLES) {
    it(`${ex.file} (${ex.method.toUpperCase()} ${ex.path} ${ex.status})`, (ctx) => {
      const op = operation(ex.method, ex.path);
      const isError = typeof ex.status === 'number' && ex.status >= 400;
      let schema: unknown;
      if (op) schema = ex.status === 'request' ? op.requestBody?.content['application/json']?.schema : responseSchema(op, ex.status);
      // The edge answers a family's errors under its prefix before any route of it exists.
      else if (isError) schema = doc.components.schemas[ex.family];
      if (schema === undefined) {
        if (!op) return ctx.skip(`${ex.method.toUpperCase()} ${ex.path} is not served yet`);
        throw new Error(`${ex.method.toUpperCase()} ${ex.path} documents no ${ex.status} schema`);
      }
      expect(validate(schema, fixture(ex.file))).toBe('');
    });
  }

  it('a body that breaks the documented shape does not validate (the check has teeth)', () => {
    const good = fixture('000-vm-stats.200') as { metrics: Record<string, unknown> };
    const schema = responseSchema(operation('get', '/api/telemetry/vm-stats/{vm_id}')!, 200);
    expect(validate(schema, { ...good, metrics: { ...good.metrics, disk_rd_reqs: 1000 } })).toMatch(/additional/);
    expect(validate(schema, { ...good, vm_id: 1 })).toMatch(/vm_id/);
    expect(validate(schema, { ...good, metrics: { ...good.metrics, cputime: '1234' } })).toMatch(/cputime/);
  });
});

describe('the document', () => {
  it('is OpenAPI 3.1 and lists exactly the REST endpoints served', () => {
    expect(doc.openapi).toBe('3.1.0');
    const listed = Object.entries(doc.paths).flatMap(([p, ms]) => Object.keys(ms).map((m) => `${m.toUpperCase()} ${p}`));
    expect(listed.sort()).toEqual([...SERVED].sort());
  });

  it('every operation names its least role, needs the bearer token and documents its errors in the family body', () => {
    for (const [p, methods] of Object.entries(doc.paths)) {
      for (const op of Object.values(methods)) {
        expect(['viewer', 'operator', 'admin']).toContain(op['x-vmpulse-role']);
        expect(op.security).toEqual([{ bearerAuth: [] }]);
        const family = p.startsWith('/api/v1') ? 'TimestampedError' : p === '/metrics' ? 'TextError' : 'DetailError';
        for (const status of [401, 429, 500]) expect(responseSchema(op, status), `${p} ${status}`).toEqual({ $ref: `#/components/schemas/${family}` });
        if (op['x-vmpulse-role'] !== 'viewer') expect(responseSchema(op, 403)).toBeDefined();
        if (p.includes('{')) expect(responseSchema(op, 404)).toBeDefined();
      }
    }
  });

  it('keeps the seeds’ field names, odd spellings included, and states their units', () => {
    const s = doc.components.schemas as Record<string, any>;
    const metrics = s.VmStats.properties.metrics.properties;
    expect(Object.keys(metrics)).toHaveLength(27); // state, cpus and the 25 counters and gauges
    expect(metrics).toHaveProperty('disk_rd_req');
    expect(metrics).toHaveProperty('disk_wr_reqs');
    const units: [string, string][] = [['cputime', 'ns'], ['timeusr', 'ns'], ['memactual', 'KB'], ['memrss', 'KB'], ['memswap_in', 'pages'], ['net_rxbytes', 'bytes'], ['net_txpackets', 'packets'], ['disk_rd_req', 'requests'], ['disk_errors', 'count']];
    for (const [field, unit] of units) {
      expect(metrics[field].description, field).toMatch(new RegExp(`\\b${unit}\\b`));
      expect(metrics[field]).toMatchObject({ type: 'integer', format: 'int64' });
    }
    expect(s.VmStats.properties.timestamp.description).toMatch(/unix seconds/);
    const vm = s.LiveVms.properties.vms.items.properties;
    expect(vm.memory_max.description).toMatch(/\bKB\b/);
    expect(vm.cputime.description).toMatch(/\bns\b/);
    const usage = s.VmMetrics.properties;
    expect(usage.cpu_usage.description).toMatch(/%/);
    expect(usage.memory_used_mb.description).toMatch(/\bMB\b/);
    expect(usage.disk_used_gb.description).toMatch(/\bGB\b/);
    expect(s.DetailError.required).toEqual(['detail']);
    expect(s.TimestampedError.required.sort()).toEqual(['error', 'timestamp']);
  });

  it('is browsable at /api/docs', async () => {
    const page = await fetch(`${t.url}/api/docs`, { redirect: 'follow' });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/swagger-ui/);
  });
});
