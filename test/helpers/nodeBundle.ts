// esbuild's options for a Node bundle as scripts/build.mjs writes dist/*.js (CommonJS, es2022,
// vscode and onnxruntime-node left external), for tests that bundle a piece of the product themselves.
import type { BuildOptions } from 'esbuild';

export const NODE_BUNDLE: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'es2022',
  external: ['vscode', 'onnxruntime-node'],
  logLevel: 'silent',
};
