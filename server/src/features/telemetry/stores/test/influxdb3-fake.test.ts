// The FAKE InfluxDB 3 Core answers as Core does: every case of influxdb3-core-cases.ts, each against a fresh
// fake (the same cases run against a real server in influxdb3.live.test.ts).
import { afterEach, describe, it } from 'vitest';
import { startInfluxFake, type InfluxFake } from '../../../../../test/fakes/influxdb3-fake.js';
import { CORE_CASES } from './influxdb3-core-cases.js';

const TOKEN = 'apiv3_fake-core-cases';
let fake: InfluxFake | undefined;
afterEach(async () => { await fake?.close(); fake = undefined; });

describe('the InfluxDB 3 fake answers like Core v3.10.1', () => {
  for (const c of CORE_CASES) {
    it(c.name, async () => {
      fake = await startInfluxFake({ token: TOKEN, ...c.fake });
      await c.run({ url: fake.url, token: TOKEN, database: 'vmstats', live: false });
    });
  }
});
