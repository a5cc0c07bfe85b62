// Oracles for the fault tests that are not vmpulse's own word: libvirtd's client list (virt-admin),
// the embedded PostgreSQL's postmaster.pid, history blocks decoded straight from PostgreSQL.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { decodeBlock } from '../../src/features/telemetry/stores/postgres-block.js';

/** libvirtd's clients whose process is `pid`, as libvirtd itself lists them. */
export function libvirtClientsOf(pid: number): number {
  const list = execFileSync('timeout', ['10', 'virt-admin', 'srv-clients-list', 'libvirtd'], { encoding: 'utf8' });
  const ids = list
    .split('\n')
    .map((l) => /^\s*(\d+)\s/.exec(l)?.[1])
    .filter((x): x is string => !!x);
  let n = 0;
  for (const id of ids) {
    try {
      const info = execFileSync('timeout', ['10', 'virt-admin', 'client-info', 'libvirtd', id], { encoding: 'utf8' });
      if (new RegExp(`unix_process_id\\s*:\\s*${pid}\\b`).test(info)) n++;
    } catch {
      /* the client left meanwhile */
    }
  }
  return n;
}

/** The postmaster's pid of the embedded PostgreSQL under DATA_DIR. */
export const postmasterPid = (dataDir: string) => Number(readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);

/** Every stored raw sample time of every VM. */
export async function storedSampleTimes(url: string): Promise<Map<number, number[]>> {
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  try {
    const { rows } = await sql.query<{ vmId: number; data: Buffer }>('SELECT "vmId", "data" FROM "VmSampleBlock" ORDER BY "vmId", "ts"');
    const perVm = new Map<number, number[]>();
    for (const row of rows) {
      const list = perVm.get(row.vmId) ?? [];
      for (const s of decodeBlock(row.data)) list.push(s.ts);
      perVm.set(row.vmId, list);
    }
    for (const list of perVm.values()) list.sort((a, b) => a - b);
    return perVm;
  } finally {
    await sql.end();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms ${last ? String(last) : ''}`);
}

/**
 * A libvirtd of our own to kill: a session daemon run as `nobody` with its sockets in `dir`, so the
 * daemon every other test shares is left alone. It serves libvirt's test driver remotely
 * (`test+unix:///default?socket=…`: one running domain, `test`), through the same client
 * code paths as any remote host.
 */
export function privateLibvirtd(dir: string) {
  const uid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim());
  const run = path.join(dir, 'run');
  const socket = path.join(run, 'libvirt', 'libvirt-sock');
  let proc: ChildProcess | undefined;
  return {
    uri: `test+unix:///default?socket=${socket}`,
    async start() {
      mkdirSync(run, { recursive: true });
      chownSync(dir, uid, gid);
      chownSync(run, uid, gid);
      rmSync(socket, { force: true });
      const env = { PATH: process.env.PATH, HOME: dir, XDG_RUNTIME_DIR: run, XDG_CONFIG_HOME: path.join(dir, 'cfg'), XDG_CACHE_HOME: path.join(dir, 'cache') };
      proc = spawn('/usr/sbin/libvirtd', ['--timeout', '0'], { uid, gid, env, stdio: 'ignore' });
      await until('private libvirtd listening', () => existsSync(socket), 20_000, 50);
    },
    async kill() {
      const p = proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await gone;
    },
  };
}
