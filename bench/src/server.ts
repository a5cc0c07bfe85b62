// The server under test: the built vmpulse (`node server/dist/src/main.js`) in a child process of its
// own, with probe.mjs preloaded for event-loop delay / RSS / CPU, its own DATA_DIR and port.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { BENCH_DIR, REPO_ROOT, freePort, sleep, trackChild, treeCpuSeconds, waitFor, withTimeout } from './util.js';

export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
export const SERVER_MAIN = path.join(REPO_ROOT, 'server', 'dist', 'src', 'main.js');

export interface ProbeReading {
  eventLoop: { resolutionMs: number; maxMs: number; p99Ms: number; p50Ms: number; meanMs: number; samples: number };
  rssMaxMiB: number;
  rssMiB: number;
  heapUsedMiB: number;
  memory?: { heapTotalMiB: number; newSpaceMiB: number; externalMiB: number; arrayBuffersMiB: number };
  cpuMs: number;
  wallMs: number;
  /** the same probe in an idle Node process over the same window: the machine's noise floor */
  idle?: { maxMs: number; p99Ms: number };
}

export interface TickStatus {
  ticks: number;
  samples: number;
  lastTickMs: number;
  lastTickCpuMs: number;
  staleVms: number;
  errors: number;
  at: number;
}

export interface ServerUnderTest {
  url: string;
  pid: number;
  dataDir: string;
  logFile: string;
  auth: { authorization: string };
  api<T = any>(pathname: string): Promise<T>;
  /** POST with the admin token, no body; resolves with the status */
  post(pathname: string): Promise<number>;
  probe(kind: 'reset'): Promise<void>;
  probe(kind: 'read'): Promise<ProbeReading>;
  /** writes a V8 heap snapshot of the server to `file` (the server stops for seconds meanwhile) */
  heapSnapshot(file: string): Promise<string>;
  /** CPU seconds of the server process and of its children (the embedded PostgreSQL) so far */
  cpu(): { self: number; descendants: number };
  /** every collector tick seen on the `collectorStatus` subscription, in order */
  ticks: TickStatus[];
  /** resolves once `n` more ticks than now have been seen (bounded) */
  waitTicks(n: number, timeoutMs?: number): Promise<TickStatus[]>;
  stop(): Promise<void>;
}

/** the Node flags `pnpm start` runs the server with, read from its script in the root package.json (bench/README.md, "Memory") */
const START_NODE_FLAGS = (() => {
  const start: string = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).scripts.start;
  const m = /\bnode ((?:--\S+ )*)server\/dist\/src\/main\.js/.exec(start);
  if (!m) throw new Error(`bench: no \`node … server/dist/src/main.js\` in pnpm start's script (${start})`);
  return m[1]!.split(' ').filter(Boolean);
})();

/** Node flags as given on the command line (`'--a --b=1'`), or `pnpm start`'s when none are given. */
export const nodeFlagsOf = (given: string | undefined): string[] => given?.split(/\s+/).filter(Boolean) ?? START_NODE_FLAGS;

