// Small helpers shared by the bench phases: percentiles, bounded waits, free ports, child processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(BENCH_DIR, '..');
export const TSX = path.join(BENCH_DIR, 'node_modules', '.bin', 'tsx');

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Percentile by nearest rank on a copy (p in 0..100). NaN for an empty list. */
export function pct(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}
export const median = (v: number[]) => pct(v, 50);
export const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN);
export const round = (v: number, digits = 2) => (Number.isFinite(v) ? Math.round(v * 10 ** digits) / 10 ** digits : v);

/** Summary of a figure measured in several runs: median of the runs, min and max. */
export interface Spread {
  value: number;
  min: number;
  max: number;
  runs: number[];
}
export function spread(runs: number[], digits = 2): Spread {
  const r = runs.filter((x) => Number.isFinite(x));
  return { value: round(median(r), digits), min: round(Math.min(...r), digits), max: round(Math.max(...r), digits), runs: runs.map((x) => round(x, digits)) };
}

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes; the error names `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${lastErr ? ` (last error: ${lastErr instanceof Error ? lastErr.message : String(lastErr)})` : ''}`);
    }
    await sleep(everyMs);
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_r, rej) => (t = setTimeout(() => rej(new Error(`${what} took longer than ${Math.round(ms / 1000)} s`)), ms)))]).finally(() => clearTimeout(t));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Runs a bench helper script in its own process (TypeScript under tsx, `.mjs` under plain node);
 * resolves with its last stdout line parsed as JSON.
 */
export function runJsonChild<T>(script: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const cmd = script.endsWith('.mjs') ? process.execPath : TSX;
    const child = spawn(cmd, [path.join(BENCH_DIR, 'src', script), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    trackChild(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not finish within ${Math.round(timeoutMs / 1000)} s\n${err.slice(-2000)}`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`${script} exited with ${code ?? signal}\n${err.slice(-4000)}`));
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        reject(new Error(`${script} printed no JSON result\n${out.slice(-2000)}\n${err.slice(-2000)}`));
      }
    });
  });
}

// Every child this process started, so an interrupted run leaves nothing behind.
const children = new Set<ChildProcess>();
export function trackChild(child: ChildProcess) {
  children.add(child);
  child.on('exit', () => children.delete(child));
}
export function killChildren() {
  for (const c of children) if (c.exitCode === null && c.pid) c.kill('SIGKILL');
}

function procStat(pid: string): { ppid: number; cpuTicks: number; reapedTicks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // ppid, utime + stime, cutime + cstime (children that exited and were waited for)
    return { ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]), reapedTicks: Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined; // gone meanwhile
  }
}

/**
 * CPU seconds (user + system, USER_HZ = 100) of `pid` itself and of all its live descendants (e.g.
 * the embedded PostgreSQL), the descendants' including their children that exited (a PostgreSQL
 * backend that ends takes its CPU to the postmaster's cutime/cstime, not out of the figure).
 */
export function treeCpuSeconds(pid: number): { self: number; descendants: number } {
  const all = new Map<number, { ppid: number; cpuTicks: number; reapedTicks: number }>();
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const s = procStat(p);
    if (s) all.set(Number(p), s);
  }
  const inTree = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [p, s] of all) {
      if (!inTree.has(p) && inTree.has(s.ppid)) {
        inTree.add(p);
        grew = true;
      }
    }
  }
  let self = 0;
  let descendants = 0;
  for (const p of inTree) {
    const s = all.get(p);
    if (!s) continue;
    if (p === pid) self += s.cpuTicks;
    else descendants += s.cpuTicks + s.reapedTicks;
  }
  return { self: self / 100, descendants: descendants / 100 };
}

export function machine() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    loadavgAtStart: os.loadavg().map((x) => round(x, 2)),
  };
}

export const loadavg1 = () => os.loadavg()[0]!;

/** pid of the system libvirtd, if one runs (its CPU is libvirt's cost for qemu:///system). */
export function libvirtdPid(): number | undefined {
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'libvirtd') return Number(p);
    } catch {
      /* gone */
    }
  }
  return undefined;
}
