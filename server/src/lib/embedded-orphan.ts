// An embedded PostgreSQL whose vmpulse is gone (kill -9, the OOM killer, a crash): PostgreSQL
// does not end with its parent, so it would keep DATA_DIR/postgres locked and every later start
// would fail on its lock file. Found from PostgreSQL's own postmaster.pid and stopped before ours
// starts; a PostgreSQL whose vmpulse is alive is left alone (that start fails, as it must).
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from './logger.js';

const read = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** /proc/PID/stat's fields from the 3rd on (state, parent, …); the 2nd, the name, may hold spaces. */
function statOf(pid: number): string[] | undefined {
  const stat = read(`/proc/${pid}/stat`);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** The pid exists (EPERM: another user's), whether or not its parent has reaped it yet. */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Running: it exists and is not a zombie (dead, waiting for a parent that may never reap it: an init in a container that does not). */
const alive = (pid: number) => exists(pid) && statOf(pid)?.[0] !== 'Z';
const parentOf = (pid: number) => Number(statOf(pid)?.[1]) || undefined;

async function exits(pid: number, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (!alive(pid)) return true;
  return !alive(pid);
}

/**
 * Stops the PostgreSQL that `postmaster.pid` in `pgDir` names when it runs on `pgDir` and its parent
 * is not the live vmpulse that `ownerFile` ({ pid }) names: fast shutdown (SIGINT: sessions ended,
 * a checkpoint written, nothing committed lost), then immediate (SIGQUIT: WAL replayed at the
 * next start) if it has not ended in 15 s. PostgreSQL's own lock-file rules decide the rest.
 * Throws, naming the live vmpulse, when the PostgreSQL is that vmpulse's.
 */
export async function stopOrphanedPostgres(pgDir: string, ownerFile: string, log: Logger): Promise<void> {
  const [pidLine, dirLine] = (read(path.join(pgDir, 'postmaster.pid')) ?? '').split('\n');
  const pid = Number(pidLine);
  if (!Number.isInteger(pid) || pid <= 1 || !exists(pid)) return; // none, or a stale file PostgreSQL replaces itself
  // A zombie holds the pid of a dead process (whichever): PostgreSQL would take the lock for a live one.
  const staleLock = () => rmSync(path.join(pgDir, 'postmaster.pid'), { force: true });
  if (!alive(pid)) return staleLock();
  // postmaster.pid line 2 is the data directory; the command line says the pid is still that postmaster
  if (path.resolve(dirLine ?? '') !== path.resolve(pgDir) || !read(`/proc/${pid}/cmdline`)?.split('\0').includes(pgDir)) return;
  let owner: number | undefined;
  try {
    owner = Number((JSON.parse(read(ownerFile) ?? '{}') as { pid?: unknown }).pid) || undefined;
  } catch {
    /* unreadable: no owner */
  }
  const parent = parentOf(pid);
  if (parent === process.pid || (owner !== undefined && alive(owner) && parent === owner)) {
    throw new Error(`another vmpulse (pid ${parent}) is using this DATA_DIR: its embedded PostgreSQL (pid ${pid}) runs in ${pgDir}; stop it first, or give this one another DATA_DIR`);
  }
  log.warn({ pid, owner: owner ?? null, dir: pgDir }, 'embedded PostgreSQL left running by a vmpulse that is gone: stopping it');
  const stuck = `embedded PostgreSQL (pid ${pid}) left running in ${pgDir} by a vmpulse that is gone does not stop; stop it, then start vmpulse again`;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch (err) {
      throw new Error(stuck, { cause: err }); // EPERM: another user's, and we are not root
    }
  };
  signal('SIGINT');
  if (!(await exits(pid, 15_000))) {
    log.warn({ pid }, 'embedded PostgreSQL left running did not stop in 15 s: immediate shutdown');
    signal('SIGQUIT');
    if (!(await exits(pid, 5_000))) throw new Error(stuck);
  }
  if (exists(pid)) staleLock(); // stopped, not reaped yet
}
