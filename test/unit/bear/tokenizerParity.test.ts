// Python (preflight_train.tokenizer, which reimplements BertPreTokenizer + WordPiece) and TypeScript
// (@huggingface/tokenizers reading the same tokenizer.json) must give the same ids for the same text
// (docs/bear.md §2). Runs /usr/bin/python3 (stdlib only: the tokenizer module needs no torch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadTokenizer } from '../../../src/core/model/tokenizer';

const python = process.env.PREFLIGHT_PYTHON ?? '/usr/bin/python3';

const texts = [
  'Below is an instruction that describes a task.\n\n### Input:\nThe user interacted with: "Crimson Harbor", "Silent Garden"\n\n### Response:\n',
  '"Crimson Harbor"',
  'Crimsonish Harbors — unseen words fall back to characters, even ümlauts?',
  "Tab\tand  double  spaces; (parentheses) [brackets] {braces} $100 & 50% it's",
  'Unknown: 漢字 🙂',
];

test('Python and TypeScript tokenise the same text to the same ids', { skip: !existsSync(python) && `no ${python}` }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tok-'));
  const script = `
import json, sys
from preflight_train.tokenizer import WordTokenizer
texts = json.loads(sys.stdin.read())
tok = WordTokenizer.build(texts[:2] + ["Silent Garden Crimson Harbor it's"])
tok.save(sys.argv[1])
print(json.dumps([tok.encode(t) for t in texts]))
`;
  const run = spawnSync(python, ['-c', script, dir], {
    input: JSON.stringify(texts),
    env: { ...process.env, PYTHONPATH: resolve('python') },
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  const pyIds = JSON.parse(run.stdout) as number[][];
  const tok = loadTokenizer(dir);
  texts.forEach((text, i) => {
    assert.deepEqual(tok.encode(text, { addSpecialTokens: false }), pyIds[i], `text ${i}: ${JSON.stringify(text)}`);
  });
  assert.ok(pyIds[0].length > 10);
});
