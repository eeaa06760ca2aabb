// Reads the human test: coders re-labelling a small gold-labelled subset. Formats of the
// LAK'26 authors' files, detected from the header:
//   long: Annotator, ID, <label column>            (GUG, MathDial: Label; Uptake: uptake_majority)
//   wide: Annotator, ID, one column per level with 1 in the chosen one   (Bloom)
// Rows whose annotator is groundtruth / ground_truth / gold / gt hold the gold labels; without
// them the gold labels are taken from the labels file by item id (the coder sheet of
// `preflight annotate sample` has no gold rows, so coders work blind).
import { columnKey, CsvSource, findColumn, readCsv, sourceName } from './csv';
import { AnnotationInputError } from './errors';
import { isMissingLabel, KNOWN_SCALES, LabelScale, levelIndex, normalizeLabel } from './scale';
import { AnnotationFinding } from './types';

export interface HumanColumnOverrides {
  annotator?: string;
  id?: string;
  label?: string;
}

export interface RawHumanEntry {
  file: string;
  line: number;
  annotator: string;
  id: string;
  /** normalised label, '' when missing */
  label: string;
  spelling: string;
}

export interface RawHumanTest {
  files: string[];
  format: 'long' | 'wide';
  /** wide format: the level columns in file order (a hint for the scale's order) */
  levelColumns?: string[];
  entries: RawHumanEntry[];
  findings: AnnotationFinding[];
}

const GOLD_NAMES = new Set(['groundtruth', 'gold', 'gt', 'goldstandard', 'goldlabel', 'reference']);
const ANNOTATOR_KEYS = ['annotator', 'coder', 'rater', 'annotatorid', 'coderid', 'raterid', 'annotatorname'];
const ID_KEYS = ['id', 'itemid', 'item', 'outcomeid', 'sentenceidx', 'exchangeidx', 'uid'];
const LABEL_KEYS = ['label', 'category', 'code', 'rating', 'annotation', 'value'];
const MARKED = new Set(['1', '1.0', 'x', 'true', 'yes', 'y']);

export function isGoldAnnotator(name: string): boolean {
  return GOLD_NAMES.has(columnKey(name));
}

export function normalizeId(raw: string): string {
  const trimmed = raw.trim();
  return /^\d+\.0+$/.test(trimmed) ? trimmed.slice(0, trimmed.indexOf('.')) : trimmed;
}

function byKeys(header: string[], keys: string[], skip: Set<number>): number | undefined {
  for (const key of keys) {
    const index = header.findIndex((column, i) => !skip.has(i) && columnKey(column) === key);
    if (index >= 0) return index;
  }
  return undefined;
}

/**
 * Reads one or more human-test files (e.g. each coder's filled copy of the sheet). `knownLabels`
 * are the normalised labels seen in the labels file (and the explicit levels): they tell a wide
 * file's level columns and a long file's label column apart from text columns.
 */
