import { z } from 'zod';
import { OWNER_SOURCES, type VmOwner } from '../../../domain/owner.js';
import { VM_STATES, type VmState } from '../../../domain/vm-state.js';
import { builder } from '../../../graphql/builder.js';
import type { Vm, VmFilter as VmFilterArgs, VmStateChange } from '../vms.js';
import { HostRef } from './host.js';

export const VmStateEnum = builder.enumType('VmState', {
  description: "libvirt's domain states (virDomainState), and `undefined` for a domain libvirt no longer knows",
  values: VM_STATES,
});

/** A name or id a client types: bounded, printable. */
const reference = (what: string) =>
  z
    .string()
    .max(255, `${what} is at most 255 characters`)
    .regex(/^\P{Cc}*$/u, `${what} must not contain control characters`);

const OwnerSourceEnum = builder.enumType('OwnerSource', {
  description: "Where a VM's owner was read: OpenNebula's one:vm or Nova's nova:owner domain metadata, vmpulse's own domain metadata (set by an admin), or vmpulse's database (set by an admin on a read-only host)",
  values: OWNER_SOURCES,
});

const VmOwnerRef = builder.objectRef<VmOwner>('VmOwner').implement({
  description: 'Who owns a VM: a user and a group (OpenNebula group, Nova project), each with its id where the cloud records one',
  fields: (t) => ({
    user: t.exposeString('user', { nullable: true }),
    userId: t.exposeString('userId', { nullable: true, description: 'OpenNebula uid, Nova user uuid' }),
    group: t.exposeString('group', { nullable: true, description: 'OpenNebula group, Nova project' }),
    groupId: t.exposeString('groupId', { nullable: true, description: 'OpenNebula gid, Nova project uuid' }),
    source: t.field({ type: OwnerSourceEnum, resolve: (o) => o.source }),
  }),
});

