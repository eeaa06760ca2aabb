// Draws the human test: a sample of N items stratified by gold label (proportional allocation,
// largest remainders, at least one item per level present when N allows), and writes the coder
// sheet: one row per (coder, item) in the long format `Annotator,ID,Text,Label` with Label left
// blank. Gold labels are not in the sheet, so coders work blind; reading the filled sheet back
// takes the gold labels from the labels file by ID.
import { csvField, CsvSource } from './csv';
import { AnnotationInputError } from './errors';
import { Rng } from '../../shared/random';
import { readLabels, LabelColumnOverrides } from './readLabels';
import { detectScale, explicitScale, isMissingLabel, LabelScale } from './scale';

export interface SampleOptions {
  n: number;
  seed?: number;
  coders?: string[];
  levels?: string[];
  columns?: LabelColumnOverrides;
}

export interface HumanTestSample {
  scale: LabelScale;
  /** items drawn per level */
  allocation: Record<string, number>;
  items: Array<{ id: string; text: string; gold: string; line: number }>;
  sheet: string;
}

/** Proportional allocation of n over strata sizes, largest remainders, min 1 per non-empty stratum when n ≥ strata. */
export function allocate(sizes: number[], n: number): number[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const take = Math.min(n, total);
  const nonEmpty = sizes.filter((s) => s > 0).length;
  const base: number[] = sizes.map((s) => (s > 0 && take >= nonEmpty ? 1 : 0));
  let left = take - base.reduce((a, b) => a + b, 0);
  const room = sizes.map((s, i) => s - base[i]);
  const roomTotal = room.reduce((a, b) => a + b, 0);
  const exact = room.map((r) => (roomTotal > 0 ? (r / roomTotal) * left : 0));
  const alloc = exact.map((x, i) => Math.min(room[i], Math.floor(x)));
  left -= alloc.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, rem: x - Math.floor(x) })).sort((a, b) => b.rem - a.rem || a.i - b.i);
  while (left > 0) {
    let moved = false;
    for (const { i } of order) {
      if (left === 0) break;
      if (alloc[i] < room[i]) {
        alloc[i]++;
        left--;
        moved = true;
      }
    }
    if (!moved) break;
  }
  return alloc.map((a, i) => a + base[i]);
}

export async function sampleHumanTest(source: CsvSource, options: SampleOptions): Promise<HumanTestSample> {
  if (!Number.isInteger(options.n) || options.n < 1) throw new AnnotationInputError('--n must be a positive integer');
  const coders = options.coders ?? ['A1', 'A2'];
  const raw = await readLabels(source, { columns: options.columns, keepIds: true, keepTexts: true });
  const counts = new Map<string, number>();
  raw.labels.forEach((label, i) => counts.set(label, raw.counts[i]));
  const scale = options.levels ? explicitScale(options.levels) : detectScale(counts);
  const index = new Map(scale.levels.map((level, i) => [level, i]));
  const strata: number[][] = scale.levels.map(() => []);
  for (let row = 0; row < raw.rows; row++) {
    const code = raw.gold[row];
    if (code < 0) continue;
    const level = index.get(raw.labels[code]);
    if (level !== undefined && !isMissingLabel(raw.labels[code])) strata[level].push(row);
  }
  if (strata.every((s) => s.length === 0)) throw new AnnotationInputError(`${raw.file}: no row has a gold label on the scale (${scale.levels.join(', ')})`);
  const rng = new Rng(options.seed ?? 1);
  const alloc = allocate(
    strata.map((s) => s.length),
    options.n,
  );
  const picked: number[] = [];
  strata.forEach((rows, level) => {
    // partial Fisher–Yates: the first alloc[level] entries become a uniform sample
    const pool = rows.slice();
    for (let i = 0; i < alloc[level]; i++) {
      const j = i + rng.int(pool.length - i);
      [pool[i], pool[j]] = [pool[j], pool[i]];
      picked.push(pool[i]);
    }
  });
  // shuffle so that coders do not see the items grouped by gold level
  for (let i = picked.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [picked[i], picked[j]] = [picked[j], picked[i]];
  }
  const items = picked.map((row) => ({
    id: raw.ids?.[row] || String(raw.line[row]),
    text: raw.texts?.[row] ?? '',
    gold: raw.labels[raw.gold[row]],
    line: raw.line[row],
  }));
  const lines = ['Annotator,ID,Text,Label'];
  for (const coder of coders) for (const item of items) lines.push([coder, item.id, item.text, ''].map(csvField).join(','));
  const allocation: Record<string, number> = {};
  scale.levels.forEach((level, i) => (allocation[level] = alloc[i]));
  return { scale, allocation, items, sheet: `${lines.join('\n')}\n` };
}
