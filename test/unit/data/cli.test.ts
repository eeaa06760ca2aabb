// `preflight validate`: output formats, exit codes (0 clean, 1 errors, 2 usage/unreadable) and
// directory expansion, run in-process through the CliCommand interface.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseValidateArgs, validateCommand } from '../../../src/cli/commands/validate';
import { UsageError } from '../../../src/cli/command';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await validateCommand.run(args, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

test('text output: compiler-style lines, a summary, exit 1 when there are errors', async () => {
  const { code, out } = await run(['test/fixtures/data/malformed.jsonl']);
  assert.equal(code, 1);
  const lines = out.trim().split('\n');
  assert.equal(lines[0], "test/fixtures/data/malformed.jsonl:2:15: error json-malformed: malformed JSON: unexpected '}': a value is missing (trailing comma?)");
  assert.equal(lines[lines.length - 1], '1 file, 1 record: 8 errors, 0 warnings, 0 infos');
  const many = await run(['examples/chat-defects.jsonl']);
  assert.match(many.out, /\n {2}by code: .*turn-order 1/);
});

test('exit 0 with warnings only; the clean example has no findings', async () => {
  assert.equal((await run(['test/fixtures/data/duplicates.jsonl'])).code, 0);
  const clean = await run(['examples/chat-clean.jsonl']);
  assert.equal(clean.code, 0);
  assert.match(clean.out, /examples\/chat-clean.jsonl: 12 records \(chat\): no findings/);
});

test('--json: {version, findings, summaries} with the findings contract', async () => {
  const { code, out } = await run(['--json', 'test/fixtures/data/duplicates.jsonl', '--max-findings', '2']);
  assert.equal(code, 0);
  const report = JSON.parse(out);
  assert.equal(report.version, 1);
  assert.deepEqual(Object.keys(report).sort(), ['findings', 'summaries', 'version']);
  assert.equal(report.findings.length, 3); // 2 kept + findings-truncated
  assert.deepEqual(Object.keys(report.findings[0]).sort(), ['code', 'column', 'endColumn', 'endLine', 'file', 'fix', 'line', 'message', 'severity']);
  assert.deepEqual(report.summaries[0], {
    file: 'test/fixtures/data/duplicates.jsonl',
    bytes: report.summaries[0].bytes,
    records: 6,
    schema: 'prompt-completion',
    errors: 0,
    warnings: 1,
    infos: 3,
    truncated: true,
    byCode: { 'duplicate-exact': 1, 'duplicate-near': 3 },
  });
});

test('directories: data files within, recursively; config .json files skipped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'preflight-cli-'));
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'a.jsonl'), '{"text":"a"}\n');
  writeFileSync(join(dir, 'sub', 'b.csv'), 'x,y\n1,2\n');
  writeFileSync(join(dir, 'sub', 'records.json'), '[{"text":"b"}]');
  writeFileSync(join(dir, 'config.json'), '{"lr": 0.001,\n "epochs": 3}\n');
  writeFileSync(join(dir, 'notes.txt'), 'not data');
  const { code, out } = await run([dir, '--json']);
  assert.equal(code, 0);
  const files = JSON.parse(out).summaries.map((s: { file: string }) => s.file.slice(dir.length + 1));
  assert.deepEqual(files, ['a.jsonl', 'sub/b.csv', 'sub/records.json']);
});

test('bad usage and unreadable input: UsageError (the CLI prints it and exits 2)', async () => {
  await assert.rejects(run([]), UsageError);
  await assert.rejects(run(['--max-findings', 'x', 'a.jsonl']), /positive integer/);
  await assert.rejects(run(['--frobnicate', 'a.jsonl']), /unknown option/);
  await assert.rejects(run(['no/such/file.jsonl']), /cannot read 'no\/such\/file.jsonl': no such file/);
  await assert.rejects(run(['--label-columns', 'x', 'a.csv']), /needs --levels/);
  await assert.rejects(run(['--workers', '0', 'a.jsonl']), /--workers must be a positive integer/);
  await assert.rejects(run(['examples/chat-clean.jsonl', '--tokenizer', 'no/such/tokenizer.json']), UsageError);
});

test('--workers is parsed (large JSON Lines files only use it; small ones get one pass)', async () => {
  assert.equal(parseValidateArgs(['--workers', '3', 'a.jsonl']).workers, 3);
  assert.equal(parseValidateArgs(['a.jsonl']).workers, undefined);
  const one = await run(['--json', 'examples/chat-defects.jsonl']);
  assert.deepEqual(await run(['--json', '--workers=2', 'examples/chat-defects.jsonl']), one);
});

test('--levels and --label-columns reach the CSV checks', async () => {
  const { code, out } = await run([
    'examples/annotations.csv',
    '--levels',
    'remember,understand,apply,analyze,evaluate,create',
    '--label-columns',
    'human_label,llm_label',
  ]);
  assert.equal(code, 1);
  assert.match(out, /annotations.csv:9:58: error label-off-scale: "Apply" in "llm_label"/);
});
