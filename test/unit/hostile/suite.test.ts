// The hostile-input suite (issue 13 "Deliver"): bad inputs generated at test time — FIFOs,
// devices, sparse multi-GiB files, lying headers, links, self-overwriting --out — fed to the CLI as
// a child process. Every case must end with a clear one-line error (exit 2) or a finding (exit 1),
// within 10 s and 1 GiB peak RSS, and leave every input file byte-identical.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, linkSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTinyCheckpoint } from '../../helpers/tinyCheckpoint';
import { cliBundle, mkfifo, runCli, snapshot, tempDir, writeSafetensorsRaw } from './helpers';

/** CPU seconds (user + system) per case. The bound is on CPU time, not wall time: this machine is
 *  shared, and under a load of 20 a 5 s case takes minutes of wall time. Wall time is bounded
 *  too, generously, so that a hang (a FIFO read, a spinning loop) still fails. */
const MAX_SECONDS = 10;
const MAX_WALL_SECONDS = 120;
const MAX_RSS_MIB = 1024;

interface Case {
  name: string;
  /** makes the inputs in `dir`; returns the CLI arguments */
  setup: (dir: string, ckpt: string) => string[] | Promise<string[]>;
  code: 1 | 2;
  /** the one line that explains it (stderr for exit 2, stdout for findings) */
  message: RegExp;
}

function labels(distinct: number, rows = distinct): string {
  const lines = ['id,gold,llm'];
  for (let i = 0; i < rows; i++) lines.push(`${i},l${i % distinct},l${(i * 7) % distinct}`);
  return `${lines.join('\n')}\n`;
}

/** A copy of the tiny checkpoint with `edit` applied. */
function ckptCopy(base: string, dir: string, edit: (d: string) => void = () => {}): string {
  const d = join(dir, 'ckpt');
  cpSync(base, d, { recursive: true });
  edit(d);
  return d;
}

function editJson(path: string, edit: (j: Record<string, unknown>) => void): void {
  const j = JSON.parse(readFileSync(path, 'utf8'));
  edit(j);
  writeFileSync(path, JSON.stringify(j));
}

function shardOf(d: string): string {
  return join(
    d,
    readdirSync(d).find((f) => f.endsWith('.safetensors'))!,
  );
}

