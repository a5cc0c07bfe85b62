// The store end to end against the fake Core, read back through SQL only: the cases of
// influxdb3-store-cases.ts (which influxdb3.live.test.ts runs against a real server).
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startInfluxFake, type InfluxFake } from '../../../../../test/fakes/influxdb3-fake.js';
import { STORE_CASES } from './influxdb3-store-cases.js';

const TOKEN = 'apiv3_store-cases';
let fake: InfluxFake;
beforeAll(async () => { fake = await startInfluxFake({ token: TOKEN }); });
afterAll(async () => { await fake.close(); });

describe('InfluxDB 3 store end to end (fake Core)', () => {
  for (const c of STORE_CASES) it(c.name, () => c.run({ url: fake.url, token: TOKEN, database: 'vmstats', live: false }));
});
