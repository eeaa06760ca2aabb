// Worker threads over byte ranges (validateFile with `workers`) must give exactly the findings
// and summary of the single pass: duplicates whose first copy is in an earlier range, errors and
// blank runs next to range boundaries, CRLF, a BOM, non-ASCII text, a line longer than a read
// chunk, the findings cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateFile } from '../../../src/core/data';
import { splitRanges } from '../../../src/core/data/parallel';
import { rng } from '../../../src/shared/random';
import { CancelledError } from '../../../src/shared/errors';

const tmp = mkdtempSync(join(tmpdir(), 'preflight-parallel-'));

function generate(seed: number, lines: number): string {
  const random = rng(seed);
  const words = ['alpha', 'beta', 'Gamma', 'délta', '日本', 'epsilon', 'zeta!', 'eta,', 'theta', '😀'];
  const text = (n: number) => Array.from({ length: n }, () => words[Math.floor(random() * words.length)]).join(' ');
  const chat = () =>
    JSON.stringify({
      messages: [
        { role: 'user', content: text(3 + Math.floor(random() * 6)) },
        { role: 'assistant', content: text(2 + Math.floor(random() * 8)) },
      ],
    });
  const pool: string[] = [];
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const r = random();
    let line: string;
    if (pool.length > 5 && r < 0.12)
      line = pool[Math.floor(random() * pool.length)]; // exact copy
    else if (pool.length > 5 && r < 0.18)
      line = pool[Math.floor(random() * pool.length)]
        .replace(/"content":"(\w)/, (_m, c: string) => `"content":"${c.toUpperCase()}`)
        .replace('"user"', '"user","name":"x"'); // near copy
    else if (r < 0.21) line = '';
    else if (r < 0.23) line = '   \t';
    else if (r < 0.26) line = '{"messages":[{"role":"user","content":"trailing comma",}]}';
    else if (r < 0.27) line = '[1,2,3]';
    else if (r < 0.28) line = '{"text":"a plain text record"}';
    else if (r < 0.29) line = '{"messages":[{"role":"assistant","content":""}]}';
    else if (r < 0.3)
      line = '{"messages":[{"role":"user","content":"caf\xe9 latin-1"}]}'; // becomes invalid UTF-8 below
    else {
      line = chat();
      if (pool.length < 40) pool.push(line);
      else if (random() < 0.2) pool[Math.floor(random() * pool.length)] = line;
    }
    out.push(line + (random() < 0.3 ? '\r' : ''));
  }
  return out.join('\n');
}

function toBytes(text: string): Buffer {
  // the latin-1 é of the marked lines as a lone byte 0xe9 (invalid UTF-8)
  const parts = text.split('caf\xe9');
  const chunks: Buffer[] = [];
  parts.forEach((part, i) => {
    if (i > 0) chunks.push(Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    chunks.push(Buffer.from(part, 'utf8'));
  });
  return Buffer.concat(chunks);
}

test("worker threads over byte ranges give the single pass's findings and summary", async () => {
  const cases: { name: string; bytes: Buffer }[] = [
    { name: 'mixed.jsonl', bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), toBytes(generate(1, 3000)), Buffer.from('\n')]) },
    { name: 'no-final-newline.jsonl', bytes: toBytes(generate(2, 2500)) },
    { name: 'blank-tail.jsonl', bytes: toBytes(`${generate(3, 800)}\n\n\n   \n`) },
    // a line longer than a 1 MB read chunk, repeated in another range
    {
      name: 'long.jsonl',
      bytes: toBytes(
        [
          generate(4, 300),
          `{"text":"${'lorem ipsum '.repeat(110_000)}"}`,
          generate(5, 300),
          `{"text":"${'lorem ipsum '.repeat(110_000)}"}`,
          generate(6, 300),
        ].join('\n'),
      ),
    },
  ];
  for (const { name, bytes } of cases) {
    const path = join(tmp, name);
    writeFileSync(path, bytes);
    for (const maxFindings of [1e6, 40]) {
      const single = await validateFile(path, { maxFindings, contextLimit: 1e7 });
      assert.ok(single.summary.byCode?.['duplicate-exact'] && single.summary.byCode?.['duplicate-near'], `${name}: the file has duplicates`);
      for (const workers of [2, 5]) {
        const parallel = await validateFile(path, { maxFindings, contextLimit: 1e7, workers });
        assert.deepEqual(parallel, single, `${name}, ${workers} workers, maxFindings ${maxFindings}`);
      }
    }
  }
});

test('blank runs left open at a range end, and the findings cap falling in any range, as in one pass', async () => {
  // few blank runs (so a run stays unreported across ranges), many duplicates and errors
  const random = rng(11);
  const lines: string[] = [];
  for (let i = 0; i < 2400; i++) {
    const r = random();
    if (r < 0.004) lines.push('', '');
    else if (r < 0.3) lines.push(`{"text":"copy ${Math.floor(random() * 20)}"}`);
    else if (r < 0.35) lines.push('{"text": oops}');
    else lines.push(`{"text":"record ${i}"}`);
  }
  const path = join(tmp, 'sparse-blank.jsonl');
  writeFileSync(path, lines.join('\n'));
  for (const maxFindings of [7, 60, 250, 700, 1e6]) {
    const single = await validateFile(path, { maxFindings });
    for (const workers of [3, 4]) {
      assert.deepEqual(await validateFile(path, { maxFindings, workers }), single, `${workers} workers, maxFindings ${maxFindings}`);
    }
  }
});

test("a blank run before a range boundary is reported after the next range's findings that come first", async () => {
  // blocks of copies of the first block's records (a warning each), each block ending with a run
  // of blank lines, which one pass reports only when the next run starts: after the next block's
  // findings, wherever the range boundaries fall
  const block = Array.from({ length: 150 }, (_, i) => `{"text":"record number ${i}"}`);
  const path = join(tmp, 'blank-boundary.jsonl');
  writeFileSync(path, [...block, '', '', ...block, '', ...block, '', '', ...block, '', '{"text":"end"}'].join('\n'));
  const bytes = readFileSync(path);
  const all = await validateFile(path, { maxFindings: 1e6 });
  for (const workers of [2, 4]) {
    const bounds = await splitRanges(path, bytes.length, workers);
    for (const bound of bounds.slice(1, -1)) {
      const boundaryLine = bytes.subarray(0, bound).toString().split('\n').length;
      const before = all.findings.filter((f) => f.line < boundaryLine).length;
      for (let cap = Math.max(1, before - 2); cap <= before + 2; cap++) {
        const single = await validateFile(path, { maxFindings: cap });
        assert.deepEqual(
          await validateFile(path, { maxFindings: cap, workers }),
          single,
          `${workers} workers, boundary at line ${boundaryLine}, maxFindings ${cap}`,
        );
      }
    }
  }
});

test('exact token counts (a tokenizer.json loaded in each worker) give the same findings', async () => {
  const tokenizer = join(tmp, 'tokenizer.json');
  writeFileSync(
    tokenizer,
    JSON.stringify({
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [],
      normalizer: null,
      pre_tokenizer: { type: 'Whitespace' },
      post_processor: null,
      decoder: null,
      model: { type: 'WordLevel', vocab: { '[UNK]': 0, hello: 1 }, unk_token: '[UNK]' },
    }),
  );
  const path = join(tmp, 'tokens.jsonl');
  writeFileSync(path, toBytes(generate(9, 900)));
  const options = { tokenizerPath: tokenizer, contextLimit: 8 };
  const single = await validateFile(path, options);
  assert.ok(single.summary.byCode?.['tokens-over-limit']);
  assert.deepEqual(await validateFile(path, { ...options, workers: 3 }), single);
});

test('ranges start at the start of a non-blank line; a pre-aborted run rejects with CancelledError', async () => {
  const path = join(tmp, 'ranges.jsonl');
  const text = ['{"text":"a"}', '', '', '{"text":"b"}', '  ', '{"text":"c"}\r', '{"text":"d"}'].join('\n').repeat(50);
  writeFileSync(path, text);
  const bytes = readFileSync(path);
  const bounds = await splitRanges(path, bytes.length, 7);
  assert.equal(bounds[0], 0);
  assert.equal(bounds[bounds.length - 1], bytes.length);
  assert.ok(bounds.length > 3);
  for (let k = 1; k < bounds.length - 1; k++) {
    assert.ok(bounds[k] > bounds[k - 1]);
    assert.equal(bytes[bounds[k] - 1], 0x0a);
    assert.equal(bytes[bounds[k]], 0x7b);
  }
  const aborted = new AbortController();
  aborted.abort();
  await assert.rejects(validateFile(path, { workers: 2 }, { signal: aborted.signal }), (e: unknown) => e instanceof CancelledError);
  const seen: number[] = [];
  await validateFile(path, { workers: 3 }, { onProgress: (read) => seen.push(read) });
  assert.equal(seen[seen.length - 1], bytes.length);
});
