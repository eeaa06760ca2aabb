// The beam-pruning audit (docs/bear.md §7) in TypeScript on the ONNX engine, so that it runs without
// torch: among users whose target title is in the top B of the catalogue by its whole-sequence
// probability (trie-masked softmax, as decoding sees it), the share that beam search of width B
// still loses. The twin of python/preflight_train/evaluate.py pruning_audit, same prompt
// (data.py prompt_text) and same trie (trie.py: the quoted title, then EOS).
//
// One forward pass per trie node with two or more children gives that node's masked
// distribution; both the exhaustive ranking and the beam search are then read off those
// distributions, so beam search and the exhaustive scores see exactly the same numbers. The mask is
// applied before the softmax (the trainer's setting for MSL and BEAR, eval.mask 'before').
import type { InferenceModel } from '../model/api';
import { throwIfCancelled } from '../../shared/errors';

export const BEAR_INSTRUCTION =
  'Below is an instruction that describes a task, paired with an input that provides further context. ' +
  'Write a response that appropriately completes the request.\n\n' +
  '### Instruction:\nGiven the items the user interacted with, in order, recommend the next item.\n\n';

/** python/preflight_train/data.py prompt_text */
export function promptText(history: string[]): string {
  return `${BEAR_INSTRUCTION}### Input:\nThe user interacted with: ${history.map((t) => `"${t}"`).join(', ')}\n\n### Response:\n`;
}

export class TitleTrie {
  /** node -> token -> child */
  readonly children: Map<number, number>[] = [new Map()];
  /** leaf node -> item index */
  readonly itemAt = new Map<number, number>();
  /** node -> token path from the root */
  readonly path: number[][] = [[]];
  /** titles left out: their token sequence collides with another's or is a prefix of one */
  readonly dropped: string[] = [];
  readonly titles: string[] = [];
  readonly sequences: number[][] = [];
  /** the token that ends every title (the last of each sequence) */
  readonly eos: number;

  constructor(titles: string[], encode: (title: string) => number[]) {
    const seqs = titles.map(encode);
    this.eos = seqs[0]?.[seqs[0].length - 1] ?? -1;
    // a sequence that is a prefix of another (or equal to one) cannot be told apart: drop it
    const keys = seqs.map((s) => `${s.join(',')},`);
    titles.forEach((title, i) => {
      const clash = keys.some((k, j) => j !== i && (k === keys[i] ? j < i : k.startsWith(keys[i])));
      if (clash || seqs[i].length === 0) {
        this.dropped.push(title);
        return;
      }
      const item = this.titles.length;
      this.titles.push(title);
      this.sequences.push(seqs[i]);
      let node = 0;
      for (const tok of seqs[i]) {
        let next = this.children[node].get(tok);
        if (next === undefined) {
          next = this.children.length;
          this.children.push(new Map());
          this.path.push([...this.path[node], tok]);
          this.children[node].set(tok, next);
        }
        node = next;
      }
      this.itemAt.set(node, item);
    });
  }

  kids(node: number): number[] {
    return [...this.children[node].keys()].sort((a, b) => a - b);
  }
}

/** Masked log-softmax (temperature tau) of each node's valid next tokens for one prompt. */
export async function nodeLogProbs(
  model: InferenceModel,
  prompt: number[],
  trie: TitleTrie,
  tau = 1,
  batch = 32,
  signal?: AbortSignal,
): Promise<Map<number, Map<number, number>>> {
  const out = new Map<number, Map<number, number>>();
  const need: number[] = [];
  trie.children.forEach((c, node) => {
    if (c.size === 1)
      out.set(node, new Map([[[...c.keys()][0], 0]])); // one valid child: p = 1, no forward needed
    else if (c.size > 1) need.push(node);
  });
  for (let i = 0; i < need.length; i += batch) {
    throwIfCancelled(signal);
    const chunk = need.slice(i, i + batch);
    const { lastLogits } = await model.forward(chunk.map((node) => [...prompt, ...trie.path[node]]));
    chunk.forEach((node, r) => {
      const kids = trie.kids(node);
      const z = kids.map((t) => lastLogits[r][t] / tau);
      const m = Math.max(...z);
      const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
      out.set(node, new Map(kids.map((t, k) => [t, z[k] - lse])));
    });
  }
  return out;
}

