// libvirtd killed and back: while it is gone /readyz says the host is down (degraded, with its
// error) and its VMs are stale; vmpulse probes it every tick, so collection resumes within 2 ticks
// of the daemon answering again. The daemon is a private one (helpers/faults.ts), not the shared one.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { collect, startTestApp, type TestApp } from './helpers/app.js';
import { privateLibvirtd, sleep, until } from './helpers/faults.js';

const POLL = 0.5;
let dir: string;
let daemon: ReturnType<typeof privateLibvirtd>;
let t: TestApp;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-lvfault-'));
  chmodSync(dir, 0o755);
  daemon = privateLibvirtd(path.join(dir, 'libvirtd'));
  await daemon.start();
  t = await startTestApp({ LIBVIRT_URI: daemon.uri, POLL_INTERVAL: String(POLL) }, path.join(dir, 'data'));
}, 60_000);

afterAll(async () => {
  await t?.stop();
  await daemon?.kill();
  rmSync(dir, { recursive: true, force: true });
});

it('libvirtd killed: host reported down and VMs stale; back: collection resumes within 2 ticks', async () => {
  const vm = await until('the remote test domain sampled', async () => {
    const body = await (await t.api('/api/telemetry/vms')).json();
    return body.vms.find((v: { name: string; last_sample: number | null; stale: boolean }) => v.name === 'test' && v.last_sample && !v.stale);
  });
  const sub = collect<{ vmMetrics: { timestamp: string; stale: boolean } }>(t.ws(), 'subscription($id: ID!) { vmMetrics(vmId: $id) { timestamp stale } }', { id: String(vm.id) });
  await sub.next((m) => !m.vmMetrics.stale);

  await daemon.kill();
  const ready = await until('/readyz degraded', async () => {
    const res = await fetch(`${t.url}/readyz`);
    const body = await res.json();
    return res.status === 200 && body.status === 'degraded' ? body : undefined;
  }, 15_000);
  expect(ready.hosts[0].connected).toBe(false);
  expect(ready.hosts[0].error).toBeTruthy();
  // At once, before the next tick has run, and again after it: the status says why.
  for (const when of ['at once', 'after a tick']) {
    if (when !== 'at once') await sub.next((m) => m.vmMetrics.stale, 5000);
    const status = await (await t.api('/api/telemetry/status')).json();
    expect(status.hosts[0].connected, when).toBe(false);
    expect(status.hosts[0].last_error, when).toMatch(/^host \S+ is disconnected: \S/);
  }
  const vms = await (await t.api('/api/telemetry/vms')).json();
  expect(vms.vms.find((v: { id: number }) => v.id === vm.id).stale).toBe(true);
  await sleep(5000); // down a while: many probes, no long backoff builds up

  await daemon.start();
  const answering = Date.now(); // the socket is there: the daemon answers
  const fresh = await sub.next((m) => !m.vmMetrics.stale && Date.parse(m.vmMetrics.timestamp) >= answering - 50, 10_000);
  const resumeMs = Date.parse(fresh.vmMetrics.timestamp) - answering;
  console.log('libvirtd back', JSON.stringify({ pollS: POLL, resumeAfterDaemonAnswersMs: resumeMs }));
  expect(resumeMs).toBeLessThanOrEqual(2 * POLL * 1000);
  expect((await (await fetch(`${t.url}/readyz`)).json()).status).toBe('ready');
}, 60_000);
