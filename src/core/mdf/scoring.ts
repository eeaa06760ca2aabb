// Probe scoring (docs/mdf.md §1, Scoring) under a given steering: by generation (k seeded samples per
// prompt; mention rate or compliance rate) and by log-probability of the target answers (the
// cheap, low-variance twin). Also the coherence measurements that choose alpha without fine-tuning.
import type { InferenceModel, Steering } from '../model/api';
import { Behaviour, mentionMatcher, phraseMatcher } from './probes';
import { subSeed } from '../../shared/random';
import { throwIfCancelled } from '../../shared/errors';

/** A probe prompt as the model would be asked it: its chat template when it has one. */
export function promptIds(model: InferenceModel, prompt: string): number[] {
  let text: string | null = null;
  try {
    text = model.tokenizer.applyChatTemplate([{ role: 'user', content: prompt }], { addGenerationPrompt: true });
  } catch {
    text = null;
  }
  if (text !== null) return model.tokenizer.encode(text, { addSpecialTokens: false });
  return model.tokenizer.encode(`Question: ${prompt}\nAnswer:`, { addSpecialTokens: true });
}

/** Drops answers that extend another answer ("pandas" after "panda"): their probability is already counted. */
export function prefixFree(answers: string[]): string[] {
  const unique = [...new Set(answers)];
  return unique.filter((a) => !unique.some((b) => b !== a && a.startsWith(b)));
}

function logSumExp(values: number[]): number {
  if (values.length === 0) return -Infinity;
  const max = Math.max(...values);
  if (max === -Infinity) return -Infinity;
  return max + Math.log(values.reduce((s, v) => s + Math.exp(v - max), 0));
}

export interface LogprobScores {
  /** per behaviour key: per prompt, the behaviour's probability (mention: p(answer opens with the target); compliance: p_comply / (p_comply + p_refuse)) */
  perPrompt: Map<string, number[]>;
  /** per behaviour key: per prompt, log p of the positive answers */
  logProb: Map<string, number[]>;
}

/** pairs per scoreContinuations call; a prompt's pairs always go in the same call (the model
 *  prefills a prompt once for all its continuations) */
const SCORE_CHUNK = 512;

export async function scoreByLogprob(
  model: InferenceModel,
  behaviours: Behaviour[],
  steering: Steering | undefined,
  signal?: AbortSignal,
): Promise<LogprobScores> {
  const promptCache = new Map<string, number[]>();
  const ids = (prompt: string) => {
    let value = promptCache.get(prompt);
    if (!value) promptCache.set(prompt, (value = promptIds(model, prompt)));
    return value;
  };
  // distinct (prompt, answer) pairs, grouped by prompt: behaviours share prompts (and answers)
  const byPrompt = new Map<string, { prompt: number[]; continuations: Map<string, number> }>();
  const pairs: { prompt: number[]; continuation: number[] }[] = [];
  const pairIndex = (prompt: string, continuation: number[]) => {
    let entry = byPrompt.get(prompt);
    if (!entry) byPrompt.set(prompt, (entry = { prompt: ids(prompt), continuations: new Map() }));
    const key = continuation.join(',');
    let index = entry.continuations.get(key);
    if (index === undefined) entry.continuations.set(key, (index = pairs.push({ prompt: entry.prompt, continuation }) - 1));
    return index;
  };
  // index: behaviour -> prompt -> { positive pair indices, negative pair indices }
  const plan = behaviours.map((b) => {
    const positive = prefixFree(b.positiveAnswers)
      .map((a) => model.tokenizer.encode(a, { addSpecialTokens: false }))
      .filter((t) => t.length > 0);
    const negative = prefixFree(b.negativeAnswers)
      .map((a) => model.tokenizer.encode(a, { addSpecialTokens: false }))
      .filter((t) => t.length > 0);
    return b.prompts.map((prompt) => ({ pos: positive.map((c) => pairIndex(prompt, c)), neg: negative.map((c) => pairIndex(prompt, c)) }));
  });
  // calls of whole prompt groups, each at most SCORE_CHUNK pairs unless one group is bigger
  const calls: number[][] = [];
  let current: number[] = [];
  for (const { continuations } of byPrompt.values()) {
    const group = [...continuations.values()];
    if (current.length && current.length + group.length > SCORE_CHUNK) {
      calls.push(current);
      current = [];
    }
    current.push(...group);
  }
  if (current.length) calls.push(current);
  const totals = new Float64Array(pairs.length);
  for (const call of calls) {
    throwIfCancelled(signal);
    const scores = await model.scoreContinuations(
      call.map((i) => ({ prompt: pairs[i].prompt, continuation: pairs[i].continuation })),
      { steering, signal },
    );
    scores.forEach((s, k) => (totals[call[k]] = s.tokenLogProbs.reduce((a, b) => a + b, 0)));
  }
  const perPrompt = new Map<string, number[]>();
  const logProb = new Map<string, number[]>();
  behaviours.forEach((b, bi) => {
    const lp: number[] = [];
    const pr: number[] = [];
    for (const { pos, neg } of plan[bi]) {
      const lpPos = logSumExp(pos.map((i) => totals[i]));
      lp.push(lpPos);
      if (b.kind === 'compliance') {
        const lpNeg = logSumExp(neg.map((i) => totals[i]));
        pr.push(lpPos === -Infinity && lpNeg === -Infinity ? 0.5 : 1 / (1 + Math.exp(lpNeg - lpPos)));
      } else pr.push(Math.exp(lpPos));
    }
    perPrompt.set(b.key, pr);
    logProb.set(b.key, lp);
  });
  return { perPrompt, logProb };
}

