// Calibration of an annotator's confidence (docs/annotation.md "Calibration"): a confidence is
// only useful if, among labels given with confidence about c, about a share c is correct. Rows are
// put into equal-width confidence buckets; each bucket's accuracy (label = gold) is set beside its
// mean confidence, and the expected calibration error is their gap weighted by bucket size:
//   ECE = Σ_b (n_b / N) · |acc_b − conf_b|      (Naeini et al. 2015; Guo et al. 2017)
import type { AnnotationAnalysis } from './analyze';
import { CsvSource, findColumn, readCsv } from './csv';

import type { CalibrationBucket, CalibrationReport } from '../../shared/reports/annotation';

export type { CalibrationBucket, CalibrationReport };

export const DEFAULT_BUCKETS = 10;

/** Buckets and ECE from per-row confidences and correctness (NaN confidences are skipped). */
export function calibrate(
  confidence: ArrayLike<number>,
  correct: ArrayLike<number | boolean>,
  buckets = DEFAULT_BUCKETS,
  column = 'llm_confidence',
): CalibrationReport {
  const n = new Float64Array(buckets);
  const hits = new Float64Array(buckets);
  const conf = new Float64Array(buckets);
  let total = 0;
  for (let i = 0; i < confidence.length; i++) {
    const c = confidence[i];
    if (!(c >= 0 && c <= 1)) continue;
    const b = Math.min(buckets - 1, Math.floor(c * buckets));
    n[b]++;
    conf[b] += c;
    if (correct[i]) hits[b]++;
    total++;
  }
  const out: CalibrationBucket[] = [];
  let ece = 0;
  let maxGap = 0;
  let allHits = 0;
  let allConf = 0;
  for (let b = 0; b < buckets; b++) {
    const accuracy = n[b] ? hits[b] / n[b] : null;
    const meanConfidence = n[b] ? conf[b] / n[b] : null;
    if (n[b]) {
      const gap = Math.abs(accuracy! - meanConfidence!);
      ece += (n[b] / total) * gap;
      maxGap = Math.max(maxGap, gap);
    }
    allHits += hits[b];
    allConf += conf[b];
    out.push({ lo: b / buckets, hi: (b + 1) / buckets, n: n[b], accuracy, meanConfidence });
  }
  const accuracy = total ? allHits / total : null;
  const meanConfidence = total ? allConf / total : null;
  return {
    column,
    n: total,
    buckets: out,
    ece: total ? ece : null,
    maxGap: total ? maxGap : null,
    accuracy,
    meanConfidence,
    overconfidence: total ? meanConfidence! - accuracy! : null,
  };
}

/**
 * Calibration of the analysed LLM labels: reads the confidence column of the same labels file
 * (rows in file order, as the analysis coded them) and buckets the rows that have gold and LLM
 * labels on the scale. Undefined when the file has no such column.
 */
export async function calibrationOf(
  source: CsvSource,
  analysis: AnnotationAnalysis,
  column = 'llm_confidence',
  options: { signal?: AbortSignal; buckets?: number } = {},
): Promise<CalibrationReport | undefined> {
  const { gold, llm } = analysis.rows;
  const confidence = new Float64Array(gold.length).fill(Number.NaN);
  let index: number | undefined;
  let name = column;
  let row = 0;
  await readCsv(
    source,
    (header) => {
      index = findColumn(header, column);
      if (index !== undefined) name = header[index];
    },
    (record) => {
      const r = row++;
      if (index === undefined || r >= confidence.length) return;
      const raw = (record[index] ?? '').trim();
      if (raw && gold[r] >= 0 && llm[r] >= 0) confidence[r] = Number(raw);
    },
    { signal: options.signal },
  );
  if (index === undefined) return undefined;
  const correct = new Uint8Array(gold.length);
  for (let r = 0; r < gold.length; r++) correct[r] = gold[r] >= 0 && gold[r] === llm[r] ? 1 : 0;
  return calibrate(confidence, correct, options.buckets ?? DEFAULT_BUCKETS, name);
}

/** The calibration section of the text report. */
export function formatCalibration(report: CalibrationReport): string {
  const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);
  const lines = [`Calibration of ${report.column} (${report.n} rows with gold, label and confidence)`];
  lines.push(
    `  expected calibration error (ECE): ${pct(report.ece)}; largest bucket gap ${pct(report.maxGap)}; mean confidence ${pct(report.meanConfidence)} vs accuracy ${pct(report.accuracy)}${report.overconfidence !== null ? ` (${report.overconfidence > 0 ? 'overconfident' : 'underconfident'} by ${pct(Math.abs(report.overconfidence))})` : ''}`,
  );
  lines.push('  confidence      n  accuracy  mean conf');
  for (const b of report.buckets) {
    if (!b.n) continue;
    lines.push(
      `  ${`${(100 * b.lo).toFixed(0)}–${(100 * b.hi).toFixed(0)}%`.padEnd(12)} ${String(b.n).padStart(4)}  ${pct(b.accuracy).padStart(8)}  ${pct(b.meanConfidence).padStart(9)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
