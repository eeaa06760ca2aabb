// The BEAR launch form and dashboard data: the form's fields and issues, the data set's issues and
// the trainer's metrics stream (python/preflight_train/train.py writes it). Parsed and checked in
// src/core/bear; shared so the webview reads the same types.

export type LossName = 'lml' | 'msl' | 'bear';

/** What the launch form edits. `baseModel` 'builtin' trains Preflight's small model (CPU demos). */
export interface LaunchForm {
  name: string;
  baseModel: string;
  train: string;
  valid: string;
  test: string;
  items: string;
  loss: LossName;
  tau: number;
  beam: number;
  lam: number;
  xi: number;
  loraEnabled: boolean;
  loraR: number;
  loraAlpha: number;
  epochs: number;
  /** effective batch size: per-device batch x gradient accumulation x GPUs */
  batchSize: number;
  perDeviceBatch: number;
  lr: number;
  outputDir: string;
  gpus: number;
  evalMaxUsers: number;
}

export interface FormIssue {
  field: keyof LaunchForm;
  message: string;
}

export interface DataIssue {
  file: string;
  /** 1-based line, 0 for a whole-file issue */
  line: number;
  severity: 'error' | 'warning';
  code: string;
  message: string;
}

export interface StartLine {
  type: 'start';
  time: number;
  loss: string;
  items: number;
  train: number;
  valid: number;
  test: number;
  epochs: number;
  total_steps: number;
  'random_hr@10': number;
  device?: string;
  resumed_from?: string | null;
}
export interface StepLine {
  type: 'step';
  time: number;
  epoch: number;
  step: number;
  total_steps?: number;
  loss: number;
  lr: number;
  bear_weight: number;
  outside_top_b: number;
}
export interface EvalLine {
  type: 'eval' | 'test';
  time: number;
  split: string;
  epoch: number;
  step?: number;
  [metric: string]: number | string | undefined;
}
export interface CheckpointLine {
  type: 'checkpoint';
  time: number;
  epoch: number;
  path: string;
}
export interface StatusLine {
  type: 'status';
  time: number;
  state: RunState;
  error?: string;
  best_epoch?: number;
  checkpoint?: string;
}
export type MetricsLine = StartLine | StepLine | EvalLine | CheckpointLine | StatusLine;

export type RunState = 'pending' | 'running' | 'finished' | 'failed' | 'stopped' | 'interrupted';