export async function readHumanTest(sources: CsvSource[], knownLabels: Set<string>, overrides: HumanColumnOverrides = {}): Promise<RawHumanTest> {
  const entries: RawHumanEntry[] = [];
  const findings: AnnotationFinding[] = [];
  let format: 'long' | 'wide' | undefined;
  let levelColumns: string[] | undefined;
  const scaleWords = new Set<string>([...knownLabels, ...KNOWN_SCALES.flatMap((scale) => scale.levels)]);
  for (const source of sources) {
    const file = sourceName(source);
    let header: string[] = [];
    const records: Array<{ record: string[]; line: number }> = [];
    await readCsv(
      source,
      (h) => (header = h),
      (record, line) => records.push({ record, line }),
    );
    const taken = new Set<number>();
    const need = (name: string | undefined, keys: string[], role: string, flag: string): number => {
      const index = name !== undefined ? findColumn(header, name) : byKeys(header, keys, taken);
      if (index === undefined) {
        throw new AnnotationInputError(
          `${file}: ${name ? `no column '${name}'` : 'cannot find the column'} for the ${role} (${flag}); columns: ${header.join(', ')}`,
          name ? 'missing-column' : 'annotation',
        );
      }
      taken.add(index);
      return index;
    };
    const annotatorCol = need(overrides.annotator, ANNOTATOR_KEYS, 'annotator', '--human-annotator-col');
    const idCol = need(overrides.id, ID_KEYS, 'item id', '--human-id-col');
    const levelCols = overrides.label
      ? []
      : header.map((column, i) => ({ column, i })).filter(({ column, i }) => !taken.has(i) && scaleWords.has(normalizeLabel(column)));
    const thisFormat: 'long' | 'wide' = levelCols.length >= 2 ? 'wide' : 'long';
    if (format && format !== thisFormat) throw new AnnotationInputError(`${file}: ${thisFormat} format, but the other human-test file is ${format}`);
    format = thisFormat;
    if (thisFormat === 'wide') {
      const columns = levelCols.map(({ column }) => column);
      if (levelColumns && levelColumns.join('\u0000') !== columns.join('\u0000'))
        throw new AnnotationInputError(`${file}: level columns differ from the other human-test file`);
      levelColumns = columns;
      for (const { record, line } of records) {
        const annotator = (record[annotatorCol] ?? '').trim();
        const id = normalizeId(record[idCol] ?? '');
        const marked = levelCols.filter(({ i }) => MARKED.has((record[i] ?? '').trim().toLowerCase()));
        if (marked.length > 1) {
          findings.push({
            file,
            line,
            severity: 'warning',
            code: 'label-multi-marked',
            message: `${annotator} marked ${marked.length} levels for item ${id} (${marked.map((m) => m.column).join(', ')}); the first, '${marked[0].column}', is used, as in the authors' code`,
          });
        } else if (marked.length === 0) {
          findings.push({
            file,
            line,
            severity: 'info',
            code: 'label-none-marked',
            message: `${annotator} marked no level for item ${id}; counted as missing`,
          });
        }
        const chosen = marked[0]?.column ?? '';
        entries.push({ file, line, annotator, id, label: chosen ? normalizeLabel(chosen) : '', spelling: chosen });
      }
    } else {
      let labelCol: number;
      if (overrides.label !== undefined) labelCol = need(overrides.label, [], 'label', '--human-label-col');
      else {
        const named = byKeys(header, LABEL_KEYS, taken);
        if (named !== undefined) labelCol = named;
        else {
          // the column whose values are most often labels seen in the labels file
          let best = -1;
          let bestScore = 0;
          header.forEach((_, i) => {
            if (taken.has(i)) return;
            let hits = 0;
            for (const { record } of records) if (knownLabels.has(normalizeLabel(record[i] ?? ''))) hits++;
            if (hits > bestScore) {
              bestScore = hits;
              best = i;
            }
          });
          if (best < 0) throw new AnnotationInputError(`${file}: cannot find the label column (--human-label-col); columns: ${header.join(', ')}`);
          labelCol = best;
        }
      }
      for (const { record, line } of records) {
        const spelling = (record[labelCol] ?? '').trim();
        const label = normalizeLabel(spelling);
        const annotator = (record[annotatorCol] ?? '').trim();
        const id = normalizeId(record[idCol] ?? '');
        if (/[\uFFFD\u0000]/.test(spelling)) {
          // invalid UTF-8 or NUL: reported, counted as missing — never a new level
          findings.push({
            file,
            line,
            severity: 'error',
            code: 'label-invalid-text',
            message: `${annotator}'s label for item ${id} contains ${spelling.includes('\u0000') ? 'a NUL byte' : 'invalid UTF-8 (shown as U+FFFD)'}; counted as missing (re-save the file as UTF-8)`,
          });
          entries.push({ file, line, annotator, id, label: '', spelling });
          continue;
        }
        entries.push({ file, line, annotator, id, label: isMissingLabel(label) ? '' : label, spelling });
      }
    }
  }
  return { files: sources.map(sourceName), format: format ?? 'long', levelColumns, entries, findings };
}

