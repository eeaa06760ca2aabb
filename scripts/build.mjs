// Bundles the extension, the CLI, the inference worker and every webview app.
// onnxruntime-node stays external: its native binaries are loaded from node_modules at run time.
import * as esbuild from 'esbuild';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildWasm } from './build-wasm.mjs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'info',
  target: 'es2022',
};

const nodeExternal = ['vscode', 'onnxruntime-node'];

/** @type {esbuild.BuildOptions[]} */
const builds = [
  { ...common, platform: 'node', format: 'cjs', entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: nodeExternal },
  // The validators as a bundle of their own, required on first validation: their dependencies
  // (csv-parse, the tokenizer) stay off the extension's activation path.
  { ...common, platform: 'node', format: 'cjs', entryPoints: ['src/core/data/index.ts'], outfile: 'dist/validation.js', external: nodeExternal },
  // The tokenizer (with @huggingface/tokenizers and /jinja), required by the inference worker's
  // client on first use (src/worker/client.ts): a third of the extension bundle, off activation.
  { ...common, platform: 'node', format: 'cjs', entryPoints: ['src/core/model/tokenizer.ts'], outfile: 'dist/tokenizer.js', external: nodeExternal },
  {
    ...common,
    platform: 'node',
    format: 'cjs',
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    external: nodeExternal,
    banner: { js: '#!/usr/bin/env node' },
  },
  // JSON Lines validation over byte ranges in worker threads (src/core/data/parallel.ts finds it beside cli.js / validation.js)
  { ...common, platform: 'node', format: 'cjs', entryPoints: ['src/core/data/validateWorker.ts'], outfile: 'dist/validateWorker.js', external: nodeExternal },
  // live validation of editor buffers off the extension host thread (src/core/data/liveValidation.ts)
  {
    ...common,
    platform: 'node',
    format: 'cjs',
    entryPoints: ['src/core/data/liveValidationWorker.ts'],
    outfile: 'dist/liveValidationWorker.js',
    external: nodeExternal,
  },
  // the annotation core (src/core/annotation, csv-parse), required by the annotation feature on
  // first use (src/extension/annotation/core.ts): over a third of the extension bundle, off activation
  {
    ...common,
    platform: 'node',
    format: 'cjs',
    entryPoints: ['src/extension/annotation/coreBundle.ts'],
    outfile: 'dist/annotationCore.js',
    external: nodeExternal,
  },
  // an annotation analysis off the extension host thread (src/core/annotation/analyzeInWorker.ts)
  {
    ...common,
    platform: 'node',
    format: 'cjs',
    entryPoints: ['src/core/annotation/analyzeWorker.ts'],
    outfile: 'dist/annotationWorker.js',
    external: nodeExternal,
  },
  { ...common, platform: 'node', format: 'cjs', entryPoints: ['src/worker/main.ts'], outfile: 'dist/worker.js', external: nodeExternal },
];

// Each folder webview/<panel>/ with a main.ts becomes dist/webview/<panel>.js.
if (existsSync('webview')) {
  for (const name of readdirSync('webview')) {
    const entry = join('webview', name, 'main.ts');
    if (existsSync(entry)) {
      builds.push({ ...common, platform: 'browser', format: 'iife', entryPoints: [entry], outfile: `dist/webview/${name}.js` });
    }
  }
}

// The worker entry exists once the inference engine does.
const present = builds.filter((options) => options.entryPoints.every((entry) => existsSync(entry)));

// dist/jsonScan.wasm: the JSON Lines scanner's WebAssembly fast path (src/core/data/wasmScan.ts)
if (watch) {
  await buildWasm();
  for (const options of present) await (await esbuild.context(options)).watch();
} else {
  await Promise.all([buildWasm(), ...present.map((options) => esbuild.build(options))]);
}
