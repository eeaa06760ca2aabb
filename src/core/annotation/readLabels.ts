// Reads the long-format labels file: one row per item with its gold label and the LLM's label
// (and optionally an id, the text and group columns such as model or prompting technique).
// The authors' model files (human_category, model_category, Technique, model) read as they are.
import { columnKey, CsvReadOptions, CsvSource, findColumn, readCsv, sourceName } from './csv';
import { AnnotationInputError } from './errors';
import { isMissingLabel, LabelScale, levelIndex, normalizeLabel } from './scale';
import { AnnotationFinding, LabelColumns } from './types';

export interface LabelColumnOverrides {
  id?: string;
  text?: string;
  gold?: string;
  llm?: string;
  /** group columns; an empty list turns group detection off */
  groups?: string[];
}

/** Growable Int32 storage: rows are appended without one object per row. */
class IntColumn {
  data = new Int32Array(1024);
  length = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }
  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}

/** Labels as read, before the scale is known: each distinct normalised spelling gets a provisional code. */
export interface RawLabelTable {
  file: string;
  header: string[];
  columns: LabelColumns;
  rows: number;
  /** 1-based line each row starts on */
  line: Int32Array;
  /** provisional code per row (index into `labels`), -1 = missing */
  gold: Int32Array;
  llm: Int32Array;
  /** distinct normalised labels and how often each occurs (gold and LLM together) */
  labels: string[];
  counts: number[];
  /** one spelling as written in the file for each provisional label (for messages) */
  spellings: string[];
  ids?: string[];
  texts?: string[];
  groups: Array<{ column: string; values: string[]; codes: Int32Array }>;
  /** labels holding invalid UTF-8 (decoded as U+FFFD) or NUL: left out as missing, one finding each (bounded) */
  invalidLabels: { findings: AnnotationFinding[]; count: number };
}

/** Text that cannot be a label: a U+FFFD left by invalid UTF-8, or a NUL byte. */
const INVALID_LABEL_TEXT = /[\uFFFD\u0000]/;
const MAX_INVALID_LABEL_FINDINGS = 100;

const GOLD_KEYS = [
  'gold',
  'goldlabel',
  'goldstandard',
  'groundtruth',
  'groundtruthlabel',
  'groundtruthmove',
  'humancategory',
  'humanlabel',
  'human',
  'truth',
  'truelabel',
  'ytrue',
  'reference',
  'referencelabel',
  'expected',
  'label',
  'target',
];
const LLM_KEYS = [
  'llm',
  'llmlabel',
  'llmcategory',
  'modelcategory',
  'modellabel',
  'modelprediction',
  'prediction',
  'predicted',
  'predictedlabel',
  'predictedmove',
  'predictedcategory',
  'pred',
  'ypred',
  'output',
  'machinelabel',
  'llmannotation',
  'annotation',
];
const ID_KEYS = ['id', 'itemid', 'outcomeid', 'sentenceidx', 'exchangeidx', 'commentid', 'uid', 'rowid', 'idx', 'index'];
const TEXT_KEYS = [
  'text',
  'sentence',
  'learningoutcome',
  'content',
  'utterance',
  'comment',
  'input',
  'studenttext',
  'teachertext',
  'question',
  'passage',
  'document',
  'item',
];
const GROUP_KEYS = [
  'technique',
  'model',
  'llmmodel',
  'modelname',
  'promptingtechnique',
  'strategy',
  'condition',
  'method',
  'group',
  'split',
  'dataset',
  'task',
  'domain',
  'setting',
  'prompttype',
];

function pick(header: string[], keys: string[], taken: Set<number>): number | undefined {
  for (const key of keys) {
    const index = header.findIndex((column, i) => !taken.has(i) && columnKey(column) === key);
    if (index >= 0) return index;
  }
  return undefined;
}

function pickBySubstring(header: string[], parts: string[], taken: Set<number>): number | undefined {
  const index = header.findIndex((column, i) => !taken.has(i) && parts.some((part) => columnKey(column).includes(part)));
  return index >= 0 ? index : undefined;
}

function required(header: string[], name: string, role: string, file: string): number {
  const index = findColumn(header, name);
  if (index === undefined) throw new AnnotationInputError(`${file}: no column '${name}' for the ${role} (columns: ${header.join(', ')})`, 'missing-column');
  return index;
}

