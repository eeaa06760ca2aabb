// BEAR run configuration: the typed twin of python/preflight_train/config.py (same JSON), the launch
// form's fields, their validation, and the trainer's command line. Pure: no vscode, no file access.

import type { FormIssue, LaunchForm, LossName } from '../../shared/reports/bear';

export type { FormIssue, LaunchForm, LossName };

export interface BearRunConfig {
  name?: string;
  output_dir: string;
  model: {
    type: 'builtin' | 'hf';
    path?: string | null;
    hidden_size?: number;
    intermediate_size?: number;
    num_hidden_layers?: number;
    num_attention_heads?: number;
    num_key_value_heads?: number;
  };
  lora: { enabled: boolean; r: number; alpha: number; dropout: number; targets: string[] };
  data: {
    train?: string | null;
    valid?: string | null;
    test?: string | null;
    items?: string | null;
    max_history: number;
    synthetic?: { genres: number; per_genre: number; users: number; seed: number } | null;
  };
  loss: { name: LossName; tau: number; beam: number; lam: number; xi: number };
  train: {
    epochs: number;
    batch_size: number;
    grad_accum: number;
    lr: number;
    warmup_ratio: number;
    seed: number;
    precision: 'auto' | 'fp32' | 'bf16' | 'fp16';
    log_every: number;
  };
  eval: { beam: number; ks: number[]; max_users: number; select_by: string; tau?: number };
  resume?: string | null;
}

/** Settings as the extension reads them (preflight.bear.*); missing ones take the published defaults. */
export interface BearSettings {
  loss?: string;
  lambda?: number;
  xi?: number;
  beamSize?: number;
  learningRate?: number;
  batchSize?: number;
  epochs?: number;
  outputDir?: string;
}

/** The settings call LML 'sft' (BIGRec's SFT objective); the trainer accepts both names. */
export function normaliseLoss(name: string | undefined): LossName {
  const n = (name ?? 'bear').toLowerCase();
  if (n === 'sft' || n === 'lml') return 'lml';
  if (n === 'msl') return 'msl';
  return 'bear';
}

export function defaultForm(settings: BearSettings = {}, dataFile?: string): LaunchForm {
  return {
    name: 'bear',
    baseModel: 'builtin',
    train: dataFile ?? '',
    valid: '',
    test: '',
    items: '',
    loss: normaliseLoss(settings.loss),
    tau: 1,
    beam: settings.beamSize ?? 10,
    lam: settings.lambda ?? 0.25,
    xi: settings.xi ?? 2.75,
    loraEnabled: true,
    loraR: 8,
    loraAlpha: 16,
    epochs: settings.epochs ?? 3,
    batchSize: settings.batchSize ?? 128,
    perDeviceBatch: 16,
    lr: settings.learningRate ?? 1e-4,
    outputDir: settings.outputDir ?? '.preflight/runs',
    gpus: 1,
    evalMaxUsers: 0,
  };
}

function isInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x);
}

/** Field-level checks of the form (files are checked separately, see dataCheck.ts). */
export function validateForm(form: LaunchForm): FormIssue[] {
  const issues: FormIssue[] = [];
  const need = (field: keyof LaunchForm, ok: boolean, message: string) => {
    if (!ok) issues.push({ field, message });
  };
  need('name', /^[A-Za-z0-9._-]{1,64}$/.test(form.name), 'Name: 1–64 letters, digits, dot, dash or underscore.');
  need('baseModel', form.baseModel.trim().length > 0, "Base model: a Hugging Face checkpoint folder or id, or 'builtin'.");
  need('train', form.train.trim().length > 0, 'A training split is required.');
  need('valid', form.valid.trim().length > 0, 'A validation split is required (it picks the best epoch; the test split is never used for that).');
  need('loss', ['lml', 'msl', 'bear'].includes(form.loss), 'Loss: LML, MSL or BEAR.');
  need('tau', typeof form.tau === 'number' && form.tau > 0, 'Temperature τ must be > 0.');
  need('beam', isInt(form.beam) && form.beam >= 1 && form.beam <= 100, 'Beam size B: an integer from 1 to 100.');
  need('lam', typeof form.lam === 'number' && form.lam >= 0, 'λ must be ≥ 0.');
  need('xi', typeof form.xi === 'number' && form.xi > 0, 'ξ must be > 0.');
  need('loraR', isInt(form.loraR) && form.loraR >= 1, 'LoRA rank r: an integer ≥ 1.');
  need('loraAlpha', typeof form.loraAlpha === 'number' && form.loraAlpha > 0, 'LoRA α must be > 0.');
  need('epochs', isInt(form.epochs) && form.epochs >= 1 && form.epochs <= 1000, 'Epochs: an integer from 1 to 1000.');
  need('batchSize', isInt(form.batchSize) && form.batchSize >= 1, 'Batch size: an integer ≥ 1.');
  need('perDeviceBatch', isInt(form.perDeviceBatch) && form.perDeviceBatch >= 1, 'Per-device batch: an integer ≥ 1.');
  need('lr', typeof form.lr === 'number' && form.lr > 0 && form.lr < 1, 'Learning rate: between 0 and 1.');
  need('outputDir', form.outputDir.trim().length > 0, 'An output folder is required.');
  need('gpus', isInt(form.gpus) && form.gpus >= 0 && form.gpus <= 64, 'GPUs: an integer from 0 (CPU) to 64.');
  need('evalMaxUsers', isInt(form.evalMaxUsers) && form.evalMaxUsers >= 0, 'Evaluation users: an integer ≥ 0 (0: all).');
  if (isInt(form.batchSize) && isInt(form.perDeviceBatch) && isInt(form.gpus)) {
    const perStep = form.perDeviceBatch * Math.max(1, form.gpus);
    need('batchSize', form.batchSize % perStep === 0, `Batch size must be a multiple of per-device batch × GPUs (${perStep}).`);
  }
  return issues;
}

