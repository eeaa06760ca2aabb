// The one message protocol between the inference worker (src/worker/main.ts) and its client
// (src/worker/client.ts). Every request carries an id; the worker answers each with exactly one
// result or error. Typed arrays in results are transferred, not copied.
import type { WireError } from '../errors';
import type {
  BuildProgress,
  BuildResult,
  ContinuationScore,
  ForwardResult,
  GenerateSettings,
  ModelInfo,
  OpenSettings,
  RunSettings,
  WeightDtype,
} from '../model';
import type { MdfReport } from '../reports/mdf';

/** method -> [params, result] */
export interface WorkerMethods {
  open: [{ dir: string; options: OpenSettings }, ModelInfo];
  forward: [{ batch: number[][]; options: RunSettings }, ForwardResult];
  score: [{ pairs: { prompt: number[]; continuation: number[] }[]; options: RunSettings }, ContinuationScore[]];
  generate: [{ prompts: number[][]; options: GenerateSettings }, number[][]];
  /** HF checkpoint -> ONNX model folder, off the caller's thread; progress arrives as 'progress' messages */
  build: [{ src: string; out: string; dtype: WeightDtype; force?: boolean }, BuildResult];
  /**
   * A whole MDF forecast on the open model (core/mdf/reportCache.ts forecastCached), so that its
   * tokenising, statistics and cache reads never run on the caller's thread. `options` is core's
   * ForecastOptions without its signal and callback (shared cannot name core's types: the client,
   * src/worker/client.ts, types both ends); progress arrives as 'progress' messages (with a stage).
   */
  forecast: [{ file: string; options: object }, { report: MdfReport; reused: boolean }];
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