const CASES: Case[] = [
  {
    name: 'validate: a FIFO named .jsonl',
    setup: (d) => (mkfifo(join(d, 'a.jsonl')), ['validate', join(d, 'a.jsonl')]),
    code: 2,
    message: /a\.jsonl: is a named pipe \(FIFO\), not a regular file/,
  },
  ...['jsonl', 'json', 'csv'].map((ext): Case => ({
    name: `validate: /dev/zero named .${ext}`,
    setup: (d) => (symlinkSync('/dev/zero', join(d, `zero.${ext}`)), ['validate', join(d, `zero.${ext}`)]),
    code: 2,
    message: /is a character device, not a regular file/,
  })),
  {
    name: 'validate: a folder with a FIFO among good files: reported, skipped, the rest checked',
    setup: (d) => {
      mkdirSync(join(d, 'data'));
      writeFileSync(join(d, 'data', 'good.jsonl'), '{"text": "hello"}\n');
      mkfifo(join(d, 'data', 'pipe.jsonl'));
      return ['validate', join(d, 'data')];
    },
    code: 2,
    message: /skipped '.*pipe\.jsonl': .*named pipe/,
  },
  {
    name: 'validate: a CSV of 1,000,000 columns',
    setup: (d) => (
      writeFileSync(join(d, 'wide.csv'), `${Array.from({ length: 1_000_000 }, (_, i) => `c${i}`).join(',')}\n${'1,'.repeat(999_999)}1\n`),
      ['validate', join(d, 'wide.csv')]
    ),
    code: 1,
    message: /csv-too-many-columns: the header has 1,000,000 columns, over the limit of 10,000 columns/,
  },
  {
    name: 'validate: a sparse 3 GiB .json document',
    setup: (d) => (writeFileSync(join(d, 'big.json'), '['), truncateSync(join(d, 'big.json'), 3 * 2 ** 30), ['validate', join(d, 'big.json')]),
    code: 1,
    message: /file-too-large: a 3072 MB \.json document is too large to read at once/,
  },
  {
    name: 'validate --tokenizer: a Split regex that backtracks exponentially',
    setup: async (d, ck) => {
      const t = JSON.parse(readFileSync(join(ck, 'tokenizer.json'), 'utf8'));
      t.pre_tokenizer = { type: 'Split', pattern: { Regex: '(a|a)+$' }, behavior: 'Isolated', invert: false };
      writeFileSync(join(d, 'tokenizer.json'), JSON.stringify(t));
      writeFileSync(join(d, 'a.jsonl'), `{"text": "${'a'.repeat(40)}!"}\n`);
      return ['validate', join(d, 'a.jsonl'), '--tokenizer', join(d, 'tokenizer.json')];
    },
    code: 2,
    message: /refused the Split regex "\(a\|a\)\+\$": it repeats a group/,
  },
  ...[3000, 50_000].map((n): Case => ({
    name: `annotate: ${n.toLocaleString('en-US')} distinct labels`,
    setup: (d) => (writeFileSync(join(d, 'l.csv'), labels(n)), ['annotate', join(d, 'l.csv')]),
    code: 2,
    message: new RegExp(`${n.toLocaleString('en-US')} distinct labels .*over the limit of 100 levels`),
  })),
  {
    name: 'annotate --out onto its own input',
    setup: (d) => (writeFileSync(join(d, 'l.csv'), labels(3, 30)), ['annotate', join(d, 'l.csv'), '--out', join(d, 'l.csv')]),
    code: 2,
    message: /--out .*l\.csv is the input file .*; refusing to overwrite it/,
  },
  {
    name: 'annotate --out onto a hard link of its input',
    setup: (d) => (
      writeFileSync(join(d, 'l.csv'), labels(3, 30)),
      linkSync(join(d, 'l.csv'), join(d, 'same.csv')),
      ['annotate', join(d, 'l.csv'), '--out', join(d, 'same.csv')]
    ),
    code: 2,
    message: /is the input file/,
  },
  {
    name: 'annotate sample --out onto its own input',
    setup: (d) => (writeFileSync(join(d, 'l.csv'), labels(3, 30)), ['annotate', 'sample', join(d, 'l.csv'), '--n', '4', '--out', `${d}/./l.csv`]),
    code: 2,
    message: /is the input file/,
  },
  {
    name: 'annotate: the labels file is a FIFO',
    setup: (d) => (mkfifo(join(d, 'l.csv')), ['annotate', join(d, 'l.csv')]),
    code: 2,
    message: /l\.csv' is not a file|named pipe/,
  },
  {
    name: 'build-model: num_hidden_layers 1e7',
    setup: (d, ck) => ['build-model', ckptCopy(ck, d, (c) => editJson(join(c, 'config.json'), (j) => (j.num_hidden_layers = 1e7))), '--out', join(d, 'o')],
    code: 2,
    message: /num_hidden_layers = 10000000 is not an integer from 1 to 1,024/,
  },
  {
    name: 'build-model: config.json is not JSON',
    setup: (d, ck) => ['build-model', ckptCopy(ck, d, (c) => writeFileSync(join(c, 'config.json'), '{"architectures": [')), '--out', join(d, 'o')],
    code: 2,
    message: /config\.json: not valid JSON/,
  },
  {
    name: 'build-model: config.json is a FIFO',
    setup: (d, ck) => ['build-model', ckptCopy(ck, d, (c) => (rmSync(join(c, 'config.json')), mkfifo(join(c, 'config.json')))), '--out', join(d, 'o')],
    code: 2,
    message: /config\.json: is a named pipe/,
  },
  {
    name: 'build-model: a 3 GB tensor whose offsets run past the end of the file (sparse)',
    setup: (d, ck) => [
      'build-model',
      ckptCopy(ck, d, (c) => {
        const shard = shardOf(c);
        writeSafetensorsRaw(shard, { 'model.embed_tokens.weight': { dtype: 'F32', shape: [750_000_000], data_offsets: [0, 3_000_000_000] } }, 1_000_000);
      }),
      '--out',
      join(d, 'o'),
    ],
    code: 2,
    message: /run past the end of the file/,
  },
  {
    name: 'build-model: overlapping tensors',
    setup: (d, ck) => [
      'build-model',
      ckptCopy(ck, d, (c) =>
        writeSafetensorsRaw(shardOf(c), { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] } }, 24),
      ),
      '--out',
      join(d, 'o'),
    ],
    code: 2,
    message: /tensors a and b overlap/,
  },
  {
    name: 'build-model: a header length of 10^12',
    setup: (d, ck) => [
      'build-model',
      ckptCopy(ck, d, (c) => {
        const b = Buffer.alloc(4096);
        b.writeBigUInt64LE(10n ** 12n);
        writeFileSync(shardOf(c), b);
      }),
      '--out',
      join(d, 'o'),
    ],
    code: 2,
    message: /header length 1000000000000, over the limit/,
  },
  {
    name: 'build-model: shapes that contradict config.json',
    setup: (d, ck) => ['build-model', ckptCopy(ck, d, (c) => editJson(join(c, 'config.json'), (j) => (j.intermediate_size = 48))), '--out', join(d, 'o')],
    code: 2,
    message: /has shape \[64, 32\], but config\.json implies \[48, 32\]/,
  },
  {
    name: 'build-model: tokenizer.json is not JSON',
    setup: (d, ck) => ['build-model', ckptCopy(ck, d, (c) => writeFileSync(join(c, 'tokenizer.json'), 'not json')), '--out', join(d, 'o')],
    code: 2,
    message: /tokenizer\.json: not valid JSON .*the model was not built/,
  },
  {
    name: 'build-model: index.json points outside the folder',
    setup: (d, ck) => [
      'build-model',
      ckptCopy(ck, d, (c) =>
        writeFileSync(join(c, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'model.embed_tokens.weight': '../../etc/passwd' } })),
      ),
      '--out',
      join(d, 'o'),
    ],
    code: 2,
    message: /weight_map names "\.\.\/\.\.\/etc\/passwd", outside the checkpoint folder/,
  },
  {
    name: 'build-model --out: model.onnx is a symbolic link to another file',
    setup: (d, ck) => {
      writeFileSync(join(d, 'victim.txt'), 'precious');
      mkdirSync(join(d, 'o'));
      symlinkSync(join(d, 'victim.txt'), join(d, 'o', 'model.onnx'));
      return ['build-model', ckptCopy(ck, d), '--out', join(d, 'o')];
    },
    code: 2,
    message: /model\.onnx is a symbolic link; refusing to write through it/,
  },
  {
    name: 'mdf: a folder as the training file',
    setup: (d) => (mkdirSync(join(d, 'train.jsonl')), ['mdf', join(d, 'train.jsonl'), '--model', join(d, 'nomodel')]),
    code: 2,
    message: /train\.jsonl: is a folder, not a regular file/,
  },
  {
    name: 'mdf --out onto the training file',
    setup: (d) => (
      writeFileSync(join(d, 't.jsonl'), '{"text": "x"}\n'),
      ['mdf', join(d, 't.jsonl'), '--model', join(d, 'nomodel'), '--out', join(d, 't.jsonl')]
    ),
    code: 2,
    message: /is the input file .*t\.jsonl; refusing to overwrite it/,
  },
  {
    name: 'mdf --alphas 1e308',
    setup: (d) => (writeFileSync(join(d, 't.jsonl'), '{"text": "x"}\n'), ['mdf', join(d, 't.jsonl'), '--model', join(d, 'nomodel'), '--alphas', '0,1e308']),
    code: 2,
    message: /--alphas must be a number from 0 to 1000 \(got '1e308'\)/,
  },
  {
    name: 'inspect: a model manifest without info',
    setup: (d) => {
      mkdirSync(join(d, 'm'));
      writeFileSync(join(d, 'm', 'manifest.json'), JSON.stringify({ format: 'preflight-onnx-model', builderVersion: '6' }));
      return ['inspect', '--model', join(d, 'm'), '--text', 'hi'];
    },
    code: 2,
    message: /manifest\.json: the manifest's 'info' is missing or not a positive integer; rebuild the model/,
  },
  {
    name: 'validate: terminal escapes in a file name and its content are printed escaped',
    setup: (d) => (writeFileSync(join(d, 'evil\u001b]0;pwned\u0007.jsonl'), '{"text": \u001b[2J}\n'), ['validate', join(d, 'evil\u001b]0;pwned\u0007.jsonl')]),
    code: 1,
    message: /evil\\u001b\]0;pwned\\u0007\.jsonl:1:/,
  },
];