export async function startServer(opts: { libvirtUri: string; pollInterval?: number; label: string; startTimeoutMs?: number; nodeOptions?: string; serverMain?: string; env?: Record<string, string>; cpuProfDir?: string }): Promise<ServerUnderTest> {
  const main = opts.serverMain ?? SERVER_MAIN;
  if (!existsSync(main)) throw new Error(`${main} is missing: build the server first (pnpm --filter @vmpulse/server build)`);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `vmpulse-bench-${opts.label}-`));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = path.join(dataDir, 'server.log');
  const log = createWriteStream(logFile);
  // `pnpm start`'s flags, unless --node-options gives others (instead of them). On the command line,
  // not in NODE_OPTIONS: Node refuses some V8 flags there (--single-threaded-gc).
  const nodeFlags = nodeFlagsOf(opts.nodeOptions);
  const cpuProf = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
  const child: ChildProcess = spawn(process.execPath, [...nodeFlags, ...cpuProf, '--import', pathToFileURL(path.join(BENCH_DIR, 'src', 'probe.mjs')).href, main], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LIBVIRT_URI: opts.libvirtUri,
      POLL_INTERVAL: String(opts.pollInterval ?? 1),
      VMPULSE_ADMIN_TOKEN: ADMIN_TOKEN,
      // Every load client shares the admin token: lift the per-token socket cap (default 20) above them.
      WS_MAX_SOCKETS_PER_TOKEN: '1000',
      LOG_LEVEL: 'warn',
      ...opts.env,
    },
  });
  trackChild(child);
  // An idle twin: a Node process doing nothing but the probe. Its event-loop delay over the same
  // windows is what other processes' load (other sessions on a shared machine) costs any process.
  const twin: ChildProcess = spawn(process.execPath, ['--import', pathToFileURL(path.join(BENCH_DIR, 'src', 'probe.mjs')).href, '-e', 'setInterval(() => {}, 1 << 30)'], {
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  trackChild(twin);
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  let exited: string | undefined;
  child.on('exit', (code, signal) => (exited = `server exited with ${code ?? signal} (log: ${logFile})`));

  let seq = 0;
  const pending = new Map<number, (m: any) => void>();
  const onMessage = (m: any) => {
    const r = pending.get(m?.id);
    if (r) {
      pending.delete(m.id);
      r(m);
    }
  };
  child.on('message', onMessage);
  twin.on('message', onMessage);
  const ask = (proc: ChildProcess, kind: 'reset' | 'read'): Promise<any> => {
    const id = ++seq;
    const answered = new Promise((resolve) => {
      pending.set(id, resolve);
      proc.send({ probe: kind, id });
    });
    return withTimeout(answered, 10_000, `probe ${kind}`);
  };
  const probe = async (kind: 'reset' | 'read'): Promise<any> => {
    if (exited) throw new Error(exited);
    const twinAlive = twin.connected && twin.exitCode === null;
    const [mine, idle] = await Promise.all([ask(child, kind), twinAlive ? ask(twin, kind).catch(() => undefined) : undefined]);
    if (kind === 'read' && idle) mine.idle = { maxMs: idle.eventLoop.maxMs, p99Ms: idle.eventLoop.p99Ms };
    return mine;
  };

  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const api = async (pathname: string) => {
    const res = await fetch(url + pathname, { headers: auth, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`GET ${pathname}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
    return res.json();
  };

  const post = async (pathname: string) => {
    const res = await fetch(url + pathname, { method: 'POST', headers: auth, signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    return res.status;
  };

  let ws: Client | undefined;
  const stop = async () => {
    await ws?.dispose();
    twin.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const gone = await Promise.race([new Promise((r) => child.once('exit', () => r(true))), sleep(15_000).then(() => false)]);
      if (!gone) child.kill('SIGKILL');
    }
    log.end();
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    await waitFor(
      `the server at ${url} to be ready`,
      async () => {
        if (exited) throw Object.assign(new Error(exited), { fatal: true });
        const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
        return res?.status === 200 ? true : undefined;
      },
      opts.startTimeoutMs ?? 120_000,
    );
  } catch (err) {
    // The data dir (and the log in it) goes with stop(): keep the log's end in the error.
    await new Promise((r) => log.end(r));
    const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-3000) : '';
    await stop();
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- end of the server's log:\n${tail}`);
  }

  // Every tick publishes `collectorStatus`: one record per tick, none missed (unlike polling).
  const ticks: TickStatus[] = [];
  const waiters: (() => void)[] = [];
  ws = createClient({ url: `${url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: auth, retryAttempts: 0, lazy: false, onNonLazyError: () => {} });
  ws.subscribe<{ collectorStatus: { hosts: any[] } }>(
    { query: 'subscription { collectorStatus { hosts { ticks samples lastTickMs lastTickCpuMs staleVms errors lastTickAt } } }' },
    {
      next: ({ data }) => {
        const h = data?.collectorStatus.hosts[0];
        if (!h || h.lastTickMs == null || ticks.at(-1)?.ticks === h.ticks) return;
        ticks.push({ ticks: h.ticks, samples: h.samples, lastTickMs: h.lastTickMs, lastTickCpuMs: h.lastTickCpuMs, staleVms: h.staleVms, errors: h.errors, at: Date.now() });
        for (const w of waiters.splice(0)) w();
      },
      error: (e) => process.stderr.write(`collectorStatus subscription failed: ${JSON.stringify(e).slice(0, 500)}\n`),
      complete: () => {},
    },
  );

  return {
    url,
    pid: child.pid!,
    dataDir,
    logFile,
    auth,
    api,
    post,
    probe: probe as ServerUnderTest['probe'],
    async heapSnapshot(file) {
      if (exited) throw new Error(exited);
      const id = ++seq;
      const answered = new Promise<any>((resolve) => {
        pending.set(id, resolve);
        child.send({ probe: 'snapshot', id, path: file });
      });
      return (await withTimeout(answered, 120_000, 'heap snapshot')).file;
    },
    cpu: () => treeCpuSeconds(child.pid!),
    ticks,
    async waitTicks(n, timeoutMs = (n + 30) * 5000) {
      const start = ticks.length;
      const deadline = Date.now() + timeoutMs;
      while (ticks.length < start + n) {
        if (exited) throw new Error(exited);
        if (Date.now() > deadline) throw new Error(`only ${ticks.length - start} of ${n} collector ticks within ${Math.round(timeoutMs / 1000)} s (log: ${logFile})`);
        await Promise.race([new Promise<void>((r) => waiters.push(r)), sleep(1000)]);
      }
      return ticks.slice(start, start + n);
    },
    stop,
  };
}