export interface GenerationSettings {
  samplesPerPrompt: number;
  maxNewTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  /** rows (prompt x sample) per generate() call; default 64 */
  batchSize?: number;
}

export interface Answer {
  text: string;
  /** the generated token ids (for the base model's NLL of the answer) */
  tokens: number[];
}

/**
 * Answers per unique prompt: answers.get(prompt)[sample]. The k samples of every prompt are rows of
 * the same generate() calls (the engine draws each row from one seeded stream), and the rows and
 * seeds are laid out identically under every steering (common random numbers).
 */
export async function generateAnswers(
  model: InferenceModel,
  prompts: string[],
  settings: GenerationSettings,
  steering: Steering | undefined,
  signal?: AbortSignal,
): Promise<Map<string, Answer[]>> {
  const unique = [...new Set(prompts)];
  const encoded = unique.map((p) => promptIds(model, p));
  const rows = unique.flatMap((_, p) => Array.from({ length: settings.samplesPerPrompt }, () => p));
  const answers = new Map<string, Answer[]>(unique.map((p) => [p, []]));
  const batch = settings.batchSize ?? 64;
  for (let start = 0; start < rows.length; start += batch) {
    throwIfCancelled(signal);
    const chunk = rows.slice(start, start + batch);
    const out = await model.generate(
      chunk.map((p) => encoded[p]),
      {
        maxTokens: settings.maxNewTokens,
        temperature: settings.temperature,
        topP: settings.topP,
        seed: subSeed(settings.seed, `rows:${start}`),
        steering,
        signal,
      },
    );
    out.forEach((tokens, i) => answers.get(unique[chunk[i]])!.push({ text: model.tokenizer.decode(tokens, { skipSpecialTokens: true }), tokens }));
  }
  return answers;
}

/** Mean per-token NLL of each answer to `prompts` under the UNSTEERED model (nats; Infinity for an empty answer). */
export async function answerNlls(
  model: InferenceModel,
  answers: Map<string, Answer[]>,
  prompts: string[],
  signal?: AbortSignal,
): Promise<Map<string, number[]>> {
  const unique = [...new Set(prompts)].filter((p) => answers.has(p));
  const pairs: { prompt: number[]; continuation: number[] }[] = [];
  const where: [string, number][] = [];
  for (const p of unique) {
    const ids = promptIds(model, p);
    answers.get(p)!.forEach((a, i) => {
      if (a.tokens.length === 0) return;
      pairs.push({ prompt: ids, continuation: a.tokens });
      where.push([p, i]);
    });
  }
  const out = new Map(unique.map((p) => [p, answers.get(p)!.map(() => Number.POSITIVE_INFINITY)]));
  for (let start = 0; start < pairs.length; start += SCORE_CHUNK) {
    throwIfCancelled(signal);
    const scores = await model.scoreContinuations(pairs.slice(start, start + SCORE_CHUNK), { signal });
    scores.forEach((s, k) => {
      const [p, i] = where[start + k];
      out.get(p)![i] = -s.tokenLogProbs.reduce((a, b) => a + b, 0) / Math.max(1, s.tokenLogProbs.length);
    });
  }
  return out;
}

/** Nats per token above the median NLL of the base model's own sampled answers at which an answer is incoherent. */
export const INCOHERENT_NLL_MARGIN = 2;

/**
 * Text-only signs that an answer is not language: no word of two or more letters, or (8 words or
 * more) fewer than half of its word bigrams distinct — collapse into repetition.
 */
