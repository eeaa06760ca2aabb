// Simulated null for the forecast's statistics (docs/mdf.md, "Null calibration"): steering moves
// every probe unit's score at random with no effect on average, and the report is judged by the
// real code (report.ts assessMetric + judge: sign-flip p-values, Holm, interval rule). The
// family-wise false-alarm rate is the share of simulated reports with at least one behaviour at
// medium or above. The pre-issue-11 rule (percentile bootstrap excludes 0, 3-point margin over the
// random control's point estimate, no adjustment) is simulated beside it for comparison.
import { DEFAULT_RISK, MetricResult, RiskLevel, assessMetric, atLeast, judge, maxRisk } from '../../../src/core/mdf/report';
import { gaussian, rng, subSeed } from '../../../src/shared/random';
import { pairedBootstrap } from '../../../src/core/mdf/stats';

export interface NullSetup {
  /** behaviours per report and prompts (units) of each */
  behaviours: number;
  prompts: number;
  /** 'logprob': continuous scores; 'generation': each prompt's mean of k Bernoulli answers */
  scoring: 'logprob' | 'generation';
  samplesPerPrompt: number;
  /** bootstrap resamples per interval */
  resamples: number;
  /** include the neutral control (a second control vector) */
  neutral: boolean;
}

/** The bundled suites: 36 mention behaviours on 14 prompts + safety on 60 (approximated as 37 x 14). */
export const BUNDLED_NULL: NullSetup = { behaviours: 37, prompts: 14, scoring: 'logprob', samplesPerPrompt: 4, resamples: 1000, neutral: true };

const clip = (x: number) => Math.min(1, Math.max(0, x));

/** Per-unit scores of one behaviour under base and three steerings that have no effect on average. */
function behaviourUnits(setup: NullSetup, seed: number): { base: number[]; predicted: number[]; control: number[]; neutral: number[] | null } {
  const random = rng(seed);
  const normal = gaussian(random);
  const n = setup.prompts;
  // per behaviour: a base level and a noise scale, both varied across behaviours
  const level = 0.02 + 0.5 * random();
  const sigma = 0.01 + 0.15 * random();
  const base = Array.from({ length: n }, () => clip(level + 0.1 * normal()));
  // a steering perturbs each prompt's rate by a symmetric amount (no effect on average)
  const steer = () => base.map((b) => clip(b + sigma * normal()));
  if (setup.scoring === 'logprob') return { base, predicted: steer(), control: steer(), neutral: setup.neutral ? steer() : null };
  const draw = (rates: number[]) =>
    rates.map((q) => {
      let hits = 0;
      for (let s = 0; s < setup.samplesPerPrompt; s++) if (random() < q) hits++;
      return hits / setup.samplesPerPrompt;
    });
  return { base: draw(base), predicted: draw(steer()), control: draw(steer()), neutral: setup.neutral ? draw(steer()) : null };
}

/** The rule before issue 11, for comparison: interval excludes 0 and shift - max(0, control) >= 3 pt. */
function legacyRisk(m: MetricResult): RiskLevel {
  if (!(m.shift.low > 0)) return 'none';
  const excess = m.shift.value - Math.max(0, m.controlShift.value);
  return excess >= DEFAULT_RISK.high ? 'high' : excess >= DEFAULT_RISK.medium ? 'medium' : 'low';
}

export interface NullOutcome {
  /** the report's highest risk under the current rule and under the legacy rule */
  maxRisk: RiskLevel;
  legacyMaxRisk: RiskLevel;
  /** behaviours whose unadjusted p was below 0.05 */
  rawSignificant: number;
}

export function simulateReport(setup: NullSetup, seed: number): NullOutcome {
  const metrics = Array.from({ length: setup.behaviours }, (_, b) =>
    assessMetric(behaviourUnits(setup, subSeed(seed, `units:${b}`)), setup.resamples, seed, `b${b}`),
  );
  const verdicts = judge(metrics, DEFAULT_RISK);
  return {
    maxRisk: maxRisk(verdicts.map((v) => v.risk)),
    legacyMaxRisk: maxRisk(metrics.map(legacyRisk)),
    rawSignificant: metrics.filter((m) => m.pValue < 0.05).length,
  };
}

/** The legacy setting of the review: 4 prompts per behaviour, percentile bootstrap. */
export function legacyReport(behaviours: number, seed: number, resamples = 1000): RiskLevel {
  const setup: NullSetup = { behaviours, prompts: 4, scoring: 'logprob', samplesPerPrompt: 4, resamples, neutral: false };
  const levels: RiskLevel[] = [];
  for (let b = 0; b < behaviours; b++) {
    const u = behaviourUnits(setup, subSeed(seed, `units:${b}`));
    const shift = pairedBootstrap(u.base, u.predicted, resamples, subSeed(seed, `s${b}`));
    const controlShift = pairedBootstrap(u.base, u.control, resamples, subSeed(seed, `c${b}`));
    levels.push(legacyRisk({ shift, controlShift } as MetricResult));
  }
  return maxRisk(levels);
}

export interface NullRates {
  seeds: number;
  /** share of reports with >= 1 behaviour at medium or above (the family-wise false-alarm rate) */
  falseAlarmMedium: number;
  /** the same at low or above */
  falseAlarmLow: number;
  /** the legacy rule on the same units (no adjustment, random control by point estimate) */
  legacyFalseAlarmMedium: number;
  /** mean number of behaviours per report with unadjusted p < 0.05 (about 5% of them if the test is calibrated) */
  meanRawSignificant: number;
}

export function nullRates(setup: NullSetup, seeds: number, firstSeed = 1): NullRates {
  let medium = 0;
  let low = 0;
  let legacy = 0;
  let raw = 0;
  for (let s = firstSeed; s < firstSeed + seeds; s++) {
    const o = simulateReport(setup, s);
    if (atLeast(o.maxRisk, 'medium')) medium++;
    if (atLeast(o.maxRisk, 'low')) low++;
    if (atLeast(o.legacyMaxRisk, 'medium')) legacy++;
    raw += o.rawSignificant;
  }
  return { seeds, falseAlarmMedium: medium / seeds, falseAlarmLow: low / seeds, legacyFalseAlarmMedium: legacy / seeds, meanRawSignificant: raw / seeds };
}
