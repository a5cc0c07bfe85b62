// Against a real InfluxDB 3 (Core/Enterprise): runs only when INFLUX_URL is set, e.g.
//   INFLUX_URL=http://127.0.0.1:8181 INFLUX_DB=vmpulse_test INFLUX_TOKEN=apiv3_… pnpm exec vitest run src/features/telemetry/stores/test/influxdb3.live
// The same cases as the fake's (influxdb3-core-cases.ts, influxdb3-store-cases.ts): if the fake is wrong about
// Core, this suite says where. Cases that create 2,000 tables or databases up to the limit run only with
// INFLUX_LIVE_LIMITS=1 (use a scratch server: they exhaust its limits, so they run last); cases only the fake can
// set up are listed as skipped, with why.
// Writes go to INFLUX_DB (default vmpulse_test) under random table names and vm_ids.
import { describe, it } from 'vitest';
import { CORE_CASES } from './influxdb3-core-cases.js';
import { STORE_CASES } from './influxdb3-store-cases.js';

const url = process.env.INFLUX_URL;
const target = { url: url ?? '', token: process.env.INFLUX_TOKEN || undefined, database: process.env.INFLUX_DB || 'vmpulse_test', live: true };

describe.skipIf(!url)('the store against InfluxDB 3 at INFLUX_URL', () => {
  for (const c of STORE_CASES) it(c.name, () => c.run(target), 120_000);
});

describe.skipIf(!url)(`InfluxDB 3 at INFLUX_URL answers as the fake says`, () => {
  for (const c of CORE_CASES) {
    const why = c.live?.impossible ?? (c.live?.optIn && process.env.INFLUX_LIVE_LIMITS !== '1' ? `${c.live.optIn}: set INFLUX_LIVE_LIMITS=1` : undefined);
    it.skipIf(!!why)(why ? `${c.name} [skipped live: ${why}]` : c.name, () => c.run(target), 120_000);
  }
});
