// libvirt hosts: one connection per LIBVIRT_URI entry, reconnected with backoff when lost.
// When LIBVIRT_URI is unset: the local qemu:///system if its daemon answers, else a demo fleet
// on libvirt's test driver, announced as such in the log and in the API (Host.demo).
import path from 'node:path';
import type { Config } from '../../config.js';
import type { PrismaClient } from '../../lib/db.js';
import type { Logger } from '../../lib/logger.js';
import { LibvirtConnection } from '../../libvirt/connection.js';
import { writeDemoFleet } from '../../libvirt/demo-fleet.js';
import { withTimeout } from '../../libvirt/timeout.js';
import type { DomainLifecycleEvent } from '../../libvirt/types.js';

export interface Host {
  id: number;
  uri: string;
  name: string;
  demo: boolean;
  readOnly: boolean;
  connected: boolean;
  lastError: string | null;
  lastSeenAt: Date | null;
  conn: LibvirtConnection | null;
}

export interface HostListener {
  connected(host: Host): void | Promise<void>;
  domainEvent(host: Host, event: DomainLifecycleEvent): void | Promise<void>;
}

const PROBE_TIMEOUT_MS = 3000;
const BACKOFF_MS = [1000, 2000, 5000, 10_000, 30_000];

export async function chooseHostUris(config: Config, log: Logger): Promise<{ uri: string; demo: boolean }[]> {
  if (config.LIBVIRT_URI?.length) {
    // libvirt's test driver serves simulated VMs, whoever chose it: say so.
    const targets = config.LIBVIRT_URI.map((uri) => ({ uri, demo: uri.startsWith('test:') }));
    for (const t of targets) if (t.demo) log.warn({ uri: t.uri }, 'this host is libvirt\'s test driver: its VMs are SIMULATED (demo fleet)');
    return targets;
  }
  try {
    const probe = await withTimeout(LibvirtConnection.open('qemu:///system', { readOnly: true }), PROBE_TIMEOUT_MS, 'probe qemu:///system');
    await probe.close();
    log.info('LIBVIRT_URI unset: using the local qemu:///system');
    return [{ uri: 'qemu:///system', demo: false }];
  } catch {
    const file = writeDemoFleet(path.join(config.DATA_DIR, 'demo-fleet.xml'));
    log.warn({ uri: file }, 'LIBVIRT_URI unset and no local libvirtd answers: serving a DEMO FLEET of simulated VMs (libvirt test driver). Set LIBVIRT_URI to monitor real hosts.');
    return [{ uri: file, demo: true }];
  }
}

