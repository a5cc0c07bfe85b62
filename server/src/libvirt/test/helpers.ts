// Shared bits of the libvirt wrapper tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { LibvirtError, VirErr } from '../errors.js';

const made: string[] = [];
// Registered in each test file that imports this (vitest isolates files): its directories go with it.
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A temporary directory, removed after the test file. */
export function tempDir(prefix = 'vmpulse-libvirt-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns true or `ms` elapse. */
export async function waitFor(check: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(10);
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

export function testDomainXml(name: string, uuid?: string): string {
  return `<domain type='test'>
  <name>${name}</name>
  ${uuid ? `<uuid>${uuid}</uuid>` : ''}
  <memory unit='KiB'>1048576</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/guest/${name}.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <source network='default'/>
      <target dev='tap${name.length}'/>
    </interface>
  </devices>
</domain>`;
}

/** The driver does not implement the call (e.g. the test driver's job stats). */
export function isUnsupported(err: unknown): boolean {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return code === VirErr.NO_SUPPORT || code === VirErr.OPERATION_UNSUPPORTED || code === VirErr.ARGUMENT_UNSUPPORTED || code === VirErr.CONFIG_UNSUPPORTED;
}

/** The wrapper gave up waiting for libvirt (its call timeout). */
export function isTimeout(err: unknown): boolean {
  return err instanceof LibvirtError && err.code === 'TIMEOUT';
}
