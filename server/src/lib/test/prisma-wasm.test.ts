import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileBase64Wasm, readBase64Wasm } from '../prisma-wasm.js';

const SPECIFIER = '@prisma/client/runtime/query_compiler_fast_bg.postgresql.wasm-base64.mjs';

describe('the query compiler read from its file', () => {
  it('is the module Prisma would have compiled from its base64 export', async () => {
    // Oracle: Prisma's own path (import the module, Buffer.from(wasm, 'base64'): its decodeBase64AsWasm).
    const { wasm } = (await import(SPECIFIER)) as { wasm: string };
    const expected = Buffer.from(wasm, 'base64');
    const bytes = readBase64Wasm(fileURLToPath(import.meta.resolve(SPECIFIER)));
    expect(bytes.length).toBe(expected.length);
    expect(bytes.equals(expected)).toBe(true);
    const module = await compileBase64Wasm(SPECIFIER);
    expect(WebAssembly.Module.exports(module)).toEqual(WebAssembly.Module.exports(new WebAssembly.Module(expected)));
  });

  it('refuses, naming the file, a file of another shape', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmpulse-wasm-'));
    const cases = {
      'none.mjs': 'export const wasm = 42\n',
      'not-base64.mjs': 'const wasm = "not base64!"; export { wasm }\n',
      'not-wasm.mjs': `const wasm = "${Buffer.from('hello world').toString('base64')}"; export { wasm }\n`,
      'unterminated.mjs': 'const wasm = "AGFzbQEAAAA',
    };
    for (const [name, text] of Object.entries(cases)) {
      const file = join(dir, name);
      writeFileSync(file, text);
      expect(() => readBase64Wasm(file)).toThrow(`${file}: no base64 WebAssembly string literal`);
    }
  });
});
