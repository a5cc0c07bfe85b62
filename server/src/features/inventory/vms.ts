// The VM inventory: every domain of every host, with a stable integer id (key: host + uuid).
// Kept in memory for reads, in PostgreSQL for stable ids; synced from libvirt lifecycle events
// and a periodic re-list. The only publisher of `vm:stateChanged`.
import type { PrismaClient } from '../../lib/db.js';
import { AppError, badRequest, notFound } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { PubSub } from '../../lib/pubsub.js';
import { filter, pipe } from 'graphql-yoga';
import { INACTIVE_STATES } from '../../domain/vm-state.js';
import { snapshotThen } from '../../lib/stream.js';
import { isConnectionLost, isNoDomain } from '../../libvirt/errors.js';
import type { DomainInfo, DomainLifecycleEvent } from '../../libvirt/types.js';
import type { Host, HostService } from './hosts.js';

export interface Vm {
  id: number;
  hostId: number;
  hostName: string;
  uuid: string;
  name: string;
  state: string;
  cpuCount: number;
  /** KiB */
  memoryMax: bigint;
  /** KiB */
  memoryUsed: bigint;
  /** ns */
  cputime: bigint;
  /** false once the domain was undefined in libvirt */
  present: boolean;
  updatedAt: Date;
}

/** JSON-safe (it may cross Redis): the subscriber reads the VM itself from the inventory. */
export interface VmStateChange {
  vmId: number;
  previousState: string | null;
  state: string;
  /** libvirt lifecycle event name, or `resync` when a re-list found the change */
  event: string;
  at: string;
}

export interface VmFilter {
  host?: string;
  state?: string;
  name?: string;
  includeUndefined?: boolean;
}

/**
 * QEMU reports a start as `resumed` then `started`, a destroy as `shutdown` then `stopped`; the state
 * we read after the first event already shows both. Name a crossing between inactive and active
 * for what it was; other changes keep libvirt's event name.
 */
