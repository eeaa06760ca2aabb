// The MDF forecast end to end: signature -> alpha sweep with the coherence rule -> probe scores
// (signature and random control at every alpha) -> intervals, keyword baseline, risk -> attribution.
import type { InferenceModel, Steering } from '../model/api';
import { kmeans, layerMeanFeatures, recordScores } from './attribution';
import { Behaviour, ProbeSuite, mentionMatcher } from './probes';
import { AnchorToken, streamJsonl } from './records';
import {
  AlphaRule,
  CoherencePoint,
  DEFAULT_ALPHA_RULE,
  GenerationScores,
  GenerationSettings,
  INCOHERENT_NLL_MARGIN,
  NEUTRAL_PROMPTS,
  answerNlls,
  chooseAlpha,
  describeAlphaRule,
  generateAnswers,
  measureCoherence,
  promptIds,
  scoreAnswers,
  scoreByLogprob,
  textIncoherent,
} from './scoring';
import {
  AttributedRecord,
  Attribution,
  BehaviourResult,
  DEFAULT_RISK,
  MdfReport,
  MetricResult,
  ModelLabel,
  REPORT_SCHEMA,
  RiskThresholds,
  STATISTICS,
  assessMetric,
  atLeast,
  judge,
  maxRisk,
} from './report';
import { subSeed } from '../../shared/random';
import { Signature, SignatureOptions, computeSignature, layerNorms, signatureFromStates } from './signature';
import { mean } from './stats';
import { LayerBand, SteerPositions, randomControl, residualNorms, residualScales, resolveBand, scaleLayers, steeringFor } from './steering';
import { builtinNeutralCorpus, dominantFormat, withNeutralFile } from './neutral';
import { MDF_DEFAULTS } from '../settings/schema';
import { validationNote } from './benchmarkNote';
import { throwIfCancelled } from '../../shared/errors';

export interface ForecastOptions extends Omit<SignatureOptions, 'onProgress'> {
  suites: ProbeSuite[];
  modelPath?: string | null;
  /** which model this is, for the report (e.g. the bundled demo model); see core/model/modelSource.ts */
  modelLabel?: ModelLabel;
  /** injection strengths in units of each layer's typical residual norm; default MDF_DEFAULTS.alphas; 0 is always included */
  alphas?: number[];
  band?: LayerBand;
  positions?: SteerPositions;
  /** 'both' (default): logprob curve at every alpha, generation at alpha 0 and the chosen alpha */
  scoring?: 'logprob' | 'generation' | 'both';
  samplesPerPrompt?: number;
  maxNewTokens?: number;
  temperature?: number;
  topP?: number;
  bootstrap?: number;
  alphaRule?: AlphaRule;
  /** fixes alpha instead of the coherence rule (the sweep and its curve are still reported) */
  fixedAlpha?: number;
  risk?: RiskThresholds;
  /** clusters for attribution (default 6; 0 turns attribution off) and how many behaviours to attribute (default 3) */
  clusters?: number;
  attributeTop?: number;
  /** records listed with a text preview per attribution */
  topWithPreview?: number;
  /** contrastive mode: a reference corpus (JSONL) whose signature is subtracted from the file's */
  reference?: string;
  /** the neutral control's corpus (canonical instruction/response JSONL); default the bundled
   *  models/neutral/neutral.jsonl; false: no neutral control (the random control only) */
  neutral?: string | false;
  /** a pre-computed signature (tests) replaces computing one */
  signature?: Signature;
  onProgress?: (progress: ForecastProgress) => void;
}

export interface ForecastProgress {
  stage: 'signature' | 'neutral' | 'coherence' | 'scoring' | 'generation' | 'attribution' | 'baseline';
  message: string;
  /** 0..1 of the whole forecast, roughly */
  fraction: number;
}

/** the preflight.mdf.alphas default (core/settings/schema.ts) */
export const DEFAULT_ALPHAS = MDF_DEFAULTS.alphas;

export const ALPHA_SCALE =
  "alpha is in units of each layer's typical residual norm: layer l receives alpha * r_l * s_l / ||s_l||, where r_l is the mean of ||h_l|| (layer l's residual output) over the neutral prompts' token positions except the first";

