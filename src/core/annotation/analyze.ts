// The whole analysis: read the labels file and the human test, find the scale, compute every
// metric, the decomposition and their bootstrap intervals, and return the versioned report
// (plus the per-row codes the editor needs for diagnostics and for revealing rows).
import { alphaFromCoincidence, krippendorffAlpha } from './agreement';
import { BootstrapOutput, HumanSample, ItemPairs, percentileInterval, runBootstrapAsync, SHARE_STRIDE } from './bootstrap';
import { CsvReadOptions, CsvSource } from './csv';
import { decompose, taskFraction } from './decompose';
import { AnnotationInputError } from './errors';
import { finite, METRIC_COUNT, raterReport } from './metrics';
import { codeHumanTest, CodedHumanTest, HumanColumnOverrides, normalizeId, readHumanTest } from './readHuman';
import { codeLabels, LabelColumnOverrides, readLabels } from './readLabels';
import { detectScale, explicitScale, LabelScale, normalizeLabel } from './scale';
import { AnnotationReport, Decomposition, Estimate, GroupReport, HumanReport, METRIC_NAMES, RaterReport, SHARE_NAMES, ShareName } from './types';

export interface AnalyzeOptions extends CsvReadOptions {
  /** the ordered scale, lowest first; detected when absent */
  levels?: string[];
  columns?: LabelColumnOverrides;
  humanColumns?: HumanColumnOverrides;
  /** bootstrap resamples (0 turns intervals off); default 1000 */
  resamples?: number;
  seed?: number;
  confidence?: number;
  maxFindings?: number;
  /** the most distinct values a group column may have to be reported per value; default 200 */
  maxGroupValues?: number;
}

export interface AnnotationAnalysis {
  report: AnnotationReport;
  /** per row of the labels file: start line and level codes (−1 missing, −2 off the scale) */
  rows: { line: Int32Array; gold: Int16Array; llm: Int16Array };
  scale: LabelScale;
}

const DEFAULTS = { resamples: 1000, seed: 1, confidence: 0.95, maxFindings: 1000, maxGroupValues: 200 };

/** Most label levels an analysis takes (docs/limits.md); ordinal scales in use have a handful. */
export const MAX_LEVELS = 100;

