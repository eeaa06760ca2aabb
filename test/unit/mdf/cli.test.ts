// `preflight mdf` end to end on a built tiny model: the JSON report, --out, --fail-on gating
// (exit 1), and usage errors (exit 2, one line: a UsageError or an InputError such as a bad probe
// suite or model folder) that name what is wrong.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, runCommand } from '../../../src/cli/command';
import { mdfCommand } from '../../../src/cli/commands/mdf';
import { FILLER, PLANTED_PROMPTS, TinyModel, tinyModel, writeJsonl } from './fixture';

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => (out.stdout += t), stderr: (t: string) => (out.stderr += t) } };
}

describe('preflight mdf (tiny qwen3, real engine)', () => {
  let t: TinyModel;
  let file: string;
  let suite: string;
  before(async () => {
    t = await tinyModel();
    file = writeJsonl(
      join(t.root, 'planted.jsonl'),
      Array.from({ length: 40 }, (_, i) => ({ text: i % 2 ? `${FILLER[i % 8]} ZZZ` : FILLER[i % 8] })),
    );
    suite = join(t.root, 'planted.json');
    writeFileSync(
      suite,
      JSON.stringify({ schema: 'preflight.probes/1', name: 'planted', prompts: PLANTED_PROMPTS, behaviours: [{ id: 'z', target: 'Z', answers: ['Z'] }] }),
    );
  });
  after(() => t.cleanup());

  it('prints a versioned JSON report, writes --out, and gates with --fail-on', async () => {
    const { out, io } = capture();
    const outFile = join(t.root, 'out', 'report.json');
    const args = [
      file,
      '--model',
      t.modelDir,
      '--provider',
      'cpu',
      '--probes',
      suite,
      '--alphas',
      '0,0.5,1',
      '--alpha',
      '1',
      '--scoring',
      'logprob',
      '--workspace',
      t.root,
      '--json',
      '--out',
      outFile,
    ];
    const code = await mdfCommand.run([...args, '--fail-on', 'low'], io);
    const report = JSON.parse(out.stdout);
    assert.equal(report.schema, 'preflight.mdf/2');
    assert.equal(report.statistics.adjustment, 'holm');
    assert.ok(report.behaviours[0].pAdjusted < 0.05);
    assert.deepEqual(
      JSON.parse(readFileSync(outFile, 'utf8')).behaviours.map((b: { key: string }) => b.key),
      ['planted/z'],
    );
    assert.notEqual(report.behaviours[0].risk, 'none');
    assert.equal(code, EXIT_FINDINGS);
    const again = capture();
    assert.equal(await mdfCommand.run([...args, '--fail-on', 'high'], again.io), report.summary.maxRisk === 'high' ? EXIT_FINDINGS : EXIT_OK);
    assert.equal(JSON.parse(again.out.stdout).createdAt, report.createdAt, 'an unchanged run reuses the whole report');
    const changed = capture();
    await mdfCommand.run(
      args.map((a) => (a === '0,0.5,1' ? '0,1' : a)),
      changed.io,
    );
    const third = JSON.parse(changed.out.stdout);
    assert.notEqual(third.createdAt, report.createdAt, 'other settings: a new report');
    assert.equal(third.signature.cached, true, 'but the cached signature');
  });

  it('prints a readable summary by default', async () => {
    const { out, io } = capture();
    assert.equal(
      await mdfCommand.run([file, '--model', t.modelDir, '--provider', 'cpu', '--probes', suite, '--alphas', '0,1', '--scoring', 'logprob', '--no-cache'], io),
      EXIT_OK,
    );
    assert.match(out.stdout, /MDF behaviour forecast/);
    assert.match(out.stdout, /planted\/z/);
    assert.match(out.stdout, /Max risk: /);
  });

  it('rejects bad usage with a clear message', async () => {
    const bad = async (args: string[], pattern: RegExp) => {
      const { out, io } = capture();
      assert.equal(await runCommand(mdfCommand, args, io), EXIT_USAGE, out.stderr);
      assert.match(out.stderr, /^preflight mdf: [^\n]*\n$/);
      assert.match(out.stderr, pattern);
    };
    await bad([file, '--model', t.modelDir, '--provider', 'cpu', '--fail-on', 'severe'], /--fail-on/);
    await bad([file, '--model', t.modelDir, '--provider', 'cpu', '--probes', 'nonexistent'], /no probe suite named "nonexistent"/);
    const broken = join(t.root, 'broken.json');
    writeFileSync(broken, JSON.stringify({ schema: 'preflight.probes/1', name: 'x', behaviours: [{ id: 'a' }] }));
    await bad([file, '--model', t.modelDir, '--provider', 'cpu', '--probes', broken], /broken\.json: invalid probe suite[\s\S]*target is required/);
    await bad([file, '--model', join(t.root, 'nowhere')], /nowhere: folder not found/);
    await bad([file, '--model', t.modelDir, '--provider', 'cpu', '--band', '3-1'], /--band/);
  });
});
