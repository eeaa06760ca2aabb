// The plain data of the inference contract (src/core/model/api.ts): what a model reports and
// returns, and the settings of a run without its callbacks and AbortSignal. It is what crosses the
// worker boundary (protocol/worker.ts), so it lives here; core re-exports it for its callers.

export type Provider = 'cpu' | 'cuda';

/** fp32 (CPU), fp16 (CUDA), or int8: the linear layers and the LM head as blockwise int8 weights
 *  (MatMulNBits, CPU), everything else (activations, norms, embeddings, KV cache) fp32
 *  (docs/engine.md, Weight formats). */
export type WeightDtype = 'fp32' | 'fp16' | 'int8';

export interface ModelInfo {
  family: 'llama' | 'mistral' | 'qwen2' | 'qwen3' | 'gemma3';
  numLayers: number;
  hiddenSize: number;
  vocabSize: number;
  numHeads: number;
  numKvHeads: number;
  maxPositions: number;
  dtype: WeightDtype;
  /** where sessions actually run (after any CUDA -> CPU fallback) */
  provider: Provider;
}

/**
 * Steering per the model contract: `vectors` is [numLayers * hiddenSize] row-major, already scaled
 * (alpha * s_l); it is added to each layer's residual output at the positions selected.
 */
export interface Steering {
  vectors: Float32Array;
  /** 'all' (default): every position; 'prompt': prompt positions only; 'generated': new tokens only */
  positions?: 'all' | 'prompt' | 'generated';
}

/** A run's settings (core's RunOptions adds the AbortSignal). */
export interface RunSettings {
  steering?: Steering;
}

export interface GenerateSettings extends RunSettings {
  maxTokens: number;
  /** 0 = greedy */
  temperature?: number;
  topP?: number;
  seed?: number;
  /** extra stop ids besides the tokenizer's EOS ids */
  stopTokenIds?: number[];
  /** generate exactly maxTokens, not stopping at EOS (benchmarks) */
  ignoreEos?: boolean;
}

/** How to open a model (core's OpenModelOptions adds the notice callback). */
export interface OpenSettings {
  provider?: 'auto' | Provider;
  /** intra-op threads; 0 = ONNX Runtime's default */
  threads?: number;
  /** let ONNX Runtime's idle pool threads spin (default false: on a shared or busy machine spinning
   *  threads slowed decoding about 3x in the engine benchmark; they also burn CPU while idle) */
  spinning?: boolean;
}

export interface ForwardResult {
  /** per row: logits at the last real (non-padding) token, [vocabSize] */
  lastLogits: Float32Array[];
  /** per row: each layer's residual output at the last real token, [numLayers * hiddenSize] */
  hiddenLast: Float32Array[];
  /** per row: each layer's residual output averaged over the row's tokens, [numLayers * hiddenSize]
   *  (the mean-over-tokens signature variant; optional so that test doubles may omit it) */
  hiddenMean?: Float32Array[];
}

export interface ContinuationScore {
  /** log p(continuation[t] | prompt, continuation[<t]) for each continuation token (natural log) */
  tokenLogProbs: Float64Array;
}

/** A built model folder's manifest.json (src/core/model/manifest.ts reads it). */
export interface ModelManifest {
  format: 'preflight-onnx-model';
  builderVersion: string;
  sourceHash: string;
  sourceDir: string;
  architecture: string;
  info: Omit<ModelInfo, 'provider'>;
  headDim: number;
  intermediateSize: number;
  parameters: number;
  storedDtype: string;
  bytes: number;
  createdAt: string;
}

export interface BuildProgress {
  /** 0..1 */
  fraction: number;
  message: string;
}

export interface BuildResult {
  manifest: ModelManifest;
  /** true when an up-to-date build already existed */
  reused: boolean;
}
