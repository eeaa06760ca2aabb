// Streaming behaviour: lines longer than a read chunk, progress, cancellation, the findings cap,
// token counts (estimated and exact) against the context limit, and length outliers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateFile, validateText } from '../../../src/core/data';
import { FINDING_CODES } from '../../../src/core/data/codes';
import { CancelledError, InputError } from '../../../src/shared/errors';

const tmp = mkdtempSync(join(tmpdir(), 'preflight-data-'));

// A WordLevel tokenizer with a whitespace pre-tokenizer: every word (and each punctuation run) is
// one token, so expected counts are the number of words, counted by eye.
const TOKENIZER = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [],
  normalizer: null,
  pre_tokenizer: { type: 'Whitespace' },
  post_processor: null,
  decoder: null,
  model: { type: 'WordLevel', vocab: { '[UNK]': 0, hello: 1, world: 2 }, unk_token: '[UNK]' },
};

test('a line over 1 MB (longer than a read chunk) keeps the positions of the lines around it', async () => {
  const long = `{"text":"${'lorem ipsum '.repeat(150_000)}"}`; // 1.8 MB
  assert.ok(long.length > 1_048_576);
  const path = join(tmp, 'long.jsonl');
  writeFileSync(path, `{"text":"short"}\r\n${long}\r\n{"text": }\r\n${long.slice(0, 1_200_000)}\n{"text":"end"}\n`);
  const result = await validateFile(path, { contextLimit: 1e7 });
  const positions = result.findings.filter((f) => f.code === 'json-malformed').map((f) => `${f.line}:${f.column}`);
  // line 3: {"text": } -> the '}' is character 10; line 4 is cut inside its string, which opens at 9
  assert.deepEqual(positions, ['3:10', '4:9']);
  assert.equal(result.summary.records, 3);
  // the same line is a duplicate when repeated, found across chunk boundaries
  const dup = join(tmp, 'long-dup.jsonl');
  writeFileSync(dup, `${long}\n{"text":"x"}\n${long}\n`);
  const dups = await validateFile(dup, { contextLimit: 1e7 });
  assert.deepEqual(
    dups.findings.map((f) => `${f.line} ${f.code}`),
    ['3 duplicate-exact'],
  );
});

test('progress reaches the file size; a pre-aborted or mid-way abort rejects with CancelledError', async () => {
  const path = join(tmp, 'many.jsonl');
  const line = '{"messages":[{"role":"user","content":"Say hello."},{"role":"assistant","content":"Hello there, how are you today?"}]}\n';
  writeFileSync(path, line.repeat(60_000)); // ~6.8 MB: several 1 MB chunks
  const size = readFileSync(path).length;
  const seen: number[] = [];
  await validateFile(path, {}, { onProgress: (read, total) => seen.push(read, total) });
  assert.equal(seen[seen.length - 2], size);
  assert.equal(seen[seen.length - 1], size);

  const before = new AbortController();
  before.abort();
  await assert.rejects(validateFile(path, {}, { signal: before.signal }), (e: unknown) => e instanceof CancelledError);

  const during = new AbortController();
  let chunks = 0;
  const started = Date.now();
  await assert.rejects(
    validateFile(
      path,
      {},
      {
        signal: during.signal,
        onProgress: () => {
          if (++chunks === 1) during.abort();
        },
      },
    ),
    (e: unknown) => e instanceof CancelledError,
  );
  assert.equal(chunks, 1, 'no chunk is processed after the abort');
  assert.ok(Date.now() - started < 2000);
});

test('findings are capped at maxFindings with a summary finding; the counts include everything', async () => {
  const text = Array.from({ length: 50 }, (_, i) => `{"text": "row ${i}",}`).join('\n');
  const result = await validateText(text, 'capped.jsonl', { maxFindings: 10 });
  assert.equal(result.findings.length, 11);
  assert.equal(result.findings[10].code, 'findings-truncated');
  assert.match(result.findings[10].message, /^40 more finding/);
  assert.equal(result.summary.errors, 50);
  assert.equal(result.summary.truncated, true);
});

