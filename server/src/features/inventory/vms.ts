// The VM inventory: every domain of every host, with a stable integer id (key: host + uuid).
// Kept in memory for reads, in PostgreSQL for stable ids; synced from libvirt lifecycle events
// and a periodic re-list. The only publisher of `vm:stateChanged`.
import type { Principal } from '../../lib/auth.js';
import type { PrismaClient } from '../../lib/db.js';
import { AppError, badRequest, notFound } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { PubSub } from '../../lib/pubsub.js';
import { filter, pipe } from 'graphql-yoga';
import { CLOUD_SOURCES, scopeOwns, type OwnerScope, type VmOwner } from '../../domain/owner.js';
import { INACTIVE_STATES } from '../../domain/vm-state.js';
import { OWNER_NAMESPACES, ownerFromMetadata, VMPULSE_NS, VMPULSE_PREFIX, vmpulseOwnerXml } from '../../libvirt/ownership.js';
import { snapshotThen } from '../../lib/stream.js';
import { CHUNK, yieldToEventLoop } from '../../lib/yield.js';
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
  /** owner's user or group, name or id (exact) */
  owner?: string;
  includeUndefined?: boolean;
}

/**
 * QEMU reports a start as `resumed` then `started`, a destroy as `shutdown` then `stopped`; the state
 * we read after the first event already shows both. Name a crossing between inactive and active
 * for what it was; other changes keep libvirt's event name.
 * @internal exported for tests only: its unit test drives it
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
  /** each host's VMs by id (a VM's host never changes: its row is keyed by host and uuid) */
  const byHost = new Map<number, Map<number, Vm>>();
  const hostQueues = new Map<number, Promise<unknown>>();
  const runningSince = new Map<number, number>();
  /** Owner from each VM's domain metadata, with the elements it was parsed from (parsed again only when they change). */
  const metadataOwners = new Map<number, { raw: string; owner: VmOwner | null }>();
  /** Owners an admin set on VMs of read-only hosts (PostgreSQL). */
  const databaseOwners = new Map<number, VmOwner>();
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
    const ofHost = byHost.get(vm.hostId) ?? new Map<number, Vm>();
    byHost.set(vm.hostId, ofHost.set(vm.id, vm));
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

  /**
   * Reads the owner metadata of the host's domains (all, or the listed ones) in one libvirt call and
   * parses an element only when it changed: once per domain definition, never per tick.
   */
  async function refreshOwners(host: Host, uuids?: string[]) {
    const conn = host.conn;
    if (!conn) return;
    const rows = await conn.domainMetadata(OWNER_NAMESPACES, uuids);
    let parsed = 0;
    for (const { uuid, elements } of rows) {
      const vm = byHostUuid.get(key(host.id, uuid));
      if (!vm) continue;
      const raw = elements.map((e) => e ?? '').join('\u0000');
      if (metadataOwners.get(vm.id)?.raw === raw) continue;
      // ~0.05–0.15 ms per domain: a first sync of a large host yields now and then.
      if (++parsed % CHUNK === 0) await yieldToEventLoop();
      const owner = ownerFromMetadata(elements);
      metadataOwners.set(vm.id, { raw, owner });
      log.debug({ vm: vm.name, host: host.name, owner }, 'vm owner read');
    }
  }

  function resolveFor(principal: Principal, ref: string): Vm {
    return principal.scope ? resolve(ref, visible(principal.scope)) : resolve(ref);
  }

  function ownerOf(vmId: number): VmOwner | null {
    return metadataOwners.get(vmId)?.owner ?? databaseOwners.get(vmId) ?? null;
  }

  const visible = (scope: OwnerScope | null) => (vm: Vm) => scopeOwns(scope, ownerOf(vm.id));

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
      await refreshOwners(host);
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
      await refreshOwners(host, [vm!.uuid]);
      if (previous !== undefined) publishStateChange(vm!, previous, transitionEvent(previous, vm!.state, ev.event));
    });
  }

  /**
   * Accepts the stable id, the uuid or the name. Invalid → 400, unknown → 404, ambiguous name → 409.
   * With `canSee`, a VM it refuses is unknown (the same 404, and never counted as a namesake).
   */
  function resolve(ref: string, canSee: (vm: Vm) => boolean = () => true): Vm {
    const raw = ref.trim();
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters in a client's VM reference is the point
    if (!raw || raw.length > 255 || /[\u0000-\u001f\u007f/]/.test(raw)) {
      throw badRequest(`invalid vm_id ${JSON.stringify(ref.slice(0, 80))}: expected a VM id (positive integer), a UUID or a VM name`);
    }
    if (/^-?\d+$/.test(raw)) {
      const id = Number(raw);
      if (!Number.isSafeInteger(id) || id < 1 || id > MAX_ID) throw badRequest(`invalid vm_id ${raw}: ids are integers from 1 to ${MAX_ID}`);
      const vm = byId.get(id);
      if (!vm || !canSee(vm)) throw notFound(`VM ${raw} not found`);
      return vm;
    }
    let matches: Vm[];
    if (UUID_RE.test(raw)) {
      const norm = raw.replace(/-/g, '').toLowerCase();
      matches = [...byId.values()].filter((v) => v.uuid.replace(/-/g, '').toLowerCase() === norm);
    } else {
      matches = [...byId.values()].filter((v) => v.name === raw);
    }
    matches = matches.filter(canSee);
    const present = matches.filter((v) => v.present);
    const pick = present.length ? present : matches;
    if (!pick.length) throw notFound(`VM ${JSON.stringify(raw)} not found`);
    if (pick.length > 1) {
      throw new AppError('CONFLICT', `${JSON.stringify(raw)} names ${pick.length} VMs on different hosts; use an id: ${pick.map((v) => `${v.id} (${v.hostName})`).join(', ')}`);
    }
    return pick[0]!;
  }

  function listVms(by: VmFilter = {}): Vm[] {
    const name = by.name?.toLowerCase();
    const owner = by.owner;
    const ownedBy = (v: Vm) => {
      const o = ownerOf(v.id);
      return !!o && (o.user === owner || o.userId === owner || o.group === owner || o.groupId === owner);
    };
    return [...byId.values()].filter(
      (v) =>
        (by.includeUndefined || v.present) &&
        (owner === undefined || ownedBy(v)) &&
        (!by.host || v.hostName === by.host || String(v.hostId) === by.host) &&
        (!by.state || v.state === by.state) &&
        (!name || v.name.toLowerCase().includes(name)),
    );
  }

  /** Lifecycle changes of every VM; with a VM reference, that VM's current state first, then its changes. */
  function watchState(ref?: string): AsyncIterable<VmStateChange> {
    const all = pubsub.subscribe('vm:stateChanged');
    if (ref === undefined) return all;
    const vm = resolve(ref);
    const current: VmStateChange = { vmId: vm.id, previousState: null, state: vm.state, event: 'current', at: new Date().toISOString() };
    return snapshotThen([current], pipe(all, filter((c) => c.vmId === vm.id)));
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
      for (const o of await prisma.vmOwner.findMany({ where: { vmId: { in: rows.map((r) => r.id) } } })) {
        databaseOwners.set(o.vmId, { user: o.user, userId: null, group: o.group, groupId: null, source: 'database' });
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

    list: listVms,

    /** The host's VMs that libvirt still has (what the collector samples each tick), without scanning every VM. */
    ofHost(hostId: number): Vm[] {
      const out: Vm[] = [];
      for (const v of byHost.get(hostId)?.values() ?? []) if (v.present) out.push(v);
      return out;
    },

    // ---- tenancy: the one API every feature calls to scope what it shows or does to VMs ----------

    /** Who owns the VM (its cloud's metadata, vmpulse's own, or the database), or null when nobody is recorded. */
    ownerOf,

    /** Whether the caller's scope owns the VM (always, for an unscoped caller). */
    owns(principal: Principal, vm: Vm | number): boolean {
      const v = typeof vm === 'number' ? byId.get(vm) : vm;
      return !!v && visible(principal.scope)(v);
    },

    /**
     * resolve() as this caller sees it: a VM outside its scope answers exactly as an unknown one
     * (404 "VM … not found"), so a caller never learns that it exists.
     */
    resolveFor,

    /** list() restricted to the VMs the caller's scope owns. */
    listFor(principal: Principal, by: VmFilter = {}): Vm[] {
      const all = listVms(by);
      return principal.scope ? all.filter(visible(principal.scope)) : all;
    },

    /** A filter for VMs within a scope (null: every VM), for code that checks many VMs per call. */
    scopeFilter(scope: OwnerScope | null): (vmId: number) => boolean {
      if (!scope) return () => true;
      return (vmId) => scopeOwns(scope, ownerOf(vmId));
    },

    /**
     * Admin: records an owner for a VM that has none from its cloud (OpenNebula, Nova): in the
     * domain's own metadata (a vmpulse namespace, live and persistent) so it survives and other tools
     * read it; on a host reached read-only, in PostgreSQL. Both user and group null clears it.
     */
    async setOwner(ref: string, owner: { user: string | null; group: string | null }): Promise<Vm> {
      const vm = resolve(ref);
      const current = ownerOf(vm.id);
      if (current && CLOUD_SOURCES.has(current.source)) {
        throw new AppError('CONFLICT', `VM ${vm.name} is owned by ${current.user ?? current.group} according to its ${current.source === 'nova' ? 'Nova' : 'OpenNebula'} metadata; change it there`);
      }
      const host = hosts.get(vm.hostId);
      const clear = owner.user === null && owner.group === null;
      if (host?.conn && !host.readOnly && vm.present) {
        await serial(host.id, async () => {
          await host.conn!.setDomainMetadata(vm.uuid, clear ? null : vmpulseOwnerXml(owner.user, owner.group), VMPULSE_PREFIX, VMPULSE_NS);
          await refreshOwners(host, [vm.uuid]);
        });
        await prisma.vmOwner.deleteMany({ where: { vmId: vm.id } });
        databaseOwners.delete(vm.id);
      } else if (clear) {
        await prisma.vmOwner.deleteMany({ where: { vmId: vm.id } });
        databaseOwners.delete(vm.id);
      } else {
        await prisma.vmOwner.upsert({
          where: { vmId: vm.id },
          create: { vmId: vm.id, user: owner.user, group: owner.group },
          update: { user: owner.user, group: owner.group, updatedAt: new Date() },
        });
        databaseOwners.set(vm.id, { user: owner.user, userId: null, group: owner.group, groupId: null, source: 'database' });
      }
      log.info({ vm: vm.name, owner: ownerOf(vm.id) }, 'vm owner set');
      return vm;
    },

    /**
     * Lifecycle changes of every VM the caller may see; with a VM reference, that VM's current
     * state first, then its changes (a VM outside the scope: 404).
     */
    watchStateFor(principal: Principal, ref?: string): AsyncIterable<VmStateChange> {
      if (ref !== undefined) resolveFor(principal, ref);
      const stream = watchState(ref);
      if (!principal.scope || ref !== undefined) return stream;
      const can = visible(principal.scope);
      return pipe(stream, filter((c) => { const vm = byId.get(c.vmId); return !!vm && can(vm); }));
    },

    watchState,
  };
}

export type VmService = ReturnType<typeof createVmService>;