describe('hostile-input suite (CLI)', () => {
  let base: ReturnType<typeof tempDir>;
  let ckpt: string;
  before(async () => {
    base = tempDir('suite');
    ckpt = join(base.dir, 'tiny');
    await writeTinyCheckpoint(ckpt, { family: 'llama' });
    cliBundle();
  });
  after(() => base.cleanup());

  for (const c of CASES) {
    it(c.name, async (t) => {
      const { dir, cleanup } = tempDir('case');
      try {
        const args = await c.setup(dir, ckpt);
        const inputs = snapshot(dir);
        const r = await runCli(args, { timeoutMs: MAX_WALL_SECONDS * 1000 });
        t.diagnostic(`exit ${r.code}, ${r.cpuSeconds.toFixed(1)} s CPU, ${r.seconds.toFixed(1)} s wall, peak RSS ${r.peakMiB.toFixed(0)} MiB`);
        const detail = `exit ${r.code}, ${r.cpuSeconds.toFixed(1)} s CPU, ${r.seconds.toFixed(1)} s wall, ${r.peakMiB.toFixed(0)} MiB\nstdout: ${r.stdout.slice(0, 600)}\nstderr: ${r.stderr.slice(0, 600)}`;
        assert.equal(r.code, c.code, detail);
        const text = c.code === 2 ? r.stderr : r.stdout;
        assert.match(text, c.message, detail);
        assert.doesNotMatch(r.stderr, /internal error|\n\s+at .*\(.*:\d+:\d+\)/, detail);
        // no raw terminal control characters from data
        assert.doesNotMatch(r.stdout + r.stderr, /\u001b/, detail);
        if (c.code === 2)
          assert.equal(
            r.stderr
              .trim()
              .split('\n')
              .filter((l) => /^preflight /.test(l)).length >= 1,
            true,
            detail,
          );
        assert.ok(r.cpuSeconds <= MAX_SECONDS, detail);
        assert.ok(r.seconds <= MAX_WALL_SECONDS, detail);
        assert.ok(r.peakMiB <= MAX_RSS_MIB, detail);
        // inputs byte-identical (the files the case made; outputs of refused runs must not exist)
        const afterRun = snapshot(dir);
        for (const [path, hash] of inputs) assert.equal(afterRun.get(path), hash, `${path} changed`);
      } finally {
        cleanup();
      }
    });
  }
});
