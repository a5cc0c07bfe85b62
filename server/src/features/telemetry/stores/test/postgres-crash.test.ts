// What a kill -9 costs. A child process writes ticks through the store (simulated time, a minute
// every ~half second) and is killed with SIGKILL at a random moment; then PostgreSQL is read.
// Every sample that is there must be exactly what was sent, with no holes, and what is missing
// must be only the newest: the open minute (and the one before it, if the kill landed while its
// blocks were being written). README's "History on disk" states this bound.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeBlock } from '../postgres-block.js';
import { MIN, cpuPctOf, floorTo, random, snap, startPostgres } from './postgres-fixtures.js';

let pgh: Awaited<ReturnType<typeof startPostgres>>;
beforeAll(async () => {
  pgh = await startPostgres();
});
afterAll(async () => {
  await pgh?.stop();
});

const VMS = 20;
const writer = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));

async function killDuringWrites(start: number, killAfterTick: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, pgh.db.url, String(start), String(VMS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  let acknowledged = -1;
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) acknowledged = Number(l);
    if (acknowledged >= killAfterTick) child.kill('SIGKILL');
  });
  expect(await exited).toBe('SIGKILL');
  return acknowledged;
}

it('a kill -9 loses only the newest samples: the open minute, at most the one being written with it', async () => {
  const r = random(Date.now() % 1000);
  const losses: number[] = [];
  for (let run = 0; run < 3; run++) {
    await pgh.sql.query('TRUNCATE "VmSampleBlock"');
    const start = floorTo(Date.now(), MIN) - 60 * MIN + 17_000; // simulated time, well in the past
    const acknowledged = await killDuringWrites(start, 150 + r.int(120));
    const { rows } = await pgh.sql.query('SELECT "vmId", data FROM "VmSampleBlock" ORDER BY "vmId", ts');
    const stored = new Map<number, number[]>();
    for (const row of rows) {
      for (const s of decodeBlock(row.data)) {
        const k = (s.ts - start) / 1000;
        // exactly what was sent
        const sent = snap(row.vmId, s.ts, k);
        expect(s.metrics).toEqual(sent.metrics);
        expect(s.derived.at(-4)).toBe(cpuPctOf(k));
        stored.set(row.vmId, [...(stored.get(row.vmId) ?? []), k]);
      }
    }
    const lastTs = start + acknowledged * 1000;
    for (let vmId = 1; vmId <= VMS; vmId++) {
      const ks = stored.get(vmId) ?? [];
      // no holes: ticks 0 … n − 1
      expect(ks).toEqual(Array.from({ length: ks.length }, (_, i) => i));
      // what is missing is the newest: from a minute boundary on, no more than two minutes' worth
      const firstLost = start + ks.length * 1000;
      expect(ks.length === 0 || floorTo(firstLost, MIN) !== floorTo(firstLost - 1000, MIN)).toBe(true); // whole minutes
      expect(floorTo(firstLost, MIN)).toBeGreaterThanOrEqual(floorTo(lastTs, MIN) - MIN);
    }
    losses.push(acknowledged + 1 - Math.min(...[...Array(VMS).keys()].map((v) => stored.get(v + 1)?.length ?? 0)));
  }
  console.log(`[pg crash] samples lost per VM by a kill -9 (3 runs, ticks of 1 s): ${losses.join(', ')} (the open minute holds up to 60)`);
  expect(Math.max(...losses)).toBeLessThanOrEqual(120);
});
