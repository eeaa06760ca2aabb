// The in-process InferenceModel on ONNX Runtime (CLI, tests, and the body of the worker thread).
//
// Batches are right-padded: row b holds its tokens at 0..len_b-1, attention_mask marks them, and
// the graph reads hidden_last / the last logits at len_b - 1. Generation keeps the padding holes in
// the KV cache (masked out) and continues each row at position len_b + t.
import type * as Ort from 'onnxruntime-node';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type {
  ContinuationScore,
  ForwardResult,
  GenerateOptions,
  InferenceModel,
  ModelInfo,
  OpenModelOptions,
  Provider,
  RunOptions,
  Steering,
  TextTokenizer,
} from './api';
import { MODEL_FILE, ModelManifest, readManifest } from './build';
import { rng as seededRandom } from '../../shared/random';
import { logSoftmax, sampleToken } from './sampling';
import { loadTokenizer } from './tokenizer';
import { throwIfCancelled } from '../../shared/errors';

// onnxruntime-node (a native module) loads on first use, so importing this file is cheap and
// `preflight build-model` works where it is not installed.
let ortModule: typeof Ort | undefined;
export async function loadOrt(): Promise<typeof Ort> {
  ortModule ??= await import('onnxruntime-node');
  return ortModule;
}

/** Padded rows x tokens of one prefill run; bigger inputs are split (bounds activation memory,
 *  e.g. [tokens, intermediate] floats in the MLP). */
const MAX_TOKENS_PER_RUN = 8192;

export interface StepOutput {
  /** [B,N,V]: logits at the N requested positions of each row */
  logits: Float32Array;
  /** [B,L,E] */
  hiddenLast: Float32Array;
  /** [B,L,E] */
  hiddenMean: Float32Array;
  presentKeys: Ort.Tensor[];
  presentValues: Ort.Tensor[];
}

/**
 * Whether onnxruntime-node's native folder holds the CUDA execution provider library
 * (libonnxruntime_providers_cuda.so / onnxruntime_providers_cuda.dll; absent from the default
 * install); undefined when the folder cannot be found (then the provider is simply tried).
 */
export function cudaProviderInstalled(): boolean | undefined {
  try {
    const root = dirname(dirname(require.resolve('onnxruntime-node')));
    const bin = join(root, 'bin');
    for (const napi of readdirSync(bin)) {
      const dir = join(bin, napi, process.platform, process.arch);
      if (!existsSync(join(dir, 'onnxruntime_binding.node'))) continue;
      return readdirSync(dir).some((f) => /providers_cuda\.(so|dll)/.test(f));
    }
  } catch {
    // not resolvable from here (e.g. another bundle layout): try the provider
  }
  return undefined;
}

export async function createSession(modelPath: string, options: OpenModelOptions): Promise<{ session: Ort.InferenceSession; provider: Provider }> {
  const ort = await loadOrt();
  const base: Ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
    extra: { session: { intra_op: { allow_spinning: options.spinning ? '1' : '0' } } },
  };
  const want = options.provider ?? 'auto';
  if (want !== 'cpu' && cudaProviderInstalled() === false) {
    // the default (CPU-only) install: asking ONNX Runtime for CUDA would only fail to load the library
    options.onNotice?.(
      'Preflight: the CUDA execution provider is not available (onnxruntime-node has no CUDA provider library installed); running on the CPU. ' +
        'See the README for installing the CUDA binaries of onnxruntime-node.',
    );
  } else if (want !== 'cpu') {
    // ONNX Runtime logs the failed provider-library load at error level through its process-wide
    // logger before throwing; the fallback is reported once through onNotice instead.
    if (ort.env.logLevel === undefined || ort.env.logLevel === 'warning') ort.env.logLevel = 'fatal';
    try {
      const session = await ort.InferenceSession.create(modelPath, { ...base, logSeverityLevel: 4, executionProviders: ['cuda', 'cpu'] });
      return { session, provider: 'cuda' };
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      options.onNotice?.(
        `Preflight: the CUDA execution provider is not available (${reason}); running on the CPU. ` +
          'See the README for installing the CUDA binaries of onnxruntime-node.',
      );
    }
  }
  const session = await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cpu'] });
  return { session, provider: 'cpu' };
}

export class OrtInferenceModel implements InferenceModel {
  readonly info: ModelInfo;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly zeroSteer: Float32Array;

