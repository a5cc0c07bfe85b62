import { builder } from '../../../graphql/builder.js';
import { VERSION } from '../../../lib/version.js';
import type { Host } from '../hosts.js';

export const HostRef = builder.objectRef<Host>('Host').implement({
  description: 'A libvirt connection (one entry of LIBVIRT_URI)',
  fields: (t) => ({
    id: t.id({ resolve: (h) => h.id }),
    name: t.exposeString('name'),
    uri: t.exposeString('uri'),
    demo: t.exposeBoolean('demo', { description: 'true for the simulated demo fleet (libvirt test driver)' }),
    connected: t.exposeBoolean('connected'),
    readOnly: t.exposeBoolean('readOnly', { description: 'connected read-only: stats work, dumps do not' }),
    lastError: t.exposeString('lastError', { nullable: true }),
    lastSeenAt: t.expose('lastSeenAt', { type: 'DateTime', nullable: true }),
    vmCount: t.int({ description: "VMs on this host the caller may see", resolve: (h, _a, ctx) => ctx.services.vms.listFor(ctx.principal, { host: String(h.id) }).length }),
  }),
});

const ServerInfo = builder.objectRef<{ demo: boolean; authEnabled: boolean; version: string }>('ServerInfo').implement({
  fields: (t) => ({
    version: t.exposeString('version'),
    demo: t.exposeBoolean('demo', { description: 'true when vmpulse shows the simulated demo fleet, not real hosts' }),
    authEnabled: t.exposeBoolean('authEnabled'),
  }),
});

builder.queryFields((t) => ({
  hosts: t.field({ type: [HostRef], resolve: (_r, _a, ctx) => ctx.services.hosts.list() }),
  serverInfo: t.field({
    type: ServerInfo,
    resolve: (_r, _a, ctx) => ({
      version: VERSION,
      demo: ctx.services.hosts.list().some((h) => h.demo),
      authEnabled: ctx.services.tokens.authEnabled,
    }),
  }),
}));
