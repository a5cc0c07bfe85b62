import { z } from 'zod';
import { builder } from '../../../graphql/builder.js';
import { roles } from '../../../lib/auth.js';
import type { OwnerScope } from '../../../domain/owner.js';
import { MAX_TOKEN_ID, SCOPE_PART_MAX, TOKEN_NAME_MAX, type TokenInfo } from '../tokens.js';

const RoleEnum = builder.enumType('Role', { values: roles });

const TokenScopeRef = builder.objectRef<OwnerScope>('TokenScope').implement({
  description: "The VMs a scoped token sees: those whose owner matches every part given (the owner's name or id)",
  fields: (t) => ({
    user: t.exposeString('user', { nullable: true }),
    group: t.exposeString('group', { nullable: true, description: 'group (OpenNebula) or project (Nova)' }),
  }),
});

const scopePart = (what: string) =>
  z
    .string()
    .max(SCOPE_PART_MAX, `${what} is at most ${SCOPE_PART_MAX} characters`)
    .regex(/^\P{Cc}*$/u, `${what} must not contain control characters`);

const TokenScopeInput = builder.inputType('TokenScopeInput', {
  description: 'Scope a token to an owner: a user and/or a group (project), each a name or an id. Empty: no condition.',
  fields: (t) => ({
    user: t.string({ required: false, validate: scopePart('scope.user') }),
    group: t.string({ required: false, validate: scopePart('scope.group') }),
  }),
});

const ApiTokenRef = builder.objectRef<TokenInfo>('ApiToken').implement({
  description: 'An API token. The secret itself is shown once, when it is created.',
  fields: (t) => ({
    id: t.id({ resolve: (k) => k.id }),
    name: t.exposeString('name'),
    role: t.field({ type: RoleEnum, resolve: (k) => k.role }),
    prefix: t.exposeString('prefix', { description: 'first characters of the token' }),
    scope: t.field({ type: TokenScopeRef, nullable: true, description: 'null: sees every VM', resolve: (k) => k.scope }),
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

const MeRef = builder.objectRef<{ name: string; role: (typeof roles)[number]; scope: OwnerScope | null }>('Me').implement({
  description: 'Who the request is: the token name, its role and its scope',
  fields: (t) => ({
    name: t.exposeString('name'),
    role: t.field({ type: RoleEnum, resolve: (p) => p.role }),
    scope: t.field({ type: TokenScopeRef, nullable: true, description: 'null: sees every VM', resolve: (p) => p.scope }),
  }),
});

builder.queryFields((t) => ({
  me: t.field({ type: MeRef, resolve: (_r, _a, ctx) => ctx.principal }),
  tokens: t.field({ type: [ApiTokenRef], authScopes: { admin: true }, resolve: (_r, _a, ctx) => ctx.services.tokens.list() }),
}));

builder.mutationFields((t) => ({
  createToken: t.field({
    type: CreatedToken,
    authScopes: { admin: true },
    args: {
      name: t.arg.string({
        required: true,
        description: `1 to ${TOKEN_NAME_MAX} printable characters`,
        validate: z
          .string()
          .trim()
          .min(1, 'name must not be empty')
          .max(TOKEN_NAME_MAX, `name is at most ${TOKEN_NAME_MAX} characters`)
          .regex(/^\P{Cc}*$/u, 'name must not contain control characters'),
      }),
      role: t.arg({ type: RoleEnum, required: true }),
      scope: t.arg({ type: TokenScopeInput, required: false, description: 'viewer and operator tokens only' }),
    },
    resolve: (_r, { name, role, scope }, ctx) => ctx.services.tokens.create(name, role, scope ?? undefined),
  }),
  revokeToken: t.field({
    type: ApiTokenRef,
    authScopes: { admin: true },
    args: {
      id: t.arg.id({
        required: true,
        validate: z
          .string()
          .regex(/^\d{1,10}$/, 'id must be a token id (a positive integer)')
          .refine((v) => Number(v) >= 1 && Number(v) <= MAX_TOKEN_ID, `id must be from 1 to ${MAX_TOKEN_ID}`),
      }),
    },
    resolve: (_r, { id }, ctx) => ctx.services.tokens.revoke(Number(id)),
  }),
}));