  constructor(
    private readonly ort: typeof Ort,
    private readonly session: Ort.InferenceSession,
    readonly manifest: ModelManifest,
    readonly tokenizer: TextTokenizer,
    provider: Provider,
  ) {
    this.info = { ...manifest.info, provider };
    this.zeroSteer = new Float32Array(this.info.numLayers * this.info.hiddenSize);
  }

  private get kvType(): 'float32' | 'float16' {
    return this.info.dtype === 'fp16' ? 'float16' : 'float32';
  }

  private emptyPast(batch: number): Ort.Tensor {
    const dims = [batch, this.info.numKvHeads, 0, this.manifest.headDim];
    return this.kvType === 'float16' ? new this.ort.Tensor('float16', new Uint16Array(0), dims) : new this.ort.Tensor('float32', new Float32Array(0), dims);
  }

  private checkSteering(steering?: Steering): Float32Array {
    if (!steering) return this.zeroSteer;
    const expected = this.info.numLayers * this.info.hiddenSize;
    if (steering.vectors.length !== expected) {
      throw new Error(`steering vectors have ${steering.vectors.length} values; this model needs numLayers*hiddenSize = ${expected}`);
    }
    return steering.vectors;
  }

  /** One graph run, serialised: ONNX Runtime sessions are not re-entrant from one JS thread's view. */
  async step(args: {
    ids: BigInt64Array;
    batch: number;
    seq: number;
    attentionMask: BigInt64Array;
    positionIds: BigInt64Array;
    past?: { keys: Ort.Tensor[]; values: Ort.Tensor[] };
    steer: Float32Array;
    steerMask: Float32Array;
    /** [B*N] positions (within the S new tokens) whose logits are computed; default: all S */
    logitsPositions?: BigInt64Array;
  }): Promise<StepOutput> {
    const { batch, seq } = args;
    const logitsPositions = args.logitsPositions ?? BigInt64Array.from({ length: batch * seq }, (_, i) => BigInt(i % seq));
    const L = this.info.numLayers;
    const ort = this.ort;
    const feeds: Record<string, Ort.Tensor> = {
      input_ids: new ort.Tensor('int64', args.ids, [batch, seq]),
      attention_mask: new ort.Tensor('int64', args.attentionMask, [batch, args.attentionMask.length / batch]),
      position_ids: new ort.Tensor('int64', args.positionIds, [batch, seq]),
      steer: new ort.Tensor('float32', args.steer, [L, this.info.hiddenSize]),
      steer_mask: new ort.Tensor('float32', args.steerMask, [batch, seq]),
      logits_positions: new ort.Tensor('int64', logitsPositions, [batch, logitsPositions.length / batch]),
    };
    for (let l = 0; l < L; l++) {
      feeds[`past_key.${l}`] = args.past?.keys[l] ?? this.emptyPast(batch);
      feeds[`past_value.${l}`] = args.past?.values[l] ?? this.emptyPast(batch);
    }
    const run = this.queue.then(() => this.session.run(feeds));
    this.queue = run.catch(() => undefined);
    const out = await run;
    return {
      logits: out.logits.data as Float32Array,
      hiddenLast: out.hidden_last.data as Float32Array,
      hiddenMean: out.hidden_mean.data as Float32Array,
      presentKeys: Array.from({ length: L }, (_, l) => out[`present_key.${l}`]),
      presentValues: Array.from({ length: L }, (_, l) => out[`present_value.${l}`]),
    };
  }

  /** Item indices grouped into runs: sorted by length, so that rows of similar length share a run
   *  (little padding), each run at most MAX_TOKENS_PER_RUN padded tokens. */
  private chunks(lengths: number[]): number[][] {
    const order = lengths.map((_, i) => i).sort((x, y) => lengths[x] - lengths[y]);
    const out: number[][] = [];
    let current: number[] = [];
    for (const i of order) {
      // sorted ascending: the newest item is the longest of its run
      if (current.length && lengths[i] * (current.length + 1) > MAX_TOKENS_PER_RUN) {
        out.push(current);
        current = [];
      }
      current.push(i);
    }
    if (current.length) out.push(current);
    return out;
  }

