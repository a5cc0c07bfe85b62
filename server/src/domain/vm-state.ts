// VM states: libvirt's virDomainState names, in libvirt's numbering, plus `undefined` for a
// domain libvirt no longer knows.

/** Index = libvirt's virDomainState code. */
const DOMAIN_STATES = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'] as const;
export type DomainState = (typeof DOMAIN_STATES)[number];
export type VmState = DomainState | 'undefined';
export const VM_STATES: readonly VmState[] = [...DOMAIN_STATES, 'undefined'];

export const RUNNING_STATE_CODE = 1;

/** The state named by a libvirt code, or undefined for a code this version does not know. */
export const domainStateOf = (code: number): DomainState | undefined => DOMAIN_STATES[code];
export const domainStateCode = (state: string): number => (DOMAIN_STATES as readonly string[]).indexOf(state);

/** States in which a VM runs no guest. */
export const INACTIVE_STATES: ReadonlySet<string> = new Set<VmState>(['shutoff', 'crashed', 'undefined']);
