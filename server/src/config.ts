// Every setting vmpulse reads: its environment name, default and unit, validated at start.
// A bad value stops the start with a message naming the variable.
import path from 'node:path';
import { z } from 'zod';

const seconds = (def: number, min = 0.01) =>
  z.coerce.number({ error: 'must be a number of seconds' }).min(min, `must be at least ${min} s`).default(def);
const integer = (def: number, min = 1, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number({ error: 'must be an integer' }).int('must be an integer').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`).default(def);
const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);
const optional = <T extends z.ZodTypeAny>(t: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), t.optional());

/** One entry per environment variable: what README's configuration table lists. */
const settings = {
  LIBVIRT_URI: {
    unit: 'URI list',
    default: 'qemu:///system if its daemon answers, else a demo fleet on the test driver',
    help: 'libvirt connection URI, or a comma-separated list (one connection per host)',
    schema: optional(
      z.string().transform((v, ctx) => {
        const uris = v.split(',').map((s) => s.trim()).filter(Boolean);
        for (const u of uris) {
          if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) ctx.addIssue({ code: 'custom', message: `"${u}" is not a libvirt URI (e.g. qemu:///system)` });
        }
        return uris;
      }),
    ),
  },
  DEMO_GUESTS: {
    unit: 'guests',
    default: '0 (none)',
    help: 'boot this many tiny real QEMU/TCG guests under the local libvirtd at start (installed when missing; root) and monitor them: LIBVIRT_URI gains qemu:///system; removed again at stop',
    schema: integer(0, 0, 32),
  },
  INFLUX_URL: { unit: 'URL', default: 'unset (history in PostgreSQL)', help: 'InfluxDB 3 base URL', schema: optional(url(['http:', 'https:'])) },
  INFLUX_DB: {
    unit: 'name',
    default: 'vmstats',
    help: 'InfluxDB 3 database (created by the first write)',
    // InfluxDB 3's validate_db_name (influxdb3_server/src/http.rs): refused names would fail every write.
    schema: z
      .string()
      .max(511, 'must be at most 511 characters')
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*(\/[A-Za-z0-9_-]+)?$/, 'must start with a letter or digit and hold only ASCII letters, digits, _ and - (optionally /<retention policy>)')
      .default('vmstats'),
  },
  INFLUX_TOKEN: { unit: 'secret', default: 'unset', help: 'InfluxDB 3 token', secret: true, schema: optional(z.string()) },
  POLL_INTERVAL: { unit: 's', default: '1.0', help: 'collector tick interval', schema: seconds(1.0, 0.1) },
  BATCH_MAX_LINES: { unit: 'lines', default: '2000', help: 'InfluxDB write batch size limit', schema: integer(2000) },
  BATCH_MAX_SEC: { unit: 's', default: '1.0', help: 'InfluxDB write batch age limit', schema: seconds(1.0) },
  DEVICE_CACHE_TTL: { unit: 's', default: '300', help: 'how long NIC and disk lists are cached', schema: seconds(300, 0) },
  LIBVIRT_TIMEOUT: { unit: 's', default: '30.0', help: 'bound on each libvirt call', schema: seconds(30.0, 0.1) },
  RETENTION_RAW_HOURS: { unit: 'h', default: '24', help: 'PostgreSQL history: raw samples kept', schema: integer(24) },
  RETENTION_1M_DAYS: { unit: 'days', default: '7', help: 'PostgreSQL history: 1-minute rollups kept', schema: integer(7) },
  RETENTION_1H_DAYS: { unit: 'days', default: '400', help: 'PostgreSQL history: 1-hour rollups kept', schema: integer(400) },
  INVENTORY_INTERVAL: { unit: 's', default: '30', help: 'periodic re-list of domains (events keep it live in between)', schema: seconds(30, 1) },
  MIGRATION_THROUGHPUT_WINDOW: { unit: 's', default: '30', help: 'migration jobs: throughput and ETA are smoothed over this window of progress reports', schema: seconds(30, 1) },
  MIGRATION_STALL_AFTER: { unit: 's', default: '60', help: 'migration jobs: a running job whose bytes have not moved for this long is flagged stalled', schema: seconds(60, 1) },
  MIGRATION_SCAN_INTERVAL: { unit: 's', default: '10', help: 'libvirt jobs: cheap periodic scan for jobs events may have missed (one bulk state call per host)', schema: seconds(10, 1) },
  MIGRATION_JOB_POLL: { unit: 's', default: '1', help: 'libvirt jobs: job stats / block job info polled this often, only for VMs with a job running', schema: seconds(1, 0.1) },
  PORT: { unit: 'port', default: '8000', help: 'HTTP port (API, GraphQL, SPA); 0 picks a free one', schema: integer(8000, 0, 65535) },
  HOST: { unit: 'address', default: '0.0.0.0', help: 'address to listen on', schema: z.string().min(1).default('0.0.0.0') },
  CORS_ORIGINS: {
    unit: 'origin list',
    default: 'unset (same origin only)',
    help: 'origins allowed to call the API from a browser, comma-separated, or *',
    schema: optional(z.string().transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))),
  },
  // HTTP edge limits: each refusal is answered in the endpoint family's error body and counted in
  // /api/telemetry/status `limits` under the name in brackets.
  HTTP_BODY_LIMIT: { unit: 'bytes', default: '1048576 (1 MiB)', help: 'largest request body; larger: 413 [http.body_size]', schema: integer(1_048_576, 1) },
  GRAPHQL_BODY_LIMIT: { unit: 'bytes', default: '1048576 (1 MiB)', help: 'largest POST /graphql body, read only after the token is checked; larger: 413 [http.body_size]', schema: integer(1_048_576, 1) },
  HTTP_MAX_URL: { unit: 'bytes', default: '8192', help: 'longest request target (path and query); longer: 414 [http.url_length]', schema: integer(8192, 256) },
  HTTP_HEADERS_TIMEOUT: { unit: 's', default: '10', help: 'time to send the request line and headers (slowloris), also for a new idle connection; then 408 and close [http.request_timeout]', schema: seconds(10, 0.1) },
  HTTP_REQUEST_TIMEOUT: { unit: 's', default: '30', help: 'time to send a whole request, body included; then 408 and close [http.request_timeout]', schema: seconds(30, 0.1) },
  HTTP_KEEP_ALIVE_TIMEOUT: { unit: 's', default: '5', help: 'an idle keep-alive connection is closed after this', schema: seconds(5, 0.1) },
  HTTP_MAX_CONNECTIONS: { unit: 'connections', default: '2500', help: 'open TCP connections, HTTP and WebSocket (room for WS_MAX_SOCKETS and HTTP clients beside them); more are closed at once [http.connections]', schema: integer(2500, 1) },
  HTTP_RATE_LIMIT: { unit: 'requests/min', default: '1200', help: 'API requests (REST and /graphql) per token, or per client address without one; more: 429 with Retry-After [http.rate_limit]', schema: integer(1200, 1) },
  HTTP_AUTH_FAILURE_LIMIT: { unit: 'failures/min', default: '30', help: 'failed authentications (no, malformed, wrong or revoked token) per client address; then every request of that address needing a token gets 429 with Retry-After until the minute is over [http.auth_failures]', schema: integer(30, 1) },
  DATA_DIR: { unit: 'path', default: './data', help: 'embedded PostgreSQL data, admin token file, demo fleet XML', schema: z.string().min(1).default('./data').transform((p) => path.resolve(p)) },
  DATABASE_URL: { unit: 'URL', default: 'unset (embedded PostgreSQL under DATA_DIR)', help: 'external PostgreSQL', secret: 'password', schema: optional(url(['postgres:', 'postgresql:'])) },
  LEASE_TTL: { unit: 's', default: '10', help: 'with DATABASE_URL: a host whose collecting replica stopped renewing its lease for this long is taken over by another replica', schema: seconds(10, 2) },
  REDIS_URL: { unit: 'URL', default: 'unset (in-process pubsub)', help: 'Redis for pubsub across replicas', secret: 'password', schema: optional(url(['redis:', 'rediss:'])) },
  AUTH: { unit: 'on|off', default: 'on', help: 'require API tokens', schema: z.enum(['on', 'off'], { error: 'must be "on" or "off"' }).default('on') },
  // GraphQL, graphql-ws and SSE limits. Each refusal is counted in /api/telemetry/status `limits`
  // under the name in brackets.
  GRAPHQL_MAX_TOKENS: { unit: 'tokens', default: '1000', help: 'lexical tokens in one GraphQL document; also bounds nesting before the parser recurses (graphql.tokens)', schema: integer(1000, 100) },
  GRAPHQL_MAX_DEPTH: { unit: 'levels', default: '10', help: 'selection depth of one operation, fragments flattened (graphql.depth)', schema: integer(10, 2) },
  GRAPHQL_MAX_ALIASES: { unit: 'aliases', default: '15', help: 'aliases in one operation, counted through every fragment spread (graphql.aliases)', schema: integer(15, 0) },
  GRAPHQL_MAX_DIRECTIVES: { unit: 'directives', default: '20', help: 'directives in one operation, counted through every fragment spread (graphql.directives)', schema: integer(20, 0) },
  GRAPHQL_MAX_COST: {
    unit: 'cost points',
    default: '200000',
    help: 'estimated values one operation may produce: 1 per field, list fields multiply their selection (vms by the VMs that match, history by points × fields) (graphql.cost)',
    schema: integer(200_000, 100),
  },
  WS_MAX_PAYLOAD_BEFORE_INIT: { unit: 'bytes', default: '65536', help: 'largest graphql-ws message before connection_init is acknowledged; close 1009 (ws.payload_before_init)', schema: integer(65_536, 1024) },
  WS_MAX_PAYLOAD: { unit: 'bytes', default: '65536', help: 'largest graphql-ws message after connection_init; close 1009 (ws.payload)', schema: integer(65_536, 1024) },
  WS_INIT_TIMEOUT: { unit: 's', default: '5', help: 'a socket that sends no valid connection_init within this is closed 4408 (ws.init_timeout)', schema: seconds(5, 0.1) },
  WS_MAX_SOCKETS: { unit: 'sockets', default: '2000', help: 'open graphql-ws sockets in total; close 1013 (ws.sockets)', schema: integer(2000) },
  WS_MAX_SOCKETS_PER_TOKEN: { unit: 'sockets', default: '20', help: 'open graphql-ws sockets of one token; close 1013 (ws.sockets_per_token)', schema: integer(20) },
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: { unit: 'subscriptions', default: '50', help: 'live operations on one graphql-ws socket; more get an error message, the socket stays open (ws.subscriptions_per_socket)', schema: integer(50) },
  SSE_MAX_STREAMS_PER_TOKEN: { unit: 'streams', default: '20', help: 'open GraphQL subscriptions over SSE of one token; more get HTTP 429 (sse.streams_per_token)', schema: integer(20) },
  STREAM_AUTH_RECHECK: { unit: 's', default: '2', help: "how often open graphql-ws and SSE streams re-read their token's revocation from the database (a revoked token's streams end within this plus a query)", schema: seconds(2, 0.1) },
  VMPULSE_ADMIN_TOKEN: { unit: 'secret', default: 'unset (first start creates one)', help: 'a token accepted as admin, for automation', secret: true, schema: optional(z.string()) },
  // Memory dumps (issue 8, seed 003).
  DUMP_DIR: { unit: 'path', default: 'DATA_DIR/dumps', help: 'where finished dumps (<vmid>_<unix>.mem.gz, mode 0600) are kept', schema: optional(z.string().min(1).transform((p) => path.resolve(p))) },
  DUMP_REMOTE_POOL: { unit: 'name', default: 'vmpulse-dumps', help: 'on a remote host (qemu+ssh://…), the libvirt storage pool a dump is written into before it is streamed back (a transient directory pool made at DUMP_REMOTE_DIR when missing); its available bytes are checked against the guest\'s memory first', schema: z.string().min(1).max(200).default('vmpulse-dumps') },
  DUMP_REMOTE_DIR: { unit: 'path', default: '/var/lib/libvirt/vmpulse-dumps', help: 'the directory on the remote host of the pool DUMP_REMOTE_POOL, when vmpulse makes it', schema: z.string().min(1).default('/var/lib/libvirt/vmpulse-dumps') },
  DUMP_FORMAT: { unit: 'elf|kdump-zlib', default: 'elf', help: 'memory-only dump format when the caller names none (ELF: what Volatility and crash read)', schema: z.enum(['elf', 'kdump-zlib'], { error: 'must be "elf" or "kdump-zlib"' }).default('elf') },
  DUMP_TIMEOUT: { unit: 's', default: '300', help: 'a dump running longer is stopped (status timeout), its files removed', schema: seconds(300, 0.1) },
  DUMP_CONCURRENCY: { unit: 'dumps', default: '3', help: 'dumps running at once (per server process)', schema: integer(3, 1, 64) },
  DUMP_MIN_INTERVAL: { unit: 's', default: '60', help: 'a VM dumped (or being dumped) less than this ago is refused for that VM', schema: seconds(60, 0) },
  DUMP_RETENTION_COUNT: { unit: 'dumps', default: '0 (no limit)', help: 'keep at most this many dump files; the oldest are deleted, their records marked deleted', schema: integer(0, 0) },
  DUMP_RETENTION_GB: { unit: 'GB', default: '0 (no limit)', help: 'keep at most this many GB (10^9 bytes) of dump files', schema: z.coerce.number({ error: 'must be a number' }).min(0, 'must be at least 0').default(0) },
  DUMP_RETENTION_DAYS: { unit: 'days', default: '0 (no limit)', help: 'delete dump files older than this', schema: z.coerce.number({ error: 'must be a number' }).min(0, 'must be at least 0').default(0) },
  LOG_LEVEL: { unit: 'level', default: 'info', help: 'fatal, error, warn, info, debug, trace', schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') },
} as const;

type Settings = typeof settings;
export type Config = { [K in keyof Settings]: z.output<Settings[K]['schema']> };

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, s] of Object.entries(settings)) {
    const r = (s.schema as z.ZodTypeAny).safeParse(env[name]);
    if (r.success) out[name] = r.data;
    else problems.push(`${name}=${JSON.stringify(env[name])}: ${r.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (problems.length) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return out as Config;
}

/** The configuration with secrets shown as *** (tokens whole, passwords inside URLs). */
export function safeConfig(config: Config): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(settings)) {
    const value = config[name as keyof Config];
    const secret = 'secret' in s ? s.secret : false;
    if (value === undefined || !secret) view[name] = value ?? null;
    else if (secret === true) view[name] = '***';
    else view[name] = maskUrlPassword(String(value));
  }
  return view;
}

function maskUrlPassword(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = '***';
    return u.toString().replace('%2A%2A%2A', '***');
  } catch {
    return '***';
  }
}
