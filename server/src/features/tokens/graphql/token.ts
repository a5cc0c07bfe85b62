import { roles } from '../../../lib/auth.js';
import { builder } from '../../../graphql/builder.js';
import type { TokenInfo } from '../tokens.js';

const RoleEnum = builder.enumType('Role', { values: roles });

const ApiTokenRef = builder.objectRef<TokenInfo>('ApiToken').implement({
  description: 'An API token. The secret itself is shown once, when it is created.',
  fields: (t) => ({
    id: t.id({ resolve: (k) => k.id }),
    name: t.exposeString('name'),
    role: t.field({ type: RoleEnum, resolve: (k) => k.role }),
    prefix: t.exposeString('prefix', { description: 'first characters of the token' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

const CreatedToken = builder.objectRef<{ token: string; info: TokenInfo }>('CreatedToken').implement({
  fields: (t) => ({
    token: t.exposeString('token', { description: 'the secret: shown only now, store it' }),
    apiToken: t.field({ type: ApiTokenRef, resolve: (c) => c.info }),
  }),
});

const MeRef = builder.objectRef<{ name: string; role: (typeof roles)[number] }>('Me').implement({
  description: 'Who the request is: the token name and its role',
  fields: (t) => ({ name: t.exposeString('name'), role: t.field({ type: RoleEnum, resolve: (p) => p.role }) }),
});

builder.queryFields((t) => ({
  me: t.field({ type: MeRef, resolve: (_r, _a, ctx) => ctx.principal }),
  tokens: t.field({ type: [ApiTokenRef], authScopes: { admin: true }, resolve: (_r, _a, ctx) => ctx.services.tokens.list() }),
}));

builder.mutationFields((t) => ({
  createToken: t.field({
    type: CreatedToken,
    authScopes: { admin: true },
    args: { name: t.arg.string({ required: true }), role: t.arg({ type: RoleEnum, required: true }) },
    resolve: (_r, { name, role }, ctx) => ctx.services.tokens.create(name, role),
  }),
  revokeToken: t.field({
    type: ApiTokenRef,
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) => ctx.services.tokens.revoke(Number(id)),
  }),
}));
