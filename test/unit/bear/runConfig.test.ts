// Run config twin of python/preflight_train/config.py: the JSON the form writes must be what the trainer reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  auditCommand,
  defaultForm,
  describeAudit,
  formToRunConfig,
  newRunId,
  normaliseLoss,
  trainerCommand,
  validateForm,
} from '../../../src/core/bear/runConfig';

const python = process.env.PREFLIGHT_PYTHON ?? '/usr/bin/python3';

test('defaults follow the published BEAR setting and the settings override them', () => {
  const form = defaultForm({}, '/data/train.jsonl');
  assert.equal(form.loss, 'bear');
  assert.equal(form.lam, 0.25);
  assert.equal(form.xi, 2.75);
  assert.equal(form.beam, 10);
  assert.equal(form.loraR, 8);
  assert.equal(form.loraAlpha, 16);
  assert.equal(form.lr, 1e-4);
  assert.equal(form.batchSize, 128);
  assert.equal(form.train, '/data/train.jsonl');
  const custom = defaultForm({ loss: 'sft', lambda: 0.5, epochs: 7 });
  assert.equal(custom.loss, 'lml');
  assert.equal(custom.lam, 0.5);
  assert.equal(custom.epochs, 7);
  assert.equal(normaliseLoss('MSL'), 'msl');
});

test('validation names each bad field', () => {
  const form = { ...defaultForm(), train: 't.jsonl', valid: '', beam: 0, xi: 0, batchSize: 100, perDeviceBatch: 16, name: 'a b' };
  const fields = validateForm(form)
    .map((i) => i.field)
    .sort();
  assert.deepEqual(fields, ['batchSize', 'beam', 'name', 'valid', 'xi']);
  assert.deepEqual(validateForm({ ...defaultForm(), train: 't', valid: 'v' }), []);
});

test('the run config mirrors the form; gradient accumulation makes up the effective batch', () => {
  const form = { ...defaultForm(), train: '/d/train.jsonl', valid: '/d/valid.jsonl', baseModel: '/models/qwen', gpus: 2, batchSize: 128, perDeviceBatch: 16 };
  const cfg = formToRunConfig(form, '/ws/.preflight/runs/x');
  assert.equal(cfg.output_dir, '/ws/.preflight/runs/x');
  assert.deepEqual(cfg.model, { type: 'hf', path: '/models/qwen' });
  assert.equal(cfg.lora.enabled, true);
  assert.deepEqual(cfg.lora.targets, ['q_proj', 'v_proj']);
  assert.equal(cfg.train.batch_size, 16);
  assert.equal(cfg.train.grad_accum, 4);
  assert.deepEqual(cfg.loss, { name: 'bear', tau: 1, beam: 10, lam: 0.25, xi: 2.75 });
  assert.deepEqual(cfg.eval.ks, [1, 5, 10]);
  const builtin = formToRunConfig({ ...form, baseModel: 'builtin' }, '/r');
  assert.equal(builtin.model.type, 'builtin');
  assert.equal(builtin.lora.enabled, false);
});

test('the trainer command: one process, or torchrun for several GPUs; PYTHONPATH has the package', () => {
  const one = trainerCommand({ python: '/usr/bin/python3', packageDir: '/ext/python', configPath: '/r/config.json', gpus: 1 });
  assert.deepEqual(one.args, ['-m', 'preflight_train', 'train', '--config', '/r/config.json']);
  assert.equal(one.env.PYTHONPATH, '/ext/python');
  const many = trainerCommand({ python: 'py', packageDir: '/p', configPath: 'c', gpus: 4, existingPythonPath: '/x', resume: true });
  assert.deepEqual(many.args.slice(0, 4), ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=4']);
  assert.deepEqual(many.args.slice(-2), ['--resume', 'latest']);
  assert.equal(many.env.PYTHONPATH, '/p:/x');
  assert.equal(trainerCommand({ python: 'py', packageDir: '/p', configPath: 'c', gpus: 0 }).env.CUDA_VISIBLE_DEVICES, '');
});

test('run ids sort by time', () => {
  assert.equal(newRunId(new Date(Date.UTC(2026, 0, 27, 18, 30, 12)), 'my run'), '20260127-183012-my-run');
});

test('the pruning audit command and its summary', () => {
  const cmd = auditCommand({ python: 'py', packageDir: '/p', configPath: '/a/config.json', outPath: '/a/audit.json', users: 100 });
  assert.deepEqual(cmd.args, ['-m', 'preflight_train', 'audit', '--config', '/a/config.json', '--users', '100', '--out', '/a/audit.json']);
  assert.equal(cmd.env.PYTHONPATH, '/p');
  const text = describeAudit({ users: 100, beam: 10, target_in_top_b: 0.5, found_by_beam: 0.2, pruned_given_top_b: 0.8 });
  assert.match(text, /prunes 80\.0%/);
});

test('the Python trainer accepts the config the form writes (python/preflight_train/config.py)', { skip: !existsSync(python) && `no ${python}` }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'bearcfg-'));
  for (const name of ['train.jsonl', 'valid.jsonl']) writeFileSync(join(dir, name), '{"history": ["A"], "target": "B"}\n');
  const form = { ...defaultForm({ loss: 'sft' }), train: join(dir, 'train.jsonl'), valid: join(dir, 'valid.jsonl'), baseModel: '/models/x', gpus: 2 };
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(formToRunConfig(form, join(dir, 'run'))));
  const script = 'import json,sys\nfrom preflight_train import config\nc = config.load(sys.argv[1])\nprint(json.dumps(c.to_dict()))';
  const run = spawnSync(python, ['-c', script, configPath], { env: { ...process.env, PYTHONPATH: resolve('python') }, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const parsed = JSON.parse(run.stdout);
  assert.equal(parsed.loss.name, 'lml');
  assert.equal(parsed.model.type, 'hf');
  assert.equal(parsed.lora.enabled, true);
  assert.equal(parsed.train.grad_accum, 4);
  assert.equal(parsed.data.train, join(dir, 'train.jsonl'));
});
