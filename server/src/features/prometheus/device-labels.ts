// The two device labels the exporter reads from the domain XML and libvirt's stats do not carry:
// a disk's `source_file` and a NIC's `source_bridge` (and which disks are CD-ROMs or floppies, which
// the exporter leaves out). Read once per VM and device set, in the background: a scrape never waits
// on libvirt; until a VM's XML is read its lines carry what the stats give ('' for the bridge).
import type { MetricSnapshot } from '../../domain/snapshot.js';

export interface DeviceLabels {
  /** disk target dev → source file ('' for a disk without a file source) */
  files: ReadonlyMap<string, string>;
  /** NIC target dev → source bridge */
  bridges: ReadonlyMap<string, string>;
  /** CD-ROM targets: no block series, as in the exporter */
  skipped: ReadonlySet<string>;
}

const attr = (tag: string, name: string) => new RegExp(`\\s${name}\\s*=\\s*(['"])(.*?)\\1`).exec(tag)?.[2];
const unescapeXml = (s: string) => s.replace(/&(lt|gt|quot|apos|amp);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);

/** Each `<el …>…</el>` of the `<devices>` section: its opening tag and its body. */
function elements(xml: string, el: string): { open: string; body: string }[] {
  const out: { open: string; body: string }[] = [];
  const re = new RegExp(`<${el}(\\s[^>]*)?>([\\s\\S]*?)</${el}>`, 'g');
  for (let m = re.exec(xml); m; m = re.exec(xml)) out.push({ open: m[1] ?? '', body: m[2] ?? '' });
  return out;
}

/**
 * The exporter's reading of a domain XML (libvirt_schema in kumina 0.2.0). Pure.
 * @internal exported for tests only: its unit test drives it
 */
export function parseDeviceLabels(xml: string): DeviceLabels {
  const files = new Map<string, string>();
  const bridges = new Map<string, string>();
  const skipped = new Set<string>();
  for (const d of elements(xml, 'disk')) {
    const target = attr(/<target\b[^>]*>/.exec(d.body)?.[0] ?? '', 'dev');
    if (!target) continue;
    const device = attr(d.open, 'device');
    // The exporter skips device "cdrom" and "fd" (libvirt names floppies "floppy", so only CD-ROMs).
    if (device === 'cdrom' || device === 'fd') skipped.add(unescapeXml(target));
    files.set(unescapeXml(target), unescapeXml(attr(/<source\b[^>]*>/.exec(d.body)?.[0] ?? '', 'file') ?? ''));
  }
  for (const i of elements(xml, 'interface')) {
    const target = attr(/<target\b[^>]*>/.exec(i.body)?.[0] ?? '', 'dev');
    if (target) bridges.set(unescapeXml(target), unescapeXml(attr(/<source\b[^>]*>/.exec(i.body)?.[0] ?? '', 'bridge') ?? ''));
  }
  return { files, bridges, skipped };
}

const RETRY_MS = 60_000;

/**
 * Labels per VM, keyed by its device set: a new VM, a hot-plugged disk or NIC, or a restart with new
 * tap names reads the XML again. `read` fetches a domain's XML; at most `concurrency` at once.
 */
export function createDeviceLabels(deps: { read(s: MetricSnapshot): Promise<string>; concurrency: number; onError(err: unknown, s: MetricSnapshot): void }) {
  const byVm = new Map<number, { key: string; labels?: DeviceLabels; failedAt?: number }>();
  const queue: MetricSnapshot[] = [];
  const queued = new Set<number>();
  let running = 0;
  let stopped = false;

  const keyOf = (s: MetricSnapshot) => `${s.uuid}|${s.disks.map((d) => d.name).join(',')}|${s.nics.map((n) => n.name).join(',')}`;

  function pump() {
    while (!stopped && running < deps.concurrency && queue.length) {
      const s = queue.shift()!;
      running++;
      const key = keyOf(s);
      deps
        .read(s)
        .then(
          (xml) => byVm.set(s.vmId, { key, labels: parseDeviceLabels(xml) }),
          (err: unknown) => {
            byVm.set(s.vmId, { key, failedAt: Date.now() });
            deps.onError(err, s);
          },
        )
        .finally(() => {
          running--;
          queued.delete(s.vmId);
          pump();
        });
    }
  }

  return {
    /** The VM's labels if read for its current devices; else schedules a read and returns what it has. */
    of(s: MetricSnapshot): DeviceLabels | undefined {
      if (!s.disks.length && !s.nics.length) return undefined;
      const entry = byVm.get(s.vmId);
      const current = entry?.key === keyOf(s);
      const due = !current || (entry.failedAt !== undefined && Date.now() - entry.failedAt > RETRY_MS);
      if (due && !queued.has(s.vmId)) {
        queued.add(s.vmId);
        queue.push(s);
        pump();
      }
      return entry?.labels;
    },
    /** Forgets VMs not in `present` (undefined ones). */
    prune(present: ReadonlySet<number>) {
      for (const id of byVm.keys()) if (!present.has(id)) byVm.delete(id);
    },
    stop() {
      stopped = true;
      queue.length = 0;
    },
  };
}

