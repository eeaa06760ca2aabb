// The default-forecaster rule (src/core/mdf/forecaster.ts) with real interpreters: the benchmark's
// best forecaster runs when it can (a trusted workspace, a checkpoint, a Python that imports torch),
// else MDF, and the reason names the condition that decided. The constant it ranks by is held to
// the committed benchmark results.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { BENCHMARK_BEST, ChoiceInputs, checkPython, chooseForecaster, pythonPackageDir } from '../../../src/core/mdf/forecaster';
import { FORECAST_METHODS } from '../../../src/core/mdf/pythonForecast';

const ROOT = resolve(__dirname, '../../..');
const PYTHON = process.env.PREFLIGHT_PYTHON ?? '/usr/bin/python3';
const PACKAGE = pythonPackageDir(ROOT)!;

describe('the default forecaster', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'forecaster-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const inputs = (o: Partial<ChoiceInputs> = {}): ChoiceInputs => ({
    requested: 'auto',
    trusted: true,
    modelKind: 'checkpoint',
    python: { path: PYTHON, source: 'test' },
    packageDir: PACKAGE,
    ...o,
  });

  it('BENCHMARK_BEST is the offered forecaster with the highest Spearman rho in bench/data2behavior/results.json', () => {
    const results = JSON.parse(readFileSync(join(ROOT, 'bench', 'data2behavior', 'results.json'), 'utf8')) as {
      forecasters: { name: string; spearman: number | null }[];
    };
    const offered = results.forecasters.filter((f) => (FORECAST_METHODS as readonly string[]).includes(f.name) && typeof f.spearman === 'number');
    assert.equal(offered.length, FORECAST_METHODS.length, 'every offered method has a row');
    const best = offered.reduce((a, b) => (b.spearman! > a.spearman! ? b : a));
    assert.equal(BENCHMARK_BEST, best.name, `the benchmark now ranks ${best.name} first: update BENCHMARK_BEST and docs/data2behavior.md`);
  });

  it('auto runs the benchmark best where Python with torch can run it, and says so', async () => {
    const choice = await chooseForecaster(inputs());
    assert.equal(choice.method, BENCHMARK_BEST);
    assert.equal(choice.requested, 'auto');
    assert.match(choice.reason, /best forecaster of the Data2Behavior benchmark .* runs here: .*python3 \(test\) has torch \d/);
  });

  it('auto falls back to MDF, naming why: untrusted, built model, MDF-only options, no Python, no torch', async () => {
    const cases: [Partial<ChoiceInputs>, RegExp][] = [
      [{ trusted: false }, /not trusted, so no Python runs/],
      [{ modelKind: 'built' }, /built ONNX folder/],
      [{ mdfOptions: ['scoring', 'alphas'] }, /MDF-only options were given \(--scoring, --alphas\)/],
      [{ packageDir: null }, /python\/ folder was not found/],
      [
        { python: { path: join(tmp, 'no-python'), source: 'setting preflight.python.path' } },
        /no-python \(setting preflight.python.path\) cannot run it: cannot start it/,
      ],
    ];
    for (const [o, reason] of cases) {
      const choice = await chooseForecaster(inputs(o));
      assert.equal(choice.method, 'mdf', JSON.stringify(o));
      assert.match(choice.reason, reason);
    }
  });

  it('an interpreter without torch: MDF, and the reason names the missing module', async (t) => {
    // the first python3 on PATH (this machine: one without torch) if it lacks torch, else skip
    const bare = spawnSync('python3', ['-c', 'import torch'], { encoding: 'utf8' });
    if (bare.error || bare.status === 0) return t.skip('python3 on PATH has torch (or none exists)');
    const choice = await chooseForecaster(inputs({ python: { path: 'python3', source: 'PATH' } }));
    assert.equal(choice.method, 'mdf');
    assert.match(choice.reason, /python3 \(PATH\) cannot run it: it has no torch/);
  });

  it("the check loads the checkpoint's tokenizer as the forecasters do: the bundled model's runs, a Hugging Face one needs transformers", async (t) => {
    const bundled = await chooseForecaster(inputs({ modelDir: join(ROOT, 'models', 'preflight-tiny') }));
    assert.equal(bundled.method, BENCHMARK_BEST, bundled.reason);
    const hasTransformers = spawnSync(PYTHON, ['-c', 'import transformers'], { encoding: 'utf8' }).status === 0;
    if (hasTransformers) return t.skip('this Python has transformers: any tokenizer loads');
    // a tokenizer.json that is not Preflight's own word tokenizer (a BPE model, as Llama/Qwen ship)
    const hf = join(tmp, 'hf-checkpoint');
    mkdirSync(hf, { recursive: true });
    writeFileSync(join(hf, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab: {}, merges: [] } }));
    const choice = await chooseForecaster(inputs({ modelDir: hf }));
    assert.equal(choice.method, 'mdf');
    assert.match(choice.reason, /cannot run it: it has no transformers/);
  });

  it('an explicit method runs as asked; a Python one is refused in an untrusted workspace', async () => {
    for (const m of FORECAST_METHODS) assert.equal((await chooseForecaster(inputs({ requested: m, modelKind: 'built' }))).method, m);
    await assert.rejects(chooseForecaster(inputs({ requested: 'lookahead', trusted: false })), /runs Python, which is disabled in an untrusted workspace/);
    assert.equal((await chooseForecaster(inputs({ requested: 'mdf', trusted: false }))).method, 'mdf');
  });

  it("the check imports nothing from the user's folder", async () => {
    // a torch.py in the current folder would shadow torch if Python ran there
    const marker = join(tmp, 'ran');
    writeFileSync(join(tmp, 'torch.py'), `open(${JSON.stringify(marker)}, 'w').write('x')\n`);
    const cwd = process.cwd();
    process.chdir(tmp);
    try {
      // another spelling of the interpreter: a fresh check, not the memoised answer
      const check = await checkPython(`${PYTHON}`.replace(/python3$/, '../bin/python3'), PACKAGE);
      assert.equal(check.ok, true, check.detail);
    } finally {
      process.chdir(cwd);
    }
    assert.equal(existsSync(marker), false);
  });
});