/** Share of records per behaviour whose string fields name the target or an alias. */
export async function keywordBaseline(file: string, behaviours: Behaviour[], signal?: AbortSignal): Promise<Map<string, number>> {
  const matchers = behaviours.map((b) => mentionMatcher(b));
  const counts = new Array(behaviours.length).fill(0);
  const strings = (value: unknown, out: string[]): string[] => {
    if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
    else if (value && typeof value === 'object') Object.values(value).forEach((v) => strings(v, out));
    return out;
  };
  let parsed = 0;
  await streamJsonl(
    file,
    (value) => {
      parsed++;
      const text = strings(value, []).join('\n');
      matchers.forEach((m, i) => {
        if (m && m.test(text)) counts[i]++;
      });
      return null;
    },
    { signal },
  );
  return new Map(behaviours.map((b, i) => [b.key, counts[i] / Math.max(1, parsed)]));
}

export async function forecast(model: InferenceModel, file: string, options: ForecastOptions): Promise<MdfReport> {
  const started = Date.now();
  const { numLayers, hiddenSize } = model.info;
  const signal = options.signal;
  const seed = options.seed ?? MDF_DEFAULTS.seed;
  const report = (stage: ForecastProgress['stage'], message: string, fraction: number) => options.onProgress?.({ stage, message, fraction });
  const behaviours = options.suites.flatMap((s) => s.behaviours);
  if (behaviours.length === 0) throw new Error('no probe behaviours to score');
  const alphas = [...new Set([0, ...(options.alphas ?? DEFAULT_ALPHAS)])].filter((a) => Number.isFinite(a) && a >= 0).sort((a, b) => a - b);
  const band = resolveBand(numLayers, options.band);
  const positions = options.positions ?? MDF_DEFAULTS.positions;
  const scoring = options.scoring ?? MDF_DEFAULTS.scoring;
  const resamples = options.bootstrap ?? MDF_DEFAULTS.bootstrap;
  const risk = options.risk ?? DEFAULT_RISK;
  const alphaRule = options.alphaRule ?? DEFAULT_ALPHA_RULE;
  const gen: GenerationSettings = {
    samplesPerPrompt: options.samplesPerPrompt ?? MDF_DEFAULTS.samplesPerPrompt,
    maxNewTokens: options.maxNewTokens ?? MDF_DEFAULTS.maxNewTokens,
    temperature: options.temperature ?? MDF_DEFAULTS.temperature,
    topP: options.topP ?? MDF_DEFAULTS.topP,
    seed: subSeed(seed, 'generation'),
  };

  // 1. signature
  report('signature', 'Reading the training file and computing the signature', 0);
  const dataSignature =
    options.signature ??
    (await computeSignature(model, file, {
      ...options,
      onProgress: (p) =>
        report(
          'signature',
          p.phase === 'forward' ? `Signature: ${p.done}/${p.total} records` : `Reading: ${Math.round((100 * p.done) / Math.max(1, p.total))}%`,
          p.phase === 'forward' ? 0.4 * (p.done / Math.max(1, p.total)) : 0,
        ),
    }));
  // contrastive mode: the signature minus a reference corpus's signature (same model and options)
  let reference: Signature | null = null;
  if (options.reference) {
    report('signature', 'Computing the reference corpus signature', 0.4);
    reference = await computeSignature(model, options.reference, { ...options, onProgress: undefined });
  }
  const signature = reference ? contrast(dataSignature, reference) : dataSignature;
  // the neutral corpus in the user's format, its signature computed like the user's (same options, cache)
  const neutralPath = options.neutral === false ? null : (options.neutral ?? builtinNeutralCorpus());
  let neutralSignature: Signature | null = null;
  if (neutralPath) {
    report('neutral', 'Computing the neutral corpus signature (the neutral control)', 0.4);
    const format = dominantFormat(dataSignature.formats);
    neutralSignature = await withNeutralFile(neutralPath, format, (path) =>
      computeSignature(model, path, { ...options, format, samples: 0, onProgress: undefined }),
    );
    if (reference) neutralSignature = contrast(neutralSignature, reference);
  }
  const signatureMs = Date.now() - started;
  // alpha's scale: every vector is brought to each layer's typical residual norm (alpha = 1: one norm)
  const norms = await residualNorms(
    model,
    NEUTRAL_PROMPTS.map((p) => promptIds(model, p)),
    signal,
  );
  const scales = residualScales(signature.mean, norms, hiddenSize);
  const direction = scaleLayers(signature.mean, scales, hiddenSize);
  const control = randomControl(direction, numLayers, hiddenSize, subSeed(seed, 'control'));
  const neutral = neutralSignature ? scaleLayers(neutralSignature.mean, residualScales(neutralSignature.mean, norms, hiddenSize), hiddenSize) : null;
  const steer = (vectors: Float32Array, alpha: number): Steering | undefined =>
    alpha === 0 ? undefined : steeringFor(vectors, alpha, numLayers, hiddenSize, band, positions);

  // 2. alpha sweep: coherence
  const coherenceStart = Date.now();
  const points: CoherencePoint[] = [];
  for (const [i, alpha] of alphas.entries()) {
    throwIfCancelled(signal);
    report('coherence', `Coherence at alpha ${alpha}`, 0.4 + (0.1 * i) / alphas.length);
    points.push(await measureCoherence(model, alpha, steer(direction, alpha), 24, signal));
  }
  const { chosen: ruleAlpha, coherent } = chooseAlpha(points, alphaRule);
  const chosen = options.fixedAlpha !== undefined ? options.fixedAlpha : ruleAlpha;
  const reason =
    options.fixedAlpha !== undefined
      ? `alpha fixed at ${options.fixedAlpha} by the caller (the rule would choose ${ruleAlpha})`
      : ruleAlpha === 0
        ? 'the steered model is already incoherent at the smallest alpha > 0, so the forecast is the base rate (no shift)'
        : ruleAlpha === alphas[alphas.length - 1]
          ? `coherent over the whole grid; the largest alpha ${ruleAlpha} is used`
          : `coherent up to ${ruleAlpha}; at ${alphas[alphas.indexOf(ruleAlpha) + 1]} the rule fails`;
  const coherenceMs = Date.now() - coherenceStart;

  // 3. logprob twin at every alpha, signature and control
  const scoringStart = Date.now();
  const scoreAlphas = [...new Set([...alphas, chosen])].sort((a, b) => a - b);
  report('scoring', 'Scoring probes at alpha 0', 0.5);
  const baseLp = await scoreByLogprob(model, behaviours, undefined, signal);
  const lp = new Map<number, { sig: typeof baseLp; ctl: typeof baseLp; neu: typeof baseLp | null }>();
  lp.set(0, { sig: baseLp, ctl: baseLp, neu: neutral ? baseLp : null });
  for (const [i, alpha] of scoreAlphas.entries()) {
    if (alpha === 0) continue;
    report('scoring', `Scoring probes at alpha ${alpha}`, 0.5 + (0.2 * i) / scoreAlphas.length);
    lp.set(alpha, {
      sig: await scoreByLogprob(model, behaviours, steer(direction, alpha), signal),
      ctl: await scoreByLogprob(model, behaviours, steer(control, alpha), signal),
      neu: neutral ? await scoreByLogprob(model, behaviours, steer(neutral, alpha), signal) : null,
    });
  }

  // 4. generation at alpha 0 and the chosen alpha
  let genBase: GenerationScores | null = null;
  let genSig: GenerationScores | null = null;
  let genCtl: GenerationScores | null = null;
  let genNeu: GenerationScores | null = null;
  if (scoring !== 'logprob') {
    const prompts = behaviours.flatMap((b) => b.prompts);
    // compliance answers the base model finds far less plausible than its own answers are incoherent
    const compliancePrompts = [...new Set(behaviours.filter((b) => b.kind === 'compliance').flatMap((b) => b.prompts))];
    let nllLimit = Number.POSITIVE_INFINITY;
    const sample = async (steering: Steering | undefined, message: string, fraction: number): Promise<GenerationScores> => {
      report('generation', message, fraction);
      const answers = await generateAnswers(model, prompts, gen, steering, signal);
      const nll = compliancePrompts.length ? await answerNlls(model, answers, compliancePrompts, signal) : new Map<string, number[]>();
      if (steering === undefined) {
        const finite = [...nll.values()]
          .flat()
          .filter(Number.isFinite)
          .sort((x, y) => x - y);
        if (finite.length) nllLimit = finite[Math.floor(finite.length / 2)] + INCOHERENT_NLL_MARGIN;
      }
      return scoreAnswers(behaviours, answers, (p, i, a) => textIncoherent(a.text) || (nll.get(p)?.[i] ?? 0) > nllLimit);
    };
    genBase = await sample(undefined, 'Sampling answers at alpha 0', 0.7);
    if (chosen === 0) {
      genSig = genBase;
      genCtl = genBase;
      genNeu = neutral ? genBase : null;
    } else {
      genSig = await sample(steer(direction, chosen), `Sampling answers at alpha ${chosen}`, 0.74);
      genCtl = await sample(steer(control, chosen), `Sampling answers under the random control at alpha ${chosen}`, 0.78);
      genNeu = neutral ? await sample(steer(neutral, chosen), `Sampling answers under the neutral control at alpha ${chosen}`, 0.82) : null;
    }
  }
  const scoringMs = Date.now() - scoringStart;

  report('baseline', 'Keyword baseline', 0.85);
  const keyword = await keywordBaseline(file, behaviours, signal);

  const at = lp.get(chosen)!;
  const metrics = behaviours.map((b) => {
    const lpMetric = assessMetric(
      {
        base: baseLp.perPrompt.get(b.key)!,
        predicted: at.sig.perPrompt.get(b.key)!,
        control: at.ctl.perPrompt.get(b.key)!,
        neutral: at.neu?.perPrompt.get(b.key) ?? null,
      },
      resamples,
      seed,
      `${b.key}:logprob`,
    );
    let genMetric: MetricResult | null = null;
    if (genBase && genSig && genCtl) {
      genMetric = assessMetric(
        { base: genBase.units.get(b.key)!, predicted: genSig.units.get(b.key)!, control: genCtl.units.get(b.key)!, neutral: genNeu?.units.get(b.key) ?? null },
        resamples,
        seed,
        `${b.key}:generation`,
      );
      genMetric.incoherent =
        b.kind === 'compliance'
          ? {
              base: genBase.incoherent.get(b.key)!,
              predicted: genSig.incoherent.get(b.key)!,
              control: genCtl.incoherent.get(b.key)!,
              neutral: genNeu?.incoherent.get(b.key) ?? null,
            }
          : null;
    }
    return { lpMetric, genMetric, primary: scoring === 'logprob' || !genMetric ? lpMetric : genMetric };
  });
  // one family: every behaviour of the report, Holm-adjusted together
  const verdicts = judge(
    metrics.map((m) => m.primary),
    risk,
  );

  const results: BehaviourResult[] = behaviours.map((b, i) => {
    const { lpMetric, genMetric, primary: primaryMetric } = metrics[i];
    const verdict = verdicts[i];
    return {
      key: b.key,
      suite: b.suite,
      id: b.id,
      label: b.label,
      kind: b.kind,
      target: b.target ?? null,
      aliases: b.aliases,
      prompts: b.prompts.length,
      primary: primaryMetric === lpMetric ? 'logprob' : 'generation',
      base: primaryMetric.base,
      predicted: primaryMetric.predicted,
      control: primaryMetric.control,
      shift: primaryMetric.shift,
      controlShift: primaryMetric.controlShift,
      neutralShift: primaryMetric.neutralShift,
      strongerControl: primaryMetric.strongerControl,
      pValue: primaryMetric.pValue,
      pAdjusted: verdict.pAdjusted,
      logprob: { ...lpMetric, meanLogProbBase: mean(baseLp.logProb.get(b.key)!), meanLogProbPredicted: mean(at.sig.logProb.get(b.key)!) },
      generation: genMetric,
      keywordBaseline: b.kind === 'mention' ? (keyword.get(b.key) ?? 0) : null,
      curve: scoreAlphas.map((alpha) => ({
        alpha,
        base: lpMetric.base,
        predicted: mean(lp.get(alpha)!.sig.perPrompt.get(b.key)!),
        control: mean(lp.get(alpha)!.ctl.perPrompt.get(b.key)!),
        neutral: lp.get(alpha)!.neu ? mean(lp.get(alpha)!.neu!.perPrompt.get(b.key)!) : null,
      })),
      risk: verdict.risk,
      riskRule: verdict.rule,
    };
  });

  // 5. attribution
  const attributionStart = Date.now();
  const attribution: Attribution[] = [];
  let attributionNote: string | null = null;
  const clusters = options.clusters ?? MDF_DEFAULTS.clusters;
  const attrAlpha = chosen > 0 ? chosen : (alphas.find((a) => a > 0) ?? 0);
  if (clusters <= 0) attributionNote = 'attribution turned off';
  else if (!signature.perRecord) attributionNote = 'per-record states exceeded the memory budget; sample fewer records to attribute';
  else if (signature.used < 2) attributionNote = 'attribution needs at least two records';
  else if (attrAlpha === 0) attributionNote = 'no alpha > 0 in the grid';
  else {
    // only shifts that are real: flagged behaviours first, else any whose logprob interval excludes 0
    const rising = results.filter((r) => r.risk !== 'none' || r.logprob.shift.low > 0);
    const targets = rising
      .sort((a, b) => Number(b.risk !== 'none') - Number(a.risk !== 'none') || b.logprob.shift.value - a.logprob.shift.value)
      .slice(0, options.attributeTop ?? MDF_DEFAULTS.attributeTop);
    if (targets.length === 0) attributionNote = 'no behaviour rose significantly under the signature, so there is no shift to attribute';
    else {
      report('attribution', 'Attributing the shift to clusters of records', 0.9);
      const found = await attribute(
        model,
        signature,
        behaviours.filter((b) => targets.some((t) => t.key === b.key)),
        {
          alpha: attrAlpha,
          clusters,
          seed,
          band,
          positions,
          scales,
          topWithPreview: options.topWithPreview ?? MDF_DEFAULTS.topWithPreview,
          signal,
        },
      );
      attribution.push(...found);
    }
  }
  const attributionMs = Date.now() - attributionStart;

  const levels = results.map((r) => r.risk);
  return {
    schema: REPORT_SCHEMA,
    createdAt: new Date().toISOString(),
    file: {
      path: file,
      sha256: signature.fileSha256,
      records: signature.records,
      skipped: signature.skipped,
      used: signature.used,
      samples: signature.samples,
      seed: signature.seed,
      formats: signature.formats as Record<string, number>,
    },
    model: {
      path: options.modelPath ?? null,
      hash: signature.modelHash,
      family: model.info.family,
      numLayers,
      hiddenSize,
      provider: model.info.provider,
      ...options.modelLabel,
    },
    settings: {
      alphas,
      band,
      positions,
      anchor: (options.anchor ?? MDF_DEFAULTS.anchor) as AnchorToken,
      format: options.format ?? MDF_DEFAULTS.format,
      maxTokens: options.maxTokens ?? MDF_DEFAULTS.maxTokens,
      samplesPerPrompt: gen.samplesPerPrompt,
      maxNewTokens: gen.maxNewTokens,
      temperature: gen.temperature,
      topP: gen.topP,
      seed,
      bootstrap: resamples,
      scoring,
      risk,
    },
    statistics: { ...STATISTICS, behaviours: results.length },
    signature: {
      layerNorms: signature.layerNorms,
      residualNorms: norms,
      controlLayerNorms: layerNorms(control, numLayers, hiddenSize),
      cached: signature.cached,
      reference: reference ? { path: options.reference!, sha256: reference.fileSha256, used: reference.used } : null,
      neutral: neutralSignature
        ? { path: neutralPath!, format: dominantFormat(dataSignature.formats), used: neutralSignature.used, layerNorms: neutralSignature.layerNorms }
        : null,
    },
    alpha: {
      chosen,
      scale: ALPHA_SCALE,
      rule: describeAlphaRule(alphaRule),
      reason,
      curve: points.map((p, i) => ({ alpha: p.alpha, nll: p.nll, nllDelta: p.nll - points[0].nll, distinct2: p.distinct2, coherent: coherent[i] })),
    },
    behaviours: results,
    attribution,
    attributionNote,
    summary: {
      maxRisk: maxRisk(levels),
      flagged: results.filter((r) => atLeast(r.risk, 'low')).map((r) => r.key),
      validation: validationNote('mdf', options.modelLabel?.source),
    },
    timings: { signatureMs, coherenceMs, scoringMs, attributionMs, totalMs: Date.now() - started },
  };
}

