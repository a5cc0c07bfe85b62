// Two real libvirt hosts at once: the local qemu:///system and the same daemon reached as
// qemu+ssh://root@127.0.0.1:PORT/system through a private sshd (helpers/ssh-host.ts), each with its
// own TCG guest: inventory, stats, lifecycle events, and reconnection after the connection is cut
// (libvirtd drops our unix-socket client; the ssh session is killed), checked against virsh and
// virt-admin, not against vmpulse.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { collect, startTestApp, type TestApp } from './helpers/app.js';
import { until } from './helpers/faults.js';
import { startSshHost, type SshHost } from './helpers/ssh-host.js';
import { createGuest, ensureGuestImage, ensureLibvirtd, startGuest, virsh, type Guest } from './guest/qemu-guest.js';

const LOCAL = `vmpulse-twohosts-local-${process.pid}`;
const REMOTE = `vmpulse-twohosts-ssh-${process.pid}`;
let ssh: SshHost;
let t: TestApp;
const guests: Guest[] = [];

beforeAll(async () => {
  await ensureGuestImage();
  await ensureLibvirtd();
  ssh = await startSshHost();
  guests.push(await createGuest(LOCAL), await createGuest(REMOTE));
  await startGuest(LOCAL);
  await startGuest(REMOTE);
  t = await startTestApp({ LIBVIRT_URI: `qemu:///system,${ssh.uri}`, POLL_INTERVAL: '1' });
}, 10 * 60_000);

afterAll(async () => {
  await t?.stop();
  for (const g of guests) await g.cleanup().catch(() => undefined);
  await ssh?.stop();
}, 120_000);

interface VmRow {
  id: string;
  name: string;
  uuid: string;
  state: string;
  host: { name: string; uri: string };
}

/** libvirtd's clients of this process (virt-admin), by id. */
function libvirtClientIds(pid: number): string[] {
  const list = execFileSync('timeout', ['10', 'virt-admin', 'srv-clients-list', 'libvirtd'], { encoding: 'utf8' });
  const ids = list.split('\n').map((l) => /^\s*(\d+)\s/.exec(l)?.[1]).filter((x): x is string => !!x);
  return ids.filter((id) => {
    try {
      return new RegExp(`unix_process_id\\s*:\\s*${pid}\\b`).test(execFileSync('timeout', ['10', 'virt-admin', 'client-info', 'libvirtd', id], { encoding: 'utf8' }));
    } catch {
      return false;
    }
  });
}

/** The per-connection sshd processes of the private sshd (ss names them with their pids). */
function sshSessionPids(port: number): number[] {
  const out = execFileSync('ss', ['-Htnp', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
  return [...new Set([...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])))];
}

