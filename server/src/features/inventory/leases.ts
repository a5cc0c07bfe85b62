// Which replica collects which host: lease rows in the shared PostgreSQL (HostLease: owner +
// expiry, times on the database's clock), renewed every round by their owner. Chosen over
// advisory locks because a lease row is visible to every replica (the status shows each host's
// owner and lease age), survives a reconnect of the database pool, and works through poolers;
// an advisory lock vanishes silently with its session and names only a backend pid.
// Each round: heartbeat this replica, renew its leases, forget replicas silent for LEASE_TTL (their
// leases go with them), then move toward an even share: ceil(hosts / live replicas) each, releasing
// surplus hosts (after their collection stopped) and claiming free or expired ones. Claims are
// one INSERT … ON CONFLICT … WHERE expired: PostgreSQL's row locks decide races, no consensus here.
// A replica that cannot renew stops collecting a host before its lease can have expired (fencing).
// Without DATABASE_URL (one process on its embedded PostgreSQL) leasing is off: it owns every host.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { PrismaClient } from '../../lib/db.js';
import type { Logger } from '../../lib/logger.js';

export interface LeaseListener {
  /** this replica now owns the host */
  acquired(hostId: number): void;
  /** this replica is giving the host up: resolve once nothing of it is collected any more */
  released(hostId: number): Promise<void> | void;
}

export interface HostLeaseInfo {
  hostId: number;
  /** the owning replica's id (null: nobody holds a valid lease) */
  owner: string | null;
  /** host name and pid of the owning replica */
  ownerName: string | null;
  /** true when this replica owns the host */
  mine: boolean;
  /** seconds since the owner took the lease */
  ageSec: number | null;
  /** seconds since the owner last renewed it */
  renewedSecAgo: number | null;
}

interface LeaseRow {
  hostId: number;
  owner: string;
  ownerName: string;
  ageMs: number;
  renewedAgoMs: number;
  expired: boolean;
}

/** Fencing margin: stop storing this long before a lease we could not renew expires (at most a quarter of it). */
const FENCE_MARGIN_MS = 1000;

