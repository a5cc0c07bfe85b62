// vmpulse as a separate process (what an operator runs): `node --import tsx src/main.ts`, so a
// test can kill -9 it, SIGTERM it and time its exit. Also a private redis-server.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN } from './app.js';
import { freePort } from './ports.js';

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');


export interface Replica {
  proc: ChildProcess;
  pid: number;
  url: string;
  /** every JSON log line so far */
  logs: Record<string, unknown>[];
  api(pathname: string, init?: RequestInit): Promise<Response>;
  /** resolves with [exit code, signal, ms from the call to the exit]; `group`: the whole process group, as a terminal's Ctrl-C (needs `ownGroup`) */
  term(signal?: NodeJS.Signals, opts?: { group?: boolean }): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startReplica(env: Record<string, string>, timeoutMs = 60_000, opts: { ownGroup?: boolean } = {}): Promise<Replica> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serverDir,
    detached: !!opts.ownGroup, // leader of a process group of its own, as a shell makes a foreground job
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', VMPULSE_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'info', HTTP_AUTH_FAILURE_LIMIT: '100000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let buf = '';
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`replica did not listen within ${timeoutMs} ms: ${stderr.slice(-2000)}`)), timeoutMs);
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (entry.msg === 'vmpulse listening') {
            clearTimeout(t);
            resolve(String(entry.url));
          }
        } catch {
          /* not JSON */
        }
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(t);
      reject(new Error(`replica exited (${code}) before listening: ${stderr.slice(-2000)}`));
    });
  });
  return {
    proc,
    pid: proc.pid!,
    url,
    logs,
    exited,
    api: (pathname, init = {}) => fetch(url + pathname, { ...init, headers: { authorization: `Bearer ${ADMIN}`, ...(init.headers as Record<string, string>) } }),
    async term(signal = 'SIGTERM', { group = false } = {}) {
      const t0 = Date.now();
      if (proc.exitCode === null && proc.signalCode === null) {
        if (group) process.kill(-proc.pid!, signal);
        else proc.kill(signal);
      }
      const r = await exited;
      return { ...r, ms: Date.now() - t0 };
    },
  };
}

export interface RedisServer {
  url: string;
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export async function startRedis(port?: number): Promise<RedisServer> {
  const p = port ?? (await freePort());
  const proc = spawn('redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'pipe' });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('redis-server did not start (is the redis-server package installed?)')), 10_000);
    proc.stdout!.on('data', (d: Buffer) => {
      if (!d.toString().includes('Ready to accept connections')) return;
      clearTimeout(t);
      resolve();
    });
    proc.on('error', reject);
  });
  const gone = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  return {
    url: `redis://127.0.0.1:${p}`,
    port: p,
    proc,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await gone;
    },
  };
}
