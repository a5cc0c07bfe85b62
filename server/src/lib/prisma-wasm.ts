// Prisma's query compiler is a 3.4 MB WebAssembly module shipped as base64 in an ES module
// (`@prisma/client/runtime/query_compiler_fast_bg.postgresql.wasm-base64.mjs`). The generated
// client imports that module, and an imported module is never unloaded: its 4.6 MB source and the
// exported string stay in the heap for the life of the process, 8.6 MiB of an idle server's 48 MiB.
// `prisma/patch-client.mjs` makes the generated client call this instead: the file is read as
// text, decoded and compiled, and the text is garbage once the module is compiled.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The bytes of the base64 string literal that `file` (Prisma's `const wasm = "…"; export { wasm }`)
 * holds. Throws, naming the file, when it holds no such literal or the literal is not a WebAssembly
 * binary: a Prisma upgrade that changes the format must fail at start, not mid-query.
 */
export function readBase64Wasm(file: string): Buffer<ArrayBuffer> {
  const text = readFileSync(file, 'latin1');
  const start = text.indexOf('"') + 1;
  const end = start > 0 ? text.indexOf('"', start) : -1;
  const literal = end > start ? text.slice(start, end) : '';
  // Not checked as base64 first (9 ms at start-up): what does not decode to a WebAssembly header is refused below.
  const bytes = Buffer.from(literal, 'base64');
  if (bytes.subarray(0, 4).toString('latin1') !== '\0asm') {
    throw new Error(`${file}: no base64 WebAssembly string literal in it (has Prisma changed how it ships its query compiler?)`);
  }
  return bytes;
}

/** Compiles the query compiler module that `specifier` names (resolved from here, as the generated client would). */
export async function compileBase64Wasm(specifier: string): Promise<WebAssembly.Module> {
  return WebAssembly.compile(readBase64Wasm(fileURLToPath(import.meta.resolve(specifier))));
}
