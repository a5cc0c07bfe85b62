// The OpenAPI document as tests read it: its operations, and JSON Schema (2020-12) validators for
// what it documents, with `#/components/schemas/…` references resolved.
import { Ajv2020 } from 'ajv/dist/2020.js';

export interface OpenapiDoc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}
export interface Operation {
  summary?: string;
  parameters?: { in: string; name: string; required?: boolean; schema: { type?: string; enum?: unknown[]; default?: unknown; minimum?: number } }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
  security?: Record<string, string[]>[];
  'x-vmpulse-role'?: 'viewer' | 'operator' | 'admin';
}

export async function fetchOpenapi(url: string): Promise<OpenapiDoc> {
  const res = await fetch(`${url}/api/openapi.json`);
  if (res.status !== 200) throw new Error(`GET /api/openapi.json: ${res.status}`);
  return (await res.json()) as OpenapiDoc;
}

/** Every operation: method (upper case), OpenAPI path, Fastify-style path, the operation. */
export function operations(doc: OpenapiDoc) {
  return Object.entries(doc.paths).flatMap(([p, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path: p, op })),
  );
}

const rewrite = (v: unknown): unknown =>
  JSON.parse(JSON.stringify(v).replaceAll('"#/components/schemas/', '"#/$defs/'));

export function createValidator(doc: OpenapiDoc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  // The seeds write ISO 8601 with and without a zone ("2025-11-11T10:30:45.123456").
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$/);
  const defs = rewrite(doc.components.schemas);
  const cache = new Map<unknown, ReturnType<typeof ajv.compile>>();
  /** Validates `data` against a schema of the document; returns the errors as text ('' = valid). */
  return function validate(schema: unknown, data: unknown): string {
    let v = cache.get(schema);
    if (!v) {
      v = ajv.compile({ ...(rewrite(schema) as object), $defs: defs });
      cache.set(schema, v);
    }
    return v(data) ? '' : ajv.errorsText(v.errors, { separator: '; ' });
  };
}

/** The media type an operation documents for a status: JSON, else the first it lists (text/plain for /metrics). */
export function responseType(op: Operation, status: number | string): string | undefined {
  const content = op.responses[String(status)]?.content ?? {};
  return 'application/json' in content ? 'application/json' : Object.keys(content)[0];
}

/** The JSON schema an operation documents for a status (of its JSON answer, else of its first media type). */
export const responseSchema = (op: Operation, status: number | string) => {
  const type = responseType(op, status);
  return type ? op.responses[String(status)]?.content?.[type]?.schema : undefined;
};
