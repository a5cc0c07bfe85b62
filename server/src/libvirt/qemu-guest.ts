// Tiny real QEMU/TCG guests under the system libvirtd: the integration tests, the benchmark and
// `DEMO_GUESTS=N npm start` all build them here.
//
// A guest is the Debian cloud kernel + a busybox initramfs (scripts/guest/build.sh) that generates
// disk, network and memory activity every second, with a qcow2 disk on virtio-blk, a managed tap
// NIC (interface stats need a tap; a user-mode NIC has none) and a virtio balloon with stats.
// virsh, qemu-img and the scripts are driven as child processes (always under `timeout`): a
// wedged libvirtd must not hang the caller. Only node built-ins are used.
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SYSTEM_URI = 'qemu:///system';

/** The repository root (holds scripts/): found from this file, in src/ (tsx, vitest) or dist/src/ (node). */
/** @internal exported for tests only: for the guest test harness (server tests, e2e) */
export const REPO_ROOT = (() => {
  for (let d = dirname(fileURLToPath(import.meta.url)); d !== dirname(d); d = dirname(d)) {
    if (existsSync(join(d, 'scripts', 'guest', 'build.sh'))) return d;
  }
  throw new Error('qemu-guest: cannot find the repository root (scripts/guest/build.sh)');
})();

/** True when every directory from `dir` up to / lets others through (QEMU runs as libvirt-qemu). */
export function searchableByAll(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if (!existsSync(d) || (statSync(d).mode & 0o001) === 0) return false;
    if (d === dirname(d)) return true;
  }
}

export interface GuestImage {
  kernel: string;
  initrd: string;
}

/** @internal exported for tests only: for the guest test harness (server tests, e2e) */
export interface GuestDomainOptions {
  name: string;
  uuid?: string;
  memoryMiB?: number;
  vcpus?: number;
  diskPath: string;
  tapDev: string;
  kernel: string;
  initrd: string;
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
  /** cleanup() without awaiting anything: for a process 'exit' handler */
  removeSync(): void;
}

interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command; rejects with its stderr on a non-zero exit. */
/** @internal exported for tests only: for the guest test harness (server tests, e2e) */
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

/** virsh against qemu:///system, always under `timeout`. */
/** @internal exported for tests only: for the guest test harness (server tests, e2e) */
export async function virsh(args: string[], timeoutS = 30): Promise<string> {
  const { stdout } = await run('timeout', ['-k', '5', String(timeoutS), 'virsh', '-q', '-c', SYSTEM_URI, ...args], (timeoutS + 10) * 1000);
  return stdout;
}

/** Starts virtlogd + libvirtd if needed (idempotent; installs the apt packages on a fresh machine, as root). */
export async function ensureLibvirtd(): Promise<void> {
  await run('bash', [join(REPO_ROOT, 'scripts/libvirtd.sh'), 'start'], 30 * 60_000);
}

/** Builds (or reuses, when up to date) the guest kernel + initramfs in `dir`. */
export async function ensureGuestImage(dir: string): Promise<GuestImage> {
  await run('bash', [join(REPO_ROOT, 'scripts/guest/build.sh'), dir], 5 * 60_000);
  return { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img') };
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

/** @internal exported for tests only: for the guest test harness (server tests, e2e) */
export function guestDomainXml(o: GuestDomainOptions): string {
  const e = xmlEscape;
  const memKiB = (o.memoryMiB ?? 128) * 1024; // < 96 MiB: the cloud kernel never reaches userspace under TCG
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
    <kernel>${e(o.kernel)}</kernel>
    <initrd>${e(o.initrd)}</initrd>
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
// (tests, the benchmark, demo guests) never pick the same one (a defined guest has no tap until it starts).
function tapFor(name: string): string {
  return `vmp${createHash('sha1').update(name).digest('hex').slice(0, 10)}`; // ≤ 15 chars (IFNAMSIZ)
}

export type CreateGuestOptions = Partial<Omit<GuestDomainOptions, 'name' | 'diskPath' | 'tapDev' | 'kernel' | 'initrd'>> & {
  /** where the disk, console log and XML go */
  dir: string;
  image: GuestImage;
};

/** Creates the qcow2 disk and defines (does not start) the domain. `cleanup()` removes everything. */
export async function createGuest(name: string, { dir, image, ...opts }: CreateGuestOptions): Promise<Guest> {
  mkdirSync(dir, { recursive: true });
  const diskPath = join(dir, `${name}.qcow2`);
  const consoleLog = join(dir, `${name}.console.log`);
  const uuid = opts.uuid ?? randomUUID();
  const tapDev = tapFor(name);
  rmSync(consoleLog, { force: true });
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', diskPath, '64M']);
  const xml = guestDomainXml({ ...opts, ...image, name, uuid, diskPath, tapDev, consoleLog });
  const xmlPath = join(dir, `${name}.xml`);
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
      await removeDomain(name);
      removeFiles();
    },
    removeSync() {
      for (const args of [['destroy', name], ['undefine', name]]) {
        try {
          execFileSync('timeout', ['-k', '5', '30', 'virsh', '-q', '-c', SYSTEM_URI, ...args], { stdio: 'ignore' });
        } catch {
          /* not running / already gone */
        }
      }
      removeFiles();
    },
  };
}

/** Destroys (if running) and undefines a domain; a domain that does not exist is fine. */
export async function removeDomain(name: string): Promise<void> {
  await destroyGuest(name).catch(() => undefined); // not running is fine
  await virsh(['undefine', name]).catch((err: Error) => {
    if (!/failed to get domain|Domain not found/i.test(err.message)) throw err;
  });
}

export async function startGuest(name: string): Promise<void> {
  await virsh(['start', name], 60);
}

/** @internal exported for tests only: for the guest test harness (server tests, e2e) */
export async function destroyGuest(name: string): Promise<void> {
  await virsh(['destroy', name]);
}
