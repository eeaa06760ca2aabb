// The conventions every `preflight` command shares (src/cli/args.ts, runCommand in
// src/cli/command.ts): --help per command, an unknown flag is one line and exit 2, numbers are
// refused with one sentence, a negative number may follow its flag. Run in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choiceFlag, intFlag, listFlag, numberFlag, parseFlags, seedFlag } from '../../../src/cli/args';
import { CliCommand, EXIT_OK, EXIT_USAGE, UsageError, runCommand, wantsHelp } from '../../../src/cli/command';
import { commands } from '../../../src/cli/commands';

async function run(command: CliCommand, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCommand(command, args, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

function byName(name: string): CliCommand {
  const command = commands.find((c) => c.name === name);
  assert.ok(command, name);
  return command;
}

test('every command answers --help and -h with its usage, exit 0, before parsing anything', async () => {
  assert.equal(commands.length, 8);
  for (const command of commands) {
    for (const flag of ['--help', '-h']) {
      const r = await run(command, ['--frobnicate', flag, 'no/such/file']);
      assert.equal(r.code, EXIT_OK, `${command.name} ${flag}: ${r.err}`);
      assert.equal(r.out, `${command.usage}\n`);
      assert.equal(r.err, '');
    }
  }
  // after a lone `--` a --help is an argument, not the flag
  assert.equal(wantsHelp(['--', '--help']), false);
  assert.equal(wantsHelp(['x', '-h']), true);
});

test('every command refuses an unknown flag on one line with exit 2', async () => {
  for (const command of commands) {
    const r = await run(command, ['--frobnicate', 'some-file']);
    assert.equal(r.code, EXIT_USAGE, command.name);
    assert.equal(r.out, '');
    assert.equal(r.err, `preflight ${command.name}: unknown option '--frobnicate' (see --help)\n`);
  }
});

test('a value flag without its value says so on one line', async () => {
  for (const [name, flag] of [
    ['validate', '--max-findings'],
    ['annotate', '--human'],
    ['mdf', '--model'],
    ['build-model', '--out'],
    ['generate', '--prompt'],
    ['inspect', '--text'],
    ['demo', '--out'],
    ['annotate-llm', '--text-column'],
  ]) {
    const r = await run(byName(name), [flag]);
    assert.equal(r.code, EXIT_USAGE, name);
    assert.equal(r.err, `preflight ${name}: ${flag} needs a value (write ${flag}=VALUE for a value that starts with '-')\n`);
  }
});

test('numbers are refused with the same sentence in every command, before any file is read', async () => {
  const cases: Array<[string, string[], string]> = [
    ['validate', ['--max-findings', '1.5'], "--max-findings must be a positive integer (got '1.5')"],
    ['validate', ['--workers', '0'], "--workers must be a positive integer (got '0')"],
    ['annotate', ['--bootstrap', 'many'], "--bootstrap must be an integer from 0 to 1000000 (got 'many')"],
    ['annotate', ['--confidence', '1'], "--confidence must be a number > 0 and < 1 (got '1')"],
    ['annotate', ['--seed', '1e10'], "--seed must be an integer from -2147483648 to 4294967295 (got '1e10')"],
    ['annotate-llm', ['--text-column', 't', '--seed', '0.5'], "--seed must be an integer from -2147483648 to 4294967295 (got '0.5')"],
    ['annotate-llm', ['--text-column', 't', '--bootstrap', '-1'], "--bootstrap must be an integer from 0 to 1000000 (got '-1')"],
    ['mdf', ['--seed', 'x'], "--seed must be an integer from -2147483648 to 4294967295 (got 'x')"],
    ['mdf', ['--alpha', '2000'], "--alpha must be a number from 0 to 1000 (got '2000')"],
    ['mdf', ['--threads', '-2'], "--threads must be an integer from 0 to 1024 (got '-2')"],
    ['generate', ['--prompt', 'p', '--seed', ''], "--seed must be an integer from -2147483648 to 4294967295 (got '')"],
    ['generate', ['--prompt', 'p', '--top-p', '0'], "--top-p must be a number > 0 and <= 1 (got '0')"],
    ['inspect', ['--text', 't', '--threads', 'all'], "--threads must be an integer from 0 to 1024 (got 'all')"],
    ['demo', ['--threads', '1.5'], "--threads must be an integer from 0 to 1024 (got '1.5')"],
  ];
  for (const [name, args, message] of cases) {
    // the file does not exist: the number is checked first
    const positional = ['validate', 'annotate', 'annotate-llm', 'mdf'].includes(name) ? ['no/such/file'] : [];
    const r = await run(byName(name), [...positional, ...args]);
    assert.equal(r.code, EXIT_USAGE, `${name} ${args.join(' ')}: ${r.err}`);
    assert.equal(r.err, `preflight ${name}: ${message}\n`);
  }
});

test('choices name every choice', async () => {
  const r = await run(byName('mdf'), ['f.jsonl', '--scoring', 'vibes']);
  assert.equal(r.err, "preflight mdf: --scoring must be both, logprob or generation (got 'vibes')\n");
  const d = await run(byName('demo'), ['--scoring', 'vibes']);
  assert.equal(d.err, "preflight demo: --scoring must be both, logprob or generation (got 'vibes')\n");
  const b = await run(byName('build-model'), ['dir', '--out', 'o', '--dtype', 'int4']);
  assert.match(b.err, /^preflight build-model: --dtype must be fp32, fp16( or|,) [^\n]*\(got 'int4'\)\n$/);
  const a = await run(byName('mdf'), ['f.jsonl', '--anchor', 'middle']);
  assert.equal(a.err, "preflight mdf: --anchor must be final or content (got 'middle')\n");
});

test('parseFlags: --flag V, --flag=V, a negative number after its flag, repeatable flags, stray arguments', () => {
  const flags = { seed: { type: 'string' }, alpha: { type: 'string' }, human: { type: 'string', multiple: true }, json: { type: 'boolean' } } as const;
  const { values, positionals } = parseFlags(['a.csv', '--seed', '-3', '--alpha=-0.5', '--human', 'h1', '--human=h2', '--json'], flags, { positionals: true });
  assert.deepEqual({ ...values }, { seed: '-3', alpha: '-0.5', human: ['h1', 'h2'], json: true });
  assert.deepEqual(positionals, ['a.csv']);
  assert.equal(seedFlag(values.seed, 0), -3);
  // a word starting with '-' is still an option, not a value
  assert.throws(
    () => parseFlags(['--seed', '--json'], flags),
    (e: Error) => e instanceof UsageError && e.message === "--seed needs a value (write --seed=VALUE for a value that starts with '-')",
  );
  assert.throws(() => parseFlags(['--json=yes'], flags), /^Error: --json takes no value$/);
  assert.throws(() => parseFlags(['stray'], flags), /^Error: unexpected argument 'stray' \(see --help\)$/);
  assert.throws(() => parseFlags(['-x'], flags), /^Error: unknown option '-x' \(see --help\)$/);
  // '-' (stdin by convention) is an argument
  assert.deepEqual(parseFlags(['-'], flags, { positionals: true }).positionals, ['-']);
});

test('intFlag / numberFlag / listFlag / choiceFlag', () => {
  assert.equal(intFlag(undefined, 'n', 7), 7);
  assert.equal(intFlag(undefined, 'n'), undefined);
  assert.equal(intFlag('12', 'n', 0, { min: 1 }), 12);
  for (const bad of ['', ' 1', '1 ', '0x10', 'Infinity', 'NaN', '2.5']) assert.throws(() => intFlag(bad, 'n', 0), UsageError, bad);
  assert.throws(() => intFlag('0', 'n', 0, { min: 1, max: 9 }), /^Error: --n must be an integer from 1 to 9 \(got '0'\)$/);
  assert.throws(() => intFlag('-1', 'n', 0, { min: 0 }), /--n must be an integer >= 0/);
  assert.equal(numberFlag('1e-3', 'x', 0), 0.001);
  assert.throws(() => numberFlag('-1', 'x', 0, { min: 0 }), /^Error: --x must be a number >= 0 \(got '-1'\)$/);
  assert.throws(() => numberFlag('1e400', 'x', 0), /--x must be a number \(got '1e400'\)/);
  assert.deepEqual(listFlag('a, b,,c '), ['a', 'b', 'c']);
  assert.deepEqual(listFlag(['a,b', 'c']), ['a', 'b', 'c']);
  assert.equal(listFlag(undefined), undefined);
  assert.equal(choiceFlag(undefined, 'm', ['a', 'b'] as const, 'a'), 'a');
  assert.equal(choiceFlag('b', 'm', ['a', 'b'] as const), 'b');
  assert.throws(() => choiceFlag('c', 'm', ['a'] as const), /^Error: --m must be a \(got 'c'\)$/);
});
