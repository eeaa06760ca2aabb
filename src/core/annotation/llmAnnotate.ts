// LLM annotation with the local model (docs/annotation.md "Annotate with the local model"): label
// every row of a CSV on an ordered scale and write a copy with `llm_label` and `llm_confidence`.
//
// The label is the level whose name, as the assistant's reply, has the highest log-probability
// under the model; all levels of a row are scored from one shared prefill of the row's prompt
// (InferenceModel.scoreContinuations), and the confidence is the chosen level's probability
// normalised over the levels. Two streaming passes over the input: the first counts the gold
// labels and keeps a seeded reservoir of examples per level (bounded memory), the second labels
// rows in batches and writes the copy to a temporary file that is renamed over the output at the
// end (also after a cancel, with the rows not reached left blank) — the input is never written.
// An existing output is read first: rows it already labelled (same text, a level of this scale)
// are kept, so an interrupted run resumes where it stopped.
import { parse } from 'csv-parse';
import { createWriteStream, existsSync, realpathSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { once } from 'node:events';
import { createRegularReadStream } from '../io/regularFile';
import type { InferenceModel } from '../model/api';
import { columnKey, csvField, findColumn, readCsv } from './csv';
import { AnnotationInputError } from './errors';
import { Rng, subSeed } from '../../shared/random';
import { detectLabelColumns } from './readLabels';
import { detectScale, explicitScale, isMissingLabel, LabelScale, normalizeLabel } from './scale';
import { answerIds, DEFAULT_INSTRUCTION, PromptSpec, rowPromptIds, Shot } from './llmPrompt';

export const LLM_LABEL_COLUMN = 'llm_label';
export const LLM_CONFIDENCE_COLUMN = 'llm_confidence';
export const DEFAULT_SHOTS = 4;
export const DEFAULT_BATCH_ROWS = 8;
/** distinct gold values tracked while looking for the scale (a free-text column must not exhaust memory) */
const MAX_GOLD_VALUES = 1000;

export interface LlmAnnotateOptions {
  /** the column holding the text to label */
  textColumn: string;
  /** the output CSV (a copy of the input with the two columns); must not be the input */
  out: string;
  /** the levels, lowest first, spelled as the model should answer; default: detected from the gold column */
  levels?: string[];
  /** the gold column the examples come from; default: detected by name (as the analysis does) */
  goldColumn?: string;
  /** definition per level (keys compared after normalisation) */
  definitions?: Record<string, string>;
  /** examples per prompt, stratified over the levels (default 4; 0 = zero-shot) */
  shots?: number;
  seed?: number;
  instruction?: string;
  /** rows per scoreContinuations call (default 8) */
  batchRows?: number;
  /** keep the rows an existing output already labelled (default true) */
  resume?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: LlmProgress) => void;
}

export interface LlmProgress {
  /** data rows written to the copy so far */
  rows: number;
  total: number;
  /** rows labelled by the model in this run */
  labeled: number;
  /** rows kept from an existing output */
  kept: number;
  rowsPerSecond: number;
}

export interface LlmAnnotateResult {
  input: string;
  out: string;
  textColumn: string;
  goldColumn: string | null;
  /** the levels as answered, lowest first */
  levels: string[];
  scaleSource: LabelScale['source'];
  rows: number;
  labeled: number;
  kept: number;
  /** rows with an empty text (left unlabelled) */
  emptyText: number;
  /** rows whose text was cut to fit the model's context */
  truncated: number;
  cancelled: boolean;
  /** the example pool: up to `shots` are shown to each row, never the row itself */
  shots: Array<{ line: number; label: string }>;
  seconds: number;
  /** rows labelled by the model per second of labelling */
  rowsPerSecond: number;
  warnings: string[];
}

