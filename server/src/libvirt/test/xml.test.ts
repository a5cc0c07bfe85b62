import { describe, expect, it } from 'vitest';
import { LibvirtConnection, parseDomainXml, parseXml, statDevices, writeDemoFleet } from '../index.js';
import { native } from '../native.js';
import { tempDir } from './helpers.js';
import { join } from 'node:path';

const QEMU_XML = `<?xml version="1.0"?>
<!-- a comment with <tags> -->
<domain type='kvm' id='3' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>db &amp; cache</name>
  <uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
  <memory unit='GiB'>2</memory>
  <currentMemory unit='MiB'>1536</currentMemory>
  <vcpu placement='static' current="2">4</vcpu>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/db.qcow2' index='2'/>
      <backingStore/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='block' device='disk'>
      <source dev="/dev/vg0/data"/>
      <target dev="sdb" bus="scsi"/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
    <disk type='volume' device='disk'>
      <source pool='default' volume='logs.img'/>
      <target dev='vdc' bus='virtio'/>
    </disk>
    <interface type='bridge'>
      <mac address='52:54:00:ab:cd:ef'/>
      <source bridge='br0'/>
      <target dev='vnet7'/>
      <model type='virtio'/>
    </interface>
    <interface type='user'>
      <mac address='52:54:00:00:00:01'/>
      <model type='e1000'/>
    </interface>
    <interface type='direct'>
      <source dev='eth0' mode='bridge'/>
      <target dev='macvtap0'/>
    </interface>
  </devices>
  <qemu:commandline><qemu:arg value='-s'/></qemu:commandline>
</domain>`;

describe('XML parsing', () => {
  it('parses elements, attributes (both quotes), entities, comments, self-closing tags', () => {
    const root = parseXml(QEMU_XML);
    expect(root.name).toBe('domain');
    expect(root.attrs['xmlns:qemu']).toBe('http://libvirt.org/schemas/domain/qemu/1.0');
    expect(root.children.find((c) => c.name === 'name')?.text).toBe('db & cache');
    expect(() => parseXml('<a><b></a>')).toThrow();
    expect(() => parseXml('<a>')).toThrow();
  });

  it('extracts NICs and disks from QEMU-style XML', () => {
    const d = parseDomainXml(QEMU_XML);
    expect(d.type).toBe('kvm');
    expect(d.name).toBe('db & cache');
    expect(d.uuid).toBe('c7a5fdbd-edaf-9455-926a-d65c16db1809');
    expect(d.memoryKiB).toBe(2 * 1024 * 1024);
    expect(d.currentMemoryKiB).toBe(1536 * 1024);
    expect(d.vcpus).toBe(2);
    expect(d.disks).toEqual([
      { type: 'file', device: 'disk', target: 'vda', bus: 'virtio', source: '/var/lib/libvirt/images/db.qcow2', driverType: 'qcow2' },
      { type: 'block', device: 'disk', target: 'sdb', bus: 'scsi', source: '/dev/vg0/data' },
      { type: 'file', device: 'cdrom', target: 'hdc', bus: 'ide' },
      { type: 'volume', device: 'disk', target: 'vdc', bus: 'virtio', source: 'default:logs.img' },
    ]);
    expect(d.nics).toEqual([
      { type: 'bridge', mac: '52:54:00:ab:cd:ef', target: 'vnet7', source: 'br0', model: 'virtio' },
      { type: 'user', mac: '52:54:00:00:00:01', model: 'e1000' },
      { type: 'direct', target: 'macvtap0', source: 'eth0' },
    ]);
    expect(statDevices(d)).toEqual({ interfaces: ['vnet7', 'macvtap0'], blocks: ['vda', 'sdb', 'vdc'] });
    // The addon's own C++ extraction (used by domainStatsPerCall) agrees.
    expect(native.targetDevs(QEMU_XML, 'interface')).toEqual(['vnet7', 'macvtap0']);
    expect(native.targetDevs(QEMU_XML, 'disk')).toEqual(['vda', 'sdb', 'vdc']);
  });

  it('rejects non-domain XML', () => {
    expect(() => parseDomainXml('<network><name>x</name></network>')).toThrow(/not a domain/);
  });

  it('parses real XML dumped by the test driver', async () => {
    const conn = await LibvirtConnection.open('test:///default', { readOnly: true });
    const [dom] = await conn.listAllDomains();
    const d = parseDomainXml(await conn.domainXml(dom!.uuid));
    expect(d.type).toBe('test');
    expect(d.uuid).toBe(dom!.uuid);
    expect(d.memoryKiB).toBe(Number(dom!.maxMemKiB));
    expect(d.nics[0]).toMatchObject({ type: 'network', target: 'testnet0', source: 'default', mac: 'aa:bb:cc:dd:ee:ff' });
    expect(d.disks[0]).toMatchObject({ type: 'file', device: 'disk', target: 'vda', source: '/guest/diskimage1' });
    await conn.close();

    const uri = writeDemoFleet(join(tempDir(), 'fleet.xml'), { count: 8 });
    const fleet = await LibvirtConnection.open(uri, { readOnly: true });
    for (const info of await fleet.listAllDomains()) {
      const xml = await fleet.domainXml(info.uuid);
      const parsed = parseDomainXml(xml);
      expect(parsed.name).toBe(info.name);
      expect(statDevices(parsed)).toEqual({
        interfaces: native.targetDevs(xml, 'interface'),
        blocks: native.targetDevs(xml, 'disk'),
      });
      expect(parsed.nics.every((n) => /^tap\d+$/.test(n.target ?? ''))).toBe(true);
      expect(parsed.disks.every((x) => x.source?.startsWith('/guest/'))).toBe(true);
    }
    await fleet.close();
  });
});
