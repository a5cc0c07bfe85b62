// Blocks against the row-per-sample layout they replaced, on the same input: the same random
// fleet is written to both, each rolls up, and every history answer must match — every field, raw
// and rollup steps, ranges two days old (hour rollups) and ranges ending now (the open minute).
// The old layout runs its own SQL from test/legacy-layout.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_FIELDS } from '../../../../domain/history.js';
import { createPostgresStore, type PostgresMetricStore } from '../postgres.js';
import { createLegacyTables, expectSameAnswer, legacyLayout } from './legacy-layout.js';
import { HOUR, MIN, floorTo, log, randomFleet, startPostgres } from './postgres-fixtures.js';

let pgh: Awaited<ReturnType<typeof startPostgres>>;
let store: PostgresMetricStore;
let legacy: ReturnType<typeof legacyLayout>;
let marks: { minute: number; hour: number };
const VMS = 4;
const NOW = Date.now();
const DAY = 24 * HOUR;
/** two hours, two days ago (hour rollups); three hours up to now (minutes, the open minute) */
const OLD = floorTo(NOW, HOUR) - 2 * DAY + 17 * MIN + 3_000;
const RECENT = NOW - 3 * HOUR;

beforeAll(async () => {
  pgh = await startPostgres();
  await createLegacyTables(pgh.sql, 'legacy');
  legacy = legacyLayout(pgh.sql, 'legacy');
  // raw kept 3 days: the old layout here deletes nothing, and the two-day-old raw samples are compared too
  store = createPostgresStore({ db: pgh.db, log, rollupEveryMs: 0, retention: { rawHours: 72 } });
  for (const [start, ticks, seed] of [[OLD, 2 * 3600, 21], [RECENT, 3 * 3600, 22]] as const) {
    const fleet = randomFleet({ vms: VMS, start, ticks: Math.min(ticks, Math.floor((NOW - start) / 1000)), seed });
    for (let k = 0; k < fleet.length; k += 600) await legacy.write(fleet.slice(k, k + 600).flat());
    for (const tick of fleet) await store.write(tick);
  }
}, 300_000);
afterAll(async () => {
  await store?.close();
  await pgh?.stop();
});

const QUERIES: [string, number, number, number][] = [
  // name, from, to, step (s)
  ['old 1 s', OLD - 5 * MIN, OLD + 50 * MIN, 1],
  ['old 7 s', OLD, OLD + 2 * HOUR, 7],
  ['old 60 s', OLD - HOUR, OLD + 3 * HOUR, 60],
  ['old 72 s (not a whole minute)', OLD + 123_456, OLD + 2 * HOUR + 5_000, 72],
  ['old 300 s', OLD - 30 * MIN, OLD + 150 * MIN, 300],
  ['old 1 h', OLD - HOUR, OLD + 3 * HOUR, 3600],
  ['old 2 h', OLD - 3 * HOUR, OLD + 5 * HOUR, 7200],
  ['recent 15 min / 3 s', NOW - 15 * MIN, NOW, 3],
  ['recent 1 h / 12 s', NOW - HOUR, NOW, 12],
  ['recent 3 h / 60 s', NOW - 3 * HOUR, NOW + 1, 60],
  ['recent 6 h / 72 s', NOW - 6 * HOUR, NOW, 72],
  ['recent 24 h / 288 s', NOW - DAY, NOW, 288],
  ['recent 24 h / 1 h', NOW - DAY, NOW, 3600],
  ['30 d / 8640 s', NOW - 30 * DAY, NOW, 8640],
];

async function compareAll(when: string) {
  for (let vmId = 1; vmId <= VMS; vmId++) {
    for (const [name, from, to, stepSec] of QUERIES) {
      const q = { vmId, from: new Date(from), to: new Date(to), stepSec, fields: [...HISTORY_FIELDS] };
      expectSameAnswer(await store.history(q, NOW), await legacy.history(q, marks), `${when}: vm ${vmId} ${name}`);
    }
  }
}

// 4 VMs × 14 queries × every field, against the old layout's SQL: 35-80 s each on our machines.
const COMPARE_TIMEOUT_MS = 300_000;

describe('history: blocks answer as the row-per-sample layout did, same samples', () => {
  it('before any rollup of the blocks (everything summarised from raw blocks)', async () => {
    marks = await legacy.rollup(NOW);
    await compareAll('unrolled');
  }, COMPARE_TIMEOUT_MS);

  it('after rollups (minute and hour tiers read below their marks)', async () => {
    const r = await store.rollup(new Date(NOW));
    expect(r.minuteRows).toBeGreaterThan(0);
    expect(r.hourRows).toBeGreaterThan(0);
    await compareAll('rolled');
  }, COMPARE_TIMEOUT_MS);

  it('seed 002 /history: the same raw values, newest first', async () => {
    for (const field of ['cpu_pct', 'mem_pct', 'memrss', 'net_rxbytes', 'disk_wr_bytes'] as const) {
      for (const [limit, since] of [[100, NOW - 7 * DAY], [10_000, NOW - 7 * DAY], [50, OLD + HOUR]] as const) {
        const got = await store.latestValues(2, field, limit, new Date(since));
        const want = await legacy.latest(2, field, limit, new Date(since));
        expect(got, `${field} ${limit}`).toEqual(want);
      }
    }
  });
});