/** The usual text and gold columns of a header (the analysis' own naming rules), for defaults. */
export function suggestColumns(header: string[]): { text?: string; gold?: string } {
  const gold = goldColumnOf(header, undefined);
  let text: string | undefined;
  try {
    // the gold column stands in for the LLM column, which a file still to be annotated may lack
    const anchor = gold ?? header[0];
    const cols = detectLabelColumns(header, { gold: anchor, llm: anchor }, 'header');
    text = cols.text !== undefined ? header[cols.text] : undefined;
  } catch {
    text = undefined;
  }
  return { text, gold };
}

/** Stands in for the LLM column of a file not yet annotated, so that no real column is taken for it. */
const LLM_STAND_IN = '\u0000preflight-llm-stand-in';

function goldColumnOf(header: string[], exclude: string | undefined): string | undefined {
  try {
    const standIn = exclude ?? header.find((h) => columnKey(h) === columnKey(LLM_LABEL_COLUMN)) ?? LLM_STAND_IN;
    const columns = standIn === LLM_STAND_IN ? [...header, LLM_STAND_IN] : header;
    // the analysis' rule: the LLM column is taken first when named; here the text column stands in
    const cols = detectLabelColumns(columns, { llm: standIn, groups: [] }, 'header');
    const name = columns[cols.gold];
    return name === standIn ? undefined : name;
  } catch {
    return undefined;
  }
}

/** Refuses an output that is the input (same path after symlinks, or the same file through a hard link). */
export function checkOutputPath(input: string, out: string): void {
  const inReal = realpathSync(input);
  let outReal: string;
  if (existsSync(out)) {
    outReal = realpathSync(out);
    if (!statSync(outReal).isFile()) throw new AnnotationInputError(`--out ${out} exists and is not a regular file`);
    const a = statSync(inReal);
    const b = statSync(outReal);
    if (a.dev === b.dev && a.ino === b.ino)
      throw new AnnotationInputError(`--out ${out} is the input file; the input is never rewritten (choose another output)`);
  } else {
    const dir = dirname(resolve(out));
    if (!existsSync(dir)) throw new AnnotationInputError(`--out ${out}: folder ${dir} does not exist`);
    outReal = join(realpathSync(dir), basename(out));
  }
  if (outReal === inReal) throw new AnnotationInputError(`--out ${out} is the input file; the input is never rewritten (choose another output)`);
}

/** `<stem>.llm.csv` beside the input. */
export function defaultOutputPath(input: string): string {
  return join(dirname(input), `${basename(input, extname(input))}.llm.csv`);
}

/** 32-bit FNV-1a of a string: what resume compares a row's text by (no copy of the texts kept). */
function textHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** CSV records with their 1-based start line, pulled one at a time (backpressure: the model sets the pace). */
async function* csvRecords(path: string): AsyncGenerator<{ record: string[]; line: number }> {
  // the options of readCsv (csv.ts): ragged rows, loose quotes, BOM, blank lines skipped
  const parser = parse({ relax_column_count: true, relax_quotes: true, bom: true, skip_empty_lines: true });
  const input = createRegularReadStream(path, { highWaterMark: 1 << 16 });
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      let newlines = 0;
      for (const field of record) for (let i = field.indexOf('\n'); i >= 0; i = field.indexOf('\n', i + 1)) newlines++;
      yield { record, line: parser.info.lines - newlines };
    }
  } finally {
    input.destroy();
    parser.destroy();
  }
}

interface ScanResult {
  header: string[];
  rows: number;
  goldCounts: Map<string, number>;
  spellings: Map<string, string>;
  /** per normalised gold label: a seeded reservoir of example rows */
  pools: Map<string, Array<{ row: number; line: number; text: string; hash: number }>>;
  goldOverflow: boolean;
}

