// The ordered label scale every annotation metric is computed on, and how it is found.
// Labels are compared after normalisation (case, surrounding and repeated whitespace), as the
// LAK'26 reference code does; a value that is not on the scale is reported, never dropped silently.

export interface LabelScale {
  /** normalised level names, lowest first; the distance between two labels is the difference of their indices */
  levels: string[];
  /** numeric value of each level for the interval metric (the level's number when every level is numeric, else its index) */
  values: number[];
  /** where the order came from */
  source: 'explicit' | 'known' | 'numeric' | 'columns' | 'guessed';
  /** the name of the known scale that matched, e.g. 'bloom' */
  name?: string;
}

/** Lower-case, trim and collapse inner whitespace: 'Focus ' and 'focus' are one label. */
export function normalizeLabel(raw: string): string {
  const trimmed = raw.trim();
  if (!/\s\s|[\t\r\n]/.test(trimmed)) return trimmed.toLowerCase();
  return trimmed.replace(/\s+/g, ' ').toLowerCase();
}

const MISSING = new Set(['', 'na', 'nan', 'n/a', 'null']);

/** Empty cells and the usual spreadsheet spellings of "no value" count as missing, not off-scale. */
export function isMissingLabel(normalized: string): boolean {
  return MISSING.has(normalized);
}

/** Scales of the tasks in the LAK'26 paper (orders as in the authors' code) and a few common ones. */
export const KNOWN_SCALES: ReadonlyArray<{ name: string; levels: string[] }> = [
  { name: 'bloom', levels: ['remember', 'understand', 'apply', 'analyze', 'evaluate', 'create'] },
  { name: 'bloom-british', levels: ['remember', 'understand', 'apply', 'analyse', 'evaluate', 'create'] },
  { name: 'mathdial', levels: ['focus', 'probing', 'telling', 'generic'] },
  { name: 'low-mid-high', levels: ['low', 'mid', 'high'] },
  { name: 'low-medium-high', levels: ['low', 'medium', 'high'] },
  { name: 'sentiment', levels: ['negative', 'neutral', 'positive'] },
  { name: 'agreement-5', levels: ['strongly disagree', 'disagree', 'neutral', 'agree', 'strongly agree'] },
  { name: 'quality-5', levels: ['very poor', 'poor', 'fair', 'good', 'excellent'] },
  { name: 'none-some-all', levels: ['none', 'some', 'all'] },
];

const NUMERIC = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;

/** Builds a scale from levels given in order (e.g. `--levels a,b,c`). */
export function explicitScale(levels: string[]): LabelScale {
  const normalized = levels.map(normalizeLabel).filter((level) => !isMissingLabel(level));
  const seen = new Set<string>();
  for (const level of normalized) {
    if (seen.has(level)) throw new Error(`level '${level}' is listed twice`);
    seen.add(level);
  }
  if (normalized.length < 2) throw new Error('a label scale needs at least two levels');
  return { levels: normalized, values: valuesOf(normalized), source: 'explicit' };
}

function valuesOf(levels: string[]): number[] {
  return levels.every((level) => NUMERIC.test(level)) ? levels.map(Number) : levels.map((_, index) => index);
}

/**
 * Finds the scale from the distinct normalised labels and how often each occurs. In order of trust:
 * a numeric scale (integers fill their gaps so distances stay true), a known named scale that
 * covers at least 95% of the occurrences, the order of wide-format level columns, and last an
 * alphabetical guess that the caller must flag (distances are then arbitrary).
 */
export function detectScale(counts: Map<string, number>, columnOrder?: string[]): LabelScale {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const numeric = [...counts.keys()].filter((label) => NUMERIC.test(label));
  const numericCount = numeric.reduce((sum, label) => sum + (counts.get(label) ?? 0), 0);
  if (numeric.length >= 2 && numericCount >= 0.95 * total) {
    const nums = [...new Set(numeric.map(Number))].sort((a, b) => a - b);
    const allIntegers = nums.every(Number.isInteger);
    const min = nums[0];
    const max = nums[nums.length - 1];
    if (allIntegers && max - min <= 20) {
      const levels: string[] = [];
      for (let v = min; v <= max; v++) levels.push(String(v));
      // keep the spelling used in the data when it differs (e.g. '01')
      return {
        levels: levels.map((level) => numeric.find((label) => Number(label) === Number(level)) ?? level),
        values: levels.map(Number),
        source: 'numeric',
      };
    }
    const levels = nums.map((value) => numeric.find((label) => Number(label) === value) as string);
    return { levels, values: nums, source: 'numeric' };
  }
  if (columnOrder && columnOrder.length >= 2) {
    const levels = columnOrder.map(normalizeLabel);
    const known = KNOWN_SCALES.find((scale) => scale.levels.length === levels.length && scale.levels.every((level) => levels.includes(level)));
    if (known) return { levels: [...known.levels], values: valuesOf(known.levels), source: 'known', name: known.name };
    return { levels, values: valuesOf(levels), source: 'columns' };
  }
  let best: { name: string; levels: string[]; covered: number } | undefined;
  for (const scale of KNOWN_SCALES) {
    const covered = scale.levels.reduce((sum, level) => sum + (counts.get(level) ?? 0), 0);
    if (!best || covered > best.covered) best = { ...scale, covered };
  }
  if (best && total > 0 && best.covered >= 0.95 * total) {
    return { levels: [...best.levels], values: valuesOf(best.levels), source: 'known', name: best.name };
  }
  const levels = [...counts.keys()].sort();
  return { levels, values: valuesOf(levels), source: 'guessed' };
}

/** Index of each normalised level, for coding labels into small integers. */
export function levelIndex(scale: LabelScale): Map<string, number> {
  return new Map(scale.levels.map((level, index) => [level, index]));
}
