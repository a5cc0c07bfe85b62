// Measures what one viewer's fan-out query costs the server: a ~1.4 KB document whose fragments
// each spread the next one twice under two aliases, so the answer doubles per level.
// Starts the built server (dist/) as a child on a demo fleet, waits for samples, sends the query
// with a viewer token while probing /healthz, and prints time, bytes, the longest /healthz wait
// (the event loop held) and the child's peak RSS.
//   pnpm --filter @vmpulse/server build && pnpm exec tsx scripts/hostile-fanout.ts [levels=15] [vms=8]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDemoFleet } from '../src/libvirt/demo-fleet.js';

const levels = Number(process.argv[2] ?? 15);
const vmCount = Number(process.argv[3] ?? 8);
const ADMIN = 'hostile-admin-token-0123456789';

/** The fan-out document: L1 … Ln, each spreading the next under two aliases. */
export function fanOutQuery(n: number): string {
  const frags: string[] = [];
  for (let i = 1; i < n; i++) frags.push(`fragment L${i} on Vm{a:latest{vm{...L${i + 1}}}b:latest{vm{...L${i + 1}}}}`);
  frags.push(`fragment L${n} on Vm{id uuid name state cpuCount memoryMax memoryUsed cputime present updatedAt host{id name uri demo connected}}`);
  return `query FanOut{vms{...L1}}\n${frags.join('\n')}`;
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const peakRssMiB = (pid: number) => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
};

async function main() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-hostile-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [path.join(here, '..', 'dist', 'src', 'main.js')], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, VMPULSE_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn', POLL_INTERVAL: '1', LIBVIRT_URI: writeDemoFleet(path.join(dataDir, 'fleet.xml'), { count: vmCount }) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (let i = 0; ; i++) {
      if (i > 600) throw new Error('server did not become ready');
      const ok = await fetch(`${url}/readyz`).then((r) => r.ok).catch(() => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const gql = async (query: string, token: string) => {
      const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query }) });
      return { status: res.status, text: await res.text() };
    };
    const created = JSON.parse((await gql('mutation{createToken(name:"viewer",role:viewer){token}}', ADMIN)).text);
    const viewer: string = created.data.createToken.token;
    await new Promise((r) => setTimeout(r, 2500)); // a couple of collector ticks: `latest` is set
    const query = fanOutQuery(levels);
    const rssBefore = peakRssMiB(child.pid!);
    let maxWait = 0;
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const t0 = performance.now();
        await fetch(`${url}/healthz`).then((r) => r.text()).catch(() => '');
        maxWait = Math.max(maxWait, performance.now() - t0);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const t0 = performance.now();
    const { status, text } = await gql(query, viewer);
    const ms = performance.now() - t0;
    probing = false;
    await probe;
    console.log(
      JSON.stringify({
        levels,
        vms: vmCount,
        queryBytes: Buffer.byteLength(query),
        status,
        ms: Math.round(ms),
        answerBytes: Buffer.byteLength(text),
        longestHealthzMs: Math.round(maxWait),
        peakRssMiB: { before: rssBefore, after: peakRssMiB(child.pid!) },
        answerStart: text.slice(0, 300),
      }),
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
