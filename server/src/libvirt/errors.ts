// libvirt errors as typed JS errors, and the classifications callers need.

/** virErrorNumber values vmpulse reacts to (libvirt/virterror.h). */
/** @internal exported for tests only: the tests match libvirt's codes */
export const VirErr = {
  INTERNAL_ERROR: 1,
  NO_SUPPORT: 3,
  NO_CONNECT: 5,
  INVALID_CONN: 6,
  INVALID_DOMAIN: 7,
  INVALID_ARG: 8,
  OPERATION_FAILED: 9,
  XML_ERROR: 27,
  DOM_EXIST: 28,
  OPERATION_DENIED: 29,
  SYSTEM_ERROR: 38,
  RPC: 39,
  NO_DOMAIN: 42,
  AUTH_FAILED: 45,
  OPERATION_INVALID: 55,
  CONFIG_UNSUPPORTED: 67,
  OPERATION_TIMEOUT: 68,
  ARGUMENT_UNSUPPORTED: 74,
  OPERATION_ABORTED: 78,
  AUTH_CANCELLED: 79,
  OPERATION_UNSUPPORTED: 84,
  AGENT_UNRESPONSIVE: 86,
} as const;

/** virErrorDomain values (where an error came from). */
export const VirFrom = {
  NONE: 0,
  RPC: 7,
  QEMU: 10,
  TEST: 12,
  REMOTE: 13,
  DOMAIN: 20,
  SSH: 50,
  LIBSSH: 66,
} as const;

export type LibvirtErrorCode = number | 'TIMEOUT';

export class LibvirtError extends Error {
  override readonly name = 'LibvirtError';
  /** virErrorNumber, or 'TIMEOUT' for {@link withTimeout} */
  readonly code: LibvirtErrorCode;
  /** virErrorDomain (0 when not from libvirt) */
  readonly domain: number;

  constructor(code: LibvirtErrorCode, domain: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.domain = domain;
  }
}

/** Turns whatever the addon rejected with into a LibvirtError (idempotent). */
export function toLibvirtError(err: unknown): LibvirtError {
  if (err instanceof LibvirtError) return err;
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; domain?: unknown };
    if (typeof e.code === 'number') {
      return new LibvirtError(e.code, typeof e.domain === 'number' ? e.domain : 0, e.message, { cause: err });
    }
    // TypeErrors from argument checks and the like
    return new LibvirtError(VirErr.INVALID_ARG, VirFrom.NONE, e.message, { cause: err });
  }
  return new LibvirtError(VirErr.INTERNAL_ERROR, VirFrom.NONE, String(err));
}

/**
 * The connection is unusable and should be reopened. SYSTEM_ERROR counts only
 * when it comes from the transport (RPC/remote/ssh): the same code also means
 * e.g. "cannot write dump file" from the QEMU driver, which is no reason to reconnect.
 */
export function isConnectionLost(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const { code, domain } = err as { code?: unknown; domain?: unknown };
  if (code === VirErr.RPC || code === VirErr.NO_CONNECT || code === VirErr.INVALID_CONN) return true;
  if (code === VirErr.SYSTEM_ERROR) {
    return (
      domain === VirFrom.RPC ||
      domain === VirFrom.REMOTE ||
      domain === VirFrom.SSH ||
      domain === VirFrom.LIBSSH ||
      domain === VirFrom.NONE
    );
  }
  return false;
}

/** The domain does not exist (any more). */
export function isNoDomain(err: unknown): boolean {
  return err instanceof Error && (err as { code?: unknown }).code === VirErr.NO_DOMAIN;
}
