// A "remote" libvirt host for tests: a private sshd on a random 127.0.0.1 port that accepts one
// generated key, and the qemu+ssh:// URI that reaches this machine's libvirtd through it. Needs
// openssh-server (scripts/setup.sh --test installs it). Nothing outside its temporary directory
// changes but /run/sshd, sshd's privilege-separation directory.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const run = promisify(execFile);

export interface SshHost {
  /** qemu+ssh://root@127.0.0.1:PORT/system?keyfile=…&no_verify=1 */
  uri: string;
  port: number;
  keyFile: string;
  stop(): Promise<void>;
}


async function listening(port: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('data', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`sshd did not answer on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startSshHost(): Promise<SshHost> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vmpulse-ssh-'));
  const keyFile = path.join(dir, 'client_key');
  const hostKey = path.join(dir, 'host_key');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'vmpulse-test', '-f', keyFile]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const authorized = path.join(dir, 'authorized_keys');
  writeFileSync(authorized, readFileSync(`${keyFile}.pub`), { mode: 0o600 });
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const sshd: ChildProcess = spawn(
    '/usr/sbin/sshd',
    [
      '-D', '-e', '-f', '/dev/null', '-p', String(port),
      '-o', 'ListenAddress=127.0.0.1',
      '-o', `HostKey=${hostKey}`,
      '-o', `AuthorizedKeysFile=${authorized}`,
      '-o', 'StrictModes=no', // the key files live under /tmp
      '-o', 'PermitRootLogin=prohibit-password',
      '-o', 'PasswordAuthentication=no',
      '-o', 'KbdInteractiveAuthentication=no',
      '-o', 'UsePAM=no',
      '-o', `PidFile=${path.join(dir, 'sshd.pid')}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  sshd.stderr?.on('data', (c) => (stderr = (stderr + String(c)).slice(-4000)));
  try {
    await listening(port, 10_000);
  } catch (err) {
    sshd.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${stderr}`);
  }
  const uri = `qemu+ssh://root@127.0.0.1:${port}/system?keyfile=${encodeURIComponent(keyFile)}&no_verify=1&no_tty=1`;
  return {
    uri,
    port,
    keyFile,
    async stop() {
      if (sshd.exitCode === null) {
        const exited = new Promise((r) => sshd.once('exit', r));
        sshd.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