/** Exhaustive: each title's log-probability under the masked distributions. */
export function sequenceScores(trie: TitleTrie, logp: Map<number, Map<number, number>>): number[] {
  return trie.sequences.map((seq) => {
    let node = 0;
    let total = 0;
    for (const tok of seq) {
      total += logp.get(node)!.get(tok)!;
      node = trie.children[node].get(tok)!;
    }
    return total;
  });
}

/**
 * Hugging Face's beam search (BeamSearchScorer, early_stopping=False) constrained to the trie, as
 * python/preflight_train/evaluate.py decodes (reference: python/tests/test_beam_and_metrics.py
 * hf_reference_beam_search): B beams from the start (all but one at -1e9); per step every (beam,
 * valid token) candidate ranked by summed log-probability, the top 2B kept; a candidate that ends a
 * title (EOS) joins the finished list (at most B, scored sum / generated length^lengthPenalty) only
 * if its rank is below B; the first B other candidates are the open beams; done when the finished
 * list is full and its worst score is at least the best candidate's sum / current length^lp. Open
 * beams left at the length limit join the finished list. Returns (item, score) best first; item is
 * null for an unfinished title.
 */
export function beamSearch(
  trie: TitleTrie,
  logp: Map<number, Map<number, number>>,
  beam: number,
  lengthPenalty = 1,
  maxNewTokens = 64,
): { item: number | null; score: number }[] {
  type Beam = { node: number; score: number; len: number };
  const finished: { node: number; score: number; done: boolean }[] = [];
  let worst = 1e9;
  const add = (node: number, sum: number, generated: number, done: boolean) => {
    const score = sum / generated ** lengthPenalty;
    if (finished.length < beam || score > worst) {
      finished.push({ node, score, done });
      if (finished.length > beam) {
        const order = finished.map((f, i) => ({ s: f.score, i })).sort((a, b) => a.s - b.s || a.i - b.i);
        finished.splice(order[0].i, 1);
        worst = order[1].s;
      } else worst = Math.min(score, worst);
    }
  };
  let beams: Beam[] = Array.from({ length: beam }, (_, b) => ({ node: 0, score: b === 0 ? 0 : -1e9, len: 0 }));
  let isDone = false;
  for (;;) {
    const cands: { beam: Beam; tok: number; child: number; score: number; order: number }[] = [];
    beams.forEach((b, bi) => {
      for (const [tok, l] of logp.get(b.node) ?? [])
        cands.push({ beam: b, tok, child: trie.children[b.node].get(tok)!, score: b.score + l, order: bi * 1e6 + tok });
    });
    // topk(2B), sorted; ties by (beam, token) as torch's flattened index order
    cands.sort((a, b) => b.score - a.score || a.order - b.order);
    const top = cands.slice(0, 2 * beam);
    if (top.length === 0) break;
    const curLen = beams[0].len + 1;
    const next: Beam[] = [];
    for (const [rank, c] of top.entries()) {
      if (trie.itemAt.has(c.child)) {
        // the token ends a title (EOS): finished, if it ranks among the first B
        if (rank < beam) add(c.child, c.score, curLen, true);
      } else next.push({ node: c.child, score: c.score, len: curLen });
      if (next.length === beam) break;
    }
    isDone = finished.length >= beam && worst >= top[0].score / curLen ** lengthPenalty;
    beams = next;
    if (isDone || beams.length === 0 || curLen >= maxNewTokens) break;
  }
  if (!isDone) for (const b of beams) add(b.node, b.score, b.len, false);
  return finished
    .map((f, i) => ({ f, i }))
    .sort((a, b) => b.f.score - a.f.score || a.i - b.i)
    .map(({ f }) => ({ item: f.done ? trie.itemAt.get(f.node)! : (trie.itemAt.get(trie.children[f.node]?.get(trie.eos) ?? -1) ?? null), score: f.score }));
}

export interface AuditUser {
  line: number;
  target: string;
  /** 1-based rank of the target among all titles by sequence probability */
  rank: number;
  foundByBeam: boolean;
  /** in the top B by probability but lost by beam search */
  pruned: boolean;
}