/** Chooses the id, text, gold, LLM and group columns: explicit names first, then the usual names. */
export function detectLabelColumns(
  header: string[],
  overrides: LabelColumnOverrides,
  file: string,
): { id?: number; text?: number; gold: number; llm: number; groups: number[] } {
  const taken = new Set<number>();
  const take = (index: number | undefined) => {
    if (index !== undefined) taken.add(index);
    return index;
  };
  const gold = take(overrides.gold ? required(header, overrides.gold, 'gold label', file) : undefined);
  const llm = take(overrides.llm ? required(header, overrides.llm, 'LLM label', file) : undefined);
  const id = take(overrides.id ? required(header, overrides.id, 'item id', file) : undefined);
  const text = take(overrides.text ? required(header, overrides.text, 'text', file) : undefined);
  const goldIndex = gold ?? take(pick(header, GOLD_KEYS, taken) ?? pickBySubstring(header, ['gold', 'truth', 'human'], taken));
  const llmIndex = llm ?? take(pick(header, LLM_KEYS, taken) ?? pickBySubstring(header, ['pred', 'llm'], taken));
  if (goldIndex === undefined || llmIndex === undefined) {
    const missing = [goldIndex === undefined ? 'gold label (--gold-col)' : '', llmIndex === undefined ? 'LLM label (--llm-col)' : '']
      .filter(Boolean)
      .join(' and ');
    throw new AnnotationInputError(
      `${file}: cannot tell which column holds the ${missing}; columns: ${header.map((h) => h || '(unnamed)').join(', ')}`,
      'missing-column',
    );
  }
  const idIndex = id ?? take(pick(header, ID_KEYS, taken));
  const textIndex = text ?? take(pick(header, TEXT_KEYS, taken));
  let groups: number[];
  if (overrides.groups) {
    groups = overrides.groups.map((name) => required(header, name, 'group', file));
  } else {
    groups = GROUP_KEYS.map((key) => header.findIndex((column, i) => !taken.has(i) && columnKey(column) === key)).filter((index) => index >= 0);
  }
  return { id: idIndex, text: textIndex, gold: goldIndex, llm: llmIndex, groups };
}

export interface ReadLabelsOptions extends CsvReadOptions {
  columns?: LabelColumnOverrides;
  keepIds?: boolean;
  keepTexts?: boolean;
}

