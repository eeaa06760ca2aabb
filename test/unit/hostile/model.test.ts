// Issue 13 items 1, 9, 11 (build-model --out), 12 (index paths): safetensors headers are checked
// against the file, a multi-GiB tensor streams in bounded pieces, config.json dimensions are
// bounded and checked against the tensor shapes, and the output folder is never written through
// a symbolic link.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, symlinkSync, truncateSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensorsHeader, readTensorFloat32 } from '../../../src/core/model/safetensors';
import { openCheckpoint, parseConfig, shardInside } from '../../../src/core/model/checkpoint';
import { buildModel } from '../../../src/core/model/build';
import { isInside, isReallyInside } from '../../../src/core/io/inside';
import { writeTinyCheckpoint } from '../../helpers/tinyCheckpoint';
import { REPO, tempDir, writeSafetensorsRaw } from './helpers';

test('headers that lie are refused with the tensor named: past the end, overlapping, wrong byte length, missing offsets, negative length', async () => {
  const { dir, cleanup } = tempDir('st');
  try {
    const f = join(dir, 'm.safetensors');
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [
        { a: { dtype: 'F32', shape: [1024, 1024], data_offsets: [0, 4 * 2 ** 20] } },
        64,
        /tensor a: data_offsets \[0, 4194304\] run past the end of the file \(64 data bytes\)/,
      ],
      [{ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] } }, 24, /tensors a and b overlap/],
      [{ a: { dtype: 'BF16', shape: [4, 4], data_offsets: [0, 16] } }, 16, /tensor a: shape \[4,4\] × BF16 is 32 bytes, but data_offsets hold 16/],
      [{ a: { dtype: 'F32', shape: [4] } }, 16, /tensor a: data_offsets undefined are not two non-negative integers/],
      [{ a: { dtype: 'F32', shape: [4], data_offsets: [16, 0] } }, 16, /end before they begin/],
      [{ a: { dtype: 'F32', shape: 'x', data_offsets: [0, 16] } }, 16, /shape "x" is not a list/],
    ];
    for (const [header, data, message] of cases) {
      writeSafetensorsRaw(f, header, data);
      await assert.rejects(readSafetensorsHeader(f), message);
    }
    // header length far past the file / over the cap
    const fd = openSync(f, 'w');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(10n ** 12n);
    writeSync(fd, len);
    closeSync(fd);
    truncateSync(f, 4096);
    await assert.rejects(readSafetensorsHeader(f), /header length 1000000000000, over the limit of 100000000 bytes/);
  } finally {
    cleanup();
  }
});

test('a 2.5 GB BF16 tensor converts in bounded pieces (no single read or allocation near 2 GiB; peak RSS < 1 GB)', () => {
  const { dir, cleanup } = tempDir('big');
  try {
    const file = join(dir, 'model.safetensors');
    const rows = 10_000_000;
    const cols = 128; // 1.28e9 BF16 values = 2.56 GB
    writeSafetensorsRaw(file, { 'model.embed_tokens.weight': { dtype: 'BF16', shape: [rows, cols], data_offsets: [0, rows * cols * 2] } }, rows * cols * 2);
    // in a child, so that its peak RSS is its own; the converted float32 data (5.1 GB) goes to /dev/null
    const script = `
      const { readSafetensorsHeader, streamTensorFloat32 } = require(${JSON.stringify(join(REPO, 'src/core/model/safetensors.ts'))});
      const { GraphBuilder } = require(${JSON.stringify(join(REPO, 'src/core/model/onnx/graph.ts'))});
      (async () => {
        const h = await readSafetensorsHeader(${JSON.stringify(file)});
        const { g, close } = await GraphBuilder.create('/dev/null', 'model.onnx.data', 'fp32');
        await g.weightChunks('embed', streamTensorFloat32(h.tensors[0]), h.tensors[0].shape);
        const bytes = await close();
        const u = process.resourceUsage();
        console.log(JSON.stringify({ bytes, maxRssMiB: u.maxRSS / 1024, cpuSeconds: (u.userCPUTime + u.systemCPUTime) / 1e6 }));
      })().catch((e) => { console.error(e); process.exit(3); });`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO, encoding: 'utf8', timeout: 900_000 }); // ~10 s of CPU; minutes of wall time on a loaded machine
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(out.bytes, rows * cols * 4);
    assert.ok(out.maxRssMiB < 1024, `peak RSS ${out.maxRssMiB} MiB`);
    assert.ok(out.cpuSeconds < 60, `${out.cpuSeconds} s CPU`);
  } finally {
    cleanup();
  }
});

test('a tensor read whole is capped; the cap names its limit', async () => {
  const { dir, cleanup } = tempDir('whole');
  try {
    const f = join(dir, 'm.safetensors');
    writeSafetensorsRaw(f, { w: { dtype: 'F16', shape: [2 ** 15, 2 ** 14], data_offsets: [0, 2 ** 30] } }, 2 ** 30);
    const [entry] = (await readSafetensorsHeader(f)).tensors;
    await assert.rejects(
      readTensorFloat32(entry),
      /tensor w has 536,870,912 elements, over the limit of 268,435,456 for a tensor read whole \(docs\/limits\.md\)/,
    );
  } finally {
    cleanup();
  }
});

