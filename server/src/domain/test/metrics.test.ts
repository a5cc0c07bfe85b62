// The metric vocabulary against its source, seed 000 (docs/seeds/): the
// names of its example vm-stats answer and the units of its field reference table.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COUNTER_METRICS, GAUGE_METRICS, METRIC_NAMES, METRIC_UNITS } from '../metrics.js';

const seedFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../docs/seeds/000_2cf0550f8e86cc6d.txt');

function readSeed(): string {
  if (!existsSync(seedFile)) throw new Error(`seed 000 not found at ${seedFile} (docs/seeds/ holds the seeds)`);
  return readFileSync(seedFile, 'utf8');
}

/** The `metrics` object of the seed's example `GET /api/telemetry/vm-stats/{vm_id}` answer. */
function exampleMetrics(seed: string): Record<string, unknown> {
  const section = seed.slice(seed.indexOf('### 2. VM Stats Endpoint'));
  const json = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
  if (!json) throw new Error('no JSON example under "### 2. VM Stats Endpoint" in seed 000');
  return (JSON.parse(json) as { metrics: Record<string, unknown> }).metrics;
}

/** Field → unit from the seed's "Metric Field Reference" tables (`| \`name\` | number | unit | … |`). */
function referenceUnits(seed: string): Map<string, string> {
  const units = new Map<string, string>();
  for (const m of seed.matchAll(/^\| `(\w+)` \| number \| (\w+) \|/gm)) units.set(m[1]!, m[2]!);
  return units;
}

describe('metric names and units (seed 000)', () => {
  const seed = readSeed();

  it('names every numeric metric of the example answer, odd spellings included, and nothing else', () => {
    const names = Object.keys(exampleMetrics(seed)).filter((k) => k !== 'state' && k !== 'cpus');
    expect([...METRIC_NAMES].sort()).toEqual(names.sort());
    expect(names).toHaveLength(25); // with `cpus`, the seed's 26 metrics
    expect(METRIC_NAMES).toContain('disk_rd_req');
    expect(METRIC_NAMES).toContain('disk_wr_reqs');
  });

  it('splits them into counters and gauges without overlap', () => {
    expect([...COUNTER_METRICS, ...GAUGE_METRICS].sort()).toEqual([...METRIC_NAMES].sort());
  });

  it("gives each the seed's unit", () => {
    const units = referenceUnits(seed);
    expect(units.size).toBe(24); // the reference tables list every metric but cputime
    const seedWords: Record<string, string> = { nanoseconds: 'ns' };
    for (const [name, unit] of units) expect(METRIC_UNITS[name as keyof typeof METRIC_UNITS], name).toBe(seedWords[unit] ?? unit);
    expect(METRIC_UNITS.cputime).toBe(METRIC_UNITS.timeusr); // CPU times share one unit (ns)
  });
});