it('inventory, stats, lifecycle events and reconnection on qemu:///system and qemu+ssh:// at once', async () => {
  // Inventory: both hosts connected, each guest seen on each (one daemon behind both URIs).
  const hosts = await until('both hosts connected', async () => {
    const { body } = await t.gql<{ hosts: { name: string; uri: string; connected: boolean; readOnly: boolean }[] }>('{ hosts { name uri connected readOnly } }');
    return body.data!.hosts.length === 2 && body.data!.hosts.every((h) => h.connected) ? body.data!.hosts : undefined;
  });
  const local = hosts.find((h) => h.uri === 'qemu:///system')!;
  const remote = hosts.find((h) => h.uri.startsWith('qemu+ssh://'))!;
  expect(remote.name).toBe('127.0.0.1');
  const vms = await until('each guest on its host', async () => {
    const { body } = await t.gql<{ vms: VmRow[] }>('{ vms { id name uuid state host { name uri } } }');
    const a = body.data!.vms.find((v) => v.name === LOCAL && v.host.uri === local.uri && v.state === 'running');
    const b = body.data!.vms.find((v) => v.name === REMOTE && v.host.uri === remote.uri && v.state === 'running');
    return a && b ? { a, b } : undefined;
  });
  expect(vms.a.uuid).toBe(guests[0]!.uuid);
  expect(vms.b.uuid).toBe(guests[1]!.uuid);

  // Stats on both: CPU time rising, memory as virsh reports it.
  const q = 'subscription($id: ID!) { vmMetrics(vmId: $id) { timestamp stale cputime memactual } }';
  const subA = collect<{ vmMetrics: { timestamp: string; stale: boolean; cputime: string; memactual: string } }>(t.ws(), q, { id: vms.a.id });
  const subB = collect<{ vmMetrics: { timestamp: string; stale: boolean; cputime: string; memactual: string } }>(t.ws(), q, { id: vms.b.id });
  for (const [sub, name] of [[subA, LOCAL], [subB, REMOTE]] as const) {
    await sub.next(() => sub.seen.filter((m) => !m.vmMetrics.stale).length >= 3, 30_000);
    const fresh = sub.seen.filter((m) => !m.vmMetrics.stale);
    expect(BigInt(fresh.at(-1)!.vmMetrics.cputime) > BigInt(fresh[0]!.vmMetrics.cputime)).toBe(true);
    const dominfo = await virsh(['dommemstat', name]);
    expect(fresh.at(-1)!.vmMetrics.memactual).toBe(/actual (\d+)/.exec(dominfo)![1]);
  }

  // Lifecycle events from both hosts.
  const events = collect<{ vmStateChanged: { vm: { id: string }; state: string } }>(t.ws(), 'subscription { vmStateChanged { vm { id } state } }');
  await virsh(['suspend', LOCAL]);
  await virsh(['suspend', REMOTE]);
  for (const id of [vms.a.id, vms.b.id]) await events.next((m) => m.vmStateChanged.vm.id === id && m.vmStateChanged.state === 'paused', 20_000);
  await virsh(['resume', LOCAL]);
  await virsh(['resume', REMOTE]);
  for (const id of [vms.a.id, vms.b.id]) await events.next((m) => m.vmStateChanged.vm.id === id && m.vmStateChanged.state === 'running', 20_000);

  // Cut both connections: libvirtd drops our local client; the ssh session is killed.
  const localClients = libvirtClientIds(process.pid);
  expect(localClients.length).toBe(1);
  const sessions = sshSessionPids(ssh.port);
  expect(sessions.length).toBeGreaterThan(0);
  const cutAt = Date.now();
  execFileSync('timeout', ['10', 'virt-admin', 'client-disconnect', 'libvirtd', localClients[0]!]);
  for (const pid of sessions) process.kill(pid, 'SIGKILL');
  // Reconnected: a new libvirtd client of ours, a new ssh session (not the killed ones).
  await until('a new local libvirt client', () => {
    const ids = libvirtClientIds(process.pid);
    return ids.length === 1 && ids[0] !== localClients[0];
  }, 30_000, 250);
  await until('a new ssh session', () => {
    const pids = sshSessionPids(ssh.port);
    return pids.length > 0 && pids.every((p) => !sessions.includes(p));
  }, 30_000, 250);
  const resumed: Record<string, number> = {};
  for (const [sub, key] of [[subA, 'local'], [subB, 'ssh']] as const) {
    const m = await sub.next((x) => !x.vmMetrics.stale && Date.parse(x.vmMetrics.timestamp) > cutAt + 500, 30_000);
    resumed[key] = Date.parse(m.vmMetrics.timestamp) - cutAt;
  }
  console.log('two hosts: samples again after the cut (ms)', JSON.stringify(resumed));
  expect(libvirtClientIds(process.pid).length).toBe(1); // reconnected once, nothing leaked
  const status = (await (await t.api('/api/telemetry/status')).json()).hosts as { connected: boolean }[];
  expect(status.every((h) => h.connected)).toBe(true);
}, 10 * 60_000);