/** Reads a labels CSV in one streaming pass. */
export async function readLabels(source: CsvSource, options: ReadLabelsOptions = {}): Promise<RawLabelTable> {
  const file = sourceName(source);
  let header: string[] = [];
  let cols: ReturnType<typeof detectLabelColumns> | undefined;
  const line = new IntColumn();
  const gold = new IntColumn();
  const llm = new IntColumn();
  // raw cell text -> provisional code; most files spell a label the same way every time, so the
  // normalisation runs once per spelling, not once per row
  const byRaw = new Map<string, number>();
  const byNormalized = new Map<string, number>();
  const labels: string[] = [];
  const counts: number[] = [];
  const spellings: string[] = [];
  const ids: string[] = [];
  const texts: string[] = [];
  let groupState: Array<{ column: string; index: number; values: string[]; lookup: Map<string, number>; codes: IntColumn }> = [];

  const invalidLabels = { findings: [] as AnnotationFinding[], count: 0 };
  const code = (raw: string | undefined, which: 'gold' | 'llm', at: number): number => {
    if (raw === undefined) return -1;
    if (INVALID_LABEL_TEXT.test(raw)) {
      // not a new level: such bytes come from a file saved in another encoding, or binary garbage
      invalidLabels.count++;
      if (invalidLabels.findings.length < MAX_INVALID_LABEL_FINDINGS) {
        const column = header[which === 'gold' ? cols!.gold : cols!.llm];
        const what = raw.includes('\u0000') ? 'a NUL byte' : 'invalid UTF-8 (shown as U+FFFD)';
        invalidLabels.findings.push({
          file,
          line: at,
          severity: 'error',
          code: 'label-invalid-text',
          column,
          message: `${which === 'gold' ? 'gold' : 'LLM'} label in column '${column}' contains ${what}; the row is left out of the metrics (re-save the file as UTF-8)`,
        });
      }
      return -1;
    }
    let c = byRaw.get(raw);
    if (c === undefined) {
      const normalized = normalizeLabel(raw);
      if (isMissingLabel(normalized)) c = -1;
      else {
        c = byNormalized.get(normalized);
        if (c === undefined) {
          c = labels.length;
          labels.push(normalized);
          counts.push(0);
          spellings.push(raw.trim());
          byNormalized.set(normalized, c);
        }
      }
      byRaw.set(raw, c);
    }
    if (c >= 0) counts[c]++;
    return c;
  };

  await readCsv(
    source,
    (h) => {
      header = h;
      cols = detectLabelColumns(h, options.columns ?? {}, file);
      groupState = cols.groups.map((index) => ({ column: h[index], index, values: [], lookup: new Map(), codes: new IntColumn() }));
    },
    (record, at) => {
      const c = cols!;
      line.push(at);
      gold.push(code(record[c.gold], 'gold', at));
      llm.push(code(record[c.llm], 'llm', at));
      // without an id column a row's line number is its id (the coder sheet uses the same rule)
      if (options.keepIds) ids.push(c.id !== undefined ? (record[c.id] ?? '').trim() : String(at));
      if (options.keepTexts && c.text !== undefined) texts.push(record[c.text] ?? '');
      for (const group of groupState) {
        const value = (record[group.index] ?? '').trim();
        let g = group.lookup.get(value);
        if (g === undefined) {
          g = group.values.length;
          group.values.push(value);
          group.lookup.set(value, g);
        }
        group.codes.push(g);
      }
    },
    options,
  );
  const c = cols!;
  return {
    file,
    header,
    columns: {
      id: c.id === undefined ? undefined : header[c.id],
      text: c.text === undefined ? undefined : header[c.text],
      gold: header[c.gold],
      llm: header[c.llm],
      groups: c.groups.map((index) => header[index]),
    },
    rows: line.length,
    line: line.view(),
    gold: gold.view(),
    llm: llm.view(),
    labels,
    counts,
    spellings,
    ids: options.keepIds ? ids : undefined,
    texts: options.keepTexts && c.text !== undefined ? texts : undefined,
    groups: groupState.map((group) => ({ column: group.column, values: group.values, codes: group.codes.view() })),
    invalidLabels,
  };
}

/** Codes that mark a row's label as not usable. */
export const MISSING = -1;
export const OFF_SCALE = -2;

export interface CodedLabels {
  /** level index per row, MISSING or OFF_SCALE */
  gold: Int16Array;
  llm: Int16Array;
  findings: AnnotationFinding[];
  offScale: number;
  missing: number;
}

/** Maps provisional codes onto the scale; every off-scale label becomes a finding with its line. */
export function codeLabels(table: RawLabelTable, scale: LabelScale, maxFindings = 1000): CodedLabels {
  const index = levelIndex(scale);
  const map = table.labels.map((label) => index.get(label) ?? OFF_SCALE);
  const gold = new Int16Array(table.rows);
  const llm = new Int16Array(table.rows);
  const findings: AnnotationFinding[] = [];
  let offScale = 0;
  let missing = 0;
  const columnsOf = [table.columns.gold, table.columns.llm];
  for (let row = 0; row < table.rows; row++) {
    const pair = [table.gold[row], table.llm[row]];
    for (let k = 0; k < 2; k++) {
      const raw = pair[k];
      const coded = raw < 0 ? MISSING : map[raw];
      (k === 0 ? gold : llm)[row] = coded;
      if (coded === MISSING) missing++;
      if (coded === OFF_SCALE) {
        offScale++;
        if (findings.length < maxFindings) {
          findings.push({
            file: table.file,
            line: table.line[row],
            severity: 'warning',
            code: 'label-off-scale',
            column: columnsOf[k],
            message: `${k === 0 ? 'gold' : 'LLM'} label '${table.spellings[raw]}' in column '${columnsOf[k]}' is not on the scale (${scale.levels.join(', ')}); the row is left out of the metrics`,
          });
        }
      }
    }
  }
  return { gold, llm, findings, offScale, missing };
}
