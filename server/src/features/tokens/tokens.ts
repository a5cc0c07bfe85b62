// API tokens: only their SHA-256 is stored. VMPULSE_ADMIN_TOKEN, when set, is an extra admin token.
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bearerToken, generateToken, hashToken, roleAllows, roles, sameSecret, type Principal, type Role } from '../../lib/auth.js';
import type { PrismaClient } from '../../lib/db.js';
import { badRequest, forbidden, notFound, unauthenticated } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';

const CACHE_MS = 5000; // a revoked token stops working at once here, within 5 s on other replicas
const TOUCH_MS = 60_000; // lastUsedAt is written at most once a minute per token

export interface TokenInfo {
  id: number;
  name: string;
  role: Role;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export function createTokenService(deps: { prisma: PrismaClient; log: Logger; authEnabled: boolean; adminToken?: string }) {
  const { prisma, log } = deps;
  const cache = new Map<string, { principal: Principal | null; at: number }>();
  const touched = new Map<number, number>();

  function validateRole(role: string): Role {
    if (!(roles as readonly string[]).includes(role)) throw badRequest(`role must be one of ${roles.join(', ')}`);
    return role as Role;
  }

  async function create(name: string, role: string): Promise<{ token: string; info: TokenInfo }> {
    const trimmed = name.trim();
    if (!trimmed || trimmed.length > 100) throw badRequest('token name must be 1 to 100 characters');
    const token = generateToken();
    const row = await prisma.apiToken.create({
      data: { name: trimmed, role: validateRole(role), hash: hashToken(token), prefix: token.slice(0, 8) },
    });
    log.info({ tokenId: row.id, name: row.name, role: row.role }, 'API token created');
    return { token, info: row };
  }

  async function lookup(token: string): Promise<Principal | null> {
    if (deps.adminToken && sameSecret(token, deps.adminToken)) return { role: 'admin', tokenId: null, name: 'VMPULSE_ADMIN_TOKEN' };
    const hash = hashToken(token);
    const hit = cache.get(hash);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.principal;
    const row = await prisma.apiToken.findUnique({ where: { hash } });
    const principal = row && !row.revokedAt ? { role: row.role, tokenId: row.id, name: row.name } : null;
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

    list(): Promise<TokenInfo[]> {
      return prisma.apiToken.findMany({
        orderBy: { id: 'asc' },
        select: { id: true, name: true, role: true, prefix: true, createdAt: true, lastUsedAt: true, revokedAt: true },
      });
    },

    async revoke(id: number): Promise<TokenInfo> {
      if (!Number.isSafeInteger(id) || id < 1) throw badRequest('token id must be a positive integer');
      const row = await prisma.apiToken.findUnique({ where: { id } });
      if (!row) throw notFound(`token ${id} not found`);
      const updated = row.revokedAt ? row : await prisma.apiToken.update({ where: { id }, data: { revokedAt: new Date() } });
      cache.delete(row.hash);
      log.info({ tokenId: id, name: row.name }, 'API token revoked');
      return updated;
    },

    /**
     * The caller behind an Authorization header value, checked against the role an endpoint needs.
     * Missing/unknown token → 401, too small a role → 403.
     */
    async authorize(header: string | null | undefined, need: Role): Promise<Principal> {
      if (!deps.authEnabled) return { role: 'admin', tokenId: null, name: 'AUTH=off' };
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
