// REDIS_URL: two replicas share one PostgreSQL and one Redis; samples collected by one reach a
// subscriber of the other (BigInt counters intact through Redis).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { collect, startTestApp, testDataDir, type TestApp } from './helpers/app.js';
import { freePort } from './helpers/ports.js';

let redis: ChildProcess;
let a: TestApp;
let b: TestApp;


beforeAll(async () => {
  const port = await freePort();
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'pipe' });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('redis-server did not start (is the redis-server package installed?)')), 10_000);
    redis.stdout!.on('data', (d: Buffer) => {
      if (!d.toString().includes('Ready to accept connections')) return;
      clearTimeout(t);
      resolve();
    });
    redis.on('error', reject);
  });
  const dataDir = testDataDir();
  const env = { LIBVIRT_URI: writeDemoFleet(path.join(dataDir, 'fleet.xml')), REDIS_URL: `redis://127.0.0.1:${port}`, POLL_INTERVAL: '0.5' };
  a = await startTestApp(env, dataDir);
  b = await startTestApp({ ...env, DATABASE_URL: a.app.db.url }, testDataDir());
  await b.app.services.collector.stop(); // only replica A collects
}, 60_000);

afterAll(async () => {
  await b?.stop();
  await a?.stop();
  redis?.kill();
});

describe('REDIS_URL', () => {
  it("delivers replica A's samples to a subscriber of replica B", async () => {
    const vm = a.app.services.vms.list({ state: 'running' })[0]!;
    expect(b.app.services.vms.get(vm.id)?.uuid).toBe(vm.uuid); // one database: the same stable ids
    const sub = collect(b.ws(), `subscription($id: ID!) { vmMetrics(vmId: $id) { cputime timestamp } }`, { id: String(vm.id) });
    await sub.next(() => sub.seen.length >= 3, 15_000);
    const times = sub.seen.map((m: any) => BigInt(m.vmMetrics.cputime));
    expect(times.at(-1)! > times[0]!).toBe(true);
    expect(times.at(-1)! > 2n ** 53n).toBe(true); // the test driver's counters are past 2^53: exact through Redis
    expect(b.app.services.collector.status().running).toBe(false);
    sub.dispose();
  });
});
