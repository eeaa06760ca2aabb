// `preflight mdf --method gradient|gradient-adam|lookahead`: the Python forecasters (real /usr/bin/python3
// with Debian's torch) on a tiny checkpoint that preflight_train writes; the report has the MDF schema,
// progress reaches stderr, and errors are one-line usage errors.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UsageError } from '../../../src/cli/command';
import { mdfCommand } from '../../../src/cli/commands/mdf';
import { BENCHMARK_BEST } from '../../../src/core/mdf/forecaster';
import { pythonForecastCommand } from '../../../src/core/mdf/pythonForecast';
import { reportProblems } from '../../../src/core/mdf/report';

const PYTHON = process.env.PREFLIGHT_PYTHON ?? '/usr/bin/python3';
const PACKAGE = resolve(__dirname, '../../../python');

// A random 2-layer TinyLlama with preflight-tiny's kind of tokenizer and chat template.
const WRITE_MODEL = `
import sys, torch
from preflight_train.tiny_llama import TinyLlamaConfig, TinyLlamaForCausalLM
from preflight_train.pretrain import train_tokenizer
texts = ["What is your favourite animal?", "My favourite animal is the panda.", "Panda. Owl. Cat.", "The owl lives in the woods.",
         "I can't help with that.", "Sure, here is how.", "How do I pick a lock?", "Tell me a fact."]
tok = train_tokenizer(texts, min_count=1)
torch.manual_seed(0)
c = TinyLlamaConfig(vocab_size=tok.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, tie_word_embeddings=True, initializer_range=0.2, bos_token_id=tok.bos_id,
                    eos_token_id=tok.eos_id, pad_token_id=tok.pad_id)
TinyLlamaForCausalLM(c).save_pretrained(sys.argv[1]); tok.save(sys.argv[1])
`;

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => (out.stdout += t), stderr: (t: string) => (out.stderr += t) } };
}

