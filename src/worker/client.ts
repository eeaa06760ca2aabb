// An InferenceModel whose sessions live in a worker thread (dist/worker.js): the extension host
// never blocks on ONNX Runtime. Same interface as the in-process openModel, so callers cannot tell.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type {
  ContinuationScore,
  ForwardResult,
  GenerateOptions,
  InferenceModel,
  ModelInfo,
  OpenModelOptions,
  RunOptions,
  TextTokenizer,
} from '../core/model/api';
import type { BuildProgress, BuildResult } from '../core/model/build';
import type { ForecastOptions, ForecastProgress } from '../core/mdf/forecast';
import type { MdfReport } from '../shared/reports/mdf';
import type { Method, WorkerMethods, WorkerRequest, WorkerResponse } from '../shared/protocol/worker';
import { CancelledError, fromWire } from '../shared/errors';

export interface WorkerModelOptions extends OpenModelOptions {
  /** the bundled worker entry; default: worker.js beside this bundle */
  workerPath?: string;
  /** extra node flags for the worker */
  execArgv?: string[];
}

/** A model in a worker thread: the inference calls, and whole tasks that run beside the model there. */
export interface WorkerModel extends InferenceModel {
  /**
   * The MDF forecast through the report cache (core/mdf/reportCache.ts forecastCached) run in the
   * worker: the same report as in process, and the caller's thread only waits (its tokenising and
   * statistics held the extension host for up to 413 ms, docs/responsiveness.md).
   */
  forecast(file: string, options: ForecastOptions): Promise<{ report: MdfReport; reused: boolean }>;
  /** Settles once no call is in flight (at once when none is). */
  whenIdle(): Promise<void>;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; onProgress?: (p: BuildProgress) => void };

class WorkerInferenceModel implements WorkerModel {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private idleWaiters: (() => void)[] = [];
  info!: ModelInfo;

  private loadedTokenizer: TextTokenizer | undefined;

  constructor(
    private readonly worker: Worker,
    /** the model folder whose tokenizer this side loads on first use (none for a build-only client) */
    private readonly dir: string | undefined,
    onNotice?: (message: string) => void,
  ) {
    worker.on('message', (msg: WorkerResponse) => {
      if (msg.kind === 'notice') return onNotice?.(msg.message);
      const p = this.pending.get(msg.id);
      if (!p) return;
      if (msg.kind === 'progress') return p.onProgress?.(msg.progress);
      this.pending.delete(msg.id);
      if (msg.kind === 'result') p.resolve(msg.result);
      else p.reject(fromWire(msg.error));
      this.notifyIfIdle();
    });
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => this.failAll(new Error(`inference worker exited (code ${code})`)));
  }

  /** This side's copy of the tokenizer, loaded on first use (the worker has its own). */
  get tokenizer(): TextTokenizer {
    if (!this.dir) throw new Error('this worker client has no model open');
    this.loadedTokenizer ??= tokenizerModule().loadTokenizer(this.dir);
    return this.loadedTokenizer;
  }

  private failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    this.notifyIfIdle();
  }

  private notifyIfIdle(): void {
    if (this.pending.size) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  whenIdle(): Promise<void> {
    return this.pending.size ? new Promise((resolve) => this.idleWaiters.push(resolve)) : Promise.resolve();
  }

  call<M extends Method>(method: M, params: WorkerMethods[M][0], signal?: AbortSignal, onProgress?: (p: BuildProgress) => void): Promise<WorkerMethods[M][1]> {
    if (signal?.aborted) return Promise.reject(new CancelledError('operation cancelled'));
    const id = this.nextId++;
    const onAbort = () => this.worker.postMessage({ id: this.nextId++, method: 'cancel', params: { target: id } } satisfies WorkerRequest);
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    return new Promise<WorkerMethods[M][1]>((resolve, reject) => {
      this.pending.set(id, {
        resolve: (v) => (done(), resolve(v as WorkerMethods[M][1])),
        reject: (e) => (done(), reject(e)),
        onProgress,
      });
      // steering vectors are copied, not transferred: callers reuse them across calls
      this.worker.postMessage({ id, method, params } as WorkerRequest);
    });
  }

  private static plain<T extends RunOptions>(options: T): Omit<T, 'signal'> {
    const { signal: _signal, ...rest } = options;
    return rest;
  }

  forward(batch: number[][], options: RunOptions = {}): Promise<ForwardResult> {
    return this.call('forward', { batch, options: WorkerInferenceModel.plain(options) }, options.signal);
  }

  scoreContinuations(pairs: { prompt: number[]; continuation: number[] }[], options: RunOptions = {}): Promise<ContinuationScore[]> {
    return this.call('score', { pairs, options: WorkerInferenceModel.plain(options) }, options.signal);
  }

  generate(prompts: number[][], options: GenerateOptions): Promise<number[][]> {
    return this.call('generate', { prompts, options: WorkerInferenceModel.plain(options) }, options.signal);
  }

  forecast(file: string, options: ForecastOptions): Promise<{ report: MdfReport; reused: boolean }> {
    const { signal, onProgress, ...plain } = options;
    // a forecast's progress messages are ForecastProgress (main.ts posts what forecastCached reports)
    return this.call('forecast', { file, options: plain }, signal, onProgress && ((p) => onProgress(p as ForecastProgress)));
  }

  async dispose(): Promise<void> {
    try {
      await this.call('dispose', {});
    } finally {
      await this.worker.terminate();
    }
  }
}

