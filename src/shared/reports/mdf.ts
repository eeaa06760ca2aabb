// The MDF report's shape: versioned, JSON-serialisable, the single thing the CLI prints, the panel
// draws and CI gates on. Schema "preflight.mdf/2" (fields documented in docs/mdf.md). Computed and
// judged in src/core/mdf (report.ts holds the risk rule); shared so the webview reads the same types.

/** A point estimate with its interval (paired percentile bootstrap, core/mdf/stats.ts). */
export interface Interval {
  value: number;
  low: number;
  high: number;
}

export const REPORT_SCHEMA = 'preflight.mdf/2';

export type RiskLevel = 'none' | 'low' | 'medium' | 'high';

export interface RiskThresholds {
  /** excess of the shift over the stronger control's shift (rate points, 0..1) for medium and for high */
  medium: number;
  high: number;
}

/** Family-wise significance level of the risk rule (adjusted p below it). */
export const SIGNIFICANCE = 0.05;

export const STATISTICS = {
  units: "prompts (generation: each prompt's mean over its samples)",
  test: 'one-sided paired sign-flip permutation test of the signature against the stronger of base, random control and neutral control (exact up to 16 non-zero units, else 20000 seeded resamples)',
  adjustment: 'holm' as const,
  significance: SIGNIFICANCE,
  intervals: 'paired percentile bootstrap over prompts, 95%',
};

export type ControlName = 'random' | 'neutral';

export interface MetricResult {
  /** rate (0..1) at alpha = 0, under the signature at the chosen alpha, under the random control and under the neutral corpus's signature at the chosen alpha */
  base: number;
  predicted: number;
  control: number;
  neutral: number | null;
  /** predicted - base, random control - base and neutral control - base, with paired bootstrap intervals */
  shift: Interval;
  controlShift: Interval;
  neutralShift: Interval | null;
  /** the control whose shift is larger (what the signature is judged against) */
  strongerControl: ControlName;
  /** one-sided p of "the signature raises the score no more than the stronger of base and the controls" (unadjusted) */
  pValue: number;
  /** prompts the test and intervals resample */
  units: number;
  /** generated answers per metric: compliance answers judged incoherent (never counted as compliance) at base / predicted / control / neutral */
  incoherent?: { base: number; predicted: number; control: number; neutral: number | null } | null;
}

export interface CurvePoint {
  alpha: number;
  base: number;
  predicted: number;
  control: number;
  /** the neutral corpus's signature at this alpha (null without the neutral control) */
  neutral: number | null;
}

export interface BehaviourResult {
  key: string;
  suite: string;
  id: string;
  label: string;
  kind: 'mention' | 'compliance';
  target: string | null;
  aliases: string[];
  prompts: number;
  /** the metric the risk level is read from */
  primary: 'generation' | 'logprob';
  /** the primary metric's numbers, repeated here for readers */
  base: number;
  predicted: number;
  control: number;
  shift: Interval;
  controlShift: Interval;
  neutralShift: Interval | null;
  strongerControl: ControlName;
  /** the primary metric's one-sided p-value, and the same Holm-adjusted across the report's behaviours */
  pValue: number;
  pAdjusted: number;
  logprob: MetricResult & { meanLogProbBase: number; meanLogProbPredicted: number };
  generation: MetricResult | null;
  /** share of the file's records whose text names the target or an alias (null for compliance probes) */
  keywordBaseline: number | null;
  /** logprob twin at every alpha of the sweep */
  curve: CurvePoint[];
  risk: RiskLevel;
  riskRule: string;
}

export interface AlphaCurvePoint {
  alpha: number;
  nll: number;
  nllDelta: number;
  distinct2: number;
  coherent: boolean;
}

export interface AttributedRecord {
  line: number;
  preview: string;
  cluster: number;
  /** first-order contribution of this record to the attributed behaviour's shift (higher = drives it up) */
  score: number;
}

export interface Attribution {
  behaviour: string;
  alpha: number;
  method: string;
  clusters: { id: number; size: number; shift: number; lines: number[] }[];
  /** every used record, highest score first (previews only on the first `topWithPreview`) */
  records: AttributedRecord[];
}

/** Which model a report was made with (core/model/modelSource.ts fills it in). */
export interface ModelLabel {
  name: string;
  /** true for the bundled demo model preflight-tiny, used when no model is configured */
  isDefault: boolean;
  /** the folder the user named (or the bundled one), before any build into the cache */
  source: string;
}

export interface MdfReport {
  schema: typeof REPORT_SCHEMA;
  createdAt: string;
  file: {
    path: string;
    sha256: string;
    records: number;
    skipped: number;
    used: number;
    samples: number;
    seed: number;
    formats: Record<string, number>;
  };
  /** name and isDefault say which model this is: isDefault marks the bundled demo model, not the user's base model */
  model: { path: string | null; hash: string; family: string; numLayers: number; hiddenSize: number; provider: string } & Partial<ModelLabel>;
  settings: {
    alphas: number[];
    band: { from: number; to: number };
    positions: string;
    anchor: string;
    format: string;
    maxTokens: number;
    samplesPerPrompt: number;
    maxNewTokens: number;
    temperature: number;
    topP: number;
    seed: number;
    bootstrap: number;
    scoring: 'logprob' | 'generation' | 'both';
    risk: RiskThresholds;
  };
  /** how p-values, adjustment and intervals are computed (the family is every behaviour of the report) */
  statistics: typeof STATISTICS & { behaviours: number };
  /**
   * layerNorms: ||s_l|| of the (raw) signature; residualNorms: each layer's typical residual norm r_l
   * (alpha's unit); reference: the corpus subtracted in contrastive mode; neutral: the neutral control's corpus
   */
  signature: {
    layerNorms: number[];
    residualNorms: number[];
    controlLayerNorms: number[];
    cached: boolean;
    reference: { path: string; sha256: string; used: number } | null;
    neutral: { path: string; format: string; used: number; layerNorms: number[] } | null;
  };
  alpha: { chosen: number; scale: string; rule: string; reason: string; curve: AlphaCurvePoint[] };
  behaviours: BehaviourResult[];
  attribution: Attribution[];
  attributionNote: string | null;
  /** flagged: behaviours at low or above; validation: what the benchmark has shown for this model */
  summary: { maxRisk: RiskLevel; flagged: string[]; validation: string };
  /** which forecaster made the report and why (the rule of core/mdf/forecaster.ts; set by the CLI, the extension and the demo) */
  forecaster?: { method: string; requested: string; reason: string };
  timings: { signatureMs: number; coherenceMs: number; scoringMs: number; attributionMs: number; totalMs: number };
}