test('token estimate against the context limit: a warning that says it is an estimate', async () => {
  // 4,000 ASCII characters of text at ~4 characters per token: ≈1,000 tokens
  const text = JSON.stringify({ text: 'abc '.repeat(1000) });
  const result = await validateText(`${text}\n`, 'long.jsonl', { contextLimit: 500 });
  assert.equal(result.findings.length, 1);
  const f = result.findings[0];
  assert.equal(f.code, 'tokens-over-limit');
  assert.equal(f.severity, 'warning');
  assert.match(f.message, /≈1,000 tokens \(estimated/);
  assert.equal(`${f.line}:${f.column}`, '1:2'); // the "text" key
  // chat: content tokens + 3 per message + 3 for the reply (OpenAI's cookbook counter):
  // 'abcd' * 100 = 400 characters = 100 tokens per message; 2 messages -> 200 + 6 + 3 = 209
  const chat = JSON.stringify({
    messages: [
      { role: 'user', content: 'abcd'.repeat(100) },
      { role: 'assistant', content: 'abcd'.repeat(100) },
    ],
  });
  const chatResult = await validateText(chat, 'c.jsonl', { contextLimit: 200 });
  assert.match(chatResult.findings[0].message, /≈209 tokens/);
  assert.equal((await validateText(chat, 'c.jsonl', { contextLimit: 209 })).findings.length, 0);
});

test('exact token counts with a tokenizer.json: an error over the limit', async () => {
  const path = join(tmp, 'tokenizer.json');
  writeFileSync(path, JSON.stringify(TOKENIZER));
  // "hello world, foo" -> hello | world | , | foo = 4 tokens; + 3 (message) + 3 (reply) for chat
  const record = JSON.stringify({
    messages: [
      { role: 'user', content: 'hello world, foo' },
      { role: 'assistant', content: 'hello' },
    ],
  });
  const result = await validateText(record, 'x.jsonl', { tokenizerPath: path, contextLimit: 10 });
  assert.equal(result.findings.length, 1);
  assert.equal(result.findings[0].severity, 'error');
  // 4 + 1 content tokens + 2 * 3 + 3 = 14
  assert.match(result.findings[0].message, /record is 14 tokens, over the context limit of 10/);
  await assert.rejects(
    validateText(record, 'x.jsonl', { tokenizerPath: join(tmp, 'missing.json') }),
    (e: unknown) => e instanceof InputError && e.code === 'tokenizer' && /cannot load tokenizer .*missing.json/.test(e.message),
  );
});

test('length outliers: median + modified z-score on log length flags the one extreme record', async () => {
  // 40 records of 20-38 estimated tokens (80-152 characters) and one of 5,000 tokens: log-length
  // median ~3.3, MAD ~0.17, so the long record's modified z-score is about 20 (> 3.5); the rest stay under 3.5.
  const lines: string[] = [];
  for (let i = 0; i < 40; i++) lines.push(JSON.stringify({ text: `${i} `.padEnd(80 + (i % 10) * 8, 'x') }));
  lines.splice(17, 0, JSON.stringify({ text: 'y'.repeat(20_000) }));
  const result = await validateText(lines.join('\n'), 'o.jsonl', { contextLimit: 1e7 });
  assert.deepEqual(
    result.findings.map((f) => `${f.line} ${f.code}`),
    ['18 length-outlier'],
  );
  assert.match(result.findings[0].message, /unusually long record: ≈5000 tokens \(estimated\)/);
  assert.equal(result.findings[0].severity, 'info');
});

test('every code the validators emit is documented in docs/validate.md', () => {
  const docs = readFileSync('docs/validate.md', 'utf8');
  for (const code of FINDING_CODES) assert.match(docs, new RegExp(`\\| \`${code}\` \\|`), code);
  const sources = ['records', 'pipeline', 'jsonl', 'jsonDocument', 'csv', 'validate', 'findings']
    .map((f) => readFileSync(`src/core/data/${f}.ts`, 'utf8'))
    .join('\n');
  // codes appear as sink('code', ...), report(loc, 'code', ...), add(..., 'severity', 'code', ...) or code: 'code'
  // (Prettier may break a call's arguments over lines)
  const patterns = [/sink\(\s*'([a-z0-9-]+)'/g, /report\(\s*loc,\s*'([a-z0-9-]+)'/g, /'(?:error|warning|info)',\s*'([a-z0-9-]+)'/g, /code: '([a-z0-9-]+)'/g];
  const used = new Set(patterns.flatMap((re) => [...sources.matchAll(re)].map((m) => m[1])));
  assert.ok(used.size >= 20, `found ${used.size} codes in the sources`);
  for (const code of used) assert.ok((FINDING_CODES as readonly string[]).includes(code), `${code} is emitted but not in FINDING_CODES`);
});

test('a line over the line limit is reported and skipped without being buffered; the next lines keep their numbers', async () => {
  const { FindingCollector } = await import('../../../src/core/data/findings');
  const { JsonlValidator } = await import('../../../src/core/data/jsonl');
  const { RecordPipeline } = await import('../../../src/core/data/pipeline');
  for (const chunkSize of [7, 50, 1000]) {
    const collector = new FindingCollector('limit.jsonl', 100);
    const pipeline = new RecordPipeline(collector, 4096);
    const jsonl = new JsonlValidator(collector, pipeline, 100); // 100-byte line limit
    const text = Buffer.from(`{"text":"a"}\n{"text":"${'x'.repeat(300)}"}\n{"text": }\n{"text":"${'y'.repeat(300)}`);
    for (let at = 0; at < text.length; at += chunkSize) jsonl.push(text.subarray(at, at + chunkSize));
    jsonl.end();
    assert.deepEqual(
      collector.finish().map((f) => `${f.line}:${f.column} ${f.code}`),
      ['2:1 line-too-long', '3:10 json-malformed', '4:1 line-too-long'],
      `chunks of ${chunkSize}`,
    );
    assert.equal(jsonl.lines, 4);
  }
});