export async function analyzeAnnotations(labelsSource: CsvSource, humanSources: CsvSource[], options: AnalyzeOptions = {}): Promise<AnnotationAnalysis> {
  const resamples = Math.max(0, Math.floor(options.resamples ?? DEFAULTS.resamples));
  const seed = options.seed ?? DEFAULTS.seed;
  const confidence = options.confidence ?? DEFAULTS.confidence;
  const maxFindings = options.maxFindings ?? DEFAULTS.maxFindings;
  const warnings: string[] = [];
  const notComputed: string[] = [];

  const raw = await readLabels(labelsSource, {
    columns: options.columns,
    keepIds: humanSources.length > 0,
    signal: options.signal,
    onProgress: options.onProgress,
  });
  if (raw.rows === 0) throw new AnnotationInputError(`${raw.file}: no data rows`);
  const known = new Set(raw.labels);
  let explicit: LabelScale | undefined;
  if (options.levels) {
    try {
      explicit = explicitScale(options.levels);
    } catch (error) {
      throw new AnnotationInputError(`--levels: ${(error as Error).message}`);
    }
    explicit.levels.forEach((level) => known.add(level));
  }
  // K levels cost K² per confusion matrix and per bootstrap round: a free-text column taken for
  // the label column would otherwise run for hours (docs/limits.md)
  const distinct = explicit ? explicit.levels.length : raw.labels.length;
  if (distinct > MAX_LEVELS) {
    throw new AnnotationInputError(
      explicit
        ? `--levels: ${distinct} levels, over the limit of ${MAX_LEVELS} (docs/limits.md)`
        : `${raw.file}: ${distinct.toLocaleString('en-US')} distinct labels in '${raw.columns.gold}'/'${raw.columns.llm}', over the limit of ${MAX_LEVELS} levels (docs/limits.md); is a free-text column taken for a label column? Choose the columns (--gold-col, --llm-col) or pass --levels`,
    );
  }
  const rawHuman = humanSources.length ? await readHumanTest(humanSources, known, options.humanColumns) : undefined;
  if (rawHuman && !explicit) {
    const all = new Set(known);
    for (const entry of rawHuman.entries) if (entry.label) all.add(entry.label);
    if (all.size > MAX_LEVELS)
      throw new AnnotationInputError(
        `${rawHuman.files.join(', ')}: ${all.size.toLocaleString('en-US')} distinct labels with the labels file, over the limit of ${MAX_LEVELS} levels (docs/limits.md); pass --levels`,
      );
  }

  let scale: LabelScale;
  if (explicit) scale = explicit;
  else {
    const counts = new Map<string, number>();
    raw.labels.forEach((label, i) => counts.set(label, raw.counts[i]));
    for (const entry of rawHuman?.entries ?? []) if (entry.label) counts.set(entry.label, (counts.get(entry.label) ?? 0) + 1);
    scale = detectScale(counts, rawHuman?.levelColumns);
    if (scale.source === 'guessed') {
      warnings.push(
        `label order is a guess (alphabetical: ${scale.levels.join(' < ')}); distances and every ordinal metric depend on it — pass --levels lowest,...,highest`,
      );
    }
  }
  const K = scale.levels.length;
  if (K < 2) throw new AnnotationInputError(`only one label level (${scale.levels.join('')}) found; an ordinal scale needs at least two (--levels)`);
  const KK = K * K;
  const values = scale.values;

  const coded = codeLabels(raw, scale, maxFindings);
  const findings = [...raw.invalidLabels.findings, ...coded.findings].slice(0, maxFindings);
  let findingsOmitted = raw.invalidLabels.count + coded.offScale - findings.length;
  if (raw.invalidLabels.count > 0)
    warnings.push(`${raw.invalidLabels.count} label(s) in ${raw.file} hold invalid UTF-8 or NUL bytes and were left out (see findings)`);

  // the LLM's confusion matrices: overall, then per group value
  const overall = new Float64Array(KK);
  let used = 0;
  for (let row = 0; row < raw.rows; row++) {
    const g = coded.gold[row];
    const l = coded.llm[row];
    if (g >= 0 && l >= 0) {
      overall[g * K + l]++;
      used++;
    }
  }
  if (used === 0)
    throw new AnnotationInputError(
      `${raw.file}: no row has both a gold and an LLM label on the scale (${scale.levels.join(', ')}); check --levels and the column choice`,
    );
  if (coded.offScale > 0) warnings.push(`${coded.offScale} label(s) in ${raw.file} are off the scale and were left out (see findings)`);

  const groupSets = buildGroupSets(raw.groups, raw.rows, options.maxGroupValues ?? DEFAULTS.maxGroupValues, warnings);
  const groupConfusions: Array<{ column: string; value: string; confusion: Float64Array }> = [];
  for (const set of groupSets) {
    const matrices = set.values.map(() => new Float64Array(KK));
    for (let row = 0; row < raw.rows; row++) {
      const g = coded.gold[row];
      const l = coded.llm[row];
      if (g >= 0 && l >= 0) matrices[set.codes[row]][g * K + l]++;
    }
    set.values.forEach((value, v) => {
      if (matrices[v].some((x) => x > 0)) groupConfusions.push({ column: set.column, value, confusion: matrices[v] });
    });
  }

  // the human test
  let human: CodedHumanTest | undefined;
  let sample: HumanSample | undefined;
  let humanConfusions: Array<{ name: string; confusion: Float64Array }> = [];
  if (rawHuman) {
    let goldById: ((id: string) => number | undefined) | undefined;
    if (raw.ids) {
      const ids = raw.ids;
      let map: Map<string, number> | undefined;
      goldById = (id) => {
        if (!map) {
          map = new Map();
          for (let row = 0; row < ids.length; row++) {
            const id = normalizeId(ids[row]);
            if (!map.has(id)) map.set(id, coded.gold[row]);
          }
        }
        return map.get(id);
      };
    }
    human = codeHumanTest(rawHuman, scale, goldById);
    for (const finding of human.findings) {
      if (findings.length < maxFindings) findings.push(finding);
      else findingsOmitted++;
    }
    const built = buildHumanSample(human, K);
    sample = built.sample;
    humanConfusions = built.confusions;
    if (built.goldItems === 0) throw new AnnotationInputError(`${rawHuman.files.join(', ')}: no item has both a gold label and a coder label on the scale`);
  } else {
    notComputed.push('decomposition (task-inherent vs model-specific): needs a human test (--human)');
    notComputed.push('human coder metrics and agreement among coders: needs a human test (--human)');
  }

  // bootstrap
  let boot: BootstrapOutput | undefined;
  if (resamples > 0) {
    boot = await runBootstrapAsync({ K, values, resamples, seed, llm: [overall, ...groupConfusions.map((g) => g.confusion)], human: sample }, options.signal);
  } else {
    notComputed.push('confidence intervals: --bootstrap 0');
  }

  const withIntervals = (report: RaterReport, table: Float64Array | undefined): RaterReport => {
    if (!table) return report;
    METRIC_NAMES.forEach((name, i) => {
      const [lo, hi] = percentileInterval(table, METRIC_COUNT, i, confidence);
      report.metrics[name] = { value: report.metrics[name].value, lo, hi };
    });
    return report;
  };

  const llm = withIntervals(raterReport('llm', overall, K, scale.levels, values), boot?.llm[0]);

  let humanReport: HumanReport | null = null;
  let decomposition: Decomposition | null = null;
  if (human && sample && rawHuman) {
    const reports = humanConfusions.map((h, r) => withIntervals(raterReport(h.name, h.confusion, K, scale.levels, values), boot?.human[r]));
    const coderCount = human.coders.length;
    const units = human.itemIds.map((_, item) => human!.coders.map((__, coder) => human!.labels[coder][item]));
    const alphaPoint = (metric: 'nominal' | 'ordinal' | 'interval') => krippendorffAlpha(units, K, metric, values);
    const alphaEstimate = (metric: 'nominal' | 'ordinal' | 'interval', index: number): Estimate => {
      const value = finite(alphaPoint(metric));
      if (!boot) return { value, lo: null, hi: null };
      const [lo, hi] = percentileInterval(boot.alpha, 3, index, confidence);
      return { value, lo, hi };
    };
    humanReport = {
      files: rawHuman.files,
      format: rawHuman.format,
      items: reports[0].n > 0 ? countGoldItems(human) : 0,
      coders: human.coders,
      goldSource: human.goldSource,
      pooled: reports[0],
      perCoder: reports.slice(1, 1 + coderCount),
      pairs: reports.slice(1 + coderCount),
      agreement: {
        alphaNominal: alphaEstimate('nominal', 0),
        alphaOrdinal: alphaEstimate('ordinal', 1),
        alphaInterval: alphaEstimate('interval', 2),
        coders: coderCount,
        units: units.filter((unit) => unit.filter((c) => c >= 0).length >= 2).length,
      },
    };
    if (coderCount < 2) warnings.push('the human test has one coder: H_AER and H_CRI rest on a single person; the paper pools two or more');
    decomposition = buildDecomposition(llm, humanReport, boot?.shares[0], confidence);
  }

  const groups: GroupReport[] = groupConfusions.map((group, s) => {
    const rater = withIntervals(raterReport(`${group.column}=${group.value}`, group.confusion, K, scale.levels, values), boot?.llm[s + 1]);
    return {
      column: group.column,
      value: group.value,
      rater,
      decomposition: humanReport ? buildDecomposition(rater, humanReport, boot?.shares[s + 1], confidence) : null,
    };
  });

  const report: AnnotationReport = {
    version: 1,
    kind: 'preflight.annotation',
    scale: { levels: scale.levels, source: scale.source, ...(scale.name ? { name: scale.name } : {}) },
    labels: { file: raw.file, rows: raw.rows, used, columns: raw.columns, missing: coded.missing, offScale: coded.offScale },
    llm,
    human: humanReport,
    decomposition,
    groups,
    bootstrap: {
      resamples,
      seed,
      confidence,
      method: 'percentile; LLM rows resampled i.i.d. (multinomial over confusion cells), human-test items resampled whole',
    },
    findings,
    findingsOmitted,
    warnings,
    notComputed,
  };
  return { report, rows: { line: raw.line, gold: coded.gold, llm: coded.llm }, scale };
}

