// The real vmpulse server for browser tests: built server (server/dist) + built SPA (web/dist),
// a fresh DATA_DIR, a known admin token and a demo fleet on libvirt's test driver.
// startServer() is used by the global setup; restartServer() by tests (same port, same DATA_DIR).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, RESULTS_DIR, SERVER_LOG, SERVER_MAIN, STATE_FILE, WEB_INDEX } from './paths';

export interface ServerState {
  pid: number;
  port: number;
  url: string;
  dataDir: string;
  adminToken: string;
  libvirtUri: string;
  /** the environment the server runs with (restart reuses it) */
  env: Record<string, string>;
  logFile: string;
  /** DUMP_DIR's tmpfs (see roomyDumpDir), unmounted by removeServer() */
  dumpMount?: string;
}

export interface StartOptions {
  /** number of demo VMs (default 16) */
  vms?: number;
  /** extra or overriding environment for the server */
  env?: Record<string, string>;
  /** where to record the server for restartServer()/teardown; null: a private server the caller stops itself */
  stateFile?: string | null;
  /** server log file (default test-results/e2e-server.log) */
  logFile?: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * DUMP_DIR on a tmpfs of 1 TiB: a dump is refused unless free space covers its guest's memory and
 * that of the dumps ahead of it, and the 12 running guests of the demo fleet have 84 GiB, more than
 * a test machine's disk may have free. A tmpfs's size is a limit, not memory taken: only what is
 * written costs memory (the test driver's dumps are 15 bytes). Mounting needs root, as the server's
 * tests do; without it DUMP_DIR stays on the disk (null).
 */
function roomyDumpDir(dataDir: string): string | null {
  const dir = path.join(dataDir, 'dumps');
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${2 ** 40},mode=0700`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    return null;
  }
}

/** Writes the demo fleet XML with the server's own generator (from the server build). */
async function writeFleet(dataDir: string, count: number): Promise<string> {
  const mod = (await import(pathToFileURL(path.join(REPO_ROOT, 'server', 'dist', 'src', 'libvirt', 'demo-fleet.js')).href)) as {
    writeDemoFleet: (file: string, opts?: { count?: number }) => string;
  };
  return mod.writeDemoFleet(path.join(dataDir, 'e2e-fleet.xml'), { count });
}

export async function startServer(opts: StartOptions = {}): Promise<ServerState> {
  if (!existsSync(SERVER_MAIN)) throw new Error(`server is not built (${SERVER_MAIN}); run: pnpm --filter @vmpulse/server build`);
  if (!existsSync(WEB_INDEX)) throw new Error(`SPA is not built (${WEB_INDEX}); run: pnpm --filter @vmpulse/web build`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-e2e-'));
  const port = await freePort();
  const adminToken = `e2e_admin_${randomBytes(12).toString('hex')}`;
  const libvirtUri = await writeFleet(dataDir, opts.vms ?? 16);
  const dumpMount = opts.env?.DUMP_DIR ? null : roomyDumpDir(dataDir);
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    VMPULSE_ADMIN_TOKEN: adminToken,
    LIBVIRT_URI: libvirtUri,
    POLL_INTERVAL: '1',
    LOG_LEVEL: 'info',
    ...(dumpMount ? { DUMP_DIR: dumpMount } : {}),
    ...opts.env,
  };
  const state: ServerState = { pid: 0, port, url: `http://127.0.0.1:${port}`, dataDir, adminToken, libvirtUri, env, logFile: opts.logFile ?? SERVER_LOG, ...(dumpMount ? { dumpMount } : {}) };
  state.pid = await spawnServer(state);
  const stateFile = opts.stateFile === undefined ? STATE_FILE : opts.stateFile;
  if (stateFile) writeFileSync(stateFile, JSON.stringify(state, null, 2));
  return state;
}

/** The state the global setup left (in the runner or in a worker). */
export function readServerState(): ServerState {
  return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as ServerState;
}

async function spawnServer(state: ServerState): Promise<number> {
  const log = openSync(state.logFile, 'a');
  const child = spawn(process.execPath, [SERVER_MAIN], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...state.env },
    stdio: ['ignore', log, log],
    detached: true, // its own process group: stopServer() ends it and nothing else
  });
  child.unref();
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== null) throw new Error(`vmpulse exited with ${exited} while starting; see ${state.logFile}`);
    if (await ready(state.url)) return child.pid!;
    if (Date.now() > deadline) throw new Error(`vmpulse did not become ready in 60 s; see ${state.logFile}`);
    await sleep(200);
  }
}

async function ready(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

async function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** SIGTERM (graceful: the server stops its embedded PostgreSQL), then waits until the port is free. */
export async function stopServer(state: ServerState, timeoutMs = 20_000): Promise<void> {
  try {
    process.kill(-state.pid, 'SIGTERM');
  } catch {
    try {
      process.kill(state.pid, 'SIGTERM');
    } catch {
      return; // already gone
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (await portAnswers(state.port)) {
    if (Date.now() > deadline) {
      try {
        process.kill(-state.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      break;
    }
    await sleep(100);
  }
  // A killed process can linger as a zombie here (PID 1 does not reap); what matters is that
  // the port is free and the embedded PostgreSQL has let go of DATA_DIR.
  const pgPid = path.join(state.dataDir, 'postgres', 'postmaster.pid');
  for (let i = 0; i < 100 && existsSync(pgPid); i++) await sleep(100);
}

/** Stops the server for good: its DUMP_DIR tmpfs unmounted, its DATA_DIR removed. */
export async function removeServer(state: ServerState): Promise<void> {
  await stopServer(state);
  if (state.dumpMount) {
    try {
      execFileSync('umount', ['-l', state.dumpMount], { stdio: 'ignore' });
    } catch {
      /* not mounted */
    }
  }
  rmSync(state.dataDir, { recursive: true, force: true });
}

/** Stops the server and starts it again on the same port with the same DATA_DIR and token. */
export async function restartServer(opts: { downMs?: number } = {}): Promise<ServerState> {
  const state = readServerState();
  await stopServer(state);
  if (opts.downMs) await sleep(opts.downMs);
  state.pid = await spawnServer(state);
  writeFileSync(STATE_FILE, JSON.stringify(state, null, 2));
  return state;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