  async forward(batch: number[][], options: RunOptions = {}): Promise<ForwardResult> {
    const steer = this.checkSteering(options.steering);
    const steerPrompt = (options.steering?.positions ?? 'all') !== 'generated';
    const { vocabSize: V, numLayers: L, hiddenSize: E } = this.info;
    const result = {
      lastLogits: new Array<Float32Array>(batch.length),
      hiddenLast: new Array<Float32Array>(batch.length),
      hiddenMean: new Array<Float32Array>(batch.length),
    };
    for (const group of this.chunks(batch.map((r) => r.length))) {
      throwIfCancelled(options.signal, 'operation cancelled');
      const { out } = await this.prefill(
        group.map((i) => batch[i]),
        steer,
        () => steerPrompt,
      );
      group.forEach((i, b) => {
        result.lastLogits[i] = out.logits.slice(b * V, (b + 1) * V);
        result.hiddenLast[i] = out.hiddenLast.slice(b * L * E, (b + 1) * L * E);
        result.hiddenMean[i] = out.hiddenMean.slice(b * L * E, (b + 1) * L * E);
      });
    }
    return result;
  }

  async scoreContinuations(pairs: { prompt: number[]; continuation: number[] }[], options: RunOptions = {}): Promise<ContinuationScore[]> {
    const steer = this.checkSteering(options.steering);
    const positions = options.steering?.positions ?? 'all';
    const scores: ContinuationScore[] = new Array(pairs.length);
    if (pairs.some((p) => p.prompt.length === 0)) throw new Error('scoreContinuations needs a non-empty prompt (start it with BOS)');
    // pairs that share their prompt (token for token) are scored from one prefill of it; a prompt
    // with a single continuation is scored in one pass of the whole row
    const byPrompt = new Map<string, number[]>();
    pairs.forEach((p, i) => {
      const key = p.prompt.join(',');
      const list = byPrompt.get(key);
      if (list) list.push(i);
      else byPrompt.set(key, [i]);
    });
    const alone: number[] = [];
    const shared: number[][] = [];
    for (const list of byPrompt.values()) list.length > 1 ? shared.push(list) : alone.push(list[0]);
    if (alone.length) await this.scoreWhole(pairs, alone, steer, positions, scores, options.signal);
    if (shared.length) await this.scoreShared(pairs, shared, steer, positions, scores, options.signal);
    return scores;
  }

  /** Each pair as one right-padded row prompt + continuation. */
  private async scoreWhole(
    pairs: { prompt: number[]; continuation: number[] }[],
    items: number[],
    steer: Float32Array,
    positions: 'all' | 'prompt' | 'generated',
    scores: ContinuationScore[],
    signal?: AbortSignal,
  ): Promise<void> {
    const V = this.info.vocabSize;
    for (const chunk of this.chunks(items.map((i) => pairs[i].prompt.length + pairs[i].continuation.length))) {
      throwIfCancelled(signal, 'operation cancelled');
      const indices = chunk.map((c) => items[c]);
      const group = indices.map((i) => pairs[i]);
      const rows = group.map((p) => [...p.prompt, ...p.continuation]);
      // logits where each continuation token is predicted: prompt.length - 1 + t
      const n = Math.max(1, ...group.map((p) => p.continuation.length));
      const wanted = new BigInt64Array(group.length * n);
      group.forEach((p, b) => {
        for (let t = 0; t < n; t++) wanted[b * n + t] = BigInt(p.prompt.length - 1 + Math.min(t, Math.max(0, p.continuation.length - 1)));
      });
      const { out } = await this.prefill(
        rows,
        steer,
        (b, s) => (positions === 'all' ? true : positions === 'prompt' ? s < group[b].prompt.length : s >= group[b].prompt.length),
        wanted,
      );
      group.forEach((p, b) => {
        const lp = new Float64Array(p.continuation.length);
        for (let t = 0; t < p.continuation.length; t++) {
          const at = (b * n + t) * V;
          lp[t] = logSoftmax(out.logits.subarray(at, at + V))[p.continuation[t]];
        }
        scores[indices[b]] = { tokenLogProbs: lp };
      });
    }
  }

