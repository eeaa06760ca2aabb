// The rows where the LLM label differs from gold, as plain data for an editor to mark: conceptual
// errors (two or more levels apart) first, then boundary errors (adjacent levels), each with the
// message that says what share of that error type the human test attributes to the task. No
// editor types here: the extension turns slices of these into its diagnostics.
import type { AnnotationAnalysis } from './analyze';
import { errorClass, type Estimate } from '../../shared/reports/annotation';

export interface ErrorMark {
  /** 0-based line of the row's first line in the labels file */
  line: number;
  conceptual: boolean;
  message: string;
}

function pct(e: Estimate): string {
  if (e.value === null) return 'unknown';
  const interval = e.lo !== null && e.hi !== null ? ` (95% CI ${(100 * e.lo).toFixed(0)}–${(100 * e.hi).toFixed(0)}%)` : '';
  return `${(100 * e.value).toFixed(1)}%${interval}`;
}

/** At most `max` marks (conceptual errors first: they matter more when the cap cuts the list) and how many errors there are. */
export function errorMarks(analysis: AnnotationAnalysis, max: number): { marks: ErrorMark[]; total: number } {
  const { rows, scale, report } = analysis;
  const levels = scale.levels;
  const d = report.decomposition;
  const note = (type: 'boundary' | 'conceptual') =>
    d
      ? `${pct(d.taskFraction[type])} of the LLM's ${type} errors are task-inherent (human coders make them too); the rest are model-specific.`
      : `No human test yet, so the task-inherent share of ${type} errors is unknown (Preflight: Analyze Annotation Errors → Choose human test).`;
  const conceptual: number[] = [];
  const boundary: number[] = [];
  for (let row = 0; row < rows.gold.length; row++) {
    const g = rows.gold[row];
    const l = rows.llm[row];
    if (g < 0 || l < 0 || g === l) continue;
    (errorClass(g, l) === 2 ? conceptual : boundary).push(row);
  }
  const total = conceptual.length + boundary.length;
  const notes = { conceptual: note('conceptual'), boundary: note('boundary') };
  const marks: ErrorMark[] = [];
  for (const row of [...conceptual, ...boundary]) {
    if (marks.length >= Math.max(0, max)) break;
    const g = rows.gold[row];
    const l = rows.llm[row];
    const isConceptual = errorClass(g, l) === 2;
    const kind = isConceptual ? `conceptual error (${Math.abs(g - l)} levels apart)` : 'boundary error (adjacent levels)';
    marks.push({
      line: rows.line[row] - 1,
      conceptual: isConceptual,
      message: `LLM label '${levels[l]}' vs gold '${levels[g]}': ${kind}. ${isConceptual ? notes.conceptual : notes.boundary}`,
    });
  }
  return { marks, total };
}
