// The Pothos builder only configures: plugins, context, scalars' shapes, auth scopes.
// Each file in ./types owns its type and that type's entry points.
import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError } from 'graphql';
import { roleAllows, type Principal } from '../lib/auth.js';
import type { Services } from '../lib/module.js';

export interface GraphQLContext {
  principal: Principal;
  services: Services;
}

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  AuthScopes: { viewer: boolean; operator: boolean; admin: boolean };
  Scalars: {
    BigInt: { Input: bigint; Output: bigint };
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
  DefaultFieldNullability: false;
}>({
  plugins: [ScopeAuthPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      viewer: roleAllows(ctx.principal.role, 'viewer'),
      operator: roleAllows(ctx.principal.role, 'operator'),
      admin: roleAllows(ctx.principal.role, 'admin'),
    }),
    unauthorizedError: (_parent, ctx, info) =>
      new GraphQLError(`${info.parentType.name}.${info.fieldName} needs a higher role than ${ctx.principal.role}`, {
        extensions: { code: 'FORBIDDEN', http: { status: 403 } },
      }),
  },
});

builder.queryType({ authScopes: { viewer: true } });
builder.mutationType({ authScopes: { operator: true } });
builder.subscriptionType({ authScopes: { viewer: true } });
