// The trainer's metrics stream (<run>/metrics.jsonl, one JSON object per line; see
// python/preflight_train/train.py) and the run folder's status.json, parsed into plain data that the
// dashboard charts and the Jobs tree lists.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_CONFIG_BYTES, readRegularFileSync } from '../io/regularFile';

import type { CheckpointLine, EvalLine, MetricsLine, RunState, StartLine, StatusLine, StepLine } from '../../shared/reports/bear';

export type { CheckpointLine, EvalLine, MetricsLine, RunState, StartLine, StatusLine, StepLine };

/** Incremental JSONL parser: feed it appended text; it keeps a trailing partial line for the next chunk. */
export class MetricsParser {
  private rest = '';
  /** lines that were not JSON objects with a known type (skipped, counted) */
  skipped = 0;

  push(chunk: string): MetricsLine[] {
    const text = this.rest + chunk;
    const parts = text.split('\n');
    this.rest = parts.pop() ?? '';
    const out: MetricsLine[] = [];
    for (const part of parts) {
      const line = part.trim();
      if (!line) continue;
      try {
        const obj = JSON.parse(line) as { type?: unknown };
        if (obj && typeof obj === 'object' && typeof obj.type === 'string' && ['start', 'step', 'eval', 'test', 'checkpoint', 'status'].includes(obj.type)) {
          out.push(obj as MetricsLine);
        } else this.skipped++;
      } catch {
        this.skipped++;
      }
    }
    return out;
  }
}

export function parseMetrics(text: string): MetricsLine[] {
  const parser = new MetricsParser();
  return parser.push(text.endsWith('\n') ? text : text + '\n');
}

export interface RunSummary {
  start?: StartLine;
  steps: StepLine[];
  evals: EvalLine[];
  test?: EvalLine;
  checkpoints: CheckpointLine[];
  state: RunState;
  error?: string;
  best?: { epoch: number; metrics: Record<string, number>; checkpoint?: string };
}

/** Folds metric lines into a summary; `selectBy` names the validation metric that picks the best epoch. */
export function summarize(lines: MetricsLine[], selectBy = 'ndcg@10'): RunSummary {
  const s: RunSummary = { steps: [], evals: [], checkpoints: [], state: 'pending' };
  for (const line of lines) {
    switch (line.type) {
      case 'start':
        s.start = line;
        s.state = 'running';
        s.error = undefined;
        break;
      case 'step':
        s.steps.push(line);
        break;
      case 'eval':
        s.evals.push(line);
        break;
      case 'test':
        s.test = line;
        break;
      case 'checkpoint':
        s.checkpoints.push(line);
        break;
      case 'status':
        s.state = line.state;
        s.error = line.error;
        break;
    }
  }
  // A resumed run repeats epochs: keep the last evaluation of each epoch.
  const byEpoch = new Map<number, EvalLine>();
  for (const e of s.evals) byEpoch.set(e.epoch, e);
  s.evals = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  for (const e of s.evals) {
    const value = Number(e[selectBy] ?? 0);
    if (!s.best || value > (s.best.metrics[selectBy] ?? 0)) {
      s.best = { epoch: e.epoch, metrics: numericMetrics(e), checkpoint: s.checkpoints.find((c) => c.epoch === e.epoch)?.path };
    }
  }
  return s;
}

export function numericMetrics(line: EvalLine): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(line)) {
    if (/^(hr|ndcg)@\d+$/.test(k) && typeof v === 'number') out[k] = v;
  }
  return out;
}

export interface RunStatusFile {
  state: RunState;
  pid?: number;
  started?: number;
  updated?: number;
  epoch?: number;
  epochs?: number;
  step?: number;
  total_steps?: number;
  best?: { epoch: number; metrics: Record<string, number>; checkpoint: string } | null;
  test?: Record<string, number> | null;
  error?: string;
}

export interface RunInfo {
  id: string;
  dir: string;
  name: string;
  loss?: string;
  state: RunState;
  status?: RunStatusFile;
  created: number;
}

function readJson<T>(path: string): T | undefined {
  try {
    // run folders are workspace content: a status.json that is a FIFO or huge must not hang the Jobs view
    return JSON.parse(readRegularFileSync(path, { encoding: 'utf8', maxBytes: MAX_CONFIG_BYTES })) as T;
  } catch {
    return undefined;
  }
}

/** The default liveness probe: signal 0 checks that a process exists without touching it. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One run folder: status.json (written by the trainer) and config.json (written at launch). */
export function readRun(dir: string, id: string, alive: (pid: number) => boolean = processAlive): RunInfo {
  const status = readJson<RunStatusFile>(join(dir, 'status.json'));
  const config = readJson<{ name?: string; loss?: { name?: string } }>(join(dir, 'config.json'));
  let state: RunState = status?.state ?? 'pending';
  // 'running' written by a process that no longer exists: killed hard, or the machine went down.
  if (state === 'running' && status?.pid && !alive(status.pid)) state = 'interrupted';
  let created = 0;
  try {
    created = statSync(dir).mtimeMs;
  } catch {
    /* vanished */
  }
  return { id, dir, name: config?.name ?? id, loss: config?.loss?.name, state, status, created: status?.started ? status.started * 1000 : created };
}

/** Every run under a runs folder (each subfolder with a config.json), newest first. */
export function listRuns(root: string, alive: (pid: number) => boolean = processAlive): RunInfo[] {
  if (!existsSync(root)) return [];
  const runs: RunInfo[] = [];
  for (const id of readdirSync(root)) {
    const dir = join(root, id);
    try {
      if (!statSync(dir).isDirectory() || !existsSync(join(dir, 'config.json'))) continue;
    } catch {
      continue;
    }
    runs.push(readRun(dir, id, alive));
  }
  return runs.sort((a, b) => b.created - a.created || b.id.localeCompare(a.id));
}

export function formatMetric(value: number | undefined): string {
  return value === undefined || Number.isNaN(value) ? '–' : value.toFixed(4);
}
