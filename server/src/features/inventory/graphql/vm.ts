import { GraphQLError } from 'graphql';
import { builder } from '../../../graphql/builder.js';
import { HostRef } from './host.js';
import type { Vm, VmStateChange } from '../vms.js';

export const VmRef = builder.objectRef<Vm>('Vm').implement({
  description: 'A libvirt domain. `id` is stable across restarts.',
  fields: (t) => ({
    id: t.id({ resolve: (v) => v.id }),
    uuid: t.exposeString('uuid'),
    name: t.exposeString('name'),
    host: t.field({ type: HostRef, resolve: (v, _a, ctx) => ctx.services.hosts.get(v.hostId)! }),
    state: t.exposeString('state', { description: 'running, paused, shutoff, …; `undefined` once libvirt forgot the domain' }),
    cpuCount: t.exposeInt('cpuCount', { description: 'vCPUs' }),
    memoryMax: t.expose('memoryMax', { type: 'BigInt', description: 'KiB' }),
    memoryUsed: t.expose('memoryUsed', { type: 'BigInt', description: 'KiB' }),
    cputime: t.expose('cputime', { type: 'BigInt', description: 'ns, as of the last inventory sync' }),
    present: t.exposeBoolean('present', { description: 'false once the domain was undefined' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const VmFilter = builder.inputType('VmFilter', {
  fields: (t) => ({
    host: t.string({ required: false, description: 'host name or id' }),
    state: t.string({ required: false }),
    name: t.string({ required: false, description: 'substring, case-insensitive' }),
    includeUndefined: t.boolean({ required: false }),
  }),
});

const VmStateChangeRef = builder.objectRef<VmStateChange>('VmStateChange').implement({
  fields: (t) => ({
    vm: t.field({ type: VmRef, resolve: (c, _a, ctx) => ctx.services.vms.get(c.vmId)! }),
    previousState: t.exposeString('previousState', { nullable: true }),
    state: t.exposeString('state'),
    event: t.exposeString('event', { description: 'libvirt lifecycle event (started, stopped, …), `resync`, or `current` for the first message' }),
    at: t.field({ type: 'DateTime', resolve: (c) => new Date(c.at) }),
  }),
});

builder.queryFields((t) => ({
  vms: t.field({
    type: [VmRef],
    args: { filter: t.arg({ type: VmFilter, required: false }) },
    resolve: (_r, { filter }, ctx) =>
      ctx.services.vms
        .list({
          host: filter?.host ?? undefined,
          state: filter?.state ?? undefined,
          name: filter?.name ?? undefined,
          includeUndefined: filter?.includeUndefined ?? false,
        })
        .sort((a, b) => a.id - b.id),
  }),
  vm: t.field({
    type: VmRef,
    nullable: true,
    description: 'One VM by stable id, uuid or name (exactly one of them). Null when unknown.',
    args: { id: t.arg.id({ required: false }), uuid: t.arg.string({ required: false }), name: t.arg.string({ required: false }) },
    resolve: (_r, args, ctx) => {
      const given = [args.id, args.uuid, args.name].filter((v) => v != null);
      if (given.length !== 1) throw new GraphQLError('give exactly one of id, uuid, name', { extensions: { code: 'BAD_USER_INPUT' } });
      try {
        return ctx.services.vms.resolve(String(given[0]));
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
    subscribe: (_r, { vmId }, ctx) => ctx.services.vms.watchState(vmId == null ? undefined : String(vmId)),
    resolve: (change) => change,
  }),
}));

