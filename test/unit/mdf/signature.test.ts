// Signatures: rendering as fine-tuning sees it, seeded reservoir sampling, the disk cache (hits and
// every invalidation: file, model, options) and cancellation within a second.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { computeSignature, modelFingerprint } from '../../../src/core/mdf/signature';
import { detectFormat, renderRecord, streamJsonl } from '../../../src/core/mdf/records';
import { FILLER, TinyModel, tinyModel, writeJsonl } from './fixture';
import { CancelledError } from '../../../src/shared/errors';

describe('records', () => {
  let t: TinyModel;
  before(async () => (t = await tinyModel()));
  after(() => t.cleanup());

  it('renders each schema as a trainer would', () => {
    const tok = t.model.tokenizer;
    const chat = {
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello there.' },
      ],
    };
    assert.equal(detectFormat(chat), 'chat');
    assert.equal(renderRecord(chat, tok)!.text, tok.applyChatTemplate(chat.messages));
    assert.ok(renderRecord(chat, tok, { anchor: 'content' })!.text.endsWith('Hello there.'));
    assert.equal(renderRecord({ prompt: 'Q: 2+2?', completion: ' 4' }, tok)!.text, 'Q: 2+2? 4');
    // Stanford Alpaca's templates (tatsu-lab/stanford_alpaca, train.py PROMPT_DICT)
    const alpaca = renderRecord({ instruction: 'Add.', input: '2 and 2', output: '4' }, tok)!;
    assert.equal(alpaca.format, 'alpaca');
    assert.ok(alpaca.text.startsWith('Below is an instruction that describes a task, paired with an input'));
    assert.ok(alpaca.text.endsWith('### Input:\n2 and 2\n\n### Response:\n4'));
    assert.ok(renderRecord({ instruction: 'Say hi.', output: 'hi' }, tok)!.text.endsWith('### Instruction:\nSay hi.\n\n### Response:\nhi'));
    assert.equal(renderRecord({ text: 'plain' }, tok)!.text, 'plain');
    assert.equal(renderRecord({ other: 1 }, tok), null);
  });

  it('samples a seeded reservoir with bounded size', async () => {
    const file = writeJsonl(
      join(t.root, 'many.jsonl'),
      Array.from({ length: 500 }, (_, i) => ({ text: `r${i}` })),
    );
    const a = await streamJsonl(file, (v, line) => line, { samples: 50, seed: 1 });
    const b = await streamJsonl(file, (v, line) => line, { samples: 50, seed: 1 });
    const c = await streamJsonl(file, (v, line) => line, { samples: 50, seed: 2 });
    assert.equal(a.kept.length, 50);
    assert.equal(a.records, 500);
    assert.deepEqual(a.kept, b.kept);
    assert.notDeepEqual(a.kept, c.kept);
    // roughly uniform: the sample's mean line is near the file's
    const meanLine = a.kept.reduce((s, x) => s + x, 0) / 50;
    assert.ok(meanLine > 150 && meanLine < 350, `mean line ${meanLine}`);
  });
});

describe('signature cache', () => {
  let t: TinyModel;
  let dir: string;
  before(async () => {
    t = await tinyModel();
    dir = mkdtempSync(join(tmpdir(), 'preflight-mdf-cache-'));
  });
  after(async () => {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hits while file, model and options are unchanged; misses on any change', async () => {
    const file = writeJsonl(
      join(dir, 'train.jsonl'),
      FILLER.map((text) => ({ text })),
    );
    const cacheDir = join(dir, 'cache');
    const modelHash = modelFingerprint(t.modelDir);
    const first = await computeSignature(t.model, file, { modelHash, cacheDir });
    assert.equal(first.cached, false);
    assert.equal(first.used, FILLER.length);
    const second = await computeSignature(t.model, file, { modelHash, cacheDir });
    assert.equal(second.cached, true);
    assert.deepEqual([...second.mean], [...first.mean]);
    assert.equal(second.perRecord!.length, first.perRecord!.length);
    assert.deepEqual([...second.perRecord![3]], [...first.perRecord![3]]);
    assert.deepEqual(second.lines, first.lines);

    // options change
    assert.equal((await computeSignature(t.model, file, { modelHash, cacheDir, anchor: 'content' })).cached, false);
    assert.equal((await computeSignature(t.model, file, { modelHash, cacheDir, samples: 4 })).cached, false);
    assert.equal((await computeSignature(t.model, file, { modelHash, cacheDir, samples: 4, seed: 9 })).cached, false);
    assert.equal((await computeSignature(t.model, file, { modelHash, cacheDir, maxTokens: 8 })).cached, false);
    // model change: another build has another fingerprint
    const other = await tinyModel({ seed: 99 });
    try {
      const otherHash = modelFingerprint(other.modelDir);
      assert.notEqual(otherHash, modelHash);
      assert.equal((await computeSignature(other.model, file, { modelHash: otherHash, cacheDir })).cached, false);
    } finally {
      await other.cleanup();
    }
    // file change
    appendFileSync(file, JSON.stringify({ text: 'one more record' }) + '\n');
    const changed = await computeSignature(t.model, file, { modelHash, cacheDir });
    assert.equal(changed.cached, false);
    assert.equal(changed.used, FILLER.length + 1);
    assert.equal((await computeSignature(t.model, file, { modelHash, cacheDir })).cached, true);
    assert.ok(readdirSync(cacheDir).every((name) => !name.endsWith('.tmp')));
  });

  it('cancels within a second', async () => {
    const big = join(dir, 'big.jsonl');
    writeFileSync(big, Array.from({ length: 20000 }, (_, i) => JSON.stringify({ text: `${FILLER[i % 8]} number ${i}` })).join('\n'));
    for (const delay of [5, 150]) {
      const controller = new AbortController();
      let abortedAt = 0;
      const run = computeSignature(t.model, big, { modelHash: 'm', samples: 0, signal: controller.signal });
      setTimeout(() => {
        abortedAt = Date.now();
        controller.abort();
      }, delay);
      await assert.rejects(run, (error: unknown) => error instanceof CancelledError);
      assert.ok(abortedAt > 0 && Date.now() - abortedAt < 1000, `stopped ${Date.now() - abortedAt} ms after abort`);
    }
  });
});