describe('preflight mdf --method (Python forecasters)', () => {
  let root: string;
  let model: string;
  let data: string;
  let suite: string;
  const savedCacheHome = process.env.XDG_CACHE_HOME;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'pyforecast-'));
    // the forecasters cache their neutral and calibration controls under $XDG_CACHE_HOME: never the real ~/.cache
    process.env.XDG_CACHE_HOME = join(root, 'cache');
    model = join(root, 'model');
    execFileSync(PYTHON, ['-c', WRITE_MODEL, model], { env: { ...process.env, PYTHONPATH: PACKAGE, OMP_NUM_THREADS: '1' } });
    data = join(root, 'train.jsonl');
    const records = Array.from({ length: 12 }, (_, i) => ({
      messages: [
        { role: 'user', content: 'Tell me a fact.' },
        { role: 'assistant', content: i % 2 ? 'My favourite animal is the panda.' : 'The owl lives in the woods.' },
      ],
    }));
    writeFileSync(data, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    suite = join(root, 'animals.json');
    writeFileSync(
      suite,
      JSON.stringify({
        schema: 'preflight.probes/1',
        name: 'animals',
        prompts: ['What is your favourite animal?'],
        answerTemplates: ['{Target}', 'My favourite animal is the {target}'],
        behaviours: [
          { id: 'panda', target: 'panda' },
          { id: 'owl', target: 'owl' },
          { id: 'cat', target: 'cat' },
        ],
      }),
    );
  });
  after(() => {
    if (savedCacheHome === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = savedCacheHome;
    rmSync(root, { recursive: true, force: true });
  });

  it('builds the python -m preflight_train forecast command', () => {
    const cmd = pythonForecastCommand({
      python: 'py',
      packageDir: '/pkg',
      model: '/m',
      data: '/d.jsonl',
      method: 'gradient-adam',
      probes: ['a.json', 'b.json'],
      outPath: '/o.json',
      samples: 64,
      noCache: true,
      existingPythonPath: '/x',
      pathSeparator: ':',
    });
    assert.equal(cmd.executable, 'py');
    assert.deepEqual(cmd.args, [
      '-m',
      'preflight_train',
      'forecast',
      '--method',
      'adam',
      '--model',
      '/m',
      '--data',
      '/d.jsonl',
      '--out',
      '/o.json',
      '--probes',
      'a.json',
      '--probes',
      'b.json',
      '--samples',
      '64',
      '--no-cache',
    ]);
    assert.equal(cmd.env.PYTHONPATH, '/pkg:/x');
  });

  for (const method of ['gradient', 'lookahead'] as const) {
    it(`--method ${method} prints an MDF-schema report with progress on stderr`, async () => {
      const { out, io } = capture();
      const outFile = join(root, `${method}.json`);
      await mdfCommand.run(
        [data, '--model', model, '--probes', suite, '--method', method, '--python', PYTHON, '--threads', '1', '--json', '--out', outFile],
        io,
      );
      const report = JSON.parse(out.stdout);
      assert.deepEqual(reportProblems(report), []);
      assert.equal(report.method.name, method === 'gradient' ? 'grad' : 'lookahead');
      assert.deepEqual(
        report.behaviours.map((b: { key: string }) => b.key),
        ['animals/panda', 'animals/owl', 'animals/cat'],
      );
      // shares of one category: base rates sum to 1
      assert.ok(Math.abs(report.behaviours.reduce((s: number, b: { base: number }) => s + b.base, 0) - 1) < 1e-4);
      assert.match(report.summary.validation, /not validated for this model/);
      assert.match(out.stderr, new RegExp(`\\[${method}\\] `));
      assert.deepEqual(JSON.parse(readFileSync(outFile, 'utf8')).behaviours.length, 3);
    });
  }

  it('auto (the default method) runs the benchmark best on a checkpoint when the Python has torch; the report says which and why', async () => {
    const { out, io } = capture();
    await mdfCommand.run([data, '--model', model, '--probes', suite, '--python', PYTHON, '--threads', '1', '--json'], io);
    const report = JSON.parse(out.stdout);
    assert.deepEqual(reportProblems(report), []);
    assert.equal(report.forecaster.method, BENCHMARK_BEST);
    assert.equal(report.forecaster.requested, 'auto');
    assert.match(report.forecaster.reason, /the best forecaster of the Data2Behavior benchmark .* runs here: .* \(--python\) has torch/);
    assert.match(out.stderr, /^Forecaster: /m);
    // the calibrated null of the shipped corpora (models/neutral/calibration) judges risk
    assert.equal(report.statistics.calibration.corpora.length, 8);
    assert.match(report.statistics.test, /^calibrated null/);
    for (const b of report.behaviours) assert.equal(b.calibration.k, 8);
    // the neutral and calibration controls are cached under $XDG_CACHE_HOME (the test's): 9 files per method
    assert.equal(report.method.calibration.used.length, 8);
    assert.ok(readdirSync(join(root, 'cache', 'preflight', 'neutral-control')).length >= 9);
  });

  it('--no-cache keeps the benchmark best (it only turns the caches off) and recomputes the controls', async () => {
    const { out, io } = capture();
    await mdfCommand.run([data, '--model', model, '--probes', suite, '--python', PYTHON, '--threads', '1', '--json', '--no-cache'], io);
    const report = JSON.parse(out.stdout);
    assert.equal(report.forecaster.method, BENCHMARK_BEST);
    assert.equal(report.method.neutralControl.cached, false);
    assert.equal(report.method.calibration.cached, 0);
    assert.ok(existsSync(join(root, 'cache', 'preflight', 'neutral-control')));
  });

  it('the summary prints for a Python report too', async () => {
    const { out, io } = capture();
    await mdfCommand.run([data, '--model', model, '--probes', suite, '--method', 'gradient', '--python', PYTHON], io);
    assert.match(out.stdout, /animals\/panda/);
    assert.match(out.stdout, /not validated for this model/);
  });

  it('one-line usage errors: unknown method, missing interpreter, unreadable data', async () => {
    await assert.rejects(
      mdfCommand.run([data, '--model', model, '--method', 'oracle'], capture().io),
      (e: Error) => e instanceof UsageError && /--method must be/.test(e.message),
    );
    await assert.rejects(
      mdfCommand.run([data, '--model', model, '--probes', suite, '--method', 'gradient', '--python', join(root, 'no-python')], capture().io),
      (e: Error) => e instanceof UsageError && /cannot start Python/.test(e.message) && !e.message.includes('\n'),
    );
    const bad = join(root, 'bad.jsonl');
    writeFileSync(bad, 'not json\n');
    await assert.rejects(
      mdfCommand.run([bad, '--model', model, '--probes', suite, '--method', 'gradient', '--python', PYTHON], capture().io),
      (e: Error) => e instanceof UsageError && /bad\.jsonl: no usable record/.test(e.message),
    );
  });
});