async function scan(path: string, t: number, g: number | undefined, poolSize: number, seed: number, signal?: AbortSignal): Promise<ScanResult> {
  const rng = new Rng(seed);
  const goldCounts = new Map<string, number>();
  const spellings = new Map<string, string>();
  const pools = new Map<string, Array<{ row: number; line: number; text: string; hash: number }>>();
  let header: string[] = [];
  let rows = 0;
  let goldOverflow = false;
  await readCsv(
    { path },
    (h) => {
      header = h;
    },
    (record, line) => {
      const row = rows++;
      if (g === undefined) return;
      const raw = record[g] ?? '';
      const label = normalizeLabel(raw);
      if (isMissingLabel(label)) return;
      if (!goldCounts.has(label) && goldCounts.size >= MAX_GOLD_VALUES) {
        goldOverflow = true;
        return;
      }
      const seen = (goldCounts.get(label) ?? 0) + 1;
      goldCounts.set(label, seen);
      if (!spellings.has(label)) spellings.set(label, raw.trim());
      const text = (record[t] ?? '').trim();
      if (!text || poolSize === 0) return;
      let pool = pools.get(label);
      if (!pool) pools.set(label, (pool = []));
      // Algorithm R over the rows of this label that have a text
      const item = { row, line, text: text.slice(0, 4000), hash: textHash(text) };
      if (pool.length < poolSize) pool.push(item);
      else {
        const j = rng.int(seen);
        if (j < poolSize) pool[j] = item;
      }
    },
    { signal },
  );
  return { header, rows, goldCounts, spellings, pools, goldOverflow };
}

/** The examples of one row: `shots` of them, round-robin over the levels, never the row itself nor its text. */
export function shotsFor(order: Shot[][], shots: number, row: number, hash: number, hashes: Map<Shot, number>): Shot[] {
  const out: Shot[] = [];
  const next = order.map(() => 0);
  for (let round = 0; out.length < shots; round++) {
    let added = false;
    for (let level = 0; level < order.length && out.length < shots; level++) {
      const pool = order[level];
      while (next[level] < pool.length) {
        const candidate = pool[next[level]++];
        if (candidate.row === row || hashes.get(candidate) === hash) continue;
        out.push(candidate);
        added = true;
        break;
      }
    }
    if (!added) break;
  }
  return out;
}

/** Resume: the labels an existing output holds, per data row, where the row's text is unchanged. */
async function readPrevious(
  out: string,
  textColumn: string,
  levelOf: Map<string, number>,
  signal?: AbortSignal,
): Promise<Map<number, { level: number; confidence: string; hash: number }>> {
  const previous = new Map<number, { level: number; confidence: string; hash: number }>();
  let label = -1;
  let confidence = -1;
  let text = -1;
  let row = 0;
  await readCsv(
    { path: out },
    (header) => {
      label = findColumn(header, LLM_LABEL_COLUMN) ?? -1;
      confidence = findColumn(header, LLM_CONFIDENCE_COLUMN) ?? -1;
      text = findColumn(header, textColumn) ?? -1;
    },
    (record) => {
      const r = row++;
      if (label < 0 || text < 0) return;
      const level = levelOf.get(normalizeLabel(record[label] ?? ''));
      if (level === undefined) return;
      previous.set(r, { level, confidence: confidence >= 0 ? (record[confidence] ?? '') : '', hash: textHash((record[text] ?? '').trim()) });
    },
    { signal },
  );
  return previous;
}

function logSoftmaxChoice(scores: number[]): { best: number; confidence: number } {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  const max = scores[best];
  let sum = 0;
  for (const s of scores) sum += Math.exp(s - max);
  return { best, confidence: 1 / sum };
}

/** The level of each prompt (argmax of the answers' log-probabilities) and its normalised probability. */
export async function scoreLevels(
  model: InferenceModel,
  prompts: number[][],
  answers: number[][],
  signal?: AbortSignal,
): Promise<Array<{ level: number; confidence: number; logProbs: number[] }>> {
  const pairs = prompts.flatMap((prompt) => answers.map((continuation) => ({ prompt, continuation })));
  const scores = await model.scoreContinuations(pairs, { signal });
  const K = answers.length;
  return prompts.map((_, p) => {
    const logProbs = answers.map((__, k) => scores[p * K + k].tokenLogProbs.reduce((a, b) => a + b, 0));
    const { best, confidence } = logSoftmaxChoice(logProbs);
    return { level: best, confidence, logProbs };
  });
}