function countGoldItems(human: CodedHumanTest): number {
  let items = 0;
  for (let item = 0; item < human.itemIds.length; item++) {
    if (human.gold[item] >= 0 && human.labels.some((labels) => labels[item] >= 0)) items++;
  }
  return items;
}

function buildGroupSets(groups: Array<{ column: string; values: string[]; codes: Int32Array }>, rows: number, maxValues: number, warnings: string[]) {
  const sets: Array<{ column: string; values: string[]; codes: Int32Array }> = [];
  for (const group of groups) {
    if (group.values.length > maxValues)
      warnings.push(`group column '${group.column}' has ${group.values.length} values (over ${maxValues}); not reported per value`);
    else if (group.values.length > 1) sets.push(group);
  }
  if (sets.length >= 2) {
    // every combination present, as the authors group by (model, Technique)
    const lookup = new Map<string, number>();
    const values: string[] = [];
    const codes = new Int32Array(rows);
    for (let row = 0; row < rows; row++) {
      const key = sets.map((set) => set.values[set.codes[row]]).join(' × ');
      let v = lookup.get(key);
      if (v === undefined) {
        v = values.length;
        values.push(key);
        lookup.set(key, v);
      }
      codes[row] = v;
    }
    if (values.length <= maxValues) sets.push({ column: sets.map((set) => set.column).join(' × '), values, codes });
  }
  return sets;
}

