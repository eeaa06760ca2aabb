// The one message protocol between the inference worker (main.ts) and its client (client.ts).
// Every request carries an id; the worker answers each with exactly one result or error. Typed
// arrays in results are transferred, not copied.
import type { ContinuationScore, ForwardResult, GenerateOptions, ModelInfo, OpenModelOptions, RunOptions } from '../core/model/api';
import type { BuildProgress, BuildResult } from '../core/model/build';
import type { WireError } from '../shared/errors';

type Plain<T> = Omit<T, 'signal'>;

/** method -> [params, result] */
export interface WorkerMethods {
  open: [{ dir: string; options: Omit<OpenModelOptions, 'onNotice'> }, ModelInfo];
  forward: [{ batch: number[][]; options: Plain<RunOptions> }, ForwardResult];
  score: [{ pairs: { prompt: number[]; continuation: number[] }[]; options: Plain<RunOptions> }, ContinuationScore[]];
  generate: [{ prompts: number[][]; options: Plain<GenerateOptions> }, number[][]];
  /** HF checkpoint -> ONNX model folder, off the caller's thread; progress arrives as 'progress' messages */
  build: [{ src: string; out: string; dtype: 'fp32' | 'fp16' | 'int8'; force?: boolean }, BuildResult];
  /** aborts the request `target` (its AbortSignal fires; it stops between steps) */
  cancel: [{ target: number }, void];
  dispose: [Record<string, never>, void];
}

export type Method = keyof WorkerMethods;

export type WorkerRequest = { [M in Method]: { id: number; method: M; params: WorkerMethods[M][0] } }[Method];

export type WorkerResponse =
  | { id: number; kind: 'result'; result: unknown }
  | { id: number; kind: 'error'; error: WireError }
  | { id: number; kind: 'progress'; progress: BuildProgress }
  /** unsolicited: e.g. the CUDA -> CPU fallback notice */
  | { id: -1; kind: 'notice'; message: string };

/** The ArrayBuffers inside a result, to pass as the transfer list. */
export function transferables(value: unknown, out: ArrayBuffer[] = []): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    const buffer = value.buffer as ArrayBuffer;
    if (buffer instanceof ArrayBuffer && !out.includes(buffer)) out.push(buffer);
  } else if (Array.isArray(value)) {
    for (const v of value) transferables(v, out);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) transferables(v, out);
  }
  return out;
}
