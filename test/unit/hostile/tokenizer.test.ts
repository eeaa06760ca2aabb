// Issue 13 item 4: tokenizer.json regexes that can backtrack without end are refused before they
// run (the validation tokenizer runs on the extension host's thread); the patterns of real
// tokenizers pass. The setting that names the tokenizer is restricted in untrusted workspaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkTokenizerRegexes, unsafeRegexReason } from '../../../src/core/model/tokenizerRegex';
import { loadTokenizer, TOKEN_SLICE_CHARS, tokenSlices } from '../../../src/core/data/tokens';
import { writeTinyCheckpoint } from '../../helpers/tinyCheckpoint';
import { REPO, tempDir } from './helpers';

// the pre-tokenizer patterns of GPT-2, Llama 3, Qwen 2 and GPT-4o (o200k), verbatim
const REAL = [
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  '\\p{N}',
  ' ?[^(\\s|[.,!?…。，、।۔،])]+',
];

test("real tokenizers' patterns pass; exponential and backreference patterns are refused", () => {
  for (const p of REAL) assert.equal(unsafeRegexReason(p), undefined, p);
  assert.match(unsafeRegexReason('(a|a)+$')!, /repeats a group/);
  assert.match(unsafeRegexReason('(a+)+b')!, /repeats a group/);
  assert.match(unsafeRegexReason('(?:x*)*y')!, /repeats a group/);
  assert.match(unsafeRegexReason('(a){2,}')!, /repeats a group/);
  assert.match(unsafeRegexReason('(a)\\1')!, /backreference/);
  assert.match(unsafeRegexReason('a*a*a*a*b')!, /more than 3 unbounded repetitions/);
});

test('validation with a tokenizer.json whose Split pattern backtracks exponentially: refused at once, host not frozen', async () => {
  const { dir, cleanup } = tempDir('tok');
  try {
    await writeTinyCheckpoint(join(dir, 'ck'), { family: 'llama' });
    const json = JSON.parse(readFileSync(join(dir, 'ck', 'tokenizer.json'), 'utf8'));
    json.pre_tokenizer = {
      type: 'Sequence',
      pretokenizers: [{ type: 'Split', pattern: { Regex: '(a|a)+$' }, behavior: 'Isolated', invert: false }, json.pre_tokenizer],
    };
    checkTokenizerRegexes(JSON.parse(readFileSync(join(dir, 'ck', 'tokenizer.json'), 'utf8')), 'tiny'); // the test tokenizer passes
    const path = join(dir, 'tokenizer.json');
    writeFileSync(path, JSON.stringify(json));
    const t0 = Date.now();
    await assert.rejects(loadTokenizer(path), /refused the Split regex "\(a\|a\)\+\$": it repeats a group .*docs\/limits\.md/);
    assert.ok(Date.now() - t0 < 2000);
  } finally {
    cleanup();
  }
});

test('preflight.validation.tokenizerPath is a restricted setting in untrusted workspaces', () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('preflight.validation.tokenizerPath'));
  // and the code takes only the user's value when the workspace is not trusted
  const settings = readFileSync(join(REPO, 'src/extension/validation/settings.ts'), 'utf8');
  assert.match(settings, /if \(vscode\.workspace\.isTrusted\) return c\.get<string>\('tokenizerPath'/);
  assert.match(settings, /inspect<string>\('tokenizerPath'\)\?\.globalValue/);
});

test('long texts are counted in slices cut at whitespace: the same count as one pass on prose, bounded work on a megabyte of spaces', async () => {
  const { dir, cleanup } = tempDir('slices');
  try {
    await writeTinyCheckpoint(dir, { family: 'llama' });
    const counter = await loadTokenizer(join(dir, 'tokenizer.json'));
    const { Tokenizer } = await import('@huggingface/tokenizers');
    const whole = new Tokenizer(
      JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')),
      JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')),
    );
    const prose = 'The fox ran over the hill, and then it rested by the river. '.repeat(2000); // 120 K characters
    assert.ok(prose.length > 3 * TOKEN_SLICE_CHARS);
    assert.equal(counter.count(prose), whole.encode(prose, { add_special_tokens: false }).ids.length);
    const pieces = [...tokenSlices(prose)];
    assert.equal(pieces.join(''), prose);
    assert.ok(pieces.every((p) => p.length <= TOKEN_SLICE_CHARS));
    // work grows linearly with the length: 16 slices cost about 16 times one slice
    let t0 = Date.now();
    counter.count(' '.repeat(TOKEN_SLICE_CHARS));
    const one = Date.now() - t0;
    t0 = Date.now();
    counter.count(' '.repeat(16 * TOKEN_SLICE_CHARS));
    const sixteen = Date.now() - t0;
    assert.ok(sixteen < 3 * 16 * one + 1000, `one slice ${one} ms, sixteen ${sixteen} ms`);
  } finally {
    cleanup();
  }
});