export const VmRef = builder.objectRef<Vm>('Vm').implement({
  description: 'A libvirt domain. `id` is stable across restarts.',
  fields: (t) => ({
    id: t.id({ resolve: (v) => v.id }),
    uuid: t.exposeString('uuid'),
    name: t.exposeString('name'),
    host: t.field({ type: HostRef, resolve: (v, _a, ctx) => ctx.services.hosts.get(v.hostId)! }),
    state: t.field({ type: VmStateEnum, description: '`undefined` once libvirt forgot the domain', resolve: (v) => v.state as VmState }),
    cpuCount: t.exposeInt('cpuCount', { description: 'vCPUs' }),
    memoryMax: t.expose('memoryMax', { type: 'BigInt', description: 'KiB' }),
    memoryUsed: t.expose('memoryUsed', { type: 'BigInt', description: 'KiB' }),
    cputime: t.expose('cputime', { type: 'BigInt', description: 'ns, as of the last inventory sync' }),
    present: t.exposeBoolean('present', { description: 'false once the domain was undefined' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    owner: t.field({ type: VmOwnerRef, nullable: true, description: 'null when no owner is recorded', resolve: (v, _a, ctx) => ctx.services.vms.ownerOf(v.id) }),
  }),
});

const VmFilter = builder.inputType('VmFilter', {
  description: 'Every given condition must hold',
  fields: (t) => ({
    host: t.string({ required: false, description: 'host name or id', validate: reference('host') }),
    state: t.field({ type: VmStateEnum, required: false }),
    name: t.string({ required: false, description: 'substring, case-insensitive', validate: reference('name') }),
    owner: t.string({ required: false, description: "owner's user or group, name or id (exact)", validate: reference('owner') }),
    includeUndefined: t.boolean({ required: false, description: 'also list domains libvirt no longer knows (default false)' }),
  }),
});

/** The service's filter from the GraphQL one (absent and null alike mean "any"). */
const vmFilterOf = (filter: { host?: string | null; state?: VmState | null; name?: string | null; owner?: string | null; includeUndefined?: boolean | null } | null | undefined): VmFilterArgs => ({
  host: filter?.host ?? undefined,
  owner: filter?.owner ?? undefined,
  state: filter?.state ?? undefined,
  name: filter?.name ?? undefined,
  includeUndefined: filter?.includeUndefined ?? false,
});

const VmStateChangeRef = builder.objectRef<VmStateChange>('VmStateChange').implement({
  fields: (t) => ({
    vm: t.field({ type: VmRef, resolve: (c, _a, ctx) => ctx.services.vms.get(c.vmId)! }),
    previousState: t.field({ type: VmStateEnum, nullable: true, resolve: (c) => c.previousState as VmState | null }),
    state: t.field({ type: VmStateEnum, resolve: (c) => c.state as VmState }),
    event: t.exposeString('event', { description: 'libvirt lifecycle event (started, stopped, …), `resync`, or `current` for the first message' }),
    at: t.field({ type: 'DateTime', resolve: (c) => new Date(c.at) }),
  }),
});

builder.queryFields((t) => ({
  vms: t.field({
    type: [VmRef],
    args: { filter: t.arg({ type: VmFilter, required: false }) },
    // The selection is paid once per VM that matches now: history for the whole fleet costs what it costs.
    description: 'The VMs the caller may see (a scoped token: those its scope owns)',
    complexity: ({ filter }, ctx) => ({ field: 1, multiplier: Math.max(1, ctx.services.vms.listFor(ctx.principal, vmFilterOf(filter)).length) }),
    resolve: (_r, { filter }, ctx) => ctx.services.vms.listFor(ctx.principal, vmFilterOf(filter)).sort((a, b) => a.id - b.id),
  }),
  vm: t.field({
    type: VmRef,
    nullable: true,
    description: 'One VM by stable id, uuid or name (exactly one of them). Null when unknown or outside the caller\'s scope.',
    args: { id: t.arg.id({ required: false }), uuid: t.arg.string({ required: false }), name: t.arg.string({ required: false }) },
    validate: z
      .looseObject({ id: z.unknown().optional(), uuid: z.unknown().optional(), name: z.unknown().optional() })
      .refine((a) => [a.id, a.uuid, a.name].filter((v) => v != null).length === 1, 'give exactly one of id, uuid, name'),
    resolve: (_r, args, ctx) => {
      const given = [args.id, args.uuid, args.name].find((v) => v != null);
      try {
        return ctx.services.vms.resolveFor(ctx.principal, String(given));
      } catch (err) {
        if ((err as { code?: string }).code === 'NOT_FOUND') return null;
        throw err;
      }
    },
  }),
}));

builder.subscriptionFields((t) => ({
  vmStateChanged: t.field({
    type: VmStateChangeRef,
    description: 'Lifecycle changes (define, start, stop, undefine). With vmId (id, uuid or name): that VM\'s current state first, then its changes.',
    args: { vmId: t.arg.id({ required: false }) },
    subscribe: (_r, { vmId }, ctx) => ctx.services.vms.watchStateFor(ctx.principal, vmId == null ? undefined : String(vmId)),
    resolve: (change) => change,
  }),
}));

const ownerPart = (what: string) =>
  z
    .string()
    .trim()
    .max(255, `${what} is at most 255 characters`)
    .regex(/^\P{Cc}*$/u, `${what} must not contain control characters`);

builder.mutationFields((t) => ({
  setVmOwner: t.field({
    type: VmRef,
    authScopes: { admin: true },
    description:
      "Records the owner of a VM whose cloud records none: in the domain's metadata (vmpulse namespace), or in the database on a read-only host. User and group both empty clears it. A VM owned through its OpenNebula or Nova metadata: 409.",
    args: {
      vmId: t.arg.id({ required: true, description: 'id, uuid or name' }),
      user: t.arg.string({ required: false, validate: ownerPart('user') }),
      group: t.arg.string({ required: false, validate: ownerPart('group') }),
    },
    resolve: (_r, { vmId, user, group }, ctx) => ctx.services.vms.setOwner(String(vmId), { user: user?.trim() || null, group: group?.trim() || null }),
  }),
}));
