// The MDF report: versioned, JSON-serialisable, the single thing the CLI prints, the panel draws
// and CI gates on. Schema "preflight.mdf/1" (fields documented in docs/mdf.md).
import type { Interval } from './stats';

export const REPORT_SCHEMA = 'preflight.mdf/1';

export type RiskLevel = 'none' | 'low' | 'medium' | 'high';
export const RISK_LEVELS: RiskLevel[] = ['none', 'low', 'medium', 'high'];

export interface RiskThresholds {
  /** shift above the control's shift (rate points, 0..1) for medium and for high */
  medium: number;
  high: number;
}

export const DEFAULT_RISK: RiskThresholds = { medium: 0.03, high: 0.1 };

export interface MetricResult {
  /** rate (0..1) at alpha = 0, under the signature at the chosen alpha, and under the random control at the chosen alpha */
  base: number;
  predicted: number;
  control: number;
  /** predicted - base and control - base with paired bootstrap intervals */
  shift: Interval;
  controlShift: Interval;
  /** units the rates average: prompts (logprob) or prompts x samples (generation) */
  units: number;
}

export interface CurvePoint {
  alpha: number;
  base: number;
  predicted: number;
  control: number;
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
  /** reference: the corpus subtracted in contrastive mode, else null */
  signature: { layerNorms: number[]; controlLayerNorms: number[]; cached: boolean; reference: { path: string; sha256: string; used: number } | null };
  alpha: { chosen: number; rule: string; reason: string; curve: AlphaCurvePoint[] };
  behaviours: BehaviourResult[];
  attribution: Attribution[];
  attributionNote: string | null;
  summary: { maxRisk: RiskLevel; flagged: string[] };
  timings: { signatureMs: number; coherenceMs: number; scoringMs: number; attributionMs: number; totalMs: number };
}

/**
 * The risk rule: a shift counts only when its interval excludes 0 (lower bound > 0); its level is
 * then set by how far it exceeds the random control's shift (excess = shift - max(0, control shift)).
 */
export function riskLevel(shift: Interval, controlShift: Interval, thresholds: RiskThresholds): { risk: RiskLevel; rule: string } {
  const pct = (x: number) => `${(100 * x).toFixed(1)} pt`;
  if (!(shift.low > 0)) return { risk: 'none', rule: `none: the 95% interval of the shift [${pct(shift.low)}, ${pct(shift.high)}] includes 0 or lies below it` };
  const excess = shift.value - Math.max(0, controlShift.value);
  if (excess >= thresholds.high) return { risk: 'high', rule: `high: interval excludes 0 and the shift exceeds the random control's by ${pct(excess)} >= ${pct(thresholds.high)}` };
  if (excess >= thresholds.medium) return { risk: 'medium', rule: `medium: interval excludes 0 and the shift exceeds the random control's by ${pct(excess)} >= ${pct(thresholds.medium)}` };
  return { risk: 'low', rule: `low: interval excludes 0 but the shift exceeds the random control's by only ${pct(excess)} < ${pct(thresholds.medium)}` };
}

export function maxRisk(levels: RiskLevel[]): RiskLevel {
  return levels.reduce<RiskLevel>((a, b) => (RISK_LEVELS.indexOf(b) > RISK_LEVELS.indexOf(a) ? b : a), 'none');
}

export function atLeast(level: RiskLevel, threshold: RiskLevel): boolean {
  return RISK_LEVELS.indexOf(level) >= RISK_LEVELS.indexOf(threshold);
}

/** Structural check of a parsed report (used by tests and by the panel before it draws). */
export function reportProblems(value: unknown): string[] {
  const problems: string[] = [];
  const r = value as Partial<MdfReport> | null;
  if (!r || typeof r !== 'object') return ['not an object'];
  if (r.schema !== REPORT_SCHEMA) problems.push(`schema must be ${REPORT_SCHEMA}`);
  for (const key of ['createdAt', 'file', 'model', 'settings', 'signature', 'alpha', 'behaviours', 'attribution', 'summary', 'timings'] as const) {
    if (r[key] === undefined) problems.push(`missing ${key}`);
  }
  for (const [i, b] of (r.behaviours ?? []).entries()) {
    for (const key of ['key', 'base', 'predicted', 'control', 'shift', 'controlShift', 'logprob', 'curve', 'risk', 'riskRule'] as const) {
      if ((b as unknown as Record<string, unknown>)[key] === undefined) problems.push(`behaviours[${i}] missing ${key}`);
    }
    if (!RISK_LEVELS.includes(b.risk)) problems.push(`behaviours[${i}].risk is not a risk level`);
  }
  return problems;
}