export function transitionEvent(previous: string | null, state: string, libvirtEvent: string): string {
  if (previous === null) return libvirtEvent;
  const was = !INACTIVE_STATES.has(previous);
  const is = !INACTIVE_STATES.has(state);
  if (!was && is) return 'started';
  if (was && !is) return state === 'crashed' ? 'crashed' : 'stopped';
  return libvirtEvent;
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const MAX_ID = 2_147_483_647;

/** The topics this service publishes (it is their only publisher). */
export type InventoryTopics = { 'vm:stateChanged': [VmStateChange] };

export function createVmService(deps: {
  prisma: PrismaClient;
  pubsub: PubSub<InventoryTopics>;
  hosts: HostService;
  /** does this replica own the host? Only the owner announces its VMs' changes (once for all replicas) */
  owns: (hostId: number) => boolean;
  log: Logger;
}) {
  const { prisma, pubsub, hosts, owns, log } = deps;
  const byId = new Map<number, Vm>();
  const byHostUuid = new Map<string, Vm>();
  const hostQueues = new Map<number, Promise<unknown>>();
  const runningSince = new Map<number, number>();
  const key = (hostId: number, uuid: string) => `${hostId}/${uuid.toLowerCase()}`;

  /** Writes for one host run one after another, so an event and a re-list never race. */
  function serial<T>(hostId: number, work: () => Promise<T>): Promise<T> {
    const prev = hostQueues.get(hostId) ?? Promise.resolve();
    const next = prev.then(work, work);
    hostQueues.set(hostId, next.catch(() => {}));
    return next;
  }

  function remember(vm: Vm) {
    const prev = byId.get(vm.id);
    // Uptime counts from the start we saw (or, for a VM already running, from when we first saw it).
    if (vm.state !== 'running') runningSince.delete(vm.id);
    else if (!runningSince.has(vm.id) || (prev && prev.state !== 'running')) runningSince.set(vm.id, Date.now());
    byId.set(vm.id, vm);
    byHostUuid.set(key(vm.hostId, vm.uuid), vm);
    if (prev && prev.state !== vm.state) return prev.state;
    return prev ? undefined : null;
  }

  function publishStateChange(vm: Vm, previousState: string | null, event: string) {
    if (!owns(vm.hostId)) return; // the owning replica announces it, to every replica
    const change: VmStateChange = { vmId: vm.id, previousState, state: vm.state, event, at: new Date().toISOString() };
    log.info({ vm: vm.name, host: vm.hostName, ...change }, 'vm state changed');
    pubsub.publish('vm:stateChanged', change);
  }

  async function upsertDomains(host: Host, domains: DomainInfo[]): Promise<Vm[]> {
    if (!domains.length) return [];
    // One statement for the whole host, however many domains.
    const rows = await prisma.$queryRaw<{ id: number; uuid: string; updatedAt: Date }[]>`
      INSERT INTO "Vm" ("hostId", "uuid", "name", "state", "cpuCount", "memoryMax", "memoryUsed", "cputime", "present", "updatedAt")
      SELECT ${host.id}, d.uuid, d.name, d.state, d.cpu, d.mmax, d.mused, d.ct, true, now()
      FROM unnest(${domains.map((d) => d.uuid)}::text[], ${domains.map((d) => d.name)}::text[], ${domains.map((d) => d.state)}::text[],
                  ${domains.map((d) => d.nrVirtCpu)}::int[], ${domains.map((d) => d.maxMemKiB.toString())}::bigint[],
                  ${domains.map((d) => d.memoryKiB.toString())}::bigint[], ${domains.map((d) => d.cpuTimeNs.toString())}::bigint[])
           AS d(uuid, name, state, cpu, mmax, mused, ct)
      ON CONFLICT ("hostId", "uuid") DO UPDATE SET
        "name" = EXCLUDED."name", "state" = EXCLUDED."state", "cpuCount" = EXCLUDED."cpuCount",
        "memoryMax" = EXCLUDED."memoryMax", "memoryUsed" = EXCLUDED."memoryUsed", "cputime" = EXCLUDED."cputime",
        "present" = true, "updatedAt" = now()
      RETURNING "id", "uuid", "updatedAt"`;
    const ids = new Map(rows.map((r) => [r.uuid, r]));
    return domains.map((d) => {
      const row = ids.get(d.uuid)!;
      return {
        id: row.id,
        hostId: host.id,
        hostName: host.name,
        uuid: d.uuid,
        name: d.name,
        state: d.state,
        cpuCount: d.nrVirtCpu,
        memoryMax: d.maxMemKiB,
        memoryUsed: d.memoryKiB,
        cputime: d.cpuTimeNs,
        present: true,
        updatedAt: row.updatedAt,
      };
    });
  }

  async function markUndefined(host: Host, keepUuids: string[], event: string) {
    const gone = await prisma.$queryRaw<{ id: number }[]>`
      UPDATE "Vm" SET "present" = false, "state" = 'undefined', "updatedAt" = now()
      WHERE "hostId" = ${host.id} AND "present" AND NOT ("uuid" = ANY(${keepUuids}::text[]))
      RETURNING "id"`;
    for (const { id } of gone) {
      const vm = byId.get(id);
      if (!vm) continue;
      const previous = vm.state;
      const updated = { ...vm, present: false, state: 'undefined', updatedAt: new Date() };
      remember(updated);
      publishStateChange(updated, previous, event);
    }
  }

  /** Re-list one host: catches anything events missed (e.g. while disconnected). */
  function syncHost(host: Host): Promise<number> {
    return serial(host.id, async () => {
      const conn = host.conn;
      if (!conn) return 0;
      const t0 = performance.now();
      const domains = await conn.listAllDomains();
      const vms = await upsertDomains(host, domains);
      for (const vm of vms) {
        const previous = remember(vm);
        if (previous !== undefined) publishStateChange(vm, previous, 'resync');
      }
      await markUndefined(host, domains.map((d) => d.uuid), 'resync');
      log.debug({ host: host.name, domains: domains.length, ms: Math.round(performance.now() - t0) }, 'inventory synced');
      return domains.length;
    });
  }

  function onDomainEvent(host: Host, ev: DomainLifecycleEvent) {
    return serial(host.id, async () => {
      const conn = host.conn;
      if (!conn) return;
      if (ev.event === 'undefined') {
        const stillThere = [...byId.values()].filter((v) => v.hostId === host.id && v.present && v.uuid !== ev.uuid).map((v) => v.uuid);
        await markUndefined(host, stillThere, ev.event);
        return;
      }
      let info: DomainInfo;
      try {
        info = await conn.domainInfo(ev.uuid);
      } catch (err) {
        if (isNoDomain(err)) return; // transient domain already gone; the undefine event or a re-list will say so
        throw err;
      }
      const [vm] = await upsertDomains(host, [info]);
      const previous = remember(vm!);
      if (previous !== undefined) publishStateChange(vm!, previous, transitionEvent(previous, vm!.state, ev.event));
    });
  }

  /** Accepts the stable id, the uuid or the name. Invalid → 400, unknown → 404, ambiguous name → 409. */
  function resolve(ref: string): Vm {
    const raw = ref.trim();
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters in a client's VM reference is the point
    if (!raw || raw.length > 255 || /[\u0000-\u001f\u007f/]/.test(raw)) {
      throw badRequest(`invalid vm_id ${JSON.stringify(ref.slice(0, 80))}: expected a VM id (positive integer), a UUID or a VM name`);
    }
    if (/^-?\d+$/.test(raw)) {
      const id = Number(raw);
      if (!Number.isSafeInteger(id) || id < 1 || id > MAX_ID) throw badRequest(`invalid vm_id ${raw}: ids are integers from 1 to ${MAX_ID}`);
      const vm = byId.get(id);
      if (!vm) throw notFound(`VM ${raw} not found`);
      return vm;
    }
    let matches: Vm[];
    if (UUID_RE.test(raw)) {
      const norm = raw.replace(/-/g, '').toLowerCase();
      matches = [...byId.values()].filter((v) => v.uuid.replace(/-/g, '').toLowerCase() === norm);
    } else {
      matches = [...byId.values()].filter((v) => v.name === raw);
    }
    const present = matches.filter((v) => v.present);
    const pick = present.length ? present : matches;
    if (!pick.length) throw notFound(`VM ${JSON.stringify(raw)} not found`);
    if (pick.length > 1) {
      throw new AppError('CONFLICT', `${JSON.stringify(raw)} names ${pick.length} VMs on different hosts; use an id: ${pick.map((v) => `${v.id} (${v.hostName})`).join(', ')}`);
    }
    return pick[0]!;
  }

  let resyncTimer: NodeJS.Timeout | undefined;

  return {
    /** Load known VMs (so ids resolve at once), then follow the hosts. */
    async start(resyncIntervalMs: number) {
      const active = hosts.list();
      const rows = await prisma.vm.findMany({ where: { hostId: { in: active.map((h) => h.id) } }, orderBy: { id: 'asc' } });
      for (const r of rows) {
        const host = hosts.get(r.hostId)!;
        remember({ ...r, hostName: host.name });
      }
      hosts.onHostEvents({
        connected: (host) => syncHost(host).then(() => undefined),
        domainEvent: (host, ev) => onDomainEvent(host, ev),
      });
      const tick = async () => {
        for (const host of hosts.list()) {
          if (!host.connected) continue;
          await syncHost(host).catch((err) => {
            log.warn({ host: host.name, err: String(err) }, 'inventory re-list failed');
            // Only libvirt saying the connection is gone drops it: a database error leaves a healthy connection alone.
            if (isConnectionLost(err)) hosts.lost(host, String(err));
          });
        }
        resyncTimer = setTimeout(tick, resyncIntervalMs);
      };
      resyncTimer = setTimeout(tick, resyncIntervalMs);
    },

    stop() {
      clearTimeout(resyncTimer);
    },

    syncHost,
    resolve,

    get(id: number): Vm | undefined {
      return byId.get(id);
    },

    /** Seconds since the VM started running (as far as this server saw); null when not running. */
    uptimeSeconds(id: number): number | null {
      const since = runningSince.get(id);
      return since === undefined ? null : Math.floor((Date.now() - since) / 1000);
    },

    byHostUuid(hostId: number, uuid: string): Vm | undefined {
      return byHostUuid.get(key(hostId, uuid));
    },

    /** The collector's fresher usage figures (kept in memory; the database keeps the inventory's). */
    noteUsage(id: number, cputime: bigint, memoryUsed: bigint | undefined) {
      const vm = byId.get(id);
      if (!vm) return;
      vm.cputime = cputime;
      if (memoryUsed !== undefined) vm.memoryUsed = memoryUsed;
    },

    list(by: VmFilter = {}): Vm[] {
      const name = by.name?.toLowerCase();
      return [...byId.values()].filter(
        (v) =>
          (by.includeUndefined || v.present) &&
          (!by.host || v.hostName === by.host || String(v.hostId) === by.host) &&
          (!by.state || v.state === by.state) &&
          (!name || v.name.toLowerCase().includes(name)),
      );
    },

    /** Lifecycle changes of every VM; with a VM reference, that VM's current state first, then its changes. */
    watchState(ref?: string): AsyncIterable<VmStateChange> {
      const all = pubsub.subscribe('vm:stateChanged');
      if (ref === undefined) return all;
      const vm = resolve(ref);
      const current: VmStateChange = { vmId: vm.id, previousState: null, state: vm.state, event: 'current', at: new Date().toISOString() };
      return snapshotThen([current], pipe(all, filter((c) => c.vmId === vm.id)));
    },
  };
}

export type VmService = ReturnType<typeof createVmService>;
