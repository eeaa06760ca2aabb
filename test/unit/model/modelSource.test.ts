// "The model" of every model-based command (src/core/model/modelSource.ts) and the one checkpoint
// rule (src/core/model/catalog.ts): the configured folder or the bundled demo model, checkpoints
// built once into the one cache with the same folder name for the CLI and the extension, and
// one-line errors that name the folder and what is missing.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildModel } from '../../../src/core/model/build';
import { describeModelDir, isCheckpointDir } from '../../../src/core/model/catalog';
import {
  DEFAULT_MODEL_NAME,
  ModelSourceError,
  builtModelDir,
  ensureBuilt,
  modelCacheRoot,
  packageRoot,
  resolveModelSource,
} from '../../../src/core/model/modelSource';
import { InputError, fromWire, toWire } from '../../../src/shared/errors';
import { writeTinyCheckpoint } from '../../helpers/tinyCheckpoint';

const root = mkdtempSync(join(tmpdir(), 'preflight-source-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('model source', () => {
  const pkg = join(root, 'pkg');
  const bundled = join(pkg, 'models', DEFAULT_MODEL_NAME);
  const mine = join(root, 'my-base-model');
  before(async () => {
    await writeTinyCheckpoint(bundled, { family: 'llama' });
    await writeTinyCheckpoint(mine, { family: 'qwen3' });
  });

  it('finds the package root of this checkout from the module folder (as from dist/ in the bundles)', () => {
    assert.equal(packageRoot(), resolve('.'));
    assert.equal(packageRoot(join(resolve('.'), 'dist')), resolve('.'));
    assert.equal(packageRoot('/'), null);
  });

  it('uses the bundled demo model when nothing is configured, and says so', () => {
    for (const configured of [undefined, null, '', '   ']) {
      const s = resolveModelSource(configured, { packageRoot: pkg });
      assert.deepEqual(s, { dir: bundled, kind: 'checkpoint', name: DEFAULT_MODEL_NAME, isDefault: true });
    }
    // configured to the bundled folder itself: still the demo model
    assert.equal(resolveModelSource(bundled, { packageRoot: pkg }).isDefault, true);
  });

  it('uses the configured folder otherwise', () => {
    assert.deepEqual(resolveModelSource(mine, { packageRoot: pkg }), { dir: mine, kind: 'checkpoint', name: 'my-base-model', isDefault: false });
  });

  it('one checkpoint rule: config.json, tokenizer.json and safetensors weights, else a one-line error naming what is missing', () => {
    const partial = join(root, 'partial');
    mkdirSync(partial);
    writeFileSync(join(partial, 'config.json'), '{}');
    writeFileSync(join(partial, 'model.safetensors'), '');
    assert.equal(isCheckpointDir(partial), false);
    const entry = describeModelDir(partial);
    assert.equal(entry.kind, 'invalid');
    assert.match(entry.kind === 'invalid' ? entry.reason : '', /no tokenizer\.json$/);
    assert.throws(
      () => resolveModelSource(partial, { packageRoot: pkg }),
      (e: Error) => e instanceof ModelSourceError && e.message.includes(partial) && /no tokenizer\.json/.test(e.message) && !e.message.includes('\n'),
    );
    // an input error matched by type and code, also after crossing the worker boundary
    try {
      resolveModelSource(partial, { packageRoot: pkg });
      assert.fail('resolveModelSource accepted a partial checkpoint');
    } catch (error) {
      assert.ok(error instanceof InputError && error.code === 'model-source', String(error));
      const back = fromWire(toWire(error));
      assert.ok(back instanceof InputError && back.code === 'model-source' && back.message === error.message);
    }
    assert.throws(() => resolveModelSource(join(root, 'nowhere'), { packageRoot: pkg }), /nowhere: folder not found/);
    // nothing configured and no bundled model: say how to name one
    assert.throws(
      () => resolveModelSource('', { packageRoot: join(root, 'empty-pkg') }),
      /no model configured and the bundled preflight-tiny is unusable.*--model or set preflight\.model\.path/,
    );
    assert.equal(isCheckpointDir(mine), true);
  });

  it('the one build cache: XDG_CACHE_HOME, folder names by source path and dtype', () => {
    assert.equal(modelCacheRoot({ XDG_CACHE_HOME: '/x/cache' }), '/x/cache/preflight/models');
    assert.equal(modelCacheRoot({ HOME: '/h' }).endsWith(join('.cache', 'preflight', 'models')), true);
    const a = builtModelDir(mine, 'fp32', '/c');
    assert.match(a, /^\/c\/my-base-model-fp32-[0-9a-f]{8}$/);
    assert.equal(builtModelDir(`${mine}/`, 'fp32', '/c'), a, 'the same folder however it is written');
    assert.notEqual(builtModelDir(mine, 'fp16', '/c'), a);
    assert.notEqual(builtModelDir(bundled, 'fp32', '/c'), a);
  });

  it('builds a checkpoint once into the cache, then reuses it; a built folder is used as it is', async () => {
    const cacheRoot = join(root, 'cache');
    const source = resolveModelSource('', { packageRoot: pkg });
    const first = await ensureBuilt(source, buildModel, { cacheRoot });
    assert.equal(first.dir, builtModelDir(bundled, 'fp32', cacheRoot));
    assert.equal(first.reused, false);
    assert.equal(describeModelDir(first.dir).kind, 'built');
    const second = await ensureBuilt(source, buildModel, { cacheRoot });
    assert.deepEqual([second.dir, second.reused], [first.dir, true]);
    const built = resolveModelSource(first.dir, { packageRoot: pkg });
    assert.equal(built.kind, 'built');
    assert.equal((await ensureBuilt(built, () => Promise.reject(new Error('must not build')))).dir, first.dir);
    // a manifest without its graph (an interrupted copy) is not a built model
    unlinkSync(join(first.dir, 'model.onnx'));
    assert.equal(describeModelDir(first.dir).kind, 'invalid');
  });
});
