import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NOT_VALIDATED, benchmarkModelHash, benchmarkResultsPath, validationNote } from '../../../src/core/mdf/benchmarkNote';
import { bundledModelDir } from '../../../src/core/model/modelSource';

describe('benchmark note in reports', () => {
  const results = benchmarkResultsPath();
  const shipped = bundledModelDir();

  it('the committed benchmark was measured on the shipped preflight-tiny (same identity hash as the Python side)', () => {
    assert.ok(results, 'bench/data2behavior/results.json is committed');
    const recorded = (JSON.parse(readFileSync(results!, 'utf8')) as { model_sha256_16: string }).model_sha256_16;
    assert.equal(benchmarkModelHash(shipped), recorded);
  });

  it("cites MDF's measured figures for that model, and says 'not validated' for any other", () => {
    const note = validationNote('mdf', shipped);
    assert.match(note, /^mdf: Spearman rho -?\d\.\d\d \[-?\d\.\d\d, -?\d\.\d\d\], sign accuracy \d+% against real fine-tunes of this model/);
    const other = mkdtempSync(join(tmpdir(), 'pf-note-'));
    try {
      for (const name of ['config.json', 'tokenizer.json']) writeFileSync(join(other, name), readFileSync(join(shipped, name)));
      writeFileSync(join(other, 'model.safetensors'), Buffer.from('other weights'));
      assert.equal(validationNote('mdf', other), NOT_VALIDATED);
      assert.equal(validationNote('mdf', undefined), NOT_VALIDATED);
      assert.equal(validationNote('no-such-row', shipped), NOT_VALIDATED);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
