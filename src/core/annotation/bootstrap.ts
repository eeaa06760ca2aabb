// Percentile bootstrap for every metric and share. Two independent resamplings per round, as the
// two samples are independent: the evaluated items (rows, i.i.d.: drawn as one multinomial over
// the confusion cells, which is the same distribution as drawing rows with replacement) and the
// human-test items (drawn as whole items, so each item keeps all its coders' labels).
// The inner loops touch only typed arrays; nothing is allocated per resample.
import { addUnitToCoincidence, alphaFromCoincidence } from './agreement';
import { decomposeInto } from './decompose';
import { METRIC_COUNT, metricsFromConfusion } from './metrics';
import { Rng } from '../../shared/random';
import { multinomialFromCounts } from './random';
import { throwIfCancelled } from '../../shared/errors';

/** One rater compared on the human-test items: its (gold, rater) pair codes g·K + r grouped by item. */
export interface ItemPairs {
  /** start[i]..start[i+1] indexes the pairs of item i */
  start: Int32Array;
  codes: Uint16Array;
}

export interface HumanSample {
  items: number;
  /** pooled coders first, then one per coder, then coder pairs */
  raters: ItemPairs[];
  /** each item's coder labels (for α among coders): start/codes like ItemPairs but single level codes */
  unitStart: Int32Array;
  unitCodes: Uint16Array;
}

export interface BootstrapInput {
  K: number;
  values: ArrayLike<number>;
  resamples: number;
  seed: number;
  /** the LLM's confusion matrices: overall first, then one per group */
  llm: Float64Array[];
  human?: HumanSample;
}

export interface BootstrapOutput {
  /** per LLM confusion: resamples × METRIC_COUNT */
  llm: Float64Array[];
  /** per LLM confusion: resamples × 7 (five shares, then the two task fractions); empty without a human test */
  shares: Float64Array[];
  /** per human rater: resamples × METRIC_COUNT */
  human: Float64Array[];
  /** resamples × 3: α nominal, ordinal, interval among coders */
  alpha: Float64Array;
}

export const SHARE_STRIDE = 7;

/** All rounds at once, synchronously (tests, small inputs). */
export function runBootstrap(input: BootstrapInput): BootstrapOutput {
  const run = bootstrapRounds(input);
  for (let b = 0; b < input.resamples; b++) run.round(b);
  return run.output;
}

/** Rounds between pauses are capped by time, so the host's event loop (and a cancel) gets a turn. */
const SLICE_MS = 25;

/**
 * The rounds with a pause every SLICE_MS: `signal` is checked at each pause, so a cancel stops a
 * long bootstrap within milliseconds (the extension runs the analysis on its host thread).
 */
export async function runBootstrapAsync(input: BootstrapInput, signal?: AbortSignal): Promise<BootstrapOutput> {
  const run = bootstrapRounds(input);
  let slice = Date.now();
  for (let b = 0; b < input.resamples; b++) {
    run.round(b);
    if (Date.now() - slice > SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      throwIfCancelled(signal);
      slice = Date.now();
    }
  }
  return run.output;
}

function bootstrapRounds(input: BootstrapInput): { round: (b: number) => void; output: BootstrapOutput } {
  const { K, values, human } = input;
  const B = input.resamples;
  const rng = new Rng(input.seed);
  const KK = K * K;
  const conf = new Float64Array(KK);
  const scratch = new Float64Array(KK);
  const metrics = new Float64Array(METRIC_COUNT);
  const totals = input.llm.map((c) => c.reduce((a, b) => a + b, 0));
  const llmOut = input.llm.map(() => new Float64Array(B * METRIC_COUNT));
  const sharesOut = human ? input.llm.map(() => new Float64Array(B * SHARE_STRIDE)) : [];
  const humanOut = human ? human.raters.map(() => new Float64Array(B * METRIC_COUNT)) : [];
  const alphaOut = new Float64Array(human ? B * 3 : 0);
  const humanConf = human ? human.raters.map(() => new Float64Array(KK)) : [];
  const coincidence = new Float64Array(KK);
  const picks = new Int32Array(human ? human.items : 0);
  const unit = new Uint16Array(64);

  const round = (b: number): void => {
    let hBoundary = NaN;
    let hConceptual = NaN;
    if (human && human.items > 0) {
      for (let i = 0; i < human.items; i++) picks[i] = rng.int(human.items);
      for (let r = 0; r < human.raters.length; r++) {
        const c = humanConf[r];
        c.fill(0);
        const { start, codes } = human.raters[r];
        for (let i = 0; i < human.items; i++) {
          const item = picks[i];
          for (let p = start[item]; p < start[item + 1]; p++) c[codes[p]]++;
        }
        const out = metricsFromConfusion(c, K, values, metrics, scratch);
        humanOut[r].set(out, b * METRIC_COUNT);
        if (r === 0) {
          hBoundary = out[1];
          hConceptual = out[2];
        }
      }
      coincidence.fill(0);
      for (let i = 0; i < human.items; i++) {
        const item = picks[i];
        const from = human.unitStart[item];
        const m = Math.min(human.unitStart[item + 1] - from, unit.length);
        for (let k = 0; k < m; k++) unit[k] = human.unitCodes[from + k];
        addUnitToCoincidence(coincidence, K, unit.subarray(0, m));
      }
      alphaOut[b * 3] = alphaFromCoincidence(coincidence, K, 'nominal');
      alphaOut[b * 3 + 1] = alphaFromCoincidence(coincidence, K, 'ordinal');
      alphaOut[b * 3 + 2] = alphaFromCoincidence(coincidence, K, 'interval', values);
    }
    for (let s = 0; s < input.llm.length; s++) {
      multinomialFromCounts(rng, input.llm[s], totals[s], conf);
      const out = metricsFromConfusion(conf, K, values, metrics, scratch);
      llmOut[s].set(out, b * METRIC_COUNT);
      if (human) {
        const shares = sharesOut[s];
        const at = b * SHARE_STRIDE;
        decomposeInto(out[0], out[1], out[2], hBoundary, hConceptual, shares, at);
        shares[at + 5] = out[1] + hBoundary > 0 ? hBoundary / (out[1] + hBoundary) : NaN;
        shares[at + 6] = out[2] + hConceptual > 0 ? hConceptual / (out[2] + hConceptual) : NaN;
      }
    }
  };
  return { round, output: { llm: llmOut, shares: sharesOut, human: humanOut, alpha: alphaOut } };
}

/**
 * Percentile interval of column `index` of a resamples × stride table (NaN rounds skipped;
 * linear interpolation between order statistics, R's type 7). Null when fewer than 2 rounds are defined.
 */
export function percentileInterval(table: Float64Array, stride: number, index: number, confidence: number): [number | null, number | null] {
  const rounds = table.length / stride;
  const values: number[] = [];
  for (let b = 0; b < rounds; b++) {
    const v = table[b * stride + index];
    if (Number.isFinite(v)) values.push(v);
  }
  if (values.length < 2) return [null, null];
  values.sort((x, y) => x - y);
  const tail = (1 - confidence) / 2;
  return [quantileSorted(values, tail), quantileSorted(values, 1 - tail)];
}

export function quantileSorted(sorted: number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}
