// The annotation core is off the extension's activation bundle (scripts/build.mjs bundles it apart
// as dist/annotationCore.js; src/extension/annotation/core.ts requires it on first use), and an
// error thrown inside that bundle, which has its own copy of src/shared/errors, reaches the
// extension as its own InputError / CancelledError (the extension matches them by type).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { withOwnErrors } from '../../../src/extension/annotation/core';
import { InputError } from '../../../src/shared/errors';
import { NODE_BUNDLE } from '../../helpers/nodeBundle';

test('the extension bundle holds neither the annotation core nor csv-parse', async () => {
  const result = await esbuild.build({
    entryPoints: ['src/extension/extension.ts'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'es2022',
    external: ['vscode', 'onnxruntime-node'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.includes('src/extension/annotation/annotationFeature.ts'), 'the feature itself is in the bundle');
  assert.deepEqual(
    inputs.filter((path) => path.startsWith('node_modules/csv-parse/') || path.startsWith('src/core/annotation/')),
    [],
  );
  const build = readFileSync('scripts/build.mjs', 'utf8');
  assert.match(build, /entryPoints: \['src\/extension\/annotation\/coreBundle\.ts'\],\s*outfile: 'dist\/annotationCore\.js'/);
});

test("an error from the separate bundle is rebuilt as this bundle's type", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'preflight-annotation-core-'));
  try {
    const outfile = join(dir, 'annotationCore.js');
    await esbuild.build({ ...NODE_BUNDLE, entryPoints: ['src/extension/annotation/coreBundle.ts'], outfile });
    // loaded as the extension loads it (core.ts): require() of the bundle file
    const bundled = createRequire(outfile)(outfile) as typeof import('../../../src/extension/annotation/coreBundle');
    // no column named like a gold label: missing-column (analysed in process: no worker bundle beside it)
    const source = { text: 'a,b\n1,2\n', name: 'x.csv' };
    const raw = await bundled.analyzeAnnotationsInWorker(source, [], {}).catch((e: unknown) => e);
    assert.equal((raw as Error).name, 'InputError');
    assert.ok(!(raw instanceof InputError), "the bundle's own copy of the class: why core.ts rebuilds it");
    const core = withOwnErrors(bundled);
    const error = await core.analyzeAnnotationsInWorker(source, [], {}).catch((e: unknown) => e);
    assert.ok(error instanceof InputError);
    assert.equal(error.code, 'missing-column');
    assert.equal(error.message, (raw as Error).message);
    // constants and synchronous functions pass through
    assert.equal(core.LLM_LABEL_COLUMN, 'llm_label');
    assert.deepEqual(core.headerOf('"a,b",c\n1,2\n'), ['a,b', 'c']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
