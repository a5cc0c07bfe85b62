// Run after `prisma generate` (package.json "generate"). The generated client imports Prisma's query
// compiler as a base64 string module, which stays in the heap for the life of the process (8.6 MiB
// of an idle server's 48 MiB). This makes it read, decode and compile the same file instead
// (server/src/lib/prisma-wasm.ts), so nothing of it is kept. A generated file of another shape
// (a Prisma upgrade) stops the build here with a message, rather than running unpatched.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../server/src/generated/prisma/internal/class.ts', import.meta.url);
const loader = /const \{ wasm \} = await import\(("@prisma\/client\/runtime\/[\w.]+\.wasm-base64\.mjs")\)\s*return await decodeBase64AsWasm\(wasm\)/;
const lastImport = /^import type \* as Prisma from "\.\/prismaNamespace\.js"$/m;

const text = readFileSync(file, 'utf8');
if (text.includes('compileBase64Wasm(')) process.exit(0); // patched already
if (!loader.test(text) || !lastImport.test(text)) {
  console.error(`patch-client: ${file.pathname} does not load the query compiler as this script expects; see server/src/lib/prisma-wasm.ts`);
  process.exit(1);
}
writeFileSync(
  file,
  text
    .replace(lastImport, (line) => `${line}\nimport { compileBase64Wasm } from "../../../lib/prisma-wasm.js"`)
    .replace(loader, (_, specifier) => `return await compileBase64Wasm(${specifier})`),
);
