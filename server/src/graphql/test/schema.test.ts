import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import '../../features/index.js';
import { buildSchema } from '../schema.js';

describe('schema.graphql', () => {
  it('is the printed schema (run `npm run schema` after changing a type)', () => {
    const committed = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../schema.graphql'), 'utf8');
    expect(committed).toBe(`${printSchema(lexicographicSortSchema(buildSchema()))}\n`);
  });
});
