// API tokens: only their SHA-256 is stored. VMPULSE_ADMIN_TOKEN, when set, is an extra admin token.
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bearerToken, generateToken, hashToken, roleAllows, roles, sameSecret, type Principal, type Role } from '../../lib/auth.js';
import type { PrismaClient } from '../../lib/db.js';
import { badRequest, forbidden, notFound, unauthenticated } from '../../lib/errors.js';
import type { OwnerScope } from '../../domain/owner.js';
import type { Logger } from '../../lib/logger.js';
import type { PubSub } from '../../lib/pubsub.js';

const CACHE_MS = 5000; // a revoked token stops working at once here, within 5 s on other replicas
const TOUCH_MS = 60_000; // lastUsedAt is written at most once a minute per token

/** Token ids are PostgreSQL `integer`s. */
export const MAX_TOKEN_ID = 2_147_483_647;
export const TOKEN_NAME_MAX = 100;
/** Longest user or group name/id in a token's scope. */
export const SCOPE_PART_MAX = 255;
const CONTROL_CHARS = /\p{Cc}/u;

/** The topic this service publishes (its only publisher): a token was revoked, on any replica. */
export type TokensTopics = { 'token:revoked': [{ tokenId: number }] };

export interface TokenInfo {
  id: number;
  name: string;
  role: Role;
  prefix: string;
  /** the VMs it may see: those whose owner matches; null = every VM */
  scope: OwnerScope | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

type TokenRow = Omit<TokenInfo, 'scope'> & { scopeUser: string | null; scopeGroup: string | null };

const scopeOf = (row: { scopeUser: string | null; scopeGroup: string | null }): OwnerScope | null =>
  row.scopeUser || row.scopeGroup ? { user: row.scopeUser, group: row.scopeGroup } : null;

function infoOf(row: TokenRow): TokenInfo {
  return { id: row.id, name: row.name, role: row.role, prefix: row.prefix, scope: scopeOf(row), createdAt: row.createdAt, lastUsedAt: row.lastUsedAt, revokedAt: row.revokedAt };
}

export function createTokenService(deps: {
  prisma: PrismaClient;
  log: Logger;
  authEnabled: boolean;
  adminToken?: string;
  /** the bus: absent in the CLI, whose revocations the servers' periodic check picks up */
  pubsub?: PubSub<TokensTopics>;
  /** how often open streams re-read their token's revocation from the database, ms */
  recheckMs?: number;
}) {
  const { prisma, log, pubsub } = deps;
  const cache = new Map<string, { principal: Principal | null; at: number }>();
  const touched = new Map<number, number>();
  /** Open streams (graphql-ws sockets, SSE subscriptions) by token id, each with how to end it. */
  const streams = new Map<number, Set<() => void>>();
  let recheckTimer: NodeJS.Timeout | undefined;
  let revocations: AsyncIterator<{ tokenId: number }> | undefined;

  /** A revoked token: forget its cached principal and end its open streams. */
  function revoked(tokenId: number) {
    for (const [hash, hit] of cache) if (hit.principal?.tokenId === tokenId) cache.delete(hash);
    const ends = streams.get(tokenId);
    if (!ends) return;
    streams.delete(tokenId);
    log.info({ tokenId, streams: ends.size }, 'ending the open streams of a revoked token');
    for (const end of ends) end();
  }

  /** Replicas that share only PostgreSQL learn of a revocation here: one query for every open stream's token. */
  async function recheckOpenStreams() {
    const ids = [...streams.keys()];
    if (!ids.length) return;
    const rows = await prisma.apiToken.findMany({ where: { id: { in: ids } }, select: { id: true, revokedAt: true } });
    const valid = new Set(rows.filter((r) => !r.revokedAt).map((r) => r.id));
    for (const id of ids) if (!valid.has(id)) revoked(id);
  }

  /** A scope part as given: trimmed; empty or absent = no condition. */
  function scopePart(v: string | null | undefined, what: string): string | null {
    if (v === undefined || v === null) return null;
    const t = v.trim();
    if (!t) return null;
    if (t.length > SCOPE_PART_MAX) throw badRequest(`scope ${what} must be at most ${SCOPE_PART_MAX} characters`);
    if (CONTROL_CHARS.test(t)) throw badRequest(`scope ${what} must not contain control characters`);
    return t;
  }

  function validateRole(role: string): Role {
    if (!(roles as readonly string[]).includes(role)) throw badRequest(`role must be one of ${roles.join(', ')}`);
    return role as Role;
  }

  /**
   * A new token; with `scope` (user and/or group, each a name or an id), it sees and acts on only
   * the VMs whose owner matches both given parts. Admin tokens see every VM: they take no scope.
   */
  async function create(name: string, role: string, scope?: { user?: string | null; group?: string | null }): Promise<{ token: string; info: TokenInfo }> {
    const trimmed = name.trim();
    if (!trimmed || trimmed.length > TOKEN_NAME_MAX) throw badRequest(`token name must be 1 to ${TOKEN_NAME_MAX} characters`);
    if (CONTROL_CHARS.test(trimmed)) throw badRequest('token name must not contain control characters');
    const checkedRole = validateRole(role);
    const scopeUser = scopePart(scope?.user, 'user');
    const scopeGroup = scopePart(scope?.group, 'group');
    if (checkedRole === 'admin' && (scopeUser || scopeGroup)) throw badRequest('an admin token sees every VM: give a scope to viewer and operator tokens only');
    const token = generateToken();
    const row = await prisma.apiToken.create({
      data: { name: trimmed, role: checkedRole, hash: hashToken(token), prefix: token.slice(0, 8), scopeUser, scopeGroup },
    });
    log.info({ tokenId: row.id, name: row.name, role: row.role, scopeUser, scopeGroup }, 'API token created');
    return { token, info: infoOf(row) };
  }

  async function lookup(token: string): Promise<Principal | null> {
    if (deps.adminToken && sameSecret(token, deps.adminToken)) return { role: 'admin', tokenId: null, name: 'VMPULSE_ADMIN_TOKEN', scope: null };
    const hash = hashToken(token);
    const hit = cache.get(hash);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.principal;
    const row = await prisma.apiToken.findUnique({ where: { hash } });
    const principal: Principal | null = row && !row.revokedAt ? { role: row.role, tokenId: row.id, name: row.name, scope: scopeOf(row) } : null;
    if (cache.size > 10_000) cache.clear(); // bounded: random wrong tokens cannot grow it forever
    cache.set(hash, { principal, at: Date.now() });
    if (principal?.tokenId && Date.now() - (touched.get(principal.tokenId) ?? 0) > TOUCH_MS) {
      touched.set(principal.tokenId, Date.now());
      void prisma.apiToken.update({ where: { id: principal.tokenId }, data: { lastUsedAt: new Date() } }).catch(() => {});
    }
    return principal;
  }

  return {
    authEnabled: deps.authEnabled,
    create,

    async list(): Promise<TokenInfo[]> {
      const rows = await prisma.apiToken.findMany({
        orderBy: { id: 'asc' },
        select: { id: true, name: true, role: true, prefix: true, scopeUser: true, scopeGroup: true, createdAt: true, lastUsedAt: true, revokedAt: true },
      });
      return rows.map(infoOf);
    },

    async revoke(id: number): Promise<TokenInfo> {
      if (!Number.isSafeInteger(id) || id < 1 || id > MAX_TOKEN_ID) throw badRequest(`token id must be an integer from 1 to ${MAX_TOKEN_ID}`);
      const row = await prisma.apiToken.findUnique({ where: { id } });
      if (!row) throw notFound(`token ${id} not found`);
      const updated = infoOf(row.revokedAt ? row : await prisma.apiToken.update({ where: { id }, data: { revokedAt: new Date() } }));
      cache.delete(row.hash);
      log.info({ tokenId: id, name: row.name }, 'API token revoked');
      revoked(id);
      pubsub?.publish('token:revoked', { tokenId: id }); // the other replicas, at once when they share Redis
      return updated;
    },

    /**
     * Keeps an open stream (a graphql-ws socket, an SSE subscription) tied to its token: `end` is
     * called when the token is revoked — at once on this replica and, through the bus, on replicas
     * sharing Redis; within `recheckMs` (+ one query) on replicas sharing only PostgreSQL. Tokens
     * without a row (VMPULSE_ADMIN_TOKEN, AUTH=off) cannot be revoked. Returns the release function.
     */
    holdWhileValid(principal: Principal, end: () => void): () => void {
      const id = principal.tokenId;
      if (id === null) return () => {};
      const ends = streams.get(id) ?? new Set<() => void>();
      streams.set(id, ends);
      ends.add(end);
      return () => {
        const set = streams.get(id);
        set?.delete(end);
        if (set?.size === 0) streams.delete(id);
      };
    },

    /** Starts following revocations (the bus and the periodic check). */
    startRevocationWatch() {
      const it = pubsub?.subscribe('token:revoked')[Symbol.asyncIterator]();
      revocations = it;
      if (it) void (async () => {
        for (;;) {
          const r = await it.next();
          if (r.done) return;
          revoked(r.value.tokenId);
        }
      })().catch((err: unknown) => log.warn({ err: String(err) }, 'token revocation feed stopped'));
      const tick = () => {
        recheckTimer = setTimeout(() => {
          recheckOpenStreams()
            .catch((err: unknown) => log.warn({ err: String(err) }, 'token revocation check failed'))
            .finally(() => recheckTimer && tick());
        }, deps.recheckMs ?? 2000);
      };
      tick();
    },

    stopRevocationWatch() {
      clearTimeout(recheckTimer);
      recheckTimer = undefined;
      void revocations?.return?.();
    },

    /**
     * The caller behind an Authorization header value, checked against the role an endpoint needs.
     * Missing/unknown token → 401, too small a role → 403.
     */
    async authorize(header: string | null | undefined, need: Role): Promise<Principal> {
      if (!deps.authEnabled) return { role: 'admin', tokenId: null, name: 'AUTH=off', scope: null };
      const token = bearerToken(header);
      if (!token) throw unauthenticated('missing API token: send "Authorization: Bearer <token>"');
      const principal = await lookup(token);
      if (!principal) throw unauthenticated('invalid or revoked API token');
      if (!roleAllows(principal.role, need)) throw forbidden(`this needs the ${need} role; the token has ${principal.role}`);
      return principal;
    },

    /** First start without VMPULSE_ADMIN_TOKEN: create an admin token, print it once, keep it owner-only in DATA_DIR. */
    async ensureAdminToken(dataDir: string): Promise<{ token: string; file: string } | null> {
      if (!deps.authEnabled || deps.adminToken) return null;
      const admins = await prisma.apiToken.count({ where: { role: 'admin', revokedAt: null } });
      if (admins > 0) return null;
      const { token } = await create('initial admin', 'admin');
      const file = path.join(dataDir, 'admin-token');
      await writeFile(file, `${token}\n`, { mode: 0o600 });
      await chmod(file, 0o600);
      return { token, file };
    },
  };
}

export type TokenService = ReturnType<typeof createTokenService>;