  /**
   * Continuations that share a prompt: the distinct prompts are prefilled once (right-padded
   * batches), which gives every continuation's first log-prob and the prompts' KV cache; the rest
   * of each continuation (all but its last token) then runs as new tokens after its prompt's cache,
   * tiled once per continuation. Positions continue at prompt.length, the attention mask is the
   * prompt's (padding holes masked) followed by the continuation's, and steering covers the same
   * positions as in scoreWhole, so the log-probs equal the unshared ones (up to float rounding).
   */
  private async scoreShared(
    pairs: { prompt: number[]; continuation: number[] }[],
    groups: number[][],
    steer: Float32Array,
    positions: 'all' | 'prompt' | 'generated',
    scores: ContinuationScore[],
    signal?: AbortSignal,
  ): Promise<void> {
    const V = this.info.vocabSize;
    const steerPrompt = positions !== 'generated';
    const steerNew = positions !== 'prompt';
    for (const group of groups) {
      const longest = pairs[group[0]].prompt.length + Math.max(...group.map((i) => pairs[i].continuation.length));
      if (longest > this.info.maxPositions) throw new Error(`sequence of ${longest} tokens exceeds the model's ${this.info.maxPositions} positions`);
    }
    for (const chunk of this.chunks(groups.map((g) => pairs[g[0]].prompt.length))) {
      throwIfCancelled(signal, 'operation cancelled');
      const prompts = chunk.map((c) => pairs[groups[c][0]].prompt);
      const { out: first, seq: P } = await this.prefill(prompts, steer, () => steerPrompt);
      // the first continuation token of every pair, from the prompt's last logits
      const rest: { index: number; row: number; pair: { prompt: number[]; continuation: number[] } }[] = [];
      chunk.forEach((c, b) => {
        const lastLp = logSoftmax(first.logits.subarray(b * V, (b + 1) * V));
        for (const index of groups[c]) {
          const pair = pairs[index];
          const lp = new Float64Array(pair.continuation.length);
          if (pair.continuation.length) lp[0] = lastLp[pair.continuation[0]];
          scores[index] = { tokenLogProbs: lp };
          if (pair.continuation.length > 1) rest.push({ index, row: b, pair });
        }
      });
      if (!rest.length) continue;
      // the remaining tokens, in runs of at most MAX_TOKENS_PER_RUN (past + new) padded tokens
      const [, K, past, D] = first.presentKeys[0].dims;
      if (past !== P) throw new Error(`prefill returned a KV cache of ${past} positions for ${P} tokens`);
      const kvRow = K * P * D;
      for (const sub of this.chunks(rest.map((r) => P + r.pair.continuation.length - 1))) {
        throwIfCancelled(signal, 'operation cancelled');
        const items = sub.map((s) => rest[s]);
        const R = items.length;
        const m = Math.max(...items.map((r) => r.pair.continuation.length - 1));
        const T = P + m;
        const ids = new BigInt64Array(R * m);
        const mask = new BigInt64Array(R * T);
        const pos = new BigInt64Array(R * m);
        const steerMask = new Float32Array(R * m);
        const wanted = new BigInt64Array(R * m);
        items.forEach(({ pair }, r) => {
          const len = pair.continuation.length - 1;
          for (let s = 0; s < pair.prompt.length; s++) mask[r * T + s] = 1n;
          for (let t = 0; t < m; t++) {
            const real = t < len;
            ids[r * m + t] = BigInt(real ? pair.continuation[t] : 0);
            mask[r * T + P + t] = real ? 1n : 0n;
            pos[r * m + t] = BigInt(real ? pair.prompt.length + t : 0);
            steerMask[r * m + t] = real && steerNew ? 1 : 0;
            wanted[r * m + t] = BigInt(Math.min(t, len - 1));
          }
        });
        const tile = (tensors: Ort.Tensor[]) =>
          tensors.map((tensor) => {
            const src = tensor.data as Float32Array | Uint16Array;
            const data = new (src.constructor as new (n: number) => Float32Array | Uint16Array)(R * kvRow);
            items.forEach(({ row }, r) => data.set(src.subarray(row * kvRow, (row + 1) * kvRow), r * kvRow));
            return new this.ort.Tensor(tensor.type as 'float32', data as Float32Array, [R, K, P, D]);
          });
        const out = await this.step({
          ids,
          batch: R,
          seq: m,
          attentionMask: mask,
          positionIds: pos,
          steer,
          steerMask,
          logitsPositions: wanted,
          past: { keys: tile(first.presentKeys), values: tile(first.presentValues) },
        });
        items.forEach(({ index, pair }, r) => {
          const lp = scores[index].tokenLogProbs;
          for (let t = 1; t < pair.continuation.length; t++) {
            const at = (r * m + t - 1) * V;
            lp[t] = logSoftmax(out.logits.subarray(at, at + V))[pair.continuation[t]];
          }
        });
      }
    }
  }