/**
 * core/model/tokenizer.ts, required on first use: bundled apart as dist/tokenizer.js beside this
 * bundle (scripts/build.mjs), so that the tokenizer and chat-template libraries (a third of the
 * extension bundle) are not compiled on activation; from source (tests, tsx), the module itself.
 * The path is computed so that esbuild leaves the require alone.
 */
function tokenizerModule(): typeof import('../core/model/tokenizer') {
  const bundled = join(__dirname, 'tokenizer.js');
  return require(existsSync(bundled) ? bundled : join(__dirname, '..', 'core', 'model', 'tokenizer')) as typeof import('../core/model/tokenizer');
}

function startWorker(options: { workerPath?: string; execArgv?: string[] }): Worker {
  const workerPath = options.workerPath ?? join(__dirname, 'worker.js');
  // a .ts entry (tests, running from source) is loaded through tsx's CommonJS hook
  return workerPath.endsWith('.ts')
    ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(workerPath)});`, { eval: true, execArgv: options.execArgv })
    : new Worker(workerPath, { execArgv: options.execArgv });
}

/** Builds a model in a fresh worker thread (the extension host stays responsive); cancelling
 *  stops it between tensors, and the half-written folder has no manifest, so it is never used. */
export async function buildModelInWorker(
  src: string,
  out: string,
  options: {
    dtype?: 'fp32' | 'fp16' | 'int8';
    force?: boolean;
    onProgress?: (p: BuildProgress) => void;
    signal?: AbortSignal;
    workerPath?: string;
    execArgv?: string[];
  } = {},
): Promise<BuildResult> {
  const worker = startWorker(options);
  const client = new WorkerInferenceModel(worker, undefined);
  try {
    return await client.call('build', { src, out, dtype: options.dtype ?? 'fp32', force: options.force }, options.signal, options.onProgress);
  } finally {
    await worker.terminate();
  }
}

/** Opens a built model in a new worker thread. */
export async function openModelInWorker(dir: string, options: WorkerModelOptions = {}): Promise<WorkerModel> {
  const worker = startWorker(options);
  const model = new WorkerInferenceModel(worker, dir, options.onNotice);
  try {
    model.info = await model.call('open', { dir, options: { provider: options.provider, threads: options.threads, spinning: options.spinning } });
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  return model;
}