export interface PruningAudit {
  beam: number;
  tau: number;
  users: number;
  items: number;
  /** share of users whose target is in the top B by probability */
  targetInTopB: number;
  /** share of users whose target beam search returns */
  foundByBeam: number;
  /** among users with the target in the top B, the share that beam search loses */
  prunedGivenTopB: number;
  perUser: AuditUser[];
  droppedTitles: string[];
  /** records left out (empty history, no target, ...) with the reason */
  skipped: { line: number; reason: string }[];
  ms: number;
}

export interface AuditRecord {
  history: string[];
  target: string;
  line: number;
}

/** Reads JSON Lines records {history: string[], target: string}; unusable lines are skipped with a reason. */
export function parseRecommendations(text: string): { records: AuditRecord[]; skipped: { line: number; reason: string }[] } {
  const records: AuditRecord[] = [];
  const skipped: { line: number; reason: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (!raw.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      skipped.push({ line, reason: 'not JSON' });
      return;
    }
    const r = value as { history?: unknown; target?: unknown };
    if (!Array.isArray(r.history) || r.history.length === 0 || !r.history.every((t) => typeof t === 'string' && t.trim()))
      skipped.push({ line, reason: 'empty or malformed history' });
    else if (typeof r.target !== 'string' || !r.target.trim()) skipped.push({ line, reason: 'no target' });
    else records.push({ history: r.history as string[], target: r.target, line });
  });
  return { records, skipped };
}

/** The audit over `records` (catalogue: every title seen in them, or `catalogue` when given). */
export async function pruningAudit(
  model: InferenceModel,
  records: AuditRecord[],
  options: {
    beam?: number;
    tau?: number;
    catalogue?: string[];
    maxUsers?: number;
    signal?: AbortSignal;
    onProgress?: (done: number, total: number) => void;
  } = {},
): Promise<Omit<PruningAudit, 'skipped'>> {
  const started = Date.now();
  const beam = options.beam ?? 10;
  const tau = options.tau ?? 1;
  const tok = model.tokenizer;
  const eos = tok.eosTokenIds[0];
  if (eos === undefined) throw new Error('the model has no EOS token: the title trie needs one to end titles');
  const titles = options.catalogue ?? [...new Set(records.flatMap((r) => [...r.history, r.target]))].sort();
  const trie = new TitleTrie(titles, (t) => [...tok.encode(`"${t}"`, { addSpecialTokens: false }), eos]);
  const index = new Map(trie.titles.map((t, i) => [t, i]));
  const users = records.filter((r) => index.has(r.target)).slice(0, options.maxUsers ?? Infinity);
  const perUser: AuditUser[] = [];
  // as data.py encode_records: a long prompt keeps its end (the most recent history) and its leading BOS
  const prefix = tok.bosTokenId !== undefined ? [tok.bosTokenId] : [];
  const room = model.info.maxPositions - Math.max(0, ...trie.sequences.map((s) => s.length)) - prefix.length;
  if (room < 8) throw new Error(`the model's ${model.info.maxPositions} positions leave no room for a prompt beside the longest title`);
  for (const [u, r] of users.entries()) {
    const prompt = [...prefix, ...tok.encode(promptText(r.history), { addSpecialTokens: false }).slice(-room)];
    const logp = await nodeLogProbs(model, prompt, trie, tau, 32, options.signal);
    const scores = sequenceScores(trie, logp);
    const item = index.get(r.target)!;
    const rank = 1 + scores.filter((s) => s > scores[item]).length;
    const foundByBeam = beamSearch(trie, logp, beam).some((h) => h.item === item);
    perUser.push({ line: r.line, target: r.target, rank, foundByBeam, pruned: rank <= beam && !foundByBeam });
    options.onProgress?.(u + 1, users.length);
  }
  const n = Math.max(1, perUser.length);
  const inTop = perUser.filter((p) => p.rank <= beam).length;
  return {
    beam,
    tau,
    users: perUser.length,
    items: trie.titles.length,
    targetInTopB: inTop / n,
    foundByBeam: perUser.filter((p) => p.foundByBeam).length / n,
    prunedGivenTopB: inTop ? perUser.filter((p) => p.pruned).length / inTop : 0,
    perUser,
    droppedTitles: trie.dropped,
    ms: Date.now() - started,
  };
}
