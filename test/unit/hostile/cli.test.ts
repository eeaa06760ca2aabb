// Issue 13 items 14, 15, 16 at the CLI: control characters from data are escaped by the one
// printer, `| head` ends quietly, steering values that overflow are exit 2 (not NaN logits with
// exit 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { escapeControl } from '../../../src/cli/output';
import { buildModel } from '../../../src/core/model/build';
import { writeTinyCheckpoint } from '../../helpers/tinyCheckpoint';
import { cliBundle, runCli, tempDir } from './helpers';

test('escapeControl: C0, DEL, C1 and bidi controls become visible escapes; JSON stays equal', () => {
  assert.equal(escapeControl('a\u001b[31mred\u0007\tb\n'), 'a\\u001b[31mred\\u0007\tb\n');
  assert.equal(escapeControl('\u009b2J \u202e \u007f'), '\\u009b2J \\u202e \\u007f');
  const json = JSON.stringify({ label: 'x\u009by\u202ez' });
  assert.deepEqual(JSON.parse(escapeControl(json)), JSON.parse(json));
});

test('annotate: labels with terminal escapes are printed escaped', async () => {
  const { dir, cleanup } = tempDir('esc');
  try {
    const rows = [
      'id,gold,llm',
      ...Array.from({ length: 20 }, (_, i) => `${i},${i % 2 ? 'high' : 'lo\u001b]0;owned\u0007w'},${i % 3 ? 'high' : 'lo\u001b]0;owned\u0007w'}`),
    ];
    writeFileSync(join(dir, 'l.csv'), `${rows.join('\n')}\n`);
    const r = await runCli(['annotate', join(dir, 'l.csv'), '--bootstrap', '0']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /[\u001b\u0007]/);
    assert.match(r.stdout, /lo\\u001b\]0;owned\\u0007w/);
  } finally {
    cleanup();
  }
});

test('`preflight validate ... | head -1` ends quietly on EPIPE', () => {
  const { dir, cleanup } = tempDir('epipe');
  try {
    writeFileSync(join(dir, 'bad.jsonl'), '{"text": }\n'.repeat(20_000));
    const r = spawnSync(
      'bash',
      [
        '-c',
        `"${process.execPath}" "${cliBundle()}" validate "${join(dir, 'bad.jsonl')}" --max-findings 100000 | head -1; echo "status \${PIPESTATUS[0]}" >&2`,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.match(r.stdout, /bad\.jsonl:1:\d+: error json-malformed/);
    assert.doesNotMatch(r.stderr, /EPIPE|internal error|Error:/, r.stderr);
    assert.match(r.stderr, /status [01]\b/);
  } finally {
    cleanup();
  }
});

test('inspect --steer with 1e308 (or NaN) is refused with exit 2, not NaN logits with exit 0', async () => {
  const { dir, cleanup } = tempDir('steer');
  try {
    const ck = await writeTinyCheckpoint(join(dir, 'ck'), { family: 'llama', numLayers: 2, hiddenSize: 32 });
    await buildModel(ck.dir, join(dir, 'm'));
    const vectors = Array.from({ length: 2 }, () => Array.from({ length: 32 }, () => 0));
    vectors[1][3] = 1e308;
    writeFileSync(join(dir, 'steer.json'), JSON.stringify(vectors));
    const r = await runCli(['inspect', '--model', join(dir, 'm'), '--text', 'hello', '--steer', join(dir, 'steer.json')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /steering values must be finite and at most 1e\+6/);
    vectors[1][3] = 1;
    writeFileSync(join(dir, 'steer.json'), JSON.stringify(vectors));
    const big = await runCli(['inspect', '--model', join(dir, 'm'), '--text', 'hello', '--steer', join(dir, 'steer.json'), '--alpha', '1e300']);
    assert.equal(big.code, 2, big.stderr);
    const ok = await runCli(['inspect', '--model', join(dir, 'm'), '--text', 'hello', '--steer', join(dir, 'steer.json'), '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(JSON.parse(ok.stdout).lastLogits.every(Number.isFinite));
  } finally {
    cleanup();
  }
});
