// A real QEMU/TCG guest's sample, table by table against Telegraf's README: the guest is booted under the
// system libvirtd, paused (its counters stop, so `virsh domstats` and the addon see the same values), read
// the way the collector reads it, turned into line protocol by the store's own line builder, written through
// the store into the fake Core, and every line checked against the README's field list (see
// telegraf-readme-check.ts). virsh is the independent witness that the addon's record is libvirt's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapStatsOf } from '../../collector/mapping.js';
import { plainRow } from '../../collector/test/plain-row.js';
import { LibvirtConnection } from '../../../../libvirt/connection.js';
import type { StatParams, StatsGroup } from '../../../../libvirt/types.js';
import { startInfluxFake, type InfluxFake } from '../../../../../test/fakes/influxdb3-fake.js';
import { createGuest, domstats, ensureGuestImage, ensureLibvirtd, startGuest, virsh, type Guest } from '../../../../../test/guest/qemu-guest.js';
import { snapshotLines } from '../influxdb3-lines.js';
import { createInfluxStore } from '../influxdb3.js';
import { captureLogger, snapshotFixture, waitFor } from './influxdb3-fixtures.js';
import { checkAgainstReadme } from './telegraf-readme-check.js';

const NAME = 'vmpulse-influx-telegraf-guest';
/** The groups the collector asks for (collector/loop.ts GROUPS) and their virsh flags. */
const GROUPS: StatsGroup[] = ['state', 'cpu-total', 'balloon', 'vcpu', 'interface', 'block'];
const VIRSH_GROUPS = ['--state', '--cpu-total', '--balloon', '--vcpu', '--interface', '--block'];
/** Counters that move while the guest is paused: CPU time (QEMU's own threads), and the NIC's (its tap counts what the host side sends it). */
const MOVING = /^cpu\.(time|user|system)$|^net\.\d+\.(rx|tx)\.(bytes|pkts)$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a real QEMU guest sample in Telegraf\'s tables', () => {
  let guest: Guest | undefined;
  let fake: InfluxFake;

  beforeAll(async () => {
    await ensureGuestImage();
    await ensureLibvirtd();
    await virsh(['destroy', NAME]).catch(() => undefined);
    await virsh(['undefine', NAME]).catch(() => undefined);
    guest = await createGuest(NAME, { vcpus: 2 });
    await startGuest(NAME);
    const t0 = Date.now();
    for (let s = await domstats(NAME); BigInt(s.get('block.0.wr.bytes') ?? '0') === 0n || BigInt(s.get('net.0.tx.bytes') ?? '0') === 0n; s = await domstats(NAME)) {
      if (Date.now() - t0 > 30_000) throw new Error('guest never became active');
      await sleep(250);
    }
    await virsh(['suspend', NAME]);
    fake = await startInfluxFake({ token: 'apiv3_guest' });
  }, 180_000);

  afterAll(async () => {
    await fake?.close();
    await guest?.cleanup();
  });

  it('writes every documented field libvirt reported, with its value, and nothing else', async () => {
    const before = await domstats(NAME, VIRSH_GROUPS);
    const conn = await LibvirtConnection.open('qemu:///system', { readOnly: true });
    let record: StatParams;
    try {
      const [rec] = await conn.getAllDomainStats({ groups: GROUPS, uuids: [guest!.uuid] });
      record = rec!.params;
    } finally {
      await conn.close();
    }
    const after = await domstats(NAME, VIRSH_GROUPS);

    // The addon's record is libvirt's: same keys as virsh, same values (moving CPU counters in between).
    expect(Object.keys(record).sort()).toEqual([...after.keys()].sort());
    for (const [k, v] of Object.entries(record)) {
      if (MOVING.test(k)) {
        expect(BigInt(v as bigint), k).toBeGreaterThanOrEqual(BigInt(before.get(k)!));
        expect(BigInt(v as bigint), k).toBeLessThanOrEqual(BigInt(after.get(k)!));
      } else expect(String(v), k).toBe(after.get(k));
    }

    const mapped = mapStatsOf(plainRow(record));
    const snapshot = snapshotFixture(42, Date.now(), 0, {
      vmName: NAME, hostName: 'host-a', state: 'paused', cpus: mapped.cpus ?? 2, metrics: mapped.metrics, nics: mapped.nics, disks: mapped.disks, libvirt: record,
    });
    const lines = snapshotLines(snapshot);
    const { tables, problems } = checkAgainstReadme(record, lines.join('\n'), { domain_name: NAME, host: 'host-a', vm_id: '42' });
    console.info(`[telegraf] real guest, table by table:\n${[...tables].map(([t, r]) => `  ${t} ×${r.lines}: ${r.fields.join(', ')}`).join('\n')}`);
    expect(problems).toEqual([]);
    for (const t of ['libvirt_state', 'libvirt_cpu', 'libvirt_balloon', 'libvirt_vcpu_total', 'libvirt_vcpu', 'libvirt_net_total', 'libvirt_net', 'libvirt_block_total', 'libvirt_block']) {
      expect(tables.has(t), t).toBe(true);
    }
    expect(tables.get('libvirt_vcpu')!.lines).toBe(2);
    expect(tables.get('libvirt_block')!.fields).not.toContain('errors'); // Xen only: QEMU does not report it

    // …and Core (the fake) takes every line of it.
    const store = createInfluxStore({ url: fake.url, database: 'vmstats', token: 'apiv3_guest', batchMaxLines: 1000, batchMaxSec: 0, log: captureLogger().log });
    await store.write([snapshot]);
    await waitFor(() => store.status().bufferDepth === 0, 5000, 'write');
    expect(store.status()).toMatchObject({ written: 1, rejectedLines: 0, dropped: 0, lastError: null });
    for (const t of tables.keys()) expect(fake.table(t, 42).length, t).toBe(tables.get(t)!.lines);
    await store.close();
  });
});