/** A run id that sorts by time: 20260127-183012-bear. */
export function newRunId(now: Date, name: string): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${stamp}-${name.replace(/[^A-Za-z0-9._-]/g, '-') || 'bear'}`;
}

/** The run config written to <runs>/<id>/config.json; paths are absolute (resolved by the caller). */
export function formToRunConfig(form: LaunchForm, runDir: string): BearRunConfig {
  const builtin = form.baseModel.trim() === 'builtin';
  const perStep = form.perDeviceBatch * Math.max(1, form.gpus);
  return {
    name: form.name,
    output_dir: runDir,
    model: builtin ? { type: 'builtin', path: null } : { type: 'hf', path: form.baseModel.trim() },
    lora: { enabled: !builtin && form.loraEnabled, r: form.loraR, alpha: form.loraAlpha, dropout: 0.05, targets: ['q_proj', 'v_proj'] },
    data: {
      train: form.train || null,
      valid: form.valid || null,
      test: form.test || null,
      items: form.items || null,
      max_history: 10,
      synthetic: null,
    },
    loss: { name: form.loss, tau: form.tau, beam: form.beam, lam: form.lam, xi: form.xi },
    train: {
      epochs: form.epochs,
      batch_size: form.perDeviceBatch,
      grad_accum: Math.max(1, Math.round(form.batchSize / perStep)),
      lr: form.lr,
      warmup_ratio: 0.05,
      seed: 0,
      precision: 'auto',
      log_every: 10,
    },
    eval: {
      beam: form.beam,
      ks: [1, 5, 10].filter((k) => k <= form.beam),
      max_users: form.evalMaxUsers,
      select_by: form.beam >= 10 ? 'ndcg@10' : `ndcg@${form.beam}`,
    },
    resume: null,
  };
}

export interface TrainerCommand {
  executable: string;
  args: string[];
  env: Record<string, string>;
}

/**
 * How to start the trainer. One process on CPU or one GPU; several GPUs only through torchrun
 * (python -m torch.distributed.run), which sets WORLD_SIZE/RANK/LOCAL_RANK for DistributedDataParallel.
 */
export function trainerCommand(opts: {
  python: string;
  packageDir: string;
  configPath: string;
  gpus: number;
  existingPythonPath?: string;
  pathSeparator?: string;
  resume?: boolean;
}): TrainerCommand {
  const sep = opts.pathSeparator ?? ':';
  const pythonPath = opts.existingPythonPath ? `${opts.packageDir}${sep}${opts.existingPythonPath}` : opts.packageDir;
  const tail = ['-m', 'preflight_train', 'train', '--config', opts.configPath, ...(opts.resume ? ['--resume', 'latest'] : [])];
  const args = opts.gpus > 1 ? ['-m', 'torch.distributed.run', '--standalone', `--nproc_per_node=${opts.gpus}`, ...tail] : tail;
  const env: Record<string, string> = { PYTHONPATH: pythonPath, PYTHONUNBUFFERED: '1' };
  if (opts.gpus === 0) env.CUDA_VISIBLE_DEVICES = '';
  return { executable: opts.python, args, env };
}

/** The pre-training audit: how often beam search would prune a target that is in the top-B by probability. */
export function auditCommand(opts: {
  python: string;
  packageDir: string;
  configPath: string;
  outPath: string;
  users: number;
  existingPythonPath?: string;
  pathSeparator?: string;
}): TrainerCommand {
  const base = trainerCommand({ ...opts, gpus: 1 });
  return { ...base, args: ['-m', 'preflight_train', 'audit', '--config', opts.configPath, '--users', String(opts.users), '--out', opts.outPath] };
}

export interface AuditResult {
  users: number;
  beam: number;
  target_in_top_b: number;
  found_by_beam: number;
  pruned_given_top_b: number;
}

export function describeAudit(r: AuditResult): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return (
    `${r.users} validation users, B = ${r.beam}: the target is in the top-${r.beam} titles by probability for ${pct(r.target_in_top_b)}; ` +
    `beam search finds it for ${pct(r.found_by_beam)}; of the top-${r.beam} targets, beam search prunes ${pct(r.pruned_given_top_b)}.`
  );
}