  /** Right-padded prefill of `rows`; `steerAt(b, s)` says which real positions receive steering. */
  private async prefill(rows: number[][], steer: Float32Array, steerAt: (b: number, s: number) => boolean, logitsPositions?: BigInt64Array) {
    const batch = rows.length;
    const seq = Math.max(...rows.map((r) => r.length));
    if (rows.some((r) => r.length === 0)) throw new Error('empty token sequence');
    if (seq > this.info.maxPositions) throw new Error(`sequence of ${seq} tokens exceeds the model's ${this.info.maxPositions} positions`);
    const ids = new BigInt64Array(batch * seq);
    const mask = new BigInt64Array(batch * seq);
    const pos = new BigInt64Array(batch * seq);
    const steerMask = new Float32Array(batch * seq);
    rows.forEach((row, b) => {
      for (let s = 0; s < seq; s++) {
        const real = s < row.length;
        ids[b * seq + s] = BigInt(real ? row[s] : 0);
        mask[b * seq + s] = real ? 1n : 0n;
        pos[b * seq + s] = BigInt(s);
        steerMask[b * seq + s] = real && steerAt(b, s) ? 1 : 0;
      }
    });
    // default: logits at each row's last real token only
    logitsPositions ??= BigInt64Array.from(rows, (r) => BigInt(r.length - 1));
    const out = await this.step({ ids, batch, seq, attentionMask: mask, positionIds: pos, steer, steerMask, logitsPositions });
    return { out, seq, mask };
  }

  async generate(prompts: number[][], options: GenerateOptions): Promise<number[][]> {
    const steer = this.checkSteering(options.steering);
    const positions = options.steering?.positions ?? 'all';
    const temperature = options.temperature ?? 0;
    const topP = options.topP ?? 1;
    const rng = seededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
    const stop = new Set([...(options.ignoreEos ? [] : this.tokenizer.eosTokenIds), ...(options.stopTokenIds ?? [])]);
    const V = this.info.vocabSize;
    const batch = prompts.length;
    if (batch === 0 || options.maxTokens <= 0) return prompts.map(() => []);
    throwIfCancelled(options.signal, 'operation cancelled');

    const { out: first, seq, mask: promptMask } = await this.prefill(prompts, steer, () => positions !== 'generated');
    const generated: number[][] = prompts.map(() => []);
    const done = new Array<boolean>(batch).fill(false);
    let next = prompts.map((_, b) => sampleToken(first.logits.subarray(b * V, (b + 1) * V), temperature, topP, rng));
    let past = { keys: first.presentKeys, values: first.presentValues };
    // the attention mask grows by one column of ones per step; padding holes stay zero
    let mask = promptMask;
    let total = seq;
    const steerNew = new Float32Array(batch).fill(positions === 'prompt' ? 0 : 1);

    for (let t = 0; ; t++) {
      next.forEach((token, b) => {
        if (done[b]) return;
        generated[b].push(token);
        if (stop.has(token) || generated[b].length >= options.maxTokens) done[b] = true;
      });
      if (done.every(Boolean)) break;
      throwIfCancelled(options.signal, 'operation cancelled');
      const grown = new BigInt64Array(batch * (total + 1));
      for (let b = 0; b < batch; b++) {
        grown.set(mask.subarray(b * total, (b + 1) * total), b * (total + 1));
        grown[b * (total + 1) + total] = 1n;
      }
      mask = grown;
      total += 1;
      const ids = BigInt64Array.from(next, (token) => BigInt(token));
      const pos = BigInt64Array.from(prompts, (p) => BigInt(p.length + t));
      const out = await this.step({
        ids,
        batch,
        seq: 1,
        attentionMask: mask,
        positionIds: pos,
        past,
        steer,
        steerMask: steerNew,
        logitsPositions: new BigInt64Array(batch),
      });
      past = { keys: out.presentKeys, values: out.presentValues };
      next = prompts.map((_, b) => (done[b] ? next[b] : sampleToken(out.logits.subarray(b * V, (b + 1) * V), temperature, topP, rng)));
    }
    return generated;
  }

  async dispose(): Promise<void> {
    await this.queue;
    await this.session.release();
  }
}

/** Opens a model folder written by buildModel, in this thread. */
export async function openModel(dir: string, options: OpenModelOptions = {}): Promise<OrtInferenceModel> {
  const manifest = readManifest(dir);
  if (!manifest) throw new Error(`${dir}: not a built Preflight model (no manifest.json); run 'preflight build-model' first`);
  const tokenizer = loadTokenizer(dir);
  const { session, provider } = await createSession(join(dir, MODEL_FILE), options);
  return new OrtInferenceModel(await loadOrt(), session, manifest, tokenizer, provider);
}