/** The header row of a CSV (its first record). */
export async function readHeader(input: string): Promise<string[]> {
  for await (const { record } of csvRecords(input)) return record;
  throw new AnnotationInputError(`${input} is empty`);
}

function goldColumnFor(input: string, header: string[], explicit: string | undefined, textColumn: string | undefined): string | undefined {
  if (explicit === undefined) return goldColumnOf(header, textColumn);
  const g = findColumn(header, explicit);
  if (g === undefined) throw new AnnotationInputError(`${input}: no column '${explicit}' for the gold label (columns: ${header.join(', ')})`);
  return header[g];
}

/** The scale found in the gold column (known scales, numbers, else an alphabetical guess that is flagged). */
function levelsFromGold(input: string, goldName: string | undefined, pass1: ScanResult): { scale: LabelScale; levels: string[]; warnings: string[] } {
  const warnings: string[] = [];
  if (goldName === undefined)
    throw new AnnotationInputError(`${input}: no gold column to find the levels in; pass --levels a,b,c (lowest first) or --gold-column`);
  if (pass1.goldOverflow)
    warnings.push(`the gold column '${goldName}' has over ${MAX_GOLD_VALUES} distinct values; only the first ${MAX_GOLD_VALUES} were considered`);
  if (pass1.goldCounts.size < 2)
    throw new AnnotationInputError(`${input}: the gold column '${goldName}' has fewer than two distinct labels; pass --levels a,b,c`);
  const scale = detectScale(pass1.goldCounts);
  if (scale.source === 'guessed') warnings.push(`label order is a guess (alphabetical: ${scale.levels.join(' < ')}); pass --levels lowest,...,highest`);
  return { scale, levels: scale.levels.map((level) => pass1.spellings.get(level) ?? level), warnings };
}

/** The levels of the gold column, lowest first, spelled as in the file (the VS Code flow offers them for reordering). */
export async function detectLevels(
  input: string,
  goldColumn?: string,
  signal?: AbortSignal,
): Promise<{ goldColumn: string; levels: string[]; source: LabelScale['source']; warnings: string[] }> {
  const header = await readHeader(input);
  const goldName = goldColumnFor(input, header, goldColumn, undefined);
  const pass1 = await scan(input, -1, goldName !== undefined ? header.indexOf(goldName) : undefined, 0, 1, signal);
  const found = levelsFromGold(input, goldName, pass1);
  return { goldColumn: goldName!, levels: found.levels, source: found.scale.source, warnings: found.warnings };
}

