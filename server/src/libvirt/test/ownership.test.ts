// Owner parsing from metadata elements as libvirt hands them back (virDomainGetMetadata returns the
// element with its own prefix, or none), written the way OpenNebula's LibVirtDriverKVM.cc and Nova's
// LibvirtConfigGuestMetaNovaOwner write them.
import { describe, expect, it } from 'vitest';
import { ownerFromMetadata, parseNova, parseOpenNebula, parseVmpulse, vmpulseOwnerXml } from '../ownership.js';

const one = (body: string) => `<one:vm xmlns:one="http://opennebula.org/xmlns/libvirt/1.0">${body}</one:vm>`;
const nova = (owner: string) =>
  `<nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1"><nova:package version="29.0.0"/><nova:name>vm1</nova:name><nova:owner>${owner}</nova:owner></nova:instance>`;

describe('OpenNebula one:vm', () => {
  it('reads uname, uid, gname, gid (escaped names unescaped, other elements ignored)', () => {
    const xml = one(
      '<one:system_datastore>/var/lib/one//datastores/0/42</one:system_datastore><one:name>web &amp; db</one:name><one:uname>r&amp;d-user</one:uname><one:uid>7</one:uid><one:gname>users</one:gname><one:gid>1</one:gid><one:opennebula_version>6.8.0</one:opennebula_version>',
    );
    expect(parseOpenNebula(xml)).toEqual({ user: 'r&d-user', userId: '7', group: 'users', groupId: '1', source: 'opennebula' });
  });
  it('keeps ids as strings (uid 0 is oneadmin) and reads the element without a prefix as libvirt may return it', () => {
    expect(parseOpenNebula('<vm><uname>oneadmin</uname><uid>0</uid><gname>oneadmin</gname><gid>0</gid></vm>')).toEqual({
      user: 'oneadmin', userId: '0', group: 'oneadmin', groupId: '0', source: 'opennebula',
    });
  });
  it('no owner fields, malformed XML or another root: no owner', () => {
    expect(parseOpenNebula(one('<one:name>x</one:name>'))).toBeNull();
    expect(parseOpenNebula('<vm><uname>a</uname>')).toBeNull();
    expect(parseOpenNebula('<instance/>')).toBeNull();
  });
});

describe('Nova nova:owner', () => {
  it('reads user and project names with their uuid attributes', () => {
    expect(parseNova(nova('<nova:user uuid="u-1">alice</nova:user><nova:project uuid="p-1">demo</nova:project>'))).toEqual({
      user: 'alice', userId: 'u-1', group: 'demo', groupId: 'p-1', source: 'nova',
    });
  });
  it('a project alone is an owner; an instance without owner is not', () => {
    expect(parseNova(nova('<nova:project uuid="p-2">only-project</nova:project>'))).toMatchObject({ user: null, group: 'only-project', groupId: 'p-2' });
    expect(parseNova('<nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.0"><nova:name>x</nova:name></nova:instance>')).toBeNull();
  });
});

describe('precedence and vmpulse element', () => {
  it('a cloud record wins over vmpulse\'s own; vmpulse\'s is read where no cloud wrote one', () => {
    const mine = vmpulseOwnerXml('carol', 'ops');
    expect(parseVmpulse(mine)).toEqual({ user: 'carol', userId: null, group: 'ops', groupId: null, source: 'vmpulse' });
    expect(ownerFromMetadata([one('<one:uname>a</one:uname><one:uid>1</one:uid>'), null, null, mine])?.source).toBe('opennebula');
    expect(ownerFromMetadata([null, null, nova('<nova:user uuid="u">n</nova:user>'), mine])?.source).toBe('nova');
    expect(ownerFromMetadata([null, null, null, mine])?.source).toBe('vmpulse');
    expect(ownerFromMetadata([null, null, null, null])).toBeNull();
  });
  it('escapes what it writes', () => {
    expect(vmpulseOwnerXml('a<b', 'x&y')).toBe('<owner><user>a&lt;b</user><group>x&amp;y</group></owner>');
    expect(parseVmpulse(vmpulseOwnerXml('a<b', 'x&y'))).toMatchObject({ user: 'a<b', group: 'x&y' });
  });
});
