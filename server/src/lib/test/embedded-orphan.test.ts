// stopOrphanedPostgres against stand-in processes (a PostgreSQL is in fault-crash-restart.test.ts):
// what it must leave alone, what it must refuse, and a postmaster that ignores the fast shutdown.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Logger } from '../logger.js';
import { stopOrphanedPostgres } from '../embedded-orphan.js';

let dir: string;
let pgDir: string;
let ownerFile: string;
let stub: string;
const children: ChildProcess[] = [];
const orphans: number[] = [];
const warned: string[] = [];
const log = { warn: (_: unknown, msg: string) => warned.push(msg) } as unknown as Logger;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** a process's state letter (/proc/PID/stat; Z: zombie) */
const stateOf = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0];
const lockFile = (pid: number) => writeFileSync(path.join(pgDir, 'postmaster.pid'), `${pid}\n${pgDir}\n1796000000\n5432\n\n127.0.0.1\n`);

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-orphan-'));
  pgDir = path.join(dir, 'postgres');
  mkdirSync(pgDir);
  ownerFile = path.join(dir, 'postgres.json');
  stub = path.join(dir, 'postmaster.cjs');
  // A stand-in postmaster: `-D pgDir` on its command line, deaf to SIGINT (a fast shutdown that hangs).
  // It says when its handler is in place in a file named after its own pid: a stand-in of an earlier
  // test, slow to start on a loaded machine, must not answer for this one.
  writeFileSync(stub, "process.on('SIGINT', () => {}); require('node:fs').writeFileSync(process.argv[3] + '.ready.' + process.pid, ''); setInterval(() => {}, 1000);\n");
});

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const pid of orphans) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

it('leaves alone a live process that is not a postmaster of this directory (a reused pid)', async () => {
  const other = spawn('sleep', ['60']);
  children.push(other);
  lockFile(other.pid!);
  await stopOrphanedPostgres(pgDir, ownerFile, log);
  expect(alive(other.pid!)).toBe(true);
  expect(warned).toEqual([]);
});

it('refuses, naming it, when the postmaster is the child of a live vmpulse', async () => {
  const child = spawn(process.execPath, [stub, '-D', pgDir]);
  children.push(child);
  await new Promise((r) => child.once('spawn', r));
  lockFile(child.pid!);
  writeFileSync(ownerFile, JSON.stringify({ pid: process.pid }));
  await expect(stopOrphanedPostgres(pgDir, ownerFile, log)).rejects.toThrow(`another vmpulse (pid ${process.pid}) is using this DATA_DIR`);
  expect(alive(child.pid!)).toBe(true);
  expect(warned).toEqual([]);
});

/** the first line a child writes */
const firstLine = (c: ChildProcess) => new Promise<string>((resolve) => c.stdout!.once('data', (d: Buffer) => resolve(d.toString().split('\n')[0]!)));

it('removes a lock file whose pid is a zombie (dead, never reaped: an init that does not reap)', async () => {
  // `sleep 0.1`'s parent execs into `sleep 30`, which never waits for it.
  const parent = spawn('bash', ['-c', 'sleep 0.1 & echo $!; exec sleep 30']);
  children.push(parent);
  const zombie = Number(await firstLine(parent));
  for (let i = 0; i < 50 && stateOf(zombie) !== 'Z'; i++) await new Promise((r) => setTimeout(r, 50));
  expect(stateOf(zombie)).toBe('Z');
  lockFile(zombie);
  await stopOrphanedPostgres(pgDir, ownerFile, log);
  expect(existsSync(path.join(pgDir, 'postmaster.pid'))).toBe(false);
  expect(warned).toEqual([]);
});

it('an orphan deaf to the fast shutdown gets the immediate one after 15 s', async () => {
  // Started through a shell that exits: its parent is no longer anybody's vmpulse.
  const pid = Number(execFileSync('bash', ['-c', 'node "$0" -D "$1" >/dev/null 2>&1 & echo $!', stub, pgDir], { encoding: 'utf8' }).trim());
  orphans.push(pid);
  // its SIGINT handler installed (it says so) before the test sends SIGINT
  const ready = `${pgDir}.ready.${pid}`;
  for (let i = 0; i < 400 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 50));
  expect(existsSync(ready)).toBe(true);
  lockFile(pid);
  writeFileSync(ownerFile, JSON.stringify({ pid: 999_999_999 })); // a vmpulse that is gone
  const t0 = Date.now();
  await stopOrphanedPostgres(pgDir, ownerFile, log);
  // gone, or a zombie whose lock file went with it
  expect(alive(pid) && stateOf(pid) !== 'Z').toBe(false);
  if (alive(pid)) expect(existsSync(path.join(pgDir, 'postmaster.pid'))).toBe(false);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(15_000);
  expect(warned).toEqual(['embedded PostgreSQL left running by a vmpulse that is gone: stopping it', 'embedded PostgreSQL left running did not stop in 15 s: immediate shutdown']);
}, 45_000);
