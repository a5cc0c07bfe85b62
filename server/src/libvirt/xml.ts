// Pure parsing of libvirt domain XML (no dependency): a small element-tree
// parser that is enough for libvirt's own well-formed output, and the
// extraction of NICs and disks from it.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? m;
  });
}

const ATTR_RE = /([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const TOKEN_RE = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[([\s\S]*?)\]\]>|<!DOCTYPE[^>]*>|<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[^>]*?)?)(\/?)>|([^<]+)/g;

/** Parses an XML document into its root element. Throws on mismatched tags. */
export function parseXml(xml: string): XmlElement {
  const root: XmlElement = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  TOKEN_RE.lastIndex = 0;
  for (let m = TOKEN_RE.exec(xml); m !== null; m = TOKEN_RE.exec(xml)) {
    const top = stack[stack.length - 1]!;
    const [, cdata, closing, name, attrText, selfClose, text] = m;
    if (cdata !== undefined) {
      top.text += cdata;
    } else if (text !== undefined) {
      top.text += decode(text);
    } else if (name !== undefined) {
      if (closing) {
        if (top.name !== name) throw new Error(`XML: </${name}> closes <${top.name}>`);
        stack.pop();
        continue;
      }
      const attrs: Record<string, string> = {};
      ATTR_RE.lastIndex = 0;
      for (let a = ATTR_RE.exec(attrText ?? ''); a !== null; a = ATTR_RE.exec(attrText ?? '')) {
        attrs[a[1]!] = decode(a[2] ?? a[3] ?? '');
      }
      const el: XmlElement = { name, attrs, children: [], text: '' };
      top.children.push(el);
      if (!selfClose) stack.push(el);
    }
  }
  if (stack.length !== 1) throw new Error(`XML: <${stack[stack.length - 1]!.name}> is not closed`);
  const docRoot = root.children[0];
  if (!docRoot) throw new Error('XML: no root element');
  return docRoot;
}

export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

export function children(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}

// ---- domain XML ---------------------------------------------------------------

export interface DomainNic {
  /** <interface type=…>: network, bridge, ethernet, user, direct, … */
  type: string;
  mac?: string;
  /** target dev: the name interfaceStats() takes (absent for user-mode NICs) */
  target?: string;
  /** source network / bridge / dev, whichever is set */
  source?: string;
  model?: string;
}

export interface DomainDisk {
  /** <disk type=…>: file, block, network, volume */
  type: string;
  /** disk, cdrom, floppy, lun */
  device: string;
  /** target dev: the name blockStats() takes */
  target?: string;
  bus?: string;
  /** file path / block dev / network name / pool:volume */
  source?: string;
  driverType?: string;
}

export interface ParsedDomainXml {
  type: string;
  name?: string;
  uuid?: string;
  /** <memory> in KiB */
  memoryKiB?: number;
  currentMemoryKiB?: number;
  vcpus?: number;
  nics: DomainNic[];
  disks: DomainDisk[];
}

const UNIT_KIB: Record<string, number> = {
  b: 1 / 1024, bytes: 1 / 1024, k: 1, kib: 1, kb: 1000 / 1024, m: 1024, mib: 1024, mb: 1e6 / 1024,
  g: 1024 ** 2, gib: 1024 ** 2, gb: 1e9 / 1024, t: 1024 ** 3, tib: 1024 ** 3, tb: 1e12 / 1024,
};

function memoryKiB(el: XmlElement | undefined): number | undefined {
  if (!el) return undefined;
  const v = Number(el.text.trim());
  if (!Number.isFinite(v)) return undefined;
  const factor = UNIT_KIB[(el.attrs['unit'] ?? 'KiB').toLowerCase()] ?? 1;
  return Math.round(v * factor);
}

function nicOf(el: XmlElement): DomainNic {
  const src = child(el, 'source');
  const nic: DomainNic = { type: el.attrs['type'] ?? '' };
  const mac = child(el, 'mac')?.attrs['address'];
  if (mac) nic.mac = mac;
  const target = child(el, 'target')?.attrs['dev'];
  if (target) nic.target = target;
  const source = src?.attrs['network'] ?? src?.attrs['bridge'] ?? src?.attrs['dev'];
  if (source) nic.source = source;
  const model = child(el, 'model')?.attrs['type'];
  if (model) nic.model = model;
  return nic;
}

function diskOf(el: XmlElement): DomainDisk {
  const src = child(el, 'source');
  const tgt = child(el, 'target');
  const disk: DomainDisk = { type: el.attrs['type'] ?? '', device: el.attrs['device'] ?? 'disk' };
  if (tgt?.attrs['dev']) disk.target = tgt.attrs['dev'];
  if (tgt?.attrs['bus']) disk.bus = tgt.attrs['bus'];
  const pool = src?.attrs['pool'];
  const source =
    src?.attrs['file'] ??
    src?.attrs['dev'] ??
    src?.attrs['name'] ??
    (pool !== undefined ? `${pool}:${src?.attrs['volume'] ?? ''}` : undefined);
  if (source) disk.source = source;
  const driverType = child(el, 'driver')?.attrs['type'];
  if (driverType) disk.driverType = driverType;
  return disk;
}

export function parseDomainXml(xml: string): ParsedDomainXml {
  const dom = parseXml(xml);
  if (dom.name !== 'domain') throw new Error(`not a domain XML (root <${dom.name}>)`);
  const devices = child(dom, 'devices');
  const out: ParsedDomainXml = {
    type: dom.attrs['type'] ?? '',
    nics: children(devices, 'interface').map(nicOf),
    disks: children(devices, 'disk').map(diskOf),
  };
  const name = child(dom, 'name')?.text.trim();
  if (name) out.name = name;
  const uuid = child(dom, 'uuid')?.text.trim();
  if (uuid) out.uuid = uuid;
  const mem = memoryKiB(child(dom, 'memory'));
  if (mem !== undefined) out.memoryKiB = mem;
  const cur = memoryKiB(child(dom, 'currentMemory'));
  if (cur !== undefined) out.currentMemoryKiB = cur;
  const vcpu = child(dom, 'vcpu');
  if (vcpu) {
    const n = Number(vcpu.attrs['current'] ?? vcpu.text.trim());
    if (Number.isFinite(n)) out.vcpus = n;
  }
  return out;
}

/** Target devs that interfaceStats()/blockStats() accept (disks without a source are skipped). */
export function statDevices(parsed: ParsedDomainXml): { interfaces: string[]; blocks: string[] } {
  return {
    interfaces: parsed.nics.flatMap((n) => (n.target ? [n.target] : [])),
    blocks: parsed.disks.flatMap((d) => (d.target && d.source ? [d.target] : [])),
  };
}