export function createLeaseService(deps: {
  prisma: PrismaClient;
  log: Logger;
  hostIds: () => number[];
  enabled: boolean;
  ttlMs: number;
  roundMs: number;
}) {
  const { prisma, log, hostIds, enabled, ttlMs, roundMs } = deps;
  const replicaId = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const replicaName = `${os.hostname()}:${process.pid}`;
  /** hostId → local time until which our lease is surely valid */
  const mine = new Map<number, number>();
  /** held leases not renewed in time: collected for live views, not stored */
  const fenced = new Set<number>();
  const listeners: LeaseListener[] = [];
  let rows = new Map<number, LeaseRow & { readAt: number }>();
  let liveReplicas = 1;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  /** false while this replica's collector is stopped: it holds no leases and does not count toward shares */
  let active = true;
  let lastError: string | null = null;
  const ttlSec = ttlMs / 1000;

  /**
   * Owner for certain: a lease renewed recently enough that no other replica can hold it yet (or, when
   * this was the only live replica at the last round, nobody else there to take it). Store samples,
   * run dumps and jobs only then.
   */
  function owns(hostId: number): boolean {
    if (!enabled) return true;
    const until = mine.get(hostId);
    return until !== undefined && (until > Date.now() || liveReplicas === 1);
  }

  /** Holds the lease as far as it knows (maybe unrenewed, while the database is unreachable): keep collecting for live views. */
  function holds(hostId: number): boolean {
    return !enabled || mine.has(hostId);
  }

  function acquire(hostId: number, validUntil: number) {
    const had = mine.has(hostId);
    mine.set(hostId, validUntil);
    if (!had) {
      log.info({ hostId, replica: replicaName }, 'host lease acquired: collecting it here');
      for (const l of listeners) l.acquired(hostId);
    }
  }

  async function letGo(hostId: number, why: string) {
    if (!mine.has(hostId)) return;
    mine.delete(hostId);
    fenced.delete(hostId);
    log.info({ hostId, replica: replicaName, why }, 'host lease released: no longer collecting it here');
    for (const l of listeners) await l.released(hostId);
  }

  async function round() {
    const started = Date.now();
    const validUntil = started + ttlMs - Math.min(FENCE_MARGIN_MS, ttlMs / 4);
    const ttl = `${ttlSec} seconds`;
    if (!active) {
      for (const id of [...mine.keys()]) await letGo(id, 'collector stopped on this replica');
      // Its leases go with the row; the others' shares no longer count it.
      await prisma.$executeRaw`DELETE FROM "Replica" WHERE "id" = ${replicaId}`;
      rows = await readLeases();
      lastError = null;
      return;
    }
    await prisma.$executeRaw`
      INSERT INTO "Replica" ("id", "name", "startedAt", "seenAt") VALUES (${replicaId}, ${replicaName}, now(), now())
      ON CONFLICT ("id") DO UPDATE SET "seenAt" = now()`;
    const renewed = await prisma.$queryRaw<{ hostId: number }[]>`
      UPDATE "HostLease" SET "expiresAt" = now() + ${ttl}::interval WHERE "owner" = ${replicaId} RETURNING "hostId"`;
    const renewedIds = new Set(renewed.map((r) => r.hostId));
    for (const id of [...mine.keys()]) if (!renewedIds.has(id)) await letGo(id, 'lease taken by another replica');
    for (const id of renewedIds) acquire(id, validUntil);
    // Replicas silent for a whole TTL are dead: their leases are free (ON DELETE CASCADE).
    await prisma.$executeRaw`DELETE FROM "Replica" WHERE "seenAt" < now() - ${ttl}::interval`;
    const [count] = await prisma.$queryRaw<{ live: number }[]>`SELECT count(*)::int AS live FROM "Replica"`;
    liveReplicas = Math.max(1, count?.live ?? 1);
    const all = hostIds();
    const share = Math.ceil(all.length / liveReplicas);
    const current = await readLeases();
    const held = [...mine.keys()];
    if (held.length > share) {
      // Hand the surplus over: stop collecting it first, then free the row for a replica below its share.
      for (const id of held.slice(share)) {
        await letGo(id, 'rebalancing');
        await prisma.$executeRaw`DELETE FROM "HostLease" WHERE "hostId" = ${id} AND "owner" = ${replicaId}`;
      }
    } else if (held.length < share) {
      const free = shuffle(all.filter((id) => !mine.has(id) && (!current.has(id) || current.get(id)!.expired)));
      const want = free.slice(0, share - held.length);
      if (want.length) {
        const claimed = await prisma.$queryRaw<{ hostId: number }[]>`
          INSERT INTO "HostLease" ("hostId", "owner", "acquiredAt", "expiresAt")
          SELECT h, ${replicaId}, now(), now() + ${ttl}::interval FROM unnest(${want}::int[]) AS h
          ON CONFLICT ("hostId") DO UPDATE SET "owner" = EXCLUDED."owner", "acquiredAt" = now(), "expiresAt" = EXCLUDED."expiresAt"
          WHERE "HostLease"."expiresAt" < now()
          RETURNING "hostId"`;
        for (const { hostId } of claimed) acquire(hostId, validUntil);
      }
    }
    rows = await readLeases();
    lastError = null;
  }

  async function readLeases() {
    const list = await prisma.$queryRaw<LeaseRow[]>`
      SELECT l."hostId", l."owner", r."name" AS "ownerName",
             (extract(epoch FROM now() - l."acquiredAt") * 1000)::float8 AS "ageMs",
             (extract(epoch FROM now() - (l."expiresAt" - ${`${ttlSec} seconds`}::interval)) * 1000)::float8 AS "renewedAgoMs",
             l."expiresAt" < now() AS "expired"
      FROM "HostLease" l JOIN "Replica" r ON r."id" = l."owner"`;
    const readAt = Date.now();
    return new Map(list.map((r) => [r.hostId, { ...r, readAt }]));
  }

  /**
   * A lease we could not renew in time: another replica may take it any moment, so stop storing its
   * samples (no duplicates in history) but keep collecting for this replica's live views until the
   * database says who owns it. The next successful round renews it or lets it go.
   */
  function fence() {
    const now = Date.now();
    for (const [id, until] of mine) {
      const unsure = until <= now && !owns(id);
      if (unsure && !fenced.has(id)) log.warn({ hostId: id }, 'host lease not renewed in time (database unreachable?): collecting for live views only, not storing');
      if (unsure) fenced.add(id);
      else fenced.delete(id);
    }
  }

  function schedule(delay: number) {
    if (stopped) return;
    timer = setTimeout(() => {
      running = round()
        .catch(async (err: unknown) => {
          const msg = err instanceof Error ? err.message : String(err);
          if (msg !== lastError) log.warn({ err: msg }, 'host lease round failed; keeping leases until they would expire');
          lastError = msg;
        })
        .then(fence)
        .finally(() => {
          running = undefined;
          schedule(roundMs);
        });
    }, delay);
  }

  return {
    enabled,
    replicaId,
    replicaName,
    /** Does this replica own this host for certain right now (store its samples, run its dumps and libvirt jobs here)? */
    owns,
    /** Does this replica collect this host (it holds the lease, perhaps not renewed yet)? */
    holds,

    onChange(listener: LeaseListener) {
      listeners.push(listener);
    },

    /** Every host's lease as last read (at most one round old). */
    info(hostId: number): HostLeaseInfo {
      if (!enabled) return { hostId, owner: replicaId, ownerName: replicaName, mine: true, ageSec: null, renewedSecAgo: null };
      const r = rows.get(hostId);
      const mineNow = holds(hostId);
      if (!r || r.expired) return { hostId, owner: null, ownerName: null, mine: mineNow, ageSec: null, renewedSecAgo: null };
      const since = Date.now() - r.readAt;
      return {
        hostId,
        owner: r.owner,
        ownerName: r.ownerName,
        mine: mineNow,
        ageSec: Math.round((r.ageMs + since) / 100) / 10,
        renewedSecAgo: Math.round((r.renewedAgoMs + since) / 100) / 10,
      };
    },

    /**
     * A replica whose collector is stopped gives its hosts to the others (at its next round) and
     * claims none until it collects again.
     */
    setActive(collecting: boolean) {
      active = collecting;
    },

    status() {
      return { enabled, active, replica: replicaName, liveReplicas, owned: [...mine.keys()].filter(owns).length, unrenewed: fenced.size, lastError };
    },

    /** The first round runs before collection starts, so a lone replica collects from its first tick. */
    async start() {
      if (!enabled) return;
      await round().catch((err: unknown) => {
        lastError = err instanceof Error ? err.message : String(err);
        log.warn({ err: lastError }, 'first host lease round failed; retrying');
      });
      schedule(roundMs);
    },

    /** Stops collecting, then frees this replica's leases at once (others take them next round). */
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      if (!enabled) return;
      for (const id of [...mine.keys()]) await letGo(id, 'stopping');
      await prisma.$executeRaw`DELETE FROM "Replica" WHERE "id" = ${replicaId}`.catch(() => {});
    },
  };
}

function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

export type LeaseService = ReturnType<typeof createLeaseService>;
