// Compiles the WebAssembly JSON Lines scanner (assembly/jsonScan.ts, AssemblyScript) into
// dist/jsonScan.wasm, with 128-bit SIMD, no runtime (it allocates nothing: src/core/data/wasmScan.ts
// lays out its memory). Run by scripts/build.mjs (`npm run build`); on its own:
// `node scripts/build-wasm.mjs`.
import asc from 'assemblyscript/asc';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export async function buildWasm() {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  mkdirSync(join(root, 'dist'), { recursive: true });
  const args = ['assembly/jsonScan.ts', '--outFile', 'dist/jsonScan.wasm', '-O3', '--runtime', 'stub', '--noAssert', '--enable', 'simd', '--baseDir', root];
  const { error, stderr } = await asc.main(args);
  if (error) throw new Error(`assemblyscript: ${error.message}\n${stderr.toString()}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildWasm();
