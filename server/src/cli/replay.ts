// `npm run replay -- [--url http://localhost:8000] [--token T] [--speed 10] [--vm NAME]`
// Drives a realistic replication through the public ingest API (see replay-scenario.ts), so the
// Migrations page, e2e tests and demos have something live to show. The token defaults to
// VMPULSE_TOKEN, else DATA_DIR/admin-token (the one the first start created).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runReplay } from './replay-scenario.js';

const usage = 'usage: npm run replay -- [--url http://localhost:8000] [--token TOKEN] [--speed 10] [--vm NAME]';

async function main() {
  const { values } = parseArgs({
    options: { url: { type: 'string' }, token: { type: 'string' }, speed: { type: 'string' }, vm: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const url = (values.url ?? `http://localhost:${process.env.PORT ?? 8000}`).replace(/\/$/, '');
  const tokenFile = path.join(process.env.DATA_DIR ?? './data', 'admin-token');
  const token = values.token ?? process.env.VMPULSE_TOKEN ?? (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined);
  if (!token) throw new Error(`no token: pass --token, set VMPULSE_TOKEN, or run from the directory holding ${tokenFile}`);
  const speed = Number(values.speed ?? '1');
  if (!Number.isFinite(speed) || speed <= 0 || speed > 10_000) throw new Error('--speed must be a number above 0 (1 = real time, 10 = ten times faster), at most 10000');
  const vmName = values.vm ?? `replay-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}`;
  console.log(`replaying a replication of ${vmName} against ${url} at ${speed}×`);
  const t0 = performance.now();
  const steps = await runReplay({ url, token, speed, vmName, log: (l) => console.log(`  ${l}`) });
  console.log(`done: ${steps.length} reports in ${((performance.now() - t0) / 1000).toFixed(1)} s; see GET /api/v1/vm-contexts/${vmName}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  console.error(usage);
  process.exit(1);
});