/** The human test on the scale: items × coders, level codes, −1 for missing. */
export interface CodedHumanTest {
  itemIds: string[];
  gold: Int16Array;
  coders: string[];
  /** labels[coder][item] */
  labels: Int16Array[];
  goldSource: 'gold-rows' | 'labels-file';
  findings: AnnotationFinding[];
  offScale: number;
}

export function codeHumanTest(raw: RawHumanTest, scale: LabelScale, goldById?: (id: string) => number | undefined): CodedHumanTest {
  const index = levelIndex(scale);
  const findings: AnnotationFinding[] = [...raw.findings];
  const itemIndex = new Map<string, number>();
  const itemIds: string[] = [];
  const coderIndex = new Map<string, number>();
  const coders: string[] = [];
  const hasGoldRows = raw.entries.some((entry) => isGoldAnnotator(entry.annotator));
  if (!hasGoldRows && !goldById) {
    throw new AnnotationInputError(
      `${raw.files.join(', ')}: no gold rows (annotator groundtruth/gold/gt) and no item ids in the labels file to take gold labels from`,
    );
  }
  const seen = new Set<string>();
  const cells: Array<{ item: number; coder: number; code: number }> = [];
  const goldCells = new Map<number, number>();
  let offScale = 0;
  for (const entry of raw.entries) {
    if (entry.annotator === '' && entry.id === '') continue;
    const key = `${entry.annotator.toLowerCase()}\u0000${entry.id}`;
    if (seen.has(key)) {
      findings.push({
        file: entry.file,
        line: entry.line,
        severity: 'warning',
        code: 'duplicate-rating',
        message: `${entry.annotator} rated item ${entry.id} more than once; the first rating is used`,
      });
      continue;
    }
    seen.add(key);
    let item = itemIndex.get(entry.id);
    if (item === undefined) {
      item = itemIds.length;
      itemIds.push(entry.id);
      itemIndex.set(entry.id, item);
    }
    let code = -1;
    if (entry.label !== '') {
      const level = index.get(entry.label);
      if (level === undefined) {
        offScale++;
        findings.push({
          file: entry.file,
          line: entry.line,
          severity: 'warning',
          code: 'label-off-scale',
          message: `${entry.annotator}'s label '${entry.spelling}' for item ${entry.id} is not on the scale (${scale.levels.join(', ')}); left out`,
        });
      } else code = level;
    }
    if (isGoldAnnotator(entry.annotator)) {
      if (code >= 0) goldCells.set(item, code);
      continue;
    }
    let coder = coderIndex.get(entry.annotator);
    if (coder === undefined) {
      coder = coders.length;
      coders.push(entry.annotator);
      coderIndex.set(entry.annotator, coder);
    }
    if (code >= 0) cells.push({ item, coder, code });
  }
  const gold = new Int16Array(itemIds.length).fill(-1);
  if (hasGoldRows) for (const [item, code] of goldCells) gold[item] = code;
  else {
    itemIds.forEach((id, item) => {
      const code = goldById!(id);
      if (code !== undefined && code >= 0) gold[item] = code;
    });
  }
  itemIds.forEach((id, item) => {
    if (gold[item] < 0) {
      const entry = raw.entries.find((e) => e.id === id);
      findings.push({
        file: entry?.file ?? raw.files[0],
        line: entry?.line ?? 1,
        severity: 'info',
        code: 'no-gold',
        message: `item ${id} has no gold label on the scale${hasGoldRows ? '' : ' in the labels file'}; it counts for coder agreement only`,
      });
    }
  });
  const labels = coders.map(() => new Int16Array(itemIds.length).fill(-1));
  for (const cell of cells) labels[cell.coder][cell.item] = cell.code;
  return { itemIds, gold, coders, labels, goldSource: hasGoldRows ? 'gold-rows' : 'labels-file', findings, offScale };
}
