// Token primitives. Roles are ordered: each one can do what the ones before it can.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { OwnerScope } from '../domain/owner.js';

export const roles = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof roles)[number];

export interface Principal {
  role: Role;
  /** token row id; null for VMPULSE_ADMIN_TOKEN and for AUTH=off */
  tokenId: number | null;
  name: string;
  /** tenancy: the VMs this caller may see and act on; null = every VM (unscoped tokens, admin) */
  scope: OwnerScope | null;
}

/** Checks an Authorization header value against the role an endpoint needs: 401 / 403, or the caller. */
export type Authorize = (header: string | null | undefined, need: Role) => Promise<Principal>;

export const roleAllows = (have: Role, need: Role) => roles.indexOf(have) >= roles.indexOf(need);

export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

export const generateToken = () => `vmp_${randomBytes(24).toString('base64url')}`;

export function sameSecret(a: string, b: string): boolean {
  // Compare digests so the comparison takes the same time whatever the lengths.
  return timingSafeEqual(Buffer.from(hashToken(a), 'hex'), Buffer.from(hashToken(b), 'hex'));
}

/** "Bearer <token>" → token; anything else → null. */
export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}