export function createHostService(deps: {
  prisma: PrismaClient;
  log: Logger;
  timeoutMs: number;
  /** while a host is down, try it again at least this often (the collector's tick) */
  probeMs: number;
}) {
  const { prisma, log, timeoutMs, probeMs } = deps;
  const hosts = new Map<number, Host>();
  const listeners: HostListener[] = [];
  const retryTimers = new Map<number, NodeJS.Timeout>();
  let stopped = false;

  function hostName(uri: string): string {
    try {
      const u = new URL(uri);
      if (u.hostname) return u.hostname;
    } catch {
      /* test:///path has no host part */
    }
    return uri.startsWith('test:') ? 'demo' : 'localhost';
  }

  /** The host row follows the connection; a database that is down must not undo a libvirt connection. */
  function saveHostState(host: Host) {
    void prisma.host
      .update({ where: { id: host.id }, data: { connected: host.connected, lastError: host.lastError, ...(host.lastSeenAt ? { lastSeenAt: host.lastSeenAt } : {}) } })
      .catch((err: unknown) => log.debug({ host: host.name, err: String(err) }, 'host row not updated (database unavailable?)'));
  }

  async function connect(host: Host, attempt = 0): Promise<void> {
    if (stopped || host.connected) return;
    let conn: LibvirtConnection | undefined;
    try {
      try {
        conn = await withTimeout(LibvirtConnection.open(host.uri, { readOnly: false }), timeoutMs, `connect ${host.uri}`);
        host.readOnly = false;
      } catch (err) {
        // Stats work read-only; dumps will say they need read-write.
        conn = await withTimeout(LibvirtConnection.open(host.uri, { readOnly: true }), timeoutMs, `connect ${host.uri} read-only`);
        host.readOnly = true;
        log.warn({ host: host.name, err: String(err) }, 'read-write connection refused; connected read-only');
      }
    } catch (err) {
      host.connected = false;
      host.lastError = err instanceof Error ? err.message : String(err);
      saveHostState(host);
      // While a host is down, look again every tick (at most every probeMs), not on a long backoff:
      // collection resumes within a tick or two of the daemon answering.
      const delay = Math.min(probeMs, BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]!);
      if (attempt === 0 || attempt % 30 === 0) log.warn({ host: host.name, err: host.lastError, retryInMs: delay, attempt }, 'libvirt connection failed');
      scheduleReconnect(host, attempt + 1, delay);
      return;
    }
    if (stopped) {
      await conn.close().catch(() => {});
      return;
    }
    host.conn = conn;
    conn.onClose(({ reason }) => lost(host, `connection closed (${reason})`));
    conn.onDomainEvent((ev) => {
      for (const l of listeners) void Promise.resolve(l.domainEvent(host, ev)).catch((e) => log.error({ err: e }, 'domain event handler failed'));
    });
    host.connected = true;
    host.lastError = null;
    host.lastSeenAt = new Date();
    saveHostState(host);
    log.info({ host: host.name, uri: host.uri, readOnly: host.readOnly }, 'libvirt connected');
    // What listeners do next (an inventory re-list that needs the database) is not the connection's fate.
    for (const l of listeners) {
      await Promise.resolve(l.connected(host)).catch((err: unknown) => log.warn({ host: host.name, err: String(err) }, 'after-connect work failed; the next re-list retries it'));
    }
  }

  function scheduleReconnect(host: Host, attempt: number, delay: number) {
    if (stopped || retryTimers.has(host.id)) return;
    retryTimers.set(
      host.id,
      setTimeout(() => {
        retryTimers.delete(host.id);
        void connect(host, attempt);
      }, delay),
    );
  }

  /** Called by whoever notices the connection is gone (close callback, a failed call). */
  function lost(host: Host, reason: string) {
    if (!host.connected) return;
    host.connected = false;
    host.lastError = reason;
    const conn = host.conn;
    host.conn = null;
    void conn?.close().catch(() => {});
    log.warn({ host: host.name, reason }, 'libvirt connection lost; reconnecting');
    saveHostState(host);
    scheduleReconnect(host, 0, Math.min(probeMs, BACKOFF_MS[0]!));
  }

  return {
    onHostEvents(listener: HostListener) {
      listeners.push(listener);
    },

    /** Create or refresh the Host rows, so the inventory can load what it knew before connecting. */
    async register(targets: { uri: string; demo: boolean }[]) {
      for (const t of targets) {
        const row = await prisma.host.upsert({
          where: { uri: t.uri },
          create: { uri: t.uri, name: hostName(t.uri), demo: t.demo },
          update: { demo: t.demo, connected: false },
        });
        hosts.set(row.id, { ...row, readOnly: false, conn: null, connected: false });
      }
    },

    /** Connects every host; one that fails keeps retrying in the background without holding up the rest. */
    async connectAll() {
      await Promise.all([...hosts.values()].map((h) => connect(h)));
    },

    list(): Host[] {
      return [...hosts.values()];
    },

    get(id: number): Host | undefined {
      return hosts.get(id);
    },

    lost,

    async stop() {
      stopped = true;
      for (const t of retryTimers.values()) clearTimeout(t);
      retryTimers.clear();
      await Promise.all([...hosts.values()].map((h) => h.conn?.close().catch(() => {})));
      for (const h of hosts.values()) {
        h.conn = null;
        h.connected = false;
      }
    },
  };
}

export type HostService = ReturnType<typeof createHostService>;
