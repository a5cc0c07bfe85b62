// Upgrading a database that has history in the row-per-sample layout: the old tables are filled
// by the old code, the migration renames them, and the store's first start converts them into
// blocks. History must answer as the old tables did, and the old tables must be gone.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { migrationsDir } from '@vmpulse/prisma';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_FIELDS, type HistoryField, type HistoryPoint } from '../../../../domain/history.js';
import { convertLegacyHistory } from '../postgres-legacy.js';
import { ROLLUP_LAST, ROLLUP_STATS } from '../postgres-columns.js';
import { createPostgresStore } from '../postgres.js';
import { createLegacyTables, expectSameAnswer, legacyLayout } from './legacy-layout.js';
import { HOUR, MIN, floorTo, log, randomFleet, startPostgres } from './postgres-fixtures.js';

let pgh: Awaited<ReturnType<typeof startPostgres>>;
const VMS = 3;
const NOW = Date.now();
const DAY = 24 * HOUR;
const OLD = floorTo(NOW, HOUR) - 2 * DAY + 7 * MIN;
const RECENT = NOW - 90 * MIN;
const ROLLUP_FIELDS = [...ROLLUP_STATS, ...ROLLUP_LAST] as HistoryField[];
/** the raw rows of OLD's first hour are deleted below, as the old raw retention would have */
const RAW_GONE_UNTIL = floorTo(OLD, HOUR) + HOUR;
const QUERIES: [string, number, number, number, HistoryField[]][] = [
  ['old 1 s', RAW_GONE_UNTIL, RAW_GONE_UNTIL + 30 * MIN, 1, [...HISTORY_FIELDS]],
  ['old 72 s', RAW_GONE_UNTIL, RAW_GONE_UNTIL + 2 * HOUR, 72, [...HISTORY_FIELDS]],
  ['old 1 h', RAW_GONE_UNTIL, RAW_GONE_UNTIL + 3 * HOUR, 3600, [...HISTORY_FIELDS]],
  ['recent 1 h / 12 s', NOW - HOUR, NOW, 12, [...HISTORY_FIELDS]],
  ['recent 6 h / 72 s', NOW - 6 * HOUR, NOW, 72, [...HISTORY_FIELDS]],
  // Where raw is gone only the rollup fields are left: the others lived in rollups blocks do not keep.
  ['old, raw gone', OLD - HOUR, OLD + 2 * HOUR, 300, ROLLUP_FIELDS],
  ['30 d / 8640 s', NOW - 30 * DAY, NOW, 8640, ROLLUP_FIELDS],
];
const expected = new Map<string, HistoryPoint[]>();
const latest = new Map<string, { ts: Date; value: number }[]>();
let legacyRows = 0;

beforeAll(async () => {
  pgh = await startPostgres();
  // Back to the database as it was before the upgrade: the old tables, filled by the old code.
  await pgh.sql.query('DROP TABLE "VmSampleBlock", "VmMinuteBlock", "VmHourBlock"');
  await pgh.sql.query('DROP TABLE IF EXISTS "VmSampleLegacy", "VmSampleMinuteLegacy", "VmSampleHourLegacy"');
  await pgh.sql.query(`DELETE FROM "_prisma_migrations" WHERE migration_name = '20261201000000_history_blocks'`);
  await createLegacyTables(pgh.sql, 'public');
  const legacy = legacyLayout(pgh.sql, 'public');
  for (const [start, ticks, seed] of [[OLD, 2 * 3600, 31], [RECENT, 90 * 60 - 1, 32]] as const) {
    const fleet = randomFleet({ vms: VMS, start, ticks, seed });
    for (let k = 0; k < fleet.length; k += 600) await legacy.write(fleet.slice(k, k + 600).flat());
  }
  const marks = await legacy.rollup(NOW);
  await pgh.sql.query('DELETE FROM "VmSample" WHERE ts < $1', [new Date(RAW_GONE_UNTIL)]);
  legacyRows = Number((await pgh.sql.query('SELECT count(*) AS n FROM "VmSample"')).rows[0].n);
  for (let vmId = 1; vmId <= VMS; vmId++) {
    for (const [name, from, to, stepSec, fields] of QUERIES) {
      expected.set(`${vmId} ${name}`, await legacy.history({ vmId, from: new Date(from), to: new Date(to), stepSec, fields }, marks));
    }
    latest.set(`${vmId}`, await legacy.latest(vmId, 'cpu_pct', 10_000, new Date(NOW - 7 * DAY)));
  }
  // The upgrade: the migration, as prisma/migrate.mjs would apply it.
  await pgh.sql.query(readFileSync(path.join(migrationsDir, '20261201000000_history_blocks', 'migration.sql'), 'utf8'));
}, 300_000);
afterAll(async () => {
  await pgh?.stop();
});

describe('upgrading from the row-per-sample tables', () => {
  it('resumes where an interrupted conversion stopped', async () => {
    let windows = 0;
    const stopAfter = () => ++windows > 40; // asked once per window: stop early, as a shutdown would
    expect(await convertLegacyHistory(pgh.sql, log, stopAfter)).toBeNull();
    const left = Number((await pgh.sql.query('SELECT count(*) AS n FROM "VmSampleLegacy"')).rows[0].n);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(legacyRows);
  });

  it('converts the rest at the store’s first start, then drops the old tables; history answers as they did', async () => {
    const store = createPostgresStore({ db: pgh.db, log, rollupEveryMs: 0, retention: { rawHours: 72 } });
    try {
      const t0 = performance.now();
      await store.rollup(new Date(NOW)); // waits for the conversion, then rolls up as usual
      console.log(`[pg legacy] converted the rest of ${legacyRows} raw rows and their rollups, then rolled up, in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const { rows } = await pgh.sql.query(`SELECT to_regclass('"VmSampleLegacy"') AS a, to_regclass('"VmSampleMinuteLegacy"') AS b, to_regclass('"VmSampleHourLegacy"') AS c`);
      expect(rows[0]).toEqual({ a: null, b: null, c: null });
      expect(Number((await pgh.sql.query('SELECT sum(samples) AS n FROM "VmSampleBlock"')).rows[0].n)).toBe(legacyRows);
      for (let vmId = 1; vmId <= VMS; vmId++) {
        for (const [name, from, to, stepSec, fields] of QUERIES) {
          const got = await store.history({ vmId, from: new Date(from), to: new Date(to), stepSec, fields }, NOW);
          expectSameAnswer(got, expected.get(`${vmId} ${name}`)!, `vm ${vmId} ${name}`);
        }
        expect(await store.latestValues(vmId, 'cpu_pct', 10_000, new Date(NOW - 7 * DAY))).toEqual(latest.get(`${vmId}`));
      }
    } finally {
      await store.close();
    }
  });
});