export async function annotateWithModel(model: InferenceModel, input: string, options: LlmAnnotateOptions): Promise<LlmAnnotateResult> {
  const started = Date.now();
  const signal = options.signal;
  const shots = Math.max(0, Math.floor(options.shots ?? DEFAULT_SHOTS));
  const seed = options.seed ?? 1;
  const batchRows = Math.max(1, Math.floor(options.batchRows ?? DEFAULT_BATCH_ROWS));
  const warnings: string[] = [];
  if (!existsSync(input) || !statSync(input).isFile()) throw new AnnotationInputError(`${input}: not a file`);
  checkOutputPath(input, options.out);

  // ---- pass 1: columns, gold labels, example pools ----
  const header = await readHeader(input);
  const textIndex = findColumn(header, options.textColumn);
  if (textIndex === undefined) throw new AnnotationInputError(`${input}: no column '${options.textColumn}' for the text (columns: ${header.join(', ')})`);
  const goldName = goldColumnFor(input, header, options.goldColumn, header[textIndex]);
  const goldIndex = goldName !== undefined ? header.indexOf(goldName) : undefined;
  if (goldIndex === textIndex) throw new AnnotationInputError(`${input}: the text column and the gold column are the same ('${goldName}')`);
  const poolSize = shots > 0 ? shots + 2 : 0;
  const pass1 = await scan(input, textIndex, goldIndex, poolSize, seed, signal);

  // ---- the scale ----
  let scale: LabelScale;
  let answerSpellings: string[];
  if (options.levels?.length) {
    try {
      scale = explicitScale(options.levels);
    } catch (error) {
      throw new AnnotationInputError(`--levels: ${(error as Error).message}`);
    }
    answerSpellings = options.levels.map((l) => l.trim()).filter((l) => !isMissingLabel(normalizeLabel(l)));
  } else {
    const found = levelsFromGold(input, goldName, pass1);
    scale = found.scale;
    answerSpellings = found.levels;
    warnings.push(...found.warnings);
  }
  const levelOf = new Map(scale.levels.map((level, i) => [level, i]));
  if (shots > 0 && goldIndex === undefined)
    throw new AnnotationInputError(`${input}: --shots ${shots} needs gold-labelled rows, but no gold column was found; pass --gold-column or --shots 0`);

  // examples: each level's reservoir in a seeded shuffled order
  const rng = new Rng(subSeed(seed, 'examples'));
  const hashes = new Map<Shot, number>();
  const pools: Shot[][] = scale.levels.map((level, i) => {
    const pool = (pass1.pools.get(level) ?? []).map((item) => {
      const shot: Shot = { row: item.row, text: item.text, label: answerSpellings[i] };
      hashes.set(shot, item.hash);
      return shot;
    });
    for (let k = pool.length - 1; k > 0; k--) {
      const j = rng.int(k + 1);
      [pool[k], pool[j]] = [pool[j], pool[k]];
    }
    return pool;
  });
  // the levels start the round-robin in a seeded order, so the last example is not always the top level
  const levelOrder = scale.levels.map((_, i) => i);
  for (let k = levelOrder.length - 1; k > 0; k--) {
    const j = rng.int(k + 1);
    [levelOrder[k], levelOrder[j]] = [levelOrder[j], levelOrder[k]];
  }
  const order = levelOrder.map((i) => pools[i]);
  const lineOfRow = new Map<number, number>();
  for (const pool of pass1.pools.values()) for (const item of pool) lineOfRow.set(item.row, item.line);
  if (shots > 0 && pools.every((p) => p.length === 0)) warnings.push(`no row has a gold label on the scale and a text: zero-shot prompts`);
  const missingLevels = scale.levels.filter((_, i) => pools[i].length === 0);
  if (shots > 0 && missingLevels.length && missingLevels.length < scale.levels.length)
    warnings.push(`no gold-labelled example for ${missingLevels.join(', ')}`);

  const spec: PromptSpec = {
    instruction: options.instruction ?? DEFAULT_INSTRUCTION,
    levels: answerSpellings,
    definitions: normalizeDefinitions(options.definitions, levelOf, warnings),
  };
  const answers = answerIds(model.tokenizer, answerSpellings);
  const room = Math.max(...answers.map((a) => a.length));

  // ---- resume ----
  const previous = options.resume !== false && existsSync(options.out) ? await readPrevious(options.out, header[textIndex], levelOf, signal) : new Map();

  // ---- pass 2: label and write ----
  const labelCol = findColumn(header, LLM_LABEL_COLUMN) ?? -1;
  const confCol = findColumn(header, LLM_CONFIDENCE_COLUMN) ?? -1;
  const outHeader = [...header];
  const labelAt = labelCol >= 0 ? labelCol : outHeader.push(LLM_LABEL_COLUMN) - 1;
  const confAt = confCol >= 0 ? confCol : outHeader.push(LLM_CONFIDENCE_COLUMN) - 1;
  const tmp = join(dirname(resolve(options.out)), `.${basename(options.out)}.${process.pid}.${Date.now()}.tmp`);
  const writer = createWriteStream(tmp, { flags: 'wx' });
  const writeLine = async (fields: string[]) => {
    if (!writer.write(`${fields.map(csvField).join(',')}\n`)) await once(writer, 'drain');
  };
  let rows = 0;
  let labeled = 0;
  let kept = 0;
  let emptyText = 0;
  let truncated = 0;
  let cancelled = false;
  let labelMs = 0;
  let lastReport = 0;
  const report = (force = false) => {
    const now = Date.now();
    if (!force && now - lastReport < 200) return;
    lastReport = now;
    options.onProgress?.({ rows, total: pass1.rows, labeled, kept, rowsPerSecond: labelMs > 0 ? (1000 * labeled) / labelMs : 0 });
  };
  // rows wait here in file order until their batch is scored; rows not to be scored (kept, empty,
  // after a cancel) queue behind them with no prompt
  const pending: Array<{ fields: string[]; ids: number[] | null }> = [];
  let queued = 0;
  const flush = async () => {
    const scored = pending.filter((p) => p.ids !== null);
    queued = 0;
    if (scored.length && !cancelled) {
      try {
        const t0 = Date.now();
        const results = await scoreLevels(
          model,
          scored.map((p) => p.ids!),
          answers,
          signal,
        );
        labelMs += Date.now() - t0;
        results.forEach((r, i) => {
          scored[i].fields[labelAt] = answerSpellings[r.level];
          scored[i].fields[confAt] = r.confidence.toFixed(6);
        });
        labeled += results.length;
      } catch (error) {
        if (!signal?.aborted) throw error;
        cancelled = true;
      }
    }
    for (const p of pending) await writeLine(p.fields);
    rows += pending.length;
    pending.length = 0;
    report();
  };
  try {
    await writeLine(outHeader);
    let row = -1;
    for await (const { record } of csvRecords(input)) {
      if (row++ === -1) continue; // the header
      const r = row - 1;
      if (signal?.aborted) cancelled = true;
      // the input's columns, then the two new ones (a ragged row's extra cells stay after them)
      const fields = record.slice(0, header.length);
      while (fields.length < outHeader.length) fields.push('');
      fields[labelAt] = '';
      fields[confAt] = '';
      if (record.length > header.length) fields.push(...record.slice(header.length));
      const text = (record[textIndex] ?? '').trim();
      const hash = textHash(text);
      const before = previous.get(r);
      let ids: number[] | null = null;
      if (before && before.hash === hash) {
        fields[labelAt] = answerSpellings[before.level];
        fields[confAt] = before.confidence;
        kept++;
      } else if (!text) emptyText++;
      else if (!cancelled) {
        const prompt = rowPromptIds(model, spec, shotsFor(order, shots, r, hash, hashes), text, room);
        if (prompt.truncated) truncated++;
        ids = prompt.ids;
      }
      if (ids === null && pending.length === 0) {
        await writeLine(fields);
        rows++;
        if ((rows & 1023) === 0) report();
        continue;
      }
      pending.push({ fields, ids });
      if (ids !== null) queued++;
      if (queued >= batchRows || pending.length >= 4096) await flush();
    }
    await flush();
    writer.end();
    await once(writer, 'finish');
  } catch (error) {
    writer.destroy();
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw error;
  }
  renameSync(tmp, options.out);
  report(true);
  const seconds = (Date.now() - started) / 1000;
  return {
    input,
    out: options.out,
    textColumn: header[textIndex],
    goldColumn: goldName ?? null,
    levels: answerSpellings,
    scaleSource: scale.source,
    rows,
    labeled,
    kept,
    emptyText,
    truncated,
    cancelled,
    shots: shotsFor(order, shots, -1, -1, hashes).map((shot) => ({ line: lineOfRow.get(shot.row) ?? 0, label: shot.label })),
    seconds,
    rowsPerSecond: labelMs > 0 ? (1000 * labeled) / labelMs : 0,
    warnings,
  };
}

function normalizeDefinitions(
  definitions: Record<string, string> | undefined,
  levelOf: Map<string, number>,
  warnings: string[],
): Record<string, string> | undefined {
  if (!definitions) return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(definitions)) {
    const level = normalizeLabel(key);
    if (!levelOf.has(level)) {
      warnings.push(`definition for '${key}', which is not a level of the scale, is ignored`);
      continue;
    }
    if (typeof value === 'string' && value.trim()) out[level] = value;
  }
  return out;
}
