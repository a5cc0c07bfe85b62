// Writes the GraphQL SDL to ../schema.graphql (committed, so schema changes show in review).
// `--check` exits 1 when the committed file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lexicographicSortSchema, printSchema } from 'graphql';
import '../src/features/index.js';
import { buildSchema } from '../src/graphql/schema.js';

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'schema.graphql');
export const printedSchema = () => `${printSchema(lexicographicSortSchema(buildSchema()))}\n`;

const sdl = printedSchema();
if (process.argv.includes('--check')) {
  const committed = readFileSync(file, 'utf8');
  if (committed !== sdl) {
    console.error('schema.graphql is out of date: run `npm run schema`');
    process.exit(1);
  }
  console.log('schema.graphql is up to date');
} else {
  writeFileSync(file, sdl);
  console.log(`wrote ${file}`);
}
