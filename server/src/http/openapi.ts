// The OpenAPI 3.1 document at /api/openapi.json and its browsable docs at /api/docs, both made by
// @fastify/swagger from the REST routes' own zod schemas (fastify-type-provider-zod's transform):
// one source for validation, types and docs. Both are public, like the seeds they describe.
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { VERSION } from '../lib/version.js';
import { ERROR_FAMILIES, type RouteFamily } from '../lib/rest.js';

const OPENAPI_PATH = '/api/openapi.json';
const DOCS_PATH = '/api/docs';

const description = `The REST endpoints existing dashboards poll, with the field names, units and error bodies of
their documents (the seeds). Live data is better read over GraphQL subscriptions at \`/graphql\`.

Every endpoint needs \`Authorization: Bearer <token>\`; roles are ordered viewer < operator < admin.
64-bit counters are exact JSON integers (they pass 2^53 on long-running VMs: parse them with a
BigInt-aware JSON reader if you need every digit). A repeated query parameter is refused (400).
Each operation's \`x-vmpulse-role\` is the least role that may call it.`;

type Doc = { paths?: unknown; components?: { schemas?: Record<string, unknown> } };

/**
 * Keeps the components the operations use (and the families' error bodies, documented even for a
 * family no feature serves yet); the zod registry also yields an input twin of every schema.
 */
function pruneComponents<T extends Doc>(doc: T, keep: string[]): T {
  const schemas = doc.components?.schemas ?? {};
  const used = new Set<string>();
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string' && x.startsWith('#/components/schemas/')) use(x.slice('#/components/schemas/'.length));
        else visit(x);
      }
    }
  };
  const use = (name: string) => {
    if (used.has(name) || !Object.hasOwn(schemas, name)) return;
    used.add(name);
    visit(schemas[name]);
  };
  visit(doc.paths);
  keep.forEach(use);
  return { ...doc, components: { ...doc.components, schemas: Object.fromEntries(Object.entries(schemas).filter(([k]) => used.has(k))) } };
}

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
    transformObject: (input) => pruneComponents(jsonSchemaTransformObject(input) as Doc, ERROR_FAMILIES.map((f) => f.errors.name)) as ReturnType<typeof jsonSchemaTransformObject>,
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
