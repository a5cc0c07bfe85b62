// The OpenAPI 3.1 document at /api/openapi.json and its browsable docs at /api/docs, both made by
// @fastify/swagger from the REST routes' own zod schemas (fastify-type-provider-zod's transform):
// one source for validation, types and docs. Both are public, like the seeds they describe.
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { VERSION } from '../lib/version.js';
import type { RouteFamily } from '../lib/rest.js';

export const OPENAPI_PATH = '/api/openapi.json';
export const DOCS_PATH = '/api/docs';

const description = `The REST endpoints existing dashboards poll, with the field names, units and error bodies of
their documents (the seeds). Live data is better read over GraphQL subscriptions at \`/graphql\`.

Every endpoint needs \`Authorization: Bearer <token>\`; roles are ordered viewer < operator < admin.
64-bit counters are exact JSON integers (they pass 2^53 on long-running VMs: parse them with a
BigInt-aware JSON reader if you need every digit). A repeated query parameter is refused (400).
Each operation's \`x-vmpulse-role\` is the least role that may call it.`;

/** Registers the generator; call before the routes are added, so it sees them. */
export async function registerOpenapi(app: FastifyInstance, families: readonly RouteFamily[]) {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'vmpulse REST API', version: VERSION, description },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'an API token (npm run tokens, or createToken in GraphQL)' } } },
      security: [{ bearerAuth: [] }],
      tags: families.map((f) => ({ name: f.tag, description: f.description })),
    },
    transform: createJsonSchemaTransform({ skipList: [] }),
    transformObject: jsonSchemaTransformObject,
  });
}

/** The document's route and the docs UI; after the routes, so the document is complete. */
export async function registerOpenapiRoutes(app: FastifyInstance) {
  app.get(OPENAPI_PATH, { schema: { hide: true } }, (_request, reply) => reply.type('application/json; charset=utf-8').send(app.swagger()));
  await app.register(fastifySwaggerUi, {
    routePrefix: DOCS_PATH,
    uiConfig: { docExpansion: 'list', defaultModelsExpandDepth: 0 },
    staticCSP: true,
  });
}