/** Point confusions and the per-item pairs the bootstrap resamples: pooled coders, each coder, each coder pair. */
function buildHumanSample(
  human: CodedHumanTest,
  K: number,
): { sample: HumanSample; confusions: Array<{ name: string; confusion: Float64Array }>; goldItems: number } {
  const items = human.itemIds.length;
  const raters: Array<{ name: string; pairs: (item: number) => number[] }> = [];
  raters.push({
    name: 'human (pooled)',
    pairs: (item) => (human.gold[item] < 0 ? [] : human.labels.filter((l) => l[item] >= 0).map((l) => human.gold[item] * K + l[item])),
  });
  human.coders.forEach((coder, c) => {
    raters.push({ name: coder, pairs: (item) => (human.gold[item] >= 0 && human.labels[c][item] >= 0 ? [human.gold[item] * K + human.labels[c][item]] : []) });
  });
  for (let a = 0; a < human.coders.length; a++) {
    for (let b = a + 1; b < human.coders.length; b++) {
      raters.push({
        name: `${human.coders[a]} vs ${human.coders[b]}`,
        pairs: (item) => (human.labels[a][item] >= 0 && human.labels[b][item] >= 0 ? [human.labels[a][item] * K + human.labels[b][item]] : []),
      });
    }
  }
  const confusions: Array<{ name: string; confusion: Float64Array }> = [];
  const itemPairs: ItemPairs[] = raters.map((rater) => {
    const start = new Int32Array(items + 1);
    const codes: number[] = [];
    const confusion = new Float64Array(K * K);
    for (let item = 0; item < items; item++) {
      for (const code of rater.pairs(item)) {
        codes.push(code);
        confusion[code]++;
      }
      start[item + 1] = codes.length;
    }
    confusions.push({ name: rater.name, confusion });
    return { start, codes: Uint16Array.from(codes) };
  });
  const unitStart = new Int32Array(items + 1);
  const unitCodes: number[] = [];
  for (let item = 0; item < items; item++) {
    for (const labels of human.labels) if (labels[item] >= 0) unitCodes.push(labels[item]);
    unitStart[item + 1] = unitCodes.length;
  }
  return { sample: { items, raters: itemPairs, unitStart, unitCodes: Uint16Array.from(unitCodes) }, confusions, goldItems: countGoldItems(human) };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** The five shares with intervals, the task fractions, and plain warnings where the human test is too small. */
function buildDecomposition(llm: RaterReport, human: HumanReport, table: Float64Array | undefined, confidence: number): Decomposition {
  const mAcc = llm.metrics.accuracy.value ?? 0;
  const mBoundary = llm.metrics.boundaryRate.value ?? 0;
  const mConceptual = llm.metrics.conceptualRate.value ?? 0;
  const hBoundary = human.pooled.metrics.boundaryRate.value ?? 0;
  const hConceptual = human.pooled.metrics.conceptualRate.value ?? 0;
  const point = decompose(mAcc, mBoundary, mConceptual, hBoundary, hConceptual);
  const shares = {} as Record<ShareName, Estimate>;
  SHARE_NAMES.forEach((name, i) => {
    const [lo, hi] = table ? percentileInterval(table, SHARE_STRIDE, i, confidence) : [null, null];
    shares[name] = { value: point[i], lo, hi };
  });
  const fraction = (m: number, h: number, index: number): Estimate => {
    const [lo, hi] = table ? percentileInterval(table, SHARE_STRIDE, index, confidence) : [null, null];
    return { value: finite(taskFraction(m, h)), lo, hi };
  };
  const warnings: string[] = [];
  const separable = { boundary: true, conceptual: true };
  const n = human.items;
  const types: Array<{ key: 'boundary' | 'conceptual'; label: string; m: number; h: number; task: number; model: number }> = [
    { key: 'boundary', label: 'boundary (d = 1)', m: mBoundary, h: hBoundary, task: 1, model: 3 },
    { key: 'conceptual', label: 'conceptual (d ≥ 2)', m: mConceptual, h: hConceptual, task: 2, model: 4 },
  ];
  for (const type of types) {
    if (type.m === 0) continue;
    if (type.h === 0) {
      warnings.push(
        `no ${type.label} errors among the ${n} human-test items: every LLM ${type.label} error counts as model-specific; a human rate below about ${pct(Math.min(1, 3 / Math.max(1, n * Math.max(1, human.coders.length))))} cannot be told from 0 with this test`,
      );
    }
    if (!table) continue;
    const diffs: number[] = [];
    for (let b = 0; b < table.length / SHARE_STRIDE; b++) {
      const d = table[b * SHARE_STRIDE + type.task] - table[b * SHARE_STRIDE + type.model];
      if (Number.isFinite(d)) diffs.push(d);
    }
    if (diffs.length < 2) continue;
    diffs.sort((x, y) => x - y);
    const tail = (1 - confidence) / 2;
    const lo = diffs[Math.floor(tail * (diffs.length - 1))];
    const hi = diffs[Math.ceil((1 - tail) * (diffs.length - 1))];
    if (lo <= 0 && hi >= 0) {
      separable[type.key] = false;
      const diff = point[type.task] - point[type.model];
      const half = (hi - lo) / 2;
      const needed = Math.abs(diff) > 1e-9 ? Math.ceil(n * (half / Math.abs(diff)) ** 2) : undefined;
      warnings.push(
        `the human test (${n} items) is too small to separate task-inherent from model-specific ${type.label} errors: the ${Math.round(confidence * 100)}% interval of their difference is [${pct(lo)}, ${pct(hi)}]` +
          (needed && needed > n ? `; roughly ${needed} items would be needed` : ''),
      );
    }
  }
  return {
    shares,
    taskFraction: { boundary: fraction(mBoundary, hBoundary, 5), conceptual: fraction(mConceptual, hConceptual, 6) },
    inputs: { mBoundary, mConceptual, hBoundary, hConceptual },
    separable,
    warnings,
  };
}

/** Rows of the labels file in one confusion cell (gold level g, LLM level l): their lines, for the editor. */
export function linesOfCell(rows: AnnotationAnalysis['rows'], g: number, l: number, limit = Infinity): number[] {
  const lines: number[] = [];
  for (let row = 0; row < rows.gold.length && lines.length < limit; row++) {
    if (rows.gold[row] === g && rows.llm[row] === l) lines.push(rows.line[row]);
  }
  return lines;
}

export { normalizeLabel, alphaFromCoincidence };
