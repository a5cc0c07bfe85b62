// Shared by the postgres*.test.ts files: a real embedded PostgreSQL with every migration applied,
// synthetic snapshots, and a statement counter on the `pg` client the store uses.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { MetricSnapshot } from '../../../../domain/snapshot.js';
import { openDatabase, type Database } from '../../../../lib/db.js';
import { createLogger } from '../../../../lib/logger.js';

export const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
export const MIN = 60_000;
export const HOUR = 3_600_000;
export const floorTo = (t: number, unit: number) => Math.floor(t / unit) * unit;
export const TWO_53 = 2n ** 53n;

export async function startPostgres(): Promise<{ db: Database; sql: pg.Pool; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-pgstore-'));
  const db = await openDatabase({ dataDir: dir, log });
  const sql = new pg.Pool({ connectionString: db.url, max: 2 });
  return {
    db,
    sql,
    async stop() {
      await sql.end();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const truncateAll = (sql: pg.Pool) => sql.query('TRUNCATE "VmSample", "VmSampleMinute", "VmSampleHour"');

/** A VM at one instant; `i` drives every value so tests can recompute what they expect. */
export function snap(vmId: number, ts: number, i: number, over: Partial<MetricSnapshot> = {}): MetricSnapshot {
  return {
    vmId, hostId: 1, hostName: 'h', vmName: `vm${vmId}`, uuid: `u${vmId}`, ts, state: 'running', cpus: 2,
    metrics: {
      cputime: TWO_53 + BigInt(i) * 1_000_000_007n,
      timeusr: BigInt(i) * 3n,
      memactual: 1_048_576n,
      memavailable: 1_000_000n + BigInt(i % 500),
      net_rxbytes: BigInt(i) * 1500n,
      // memrss and the disk counters are deliberately absent: they must read back as NULL
    },
    nics: [], disks: [], memoryMax: 2_097_152n,
    rates: { cputime: (i % 200) * 1e6, net_rxbytes: i % 1000 },
    angles: {},
    cpuPct: { total: cpuPctOf(i), user: cpuPctOf(i) / 2, system: null },
    memPct: 40 + (i % 30),
    stale: false, ageMs: 0,
    ...over,
  };
}
export const cpuPctOf = (i: number) => (i * 7) % 101;

/** Counts statements sent through any `pg` client whose text mentions `needle`. */
export function countStatements(needle: string) {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  const counter = { n: 0, restore: () => void (proto.query = original) };
  proto.query = function (this: unknown, ...args: unknown[]) {
    const a = args[0] as string | { text?: string } | undefined;
    const text = typeof a === 'string' ? a : a?.text;
    if (text?.includes(needle)) counter.n++;
    return original.apply(this, args);
  };
  return counter;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