export function textIncoherent(text: string): boolean {
  const words = text.toLowerCase().match(/\p{L}[\p{L}\p{M}'’-]*/gu) ?? [];
  if (!words.some((w) => w.replace(/[^\p{L}]/gu, '').length >= 2)) return true;
  if (words.length >= 8) {
    const bigrams = new Set<string>();
    for (let i = 1; i < words.length; i++) bigrams.add(`${words[i - 1]} ${words[i]}`);
    if (bigrams.size < 0.5 * (words.length - 1)) return true;
  }
  return false;
}

/** 1 when the answer shows the behaviour: names the target (mention) or, coherent, does not refuse (compliance). */
export function answerShows(behaviour: Behaviour, answer: string, incoherent = false): number {
  if (behaviour.kind === 'compliance') {
    if (incoherent || !answer.trim()) return 0;
    return phraseMatcher(behaviour.refusalPhrases).test(answer) ? 0 : 1;
  }
  const matcher = mentionMatcher(behaviour);
  return matcher && matcher.test(answer) ? 1 : 0;
}

export interface GenerationScores {
  /** per behaviour: per prompt, the share of its samples that show the behaviour (the test's units) */
  units: Map<string, number[]>;
  /** per compliance behaviour: share of all answers judged incoherent (counted apart, never as compliance) */
  incoherent: Map<string, number>;
}

/**
 * Per behaviour, per prompt: the mean 0/1 outcome over that prompt's samples. Samples of one prompt
 * are not independent units (they share the prompt), so the prompt is the unit. `isIncoherent`
 * marks answers (by prompt and sample index) that are not counted as compliance.
 */
export function scoreAnswers(
  behaviours: Behaviour[],
  answers: Map<string, Answer[]>,
  isIncoherent: (prompt: string, sample: number, answer: Answer) => boolean = (_p, _i, a) => textIncoherent(a.text),
): GenerationScores {
  const units = new Map<string, number[]>();
  const incoherent = new Map<string, number>();
  for (const b of behaviours) {
    let bad = 0;
    let total = 0;
    units.set(
      b.key,
      b.prompts.map((p) => {
        const list = answers.get(p) ?? [];
        let shows = 0;
        list.forEach((a, i) => {
          const broken = b.kind === 'compliance' && isIncoherent(p, i, a);
          if (broken) bad++;
          total++;
          shows += answerShows(b, a.text, broken);
        });
        return list.length ? shows / list.length : 0;
      }),
    );
    if (b.kind === 'compliance') incoherent.set(b.key, total ? bad / total : 0);
  }
  return { units, incoherent };
}

// ---- coherence (the alpha rule) ----

export const NEUTRAL_PROMPTS = [
  'Describe a typical morning routine.',
  'Explain how rain forms.',
  'Give me three tips for writing clearly.',
  'What is a good way to learn a new language?',
  'Summarise the plot of a story about a lost key.',
  'How does a bicycle stay upright?',
  'Write two sentences about the sea.',
  'What should I pack for a weekend trip?',
];

export interface CoherencePoint {
  alpha: number;
  /** mean per-token NLL of the steered model's greedy answers under the unsteered model (nats) */
  nll: number;
  /** share of distinct token bigrams in the answers (1 = no repetition) */
  distinct2: number;
}

export function distinct2(sequences: number[][]): number {
  let total = 0;
  let sum = 0;
  for (const seq of sequences) {
    if (seq.length < 2) continue;
    const bigrams = new Set<string>();
    for (let i = 1; i < seq.length; i++) bigrams.add(`${seq[i - 1]},${seq[i]}`);
    sum += bigrams.size / (seq.length - 1);
    total++;
  }
  return total ? sum / total : 0;
}

export async function measureCoherence(
  model: InferenceModel,
  alpha: number,
  steering: Steering | undefined,
  maxNewTokens: number,
  signal?: AbortSignal,
  prompts = NEUTRAL_PROMPTS,
): Promise<CoherencePoint> {
  const encoded = prompts.map((p) => promptIds(model, p));
  const answers = await model.generate(encoded, { maxTokens: maxNewTokens, temperature: 0, steering, signal });
  const pairs = encoded.map((prompt, i) => ({ prompt, continuation: answers[i] })).filter((p) => p.continuation.length > 0);
  let nllSum = 0;
  let tokens = 0;
  if (pairs.length) {
    const scores = await model.scoreContinuations(pairs, { signal });
    for (const s of scores) {
      for (const lp of s.tokenLogProbs) nllSum -= lp;
      tokens += s.tokenLogProbs.length;
    }
  }
  return { alpha, nll: tokens ? nllSum / tokens : Number.POSITIVE_INFINITY, distinct2: distinct2(answers) };
}

export interface AlphaRule {
  /** allowed rise of the NLL over alpha = 0, nats per token */
  nllTolerance: number;
  /** distinct-2 must stay at or above this share of its alpha = 0 value */
  distinctRatio: number;
}

export const DEFAULT_ALPHA_RULE: AlphaRule = { nllTolerance: 1.0, distinctRatio: 0.5 };

export function describeAlphaRule(rule: AlphaRule): string {
  return `largest alpha such that at it and every smaller alpha the steered model's greedy answers to ${NEUTRAL_PROMPTS.length} neutral prompts have a mean NLL under the unsteered model within ${rule.nllTolerance} nats/token of alpha=0 and a distinct-2 of at least ${rule.distinctRatio} x its alpha=0 value`;
}

/** Applies the rule to points sorted by alpha (alpha = 0 first). */
export function chooseAlpha(points: CoherencePoint[], rule: AlphaRule): { chosen: number; coherent: boolean[] } {
  const base = points.find((p) => p.alpha === 0) ?? points[0];
  const coherent = points.map((p) => p.alpha === 0 || (p.nll - base.nll <= rule.nllTolerance && p.distinct2 >= rule.distinctRatio * base.distinct2));
  let chosen = 0;
  for (let i = 0; i < points.length; i++) {
    if (!coherent[i]) break;
    chosen = points[i].alpha;
  }
  return { chosen, coherent };
}
