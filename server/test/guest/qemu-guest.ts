// Real QEMU/TCG test guests under the system libvirtd, for integration tests.
//
// A guest is the Debian cloud kernel + a busybox initramfs (scripts/guest/build.sh)
// that generates disk, network and memory activity every second, with a qcow2
// disk on virtio-blk, a managed tap NIC (interface stats need a tap; a user-mode
// NIC has none) and a virtio balloon with stats. Only node built-ins are used.
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LIBVIRT_URI = 'qemu:///system';
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

// QEMU runs as libvirt-qemu and must reach kernel, initrd and disk: inside a repo
// under a 0700 directory (e.g. /root) it cannot, so fall back to libvirt's own dir.
function searchableByAll(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if (!existsSync(d) || (statSync(d).mode & 0o001) === 0) return false;
    if (d === dirname(d)) return true;
  }
}
export const TEST_DIR =
  process.env.VMPULSE_TEST_DIR ??
  (searchableByAll(REPO_ROOT) ? join(REPO_ROOT, '.vmpulse-test') : '/var/lib/libvirt/images/vmpulse-test');
export const GUEST_IMAGE_DIR = join(TEST_DIR, 'guest');
export const GUESTS_DIR = join(TEST_DIR, 'guests');

export interface GuestImage {
  kernel: string;
  initrd: string;
}

export interface GuestDomainOptions {
  name: string;
  uuid?: string;
  memoryMiB?: number;
  vcpus?: number;
  diskPath: string;
  tapDev: string;
  kernel?: string;
  initrd?: string;
  /** Serial console (ttyS0) log file; default: next to the disk. */
  consoleLog?: string;
  /** Guest address on eth0 (CIDR); default 10.77.0.2/24. */
  ip?: string;
  /** more kernel command line, e.g. vmpulse.marker=X (the init writes a marker into RAM) */
  cmdlineExtra?: string;
}

export interface Guest {
  name: string;
  uuid: string;
  xml: string;
  diskPath: string;
  tapDev: string;
  consoleLog: string;
  cleanup(): Promise<void>;
}

interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command; rejects with its stderr on a non-zero exit. */
export function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((res, rej) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) {
        rej(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`.trim()));
      } else {
        res({ stdout, stderr });
      }
    });
  });
}

/** virsh against qemu:///system, always under `timeout` (a wedged libvirtd must not hang a test). */
export async function virsh(args: string[], timeoutS = 30): Promise<string> {
  const { stdout } = await run(
    'timeout',
    ['-k', '5', String(timeoutS), 'virsh', '-q', '-c', LIBVIRT_URI, ...args],
    (timeoutS + 10) * 1000,
  );
  return stdout;
}

/** Starts virtlogd + libvirtd if needed (idempotent; installs apt packages on a fresh machine). */
export async function ensureLibvirtd(): Promise<void> {
  await run('bash', [join(REPO_ROOT, 'scripts/libvirtd.sh'), 'start'], 30 * 60_000);
}

/** Builds (or reuses) the guest kernel + initramfs in <repo>/.vmpulse-test/guest/. */
export async function ensureGuestImage(): Promise<GuestImage> {
  await run('bash', [join(REPO_ROOT, 'scripts/guest/build.sh'), GUEST_IMAGE_DIR], 5 * 60_000);
  return { kernel: join(GUEST_IMAGE_DIR, 'vmlinuz'), initrd: join(GUEST_IMAGE_DIR, 'initrd.img') };
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

export function guestDomainXml(o: GuestDomainOptions): string {
  const e = xmlEscape;
  const memKiB = (o.memoryMiB ?? 128) * 1024; // < 96 MiB: the cloud kernel never reaches userspace under TCG
  const kernel = o.kernel ?? join(GUEST_IMAGE_DIR, 'vmlinuz');
  const initrd = o.initrd ?? join(GUEST_IMAGE_DIR, 'initrd.img');
  const consoleLog = o.consoleLog ?? `${o.diskPath.replace(/\.qcow2$/, '')}.console.log`;
  const cmdline = `console=ttyS0 quiet vmpulse.ip=${o.ip ?? '10.77.0.2/24'}${o.cmdlineExtra ? ` ${o.cmdlineExtra}` : ''}`;
  return `<domain type='qemu'>
  <name>${e(o.name)}</name>
  ${o.uuid ? `<uuid>${e(o.uuid)}</uuid>` : ''}
  <memory unit='KiB'>${memKiB}</memory>
  <currentMemory unit='KiB'>${memKiB}</currentMemory>
  <vcpu>${o.vcpus ?? 1}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${e(kernel)}</kernel>
    <initrd>${e(initrd)}</initrd>
    <cmdline>${e(cmdline)}</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${e(o.diskPath)}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='ethernet'>
      <target dev='${e(o.tapDev)}' managed='yes'/>
      <model type='virtio'/>
    </interface>
    <serial type='file'>
      <source path='${e(consoleLog)}'/>
      <target port='0'/>
    </serial>
    <console type='file'>
      <source path='${e(consoleLog)}'/>
      <target type='serial' port='0'/>
    </console>
    <memballoon model='virtio'>
      <stats period='2'/>
    </memballoon>
  </devices>
</domain>
`;
}

// The tap name comes from the guest name, so processes that define guests at the same time
// (tests, the benchmark) never pick the same one (a defined guest has no tap until it starts).
function tapFor(name: string): string {
  return `vmp${createHash('sha1').update(name).digest('hex').slice(0, 10)}`; // ≤ 15 chars (IFNAMSIZ)
}

/** Creates the qcow2 disk and defines (does not start) the domain. `cleanup()` removes everything. */
export async function createGuest(
  name: string,
  opts: Partial<Omit<GuestDomainOptions, 'name' | 'diskPath' | 'tapDev'>> = {},
): Promise<Guest> {
  mkdirSync(GUESTS_DIR, { recursive: true });
  const diskPath = join(GUESTS_DIR, `${name}.qcow2`);
  const consoleLog = join(GUESTS_DIR, `${name}.console.log`);
  const uuid = opts.uuid ?? randomUUID();
  const tapDev = tapFor(name);
  rmSync(consoleLog, { force: true });
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', diskPath, '64M']);
  const xml = guestDomainXml({ ...opts, name, uuid, diskPath, tapDev, consoleLog });
  const xmlPath = join(GUESTS_DIR, `${name}.xml`);
  writeFileSync(xmlPath, xml);
  const removeFiles = () => {
    for (const f of [diskPath, consoleLog, xmlPath]) rmSync(f, { force: true });
  };
  try {
    await virsh(['define', xmlPath]);
  } catch (err) {
    removeFiles();
    throw err;
  }
  return {
    name,
    uuid,
    xml,
    diskPath,
    tapDev,
    consoleLog,
    async cleanup() {
      await destroyGuest(name).catch(() => undefined); // not running is fine
      await virsh(['undefine', name]).catch((err: Error) => {
        if (!/failed to get domain|Domain not found/i.test(err.message)) throw err;
      });
      removeFiles();
    },
  };
}

export async function startGuest(name: string): Promise<void> {
  await virsh(['start', name], 60);
}

export async function destroyGuest(name: string): Promise<void> {
  await virsh(['destroy', name]);
}

/** `virsh domstats` for one domain as a flat key -> value map (values kept as strings: 64-bit counters). */
export async function domstats(name: string, groups = ['--state', '--cpu-total', '--balloon', '--interface', '--block']): Promise<Map<string, string>> {
  const out = await virsh(['domstats', ...groups, name]);
  const stats = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^\s+([^=\s]+)=(.*)$/.exec(line);
    if (m) stats.set(m[1]!, m[2]!);
  }
  return stats;
}
