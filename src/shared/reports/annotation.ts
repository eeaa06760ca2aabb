// The annotation report: plain, JSON-serialisable and versioned (`preflight annotate --json` prints
// it, the panel draws it). Computed in src/core/annotation; shared so the webview reads the same types.
// Rates are fractions (0..1); shifts are in scale steps; every estimate carries its bootstrap interval.

export interface AnnotationFinding {
  file: string;
  /** 1-based line the row starts on */
  line: number;
  severity: 'error' | 'warning' | 'info';
  /** 'label-off-scale' | 'label-multi-marked' | 'label-none-marked' | 'duplicate-rating' | 'no-gold' */
  code: string;
  column?: string;
  message: string;
}

export interface LabelColumns {
  id?: string;
  text?: string;
  gold: string;
  llm: string;
  groups: string[];
}

/** A point estimate with its percentile bootstrap interval; null where the quantity is undefined (e.g. κ with one category). */
export interface Estimate {
  value: number | null;
  lo: number | null;
  hi: number | null;
}

/** The metric names, in the order used by the fast paths (typed arrays) of the bootstrap. */
export const METRIC_NAMES = [
  'accuracy',
  'boundaryRate',
  'conceptualRate',
  'severityWeightedError',
  'boundaryBias',
  'signedShift',
  'kappa',
  'quadraticKappa',
  'alphaNominal',
  'alphaOrdinal',
  'alphaInterval',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
export type RaterMetrics = Record<MetricName, Estimate>;

/** How one rater's labels fall on each gold level: the error direction per level. */
export interface LevelProfile {
  level: string;
  /** items whose gold label is this level */
  gold: number;
  /** items the rater put on this level */
  predicted: number;
  correct: number;
  boundaryUp: number;
  boundaryDown: number;
  conceptualUp: number;
  conceptualDown: number;
  /** mean (rater − gold) in scale steps over items of this gold level */
  meanShift: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

export interface RaterReport {
  /** 'llm', 'human (pooled)', a coder's name, or 'A1 vs A2' */
  name: string;
  /** items compared */
  n: number;
  counts: { correct: number; boundary: number; conceptual: number };
  metrics: RaterMetrics;
  /** confusion[gold][rater] */
  confusion: number[][];
  levels: LevelProfile[];
}

export type ShareName = 'correct' | 'boundaryTask' | 'conceptualTask' | 'boundaryModel' | 'conceptualModel';
export const SHARE_NAMES: ShareName[] = ['correct', 'boundaryTask', 'conceptualTask', 'boundaryModel', 'conceptualModel'];

export interface Decomposition {
  /** the five shares of all LLM labels; they sum to 1 */
  shares: Record<ShareName, Estimate>;
  /** H_t / (M_t + H_t): the fraction of the LLM's type-t errors attributed to the task */
  taskFraction: { boundary: Estimate; conceptual: Estimate };
  /** M_t and H_t that went into the formula */
  inputs: { mBoundary: number; mConceptual: number; hBoundary: number; hConceptual: number };
  /** false where the interval of (task − model) share of that error type contains 0 */
  separable: { boundary: boolean; conceptual: boolean };
  warnings: string[];
}

export interface GroupReport {
  /** a group column, or several joined with ' × ' */
  column: string;
  value: string;
  rater: RaterReport;
  decomposition: Decomposition | null;
}

export interface HumanReport {
  files: string[];
  format: 'long' | 'wide';
  /** items with a gold label and at least one coder label */
  items: number;
  coders: string[];
  /** where the gold labels of the human test came from */
  goldSource: 'gold-rows' | 'labels-file';
  pooled: RaterReport;
  perCoder: RaterReport[];
  /** coder vs coder (Cohen's κ and QWK of each pair) */
  pairs: RaterReport[];
  /** Krippendorff's α among the coders (gold excluded), any number of coders, missing values allowed */
  agreement: { alphaNominal: Estimate; alphaOrdinal: Estimate; alphaInterval: Estimate; coders: number; units: number };
}

export interface AnnotationReport {
  version: 1;
  kind: 'preflight.annotation';
  scale: { levels: string[]; source: string; name?: string };
  labels: { file: string; rows: number; used: number; columns: LabelColumns; missing: number; offScale: number };
  llm: RaterReport;
  human: HumanReport | null;
  decomposition: Decomposition | null;
  groups: GroupReport[];
  bootstrap: { resamples: number; seed: number; confidence: number; method: string };
  findings: AnnotationFinding[];
  /** findings not listed (over the cap); the counts in `labels` still count everything */
  findingsOmitted: number;
  warnings: string[];
  /** what could not be computed and why (e.g. no human test: no decomposition) */
  notComputed: string[];
}

/** The calibration of an annotator's confidences (core/annotation/calibration.ts computes it). */
export interface CalibrationBucket {
  /** confidence range [lo, hi) (the last bucket includes 1) */
  lo: number;
  hi: number;
  n: number;
  /** share of the bucket's labels equal to gold; null when empty */
  accuracy: number | null;
  meanConfidence: number | null;
}

export interface CalibrationReport {
  /** the confidence column read */
  column: string;
  /** rows with a gold label, an LLM label on the scale and a confidence in [0, 1] */
  n: number;
  buckets: CalibrationBucket[];
  /** expected calibration error, 0..1 */
  ece: number | null;
  /** largest |acc_b − conf_b| over non-empty buckets */
  maxGap: number | null;
  accuracy: number | null;
  meanConfidence: number | null;
  /** mean confidence − accuracy: > 0 overconfident, < 0 underconfident */
  overconfidence: number | null;
}

/**
 * The error type of a (gold, rater) pair of level indices on an ordinal scale (LAK '26): correct,
 * boundary (adjacent levels) or conceptual (two or more levels apart). Every count, diagnostic and
 * matrix cell classifies by this one rule.
 */
export const ERROR_TYPES = ['correct', 'boundary', 'conceptual'] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];

/** 0 correct, 1 boundary, 2 conceptual (an index into ERROR_TYPES). */
export function errorClass(gold: number, rater: number): 0 | 1 | 2 {
  const d = Math.abs(gold - rater);
  return d === 0 ? 0 : d === 1 ? 1 : 2;
}