test('config.json dimensions are bounded (num_hidden_layers 1e7 is an error naming the limit)', () => {
  const base = { architectures: ['LlamaForCausalLM'], hidden_size: 32, num_attention_heads: 4, num_hidden_layers: 2, intermediate_size: 64, vocab_size: 300 };
  assert.throws(() => parseConfig({ ...base, num_hidden_layers: 1e7 }), /config\.json: num_hidden_layers = 10000000 is not an integer from 1 to 1,024/);
  assert.throws(() => parseConfig({ ...base, hidden_size: -32 }), /hidden_size = -32/);
  assert.throws(() => parseConfig({ ...base, vocab_size: 1.5 }), /vocab_size = 1.5/);
  assert.throws(() => parseConfig({ ...base, num_attention_heads: 0 }), /num_attention_heads = 0/);
  assert.equal(parseConfig(base).numLayers, 2);
});

test('shapes that contradict config.json, a non-JSON tokenizer.json and an exponential tokenizer regex fail the build: never "built"', async () => {
  const { dir, cleanup } = tempDir('lies');
  try {
    const src = join(dir, 'ckpt');
    await writeTinyCheckpoint(src, { family: 'llama' });
    const cfg = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8'));
    writeFileSync(join(src, 'config.json'), JSON.stringify({ ...cfg, intermediate_size: 48 }));
    await assert.rejects(
      buildModel(src, join(dir, 'out1')),
      /tensor model\.layers\.0\.mlp\.gate_proj\.weight has shape \[64, 32\], but config\.json implies \[48, 32\]/,
    );
    writeFileSync(join(src, 'config.json'), JSON.stringify(cfg));
    const tokenizer = readFileSync(join(src, 'tokenizer.json'), 'utf8');
    writeFileSync(join(src, 'tokenizer.json'), '<html>not json</html>');
    await assert.rejects(buildModel(src, join(dir, 'out2')), /tokenizer\.json: not valid JSON .*the model was not built/);
    assert.equal(existsSync(join(dir, 'out2', 'manifest.json')), false);
    const evil = JSON.parse(tokenizer);
    evil.pre_tokenizer = { type: 'Split', pattern: { Regex: '(a|a)+$' }, behavior: 'Isolated', invert: false };
    writeFileSync(join(src, 'tokenizer.json'), JSON.stringify(evil));
    await assert.rejects(buildModel(src, join(dir, 'out3')), /refused the Split regex "\(a\|a\)\+\$": it repeats a group/);
    assert.equal(existsSync(join(dir, 'out3', 'manifest.json')), false);
  } finally {
    cleanup();
  }
});

test('model.safetensors.index.json: absolute paths, .. and prefix tricks are refused', async () => {
  const index = '/x/ckpt/model.safetensors.index.json';
  assert.equal(shardInside('/x/ckpt', 'model-00001.safetensors', index), 'model-00001.safetensors');
  assert.equal(shardInside('/x/ckpt', 'sub/model.safetensors', index), 'sub/model.safetensors');
  for (const bad of ['../ckpt2/model.safetensors', '/etc/passwd', '..', '.', 'sub/../../ckpt-evil/m.safetensors', '']) {
    assert.throws(() => shardInside('/x/ckpt', bad, index), /outside the checkpoint folder|not a file name/, bad);
  }
  assert.equal(isInside('/runs/a', '/runs/ab/x'), false);
  assert.equal(isInside('/runs/a', '/runs/a/../../etc/passwd'), false);
  assert.equal(isInside('/runs/a', '/runs/a/checkpoint-epoch1'), true);
  const { dir, cleanup } = tempDir('index');
  try {
    const src = join(dir, 'ckpt');
    await writeTinyCheckpoint(src, { family: 'llama' });
    const indexPath = join(src, 'model.safetensors.index.json');
    const shard = readdirSync(src).find((f) => f.endsWith('.safetensors'))!;
    const names = Object.keys((await readSafetensorsHeader(join(src, shard))).tensors.reduce((m, t) => ({ ...m, [t.name]: 1 }), {}));
    writeFileSync(indexPath, JSON.stringify({ weight_map: Object.fromEntries(names.map((n) => [n, `../${shard}`])) }));
    await assert.rejects(openCheckpoint(src), /weight_map names "\.\.\/.*", outside the checkpoint folder/);
    // a link inside the run folder that leads outside it is not inside
    symlinkSync('/etc', join(dir, 'link'));
    assert.equal(isReallyInside(dir, join(dir, 'link', 'passwd')), false);
  } finally {
    cleanup();
  }
});

test('build-model --out never writes through a symbolic link planted in the output folder', async () => {
  const { dir, cleanup } = tempDir('out');
  try {
    const src = join(dir, 'ckpt');
    await writeTinyCheckpoint(src, { family: 'qwen2' });
    const out = join(dir, 'out');
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    await buildModel(src, out);
    for (const name of ['model.onnx', 'model.onnx.data', 'tokenizer.json', 'manifest.json']) {
      const { rmSync } = await import('node:fs');
      rmSync(join(out, name));
      symlinkSync(victim, join(out, name));
      await assert.rejects(buildModel(src, out, { force: true }), new RegExp(`${name.replace(/\./g, '\\.')} is a symbolic link; refusing to write through it`));
      assert.equal(readFileSync(victim, 'utf8'), 'precious');
      rmSync(join(out, name));
    }
    // no temporary files left behind after the refusals; a clean rebuild still works
    await buildModel(src, out, { force: true });
    assert.deepEqual(
      readdirSync(out).filter((f) => f.endsWith('.tmp')),
      [],
    );
  } finally {
    cleanup();
  }
});
