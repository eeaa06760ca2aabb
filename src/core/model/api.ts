// The inference contract that MDF, LLM annotation, the demo's beam-pruning audit and the CLI's
// generate/inspect program against. Implemented in-process on ONNX Runtime (runtime.ts: CLI, tests)
// and by a worker-thread client (src/worker/client.ts: extension), so callers never know where the
// model runs. Arrays are plain typed arrays: results cross the worker boundary transferred, not
// copied; steering vectors are copied (callers reuse them across calls). The plain data (ModelInfo,
// results, settings) lives in src/shared/model.ts, since it crosses the worker boundary; this file
// adds what does not: the tokenizer, the AbortSignal, callbacks.
import type { ContinuationScore, ForwardResult, GenerateSettings, ModelInfo, OpenSettings, RunSettings } from '../../shared/model';

export type { ContinuationScore, ForwardResult, ModelInfo, Provider, Steering } from '../../shared/model';

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

export interface RunOptions extends RunSettings {
  signal?: AbortSignal;
}

export interface GenerateOptions extends GenerateSettings, RunOptions {}

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

export interface OpenModelOptions extends OpenSettings {
  /** called once if CUDA was asked for (or 'auto') but could not be used */
  onNotice?: (message: string) => void;
}
