// Tenancy: who owns a VM (as the cloud that created it recorded it, or as an admin set it) and
// which VMs a scoped token may see.

/**
 * Where the owner was read from: OpenNebula's `one:vm` or Nova's `nova:owner` domain metadata,
 * vmpulse's own domain metadata element (set by an admin), or vmpulse's database (set by an admin
 * on a host reached read-only).
 */
export const OWNER_SOURCES = ['opennebula', 'nova', 'vmpulse', 'database'] as const;
export type OwnerSource = (typeof OWNER_SOURCES)[number];
/** Sources written by a cloud: an admin does not override them. */
export const CLOUD_SOURCES: ReadonlySet<OwnerSource> = new Set(['opennebula', 'nova']);

export interface VmOwner {
  /** user name (OpenNebula uname, Nova user name) */
  user: string | null;
  /** user id (OpenNebula uid, Nova user uuid) */
  userId: string | null;
  /** group name (OpenNebula gname, Nova project name) */
  group: string | null;
  /** group id (OpenNebula gid, Nova project uuid) */
  groupId: string | null;
  source: OwnerSource;
}

/**
 * A token's scope: it sees the VMs whose owner matches every part given (a part matches the
 * owner's name or id). Null: unscoped, every VM.
 */
export interface OwnerScope {
  user: string | null;
  group: string | null;
}

const matches = (want: string | null, name: string | null, id: string | null) => want === null || want === name || want === id;

/** Whether a VM with this owner (null: nobody) is within the scope (null: unscoped). */
export function scopeOwns(scope: OwnerScope | null, owner: VmOwner | null): boolean {
  if (!scope) return true;
  if (!owner) return false;
  return matches(scope.user, owner.user, owner.userId) && matches(scope.group, owner.group, owner.groupId);
}

/** One string per distinct scope (for caches built once per scope). */
export const scopeKey = (scope: OwnerScope | null): string => (scope ? JSON.stringify([scope.user, scope.group]) : '*');
