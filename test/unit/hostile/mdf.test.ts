// Issue 13 items 7 and 16: a record is cut by a character bound proportional to maxTokens before
// it is tokenized (a 50 MB record costs what a short one does), workspace caches get a .gitignore,
// and steering values that overflow float32 are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cutForTokens, MAX_CHARS_PER_TOKEN, tokenizeRecord } from '../../../src/core/mdf/records';
import { loadTokenizer } from '../../../src/core/model/tokenizer';
import { ensureCacheDir } from '../../../src/core/io/cacheDir';
import { assertFiniteLogits, checkSteeringValues } from '../../../src/core/model/finite';
import { writeTinyCheckpoint } from '../../helpers/tinyCheckpoint';
import { tempDir } from './helpers';

test('a 50 MB record is cut before tokenizing: the same ids as tokenizing it whole, in bounded time and memory', async () => {
  const { dir, cleanup } = tempDir('mdf');
  try {
    await writeTinyCheckpoint(dir, { family: 'qwen2' });
    const tokenizer = loadTokenizer(dir);
    const sentence = 'The quick brown fox jumps over the lazy dog near the river bank. ';
    const small = sentence.repeat(400);
    // on a record small enough to tokenize whole, the cut gives exactly the first maxTokens ids
    const whole = tokenizer.encode(small, { addSpecialTokens: true });
    assert.deepEqual(tokenizeRecord({ format: 'text', text: small }, tokenizer, 256), whole.slice(0, 256));
    const huge = sentence.repeat(Math.ceil((50 * 2 ** 20) / sentence.length));
    const short = huge.slice(0, 1024 * MAX_CHARS_PER_TOKEN);
    let t0 = Date.now();
    tokenizeRecord({ format: 'text', text: short }, tokenizer, 1024);
    const shortMs = Date.now() - t0;
    const before = process.memoryUsage().rss;
    t0 = Date.now();
    const ids = tokenizeRecord({ format: 'text', text: huge }, tokenizer, 1024);
    const hugeMs = Date.now() - t0;
    assert.equal(ids.length, 1024);
    assert.deepEqual(ids.slice(0, 256), whole.slice(0, 256));
    // the 50 MB record costs what its 32 K-character prefix costs (whole, it took 47 s and 4.25 GB)
    assert.ok(hugeMs < 3 * shortMs + 1000, `50 MB record ${hugeMs} ms, its prefix ${shortMs} ms`);
    assert.ok(process.memoryUsage().rss - before < 200 * 2 ** 20);
    assert.equal(cutForTokens(huge, 1024).length, 1024 * MAX_CHARS_PER_TOKEN);
    // never half a surrogate pair
    const emoji = '😀'.repeat(40);
    assert.equal(cutForTokens(emoji, 1).length, 32);
    assert.equal(cutForTokens('a' + emoji, 1).length, 31);
  } finally {
    cleanup();
  }
});

test('a cache folder made in the workspace ignores itself in git', () => {
  const { dir, cleanup } = tempDir('cache');
  try {
    const cache = join(dir, '.preflight', 'cache', 'mdf');
    ensureCacheDir(cache);
    assert.equal(readFileSync(join(cache, '.gitignore'), 'utf8').trim().split('\n').pop(), '*');
    ensureCacheDir(cache); // idempotent
    assert.ok(existsSync(cache));
  } finally {
    cleanup();
  }
});

test('steering values that are not finite or overflow float32 are refused; non-finite logits are caught', () => {
  assert.throws(() => checkSteeringValues([0.5, 1e308]), /steering value #1 is 1e\+308: steering values must be finite and at most 1e\+6/);
  assert.throws(() => checkSteeringValues([NaN]), /#0 is NaN/);
  assert.throws(() => checkSteeringValues([-Infinity]), /-Infinity/);
  checkSteeringValues([0, -3.5, 1e5]);
  assert.throws(() => assertFiniteLogits(new Float32Array([0, NaN, 1]), 'inspect'), /inspect: the model produced a non-finite logit \(NaN at token 1\)/);
  assertFiniteLogits(new Float32Array([0, 1]), 'ok');
});
