// The inference contract that MDF, LLM annotation, the demo's beam-pruning audit and the CLI's
// generate/inspect program against. Implemented in-process on ONNX Runtime (runtime.ts: CLI, tests)
// and by a worker-thread client (src/worker/client.ts: extension), so callers never know where the
// model runs. Arrays are plain typed arrays: results cross the worker boundary transferred, not
// copied; steering vectors are copied (callers reuse them across calls).

export type Provider = 'cpu' | 'cuda';

export interface ModelInfo {
  family: 'llama' | 'mistral' | 'qwen2' | 'qwen3' | 'gemma3';
  numLayers: number;
  hiddenSize: number;
  vocabSize: number;
  numHeads: number;
  numKvHeads: number;
  maxPositions: number;
  /** int8: int8 linear weights, float32 activations (docs/engine.md, Weight formats) */
  dtype: 'fp32' | 'fp16' | 'int8';
  /** where sessions actually run (after any CUDA -> CPU fallback) */
  provider: Provider;
}

export interface ChatMessage {
  role: string;
  content: string;
}

export interface TextTokenizer {
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  decode(ids: number[], options?: { skipSpecialTokens?: boolean }): string;
  /** Renders the model's own chat template (tokenizer_config.json) with @huggingface/jinja. */
  applyChatTemplate(messages: ChatMessage[], options?: { addGenerationPrompt?: boolean }): string;
  readonly eosTokenIds: number[];
  readonly bosTokenId?: number;
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

export interface RunOptions {
  steering?: Steering;
  signal?: AbortSignal;
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

export interface GenerateOptions extends RunOptions {
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

export interface ContinuationScore {
  /** log p(continuation[t] | prompt, continuation[<t]) for each continuation token (natural log) */
  tokenLogProbs: Float64Array;
}

export interface InferenceModel {
  readonly info: ModelInfo;
  readonly tokenizer: TextTokenizer;
  /** Batched, padded prefill of whole sequences (token ids). */
  forward(batch: number[][], options?: RunOptions): Promise<ForwardResult>;
  /** Teacher-forced log-probabilities of continuations, batched. */
  scoreContinuations(pairs: { prompt: number[]; continuation: number[] }[], options?: RunOptions): Promise<ContinuationScore[]>;
  /** Generation with the KV cache; returns only the new token ids of each prompt. */
  generate(prompts: number[][], options: GenerateOptions): Promise<number[][]>;
  dispose(): Promise<void>;
}

export interface OpenModelOptions {
  provider?: 'auto' | Provider;
  /** intra-op threads; 0 = ONNX Runtime's default */
  threads?: number;
  /** called once if CUDA was asked for (or 'auto') but could not be used */
  onNotice?: (message: string) => void;
  /** let ONNX Runtime's idle pool threads spin (default false: on a shared or busy machine spinning
   *  threads slowed decoding about 3x in the engine benchmark; they also burn CPU while idle) */
  spinning?: boolean;
}