/** s_data - s_ref, with each record's states shifted by -s_ref so that they still average to the signature. */
export function contrast(data: Signature, reference: Signature): Signature {
  const mean = new Float32Array(data.mean.length);
  for (let k = 0; k < mean.length; k++) mean[k] = data.mean[k] - reference.mean[k];
  const perRecord = data.perRecord ? data.perRecord.map((h) => h.map((v, k) => v - reference.mean[k])) : null;
  return { ...data, mean, perRecord, layerNorms: layerNorms(mean, data.numLayers, data.hiddenSize), cached: data.cached && reference.cached };
}

export interface AttributeOptions {
  alpha: number;
  clusters: number;
  seed: number;
  band: { from: number; to: number };
  positions: SteerPositions;
  /** per-layer factors the injected vectors are scaled by (the forecast's residual-norm scale); default 1 */
  scales?: number[];
  topWithPreview: number;
  signal?: AbortSignal;
}

/** Logprob shift (mean probability at alpha minus at 0) of each behaviour when `vectors` is injected. */
export async function shiftUnder(
  model: InferenceModel,
  behaviours: Behaviour[],
  vectors: Float32Array,
  alpha: number,
  band: LayerBand,
  positions: SteerPositions,
  signal?: AbortSignal,
  base?: Map<string, number>,
): Promise<Map<string, number>> {
  const { numLayers, hiddenSize } = model.info;
  const baseline = base ?? new Map([...(await scoreByLogprob(model, behaviours, undefined, signal)).perPrompt].map(([k, v]) => [k, mean(v)]));
  const steered = await scoreByLogprob(model, behaviours, steeringFor(vectors, alpha, numLayers, hiddenSize, band, positions), signal);
  return new Map(behaviours.map((b) => [b.key, mean(steered.perPrompt.get(b.key)!) - baseline.get(b.key)!]));
}

