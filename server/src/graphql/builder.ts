// The Pothos builder only configures: plugins, context, scalars' shapes, auth scopes, how a refused
// argument is answered. Each feature's graphql/ files own their types and those types' entry points.
import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import { GraphQLError } from 'graphql';
import { roleAllows, type Principal } from '../lib/auth.js';
import type { Services } from '../lib/module.js';

export interface GraphQLContext {
  principal: Principal;
  services: Services;
}

/** A client's mistake in its arguments: HTTP 400 with the reason, whatever the Accept header. */
const badArguments = (message: string) =>
  new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400, spec: false } } });

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
  // Scope auth first: a caller without the role learns nothing from validating its arguments.
  plugins: [ScopeAuthPlugin, ValidationPlugin, ComplexityPlugin],
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
  validation: {
    validationError: (failure) =>
      badArguments(
        failure.issues
          .map((i) => {
            const at = (i.path ?? []).map((p) => (typeof p === 'object' ? String(p.key) : String(p))).join('.');
            return at ? `${at}: ${i.message}` : i.message;
          })
          .join('; '),
      ),
  },
  // Costs are declared beside the fields (`complexity:`); the limit is checked by the GraphQL edge
  // before execution (http/graphql.ts), where it can answer 400 instead of a field error.
  complexity: { defaultComplexity: 1, defaultListMultiplier: 10 },
});

builder.queryType({ authScopes: { viewer: true } });
builder.mutationType({ authScopes: { operator: true } });
builder.subscriptionType({ authScopes: { viewer: true } });
