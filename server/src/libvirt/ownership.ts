// Who owns a domain, from its metadata elements as the clouds write them (pure parsing; the
// elements come from LibvirtConnection.domainMetadata, one per namespace URI):
// - OpenNebula (src/vmm/LibVirtDriverKVM.cc): <one:vm xmlns:one="http://opennebula.org/xmlns/libvirt/1.0">
//   with <one:uname>, <one:uid>, <one:gname>, <one:gid> (and name, system_datastore, … ignored).
// - Nova (nova/virt/libvirt/config.py, LibvirtConfigGuestMetaNovaOwner): <nova:instance
//   xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.0"> (1.1 in later releases) holding
//   <nova:owner><nova:user uuid="…">name</nova:user><nova:project uuid="…">name</nova:project></nova:owner>.
// - vmpulse, set by an admin where neither exists: <vmpulse:owner xmlns:vmpulse="…">
//   <vmpulse:user>…</vmpulse:user><vmpulse:group>…</vmpulse:group></vmpulse:owner>.
// libvirt hands each element back with its own prefix; prefixes are dropped here, the namespace is
// what the URI asked for.
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import type { OwnerSource, VmOwner } from '../domain/owner.js';

const OPENNEBULA_NS = 'http://opennebula.org/xmlns/libvirt/1.0';
/** @internal exported for tests only: its unit test drives it */
export const NOVA_NS = ['http://openstack.org/xmlns/libvirt/nova/1.1', 'http://openstack.org/xmlns/libvirt/nova/1.0'] as const;
export const VMPULSE_NS = 'https://vmpulse.dev/xmlns/libvirt/owner/1.0';
export const VMPULSE_PREFIX = 'vmpulse';

/** The namespaces to ask each domain for, in order of precedence (a cloud's record first). */
export const OWNER_NAMESPACES = [OPENNEBULA_NS, ...NOVA_NS, VMPULSE_NS] as const;
const SOURCE_OF: readonly OwnerSource[] = ['opennebula', 'nova', 'nova', 'vmpulse'];

/** Longest name or id kept; longer values are cut (they are labels, not keys we trust blindly). */
const MAX_LEN = 255;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
});

type Node = Record<string, unknown>;

function text(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'number') return clean(String(v));
  if (Array.isArray(v)) return text(v[0]);
  if (typeof v === 'object') return text((v as Node)['#text']);
  return null;
}

function attr(v: unknown, name: string): string | null {
  if (Array.isArray(v)) return attr(v[0], name);
  if (v && typeof v === 'object') return text((v as Node)[`@${name}`]);
  return null;
}

function clean(s: string): string | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters never belong in a name
  const t = s.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, MAX_LEN);
  return t.length ? t : null;
}

function root(xml: string, name: string): Node | null {
  // libvirt hands back well-formed XML; anything else names no owner (the parser alone is lenient).
  if (XMLValidator.validate(xml) !== true) return null;
  try {
    const doc = parser.parse(xml) as Node;
    const el = doc[name];
    return el && typeof el === 'object' && !Array.isArray(el) ? (el as Node) : null;
  } catch {
    return null; // not well-formed: no owner from it
  }
}

const owner = (source: OwnerSource, user: string | null, userId: string | null, group: string | null, groupId: string | null): VmOwner | null =>
  user || userId || group || groupId ? { user, userId, group, groupId, source } : null;

/** @internal exported for tests only: its unit test drives it */
export function parseOpenNebula(xml: string): VmOwner | null {
  const vm = root(xml, 'vm');
  return vm && owner('opennebula', text(vm.uname), text(vm.uid), text(vm.gname), text(vm.gid));
}

/** @internal exported for tests only: its unit test drives it */
export function parseNova(xml: string): VmOwner | null {
  const inst = root(xml, 'instance');
  const o = inst?.owner;
  if (!o || typeof o !== 'object') return null;
  const { user, project } = o as Node;
  return owner('nova', text(user), attr(user, 'uuid'), text(project), attr(project, 'uuid'));
}

/** @internal exported for tests only: its unit test drives it */
export function parseVmpulse(xml: string): VmOwner | null {
  const o = root(xml, 'owner');
  return o && owner('vmpulse', text(o.user), null, text(o.group), null);
}

const PARSERS = [parseOpenNebula, parseNova, parseNova, parseVmpulse] as const;

/**
 * The owner from a domain's metadata elements, given in OWNER_NAMESPACES order: the first that
 * names an owner wins (a cloud's record before vmpulse's own).
 */
export function ownerFromMetadata(elements: ReadonlyArray<string | null>): VmOwner | null {
  for (let i = 0; i < PARSERS.length; i++) {
    const xml = elements[i];
    if (!xml) continue;
    const o = PARSERS[i]!(xml);
    if (o) return { ...o, source: SOURCE_OF[i]! };
  }
  return null;
}

const builder = new XMLBuilder({ ignoreAttributes: true, format: false, suppressEmptyNode: true });

/** vmpulse's own owner element (libvirt adds the prefix and namespace when it stores it). */
export function vmpulseOwnerXml(user: string | null, group: string | null): string {
  return builder.build({ owner: { ...(user ? { user } : {}), ...(group ? { group } : {}) } }) as string;
}