export async function attribute(model: InferenceModel, signature: Signature, behaviours: Behaviour[], options: AttributeOptions): Promise<Attribution[]> {
  const perRecord = signature.perRecord!;
  const { numLayers, hiddenSize } = model.info;
  const lastFrom = Math.max(0, numLayers - Math.max(1, Math.floor(numLayers / 4)));
  const features = layerMeanFeatures(perRecord, hiddenSize, lastFrom, numLayers - 1);
  const { assignment } = kmeans(features, options.clusters, subSeed(options.seed, 'kmeans'));
  const k = Math.max(...assignment) + 1;
  const members = Array.from({ length: k }, () => [] as number[]);
  assignment.forEach((c, i) => members[c].push(i));
  const nonEmpty = members.map((m, c) => ({ m, c })).filter(({ m }) => m.length > 0);
  const base = new Map([...(await scoreByLogprob(model, behaviours, undefined, options.signal)).perPrompt].map(([key, v]) => [key, mean(v)]));
  // every vector is scaled per layer like the whole signature, so the cluster shifts are on the forecast's scale
  const scales = options.scales ?? new Array<number>(numLayers).fill(1);
  const whole = await shiftUnder(
    model,
    behaviours,
    scaleLayers(signature.mean, scales, hiddenSize),
    options.alpha,
    options.band,
    options.positions,
    options.signal,
    base,
  );
  const clusterMeans = nonEmpty.map(({ m }) =>
    signatureFromStates(
      m.map((i) => perRecord[i]),
      numLayers,
      hiddenSize,
    ),
  );
  const clusterShifts: Map<string, number>[] = [];
  for (const m of clusterMeans) {
    throwIfCancelled(options.signal);
    clusterShifts.push(
      await shiftUnder(model, behaviours, scaleLayers(m, scales, hiddenSize), options.alpha, options.band, options.positions, options.signal, base),
    );
  }
  const start = options.band.from * hiddenSize;
  const end = (options.band.to + 1) * hiddenSize;
  const deviations = clusterMeans.map((m) => {
    const d = new Float32Array(m.length);
    for (let j = 0; j < m.length; j++) d[j] = m[j] - signature.mean[j];
    return d;
  });
  return behaviours.map((b) => {
    const shifts = clusterShifts.map((s) => s.get(b.key)! - whole.get(b.key)!);
    const scores = recordScores(
      perRecord,
      signature.mean,
      deviations,
      shifts,
      options.alpha,
      start,
      end,
      scales.map((x) => x * x),
      hiddenSize,
    );
    const order = scores.map((_, i) => i).sort((a, c) => scores[c] - scores[a]);
    const records: AttributedRecord[] = order.map((i, rank) => ({
      line: signature.lines[i],
      preview: rank < options.topWithPreview ? signature.previews[i] : '',
      cluster: assignment[i],
      score: scores[i],
    }));
    return {
      behaviour: b.key,
      alpha: options.alpha,
      method: `k-means (${k} clusters, seeded) on the mean of layers ${lastFrom}-${numLayers - 1}; each cluster's mean injected at alpha ${options.alpha} (on the signature's per-layer scale); record score = projection of the record's deviation from the signature (layers ${options.band.from}-${options.band.to}) onto the direction fitted to the cluster shifts (kernel ridge)`,
      clusters: nonEmpty.map(({ m, c }, j) => ({
        id: c,
        size: m.length,
        shift: clusterShifts[j].get(b.key)!,
        lines: m.slice(0, 20).map((i) => signature.lines[i]),
      })),
      records,
    };
  });
}
