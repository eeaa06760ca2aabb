// Inline diagnostics on the rows where the LLM label differs from gold: conceptual errors
// (two or more levels apart) as warnings, boundary errors (adjacent levels) as information,
// each saying what share of that error type the human test attributes to the task.
import * as vscode from 'vscode';
import type { AnnotationAnalysis } from '../../core/annotation/analyze';
import { errorClass, type Estimate } from '../../shared/reports/annotation';

export const DIAGNOSTIC_COLLECTION = 'preflight-annotation';

function pct(e: Estimate): string {
  if (e.value === null) return 'unknown';
  const interval = e.lo !== null && e.hi !== null ? ` (95% CI ${(100 * e.lo).toFixed(0)}–${(100 * e.hi).toFixed(0)}%)` : '';
  return `${(100 * e.value).toFixed(1)}%${interval}`;
}

/** diagnostics built per turn of the event loop: thousands at once held the extension host ~20 ms under load */
const PER_TURN = 500;

export async function annotationDiagnostics(
  analysis: AnnotationAnalysis,
  document: vscode.TextDocument | undefined,
  max: number,
): Promise<{ diagnostics: vscode.Diagnostic[]; total: number }> {
  const { rows, scale, report } = analysis;
  const levels = scale.levels;
  const d = report.decomposition;
  const note = (type: 'boundary' | 'conceptual') =>
    d
      ? `${pct(d.taskFraction[type])} of the LLM's ${type} errors are task-inherent (human coders make them too); the rest are model-specific.`
      : `No human test yet, so the task-inherent share of ${type} errors is unknown (Preflight: Analyze Annotation Errors → Choose human test).`;
  const boundaryNote = note('boundary');
  const conceptualNote = note('conceptual');
  const conceptual: number[] = [];
  const boundary: number[] = [];
  for (let row = 0; row < rows.gold.length; row++) {
    const g = rows.gold[row];
    const l = rows.llm[row];
    if (g < 0 || l < 0 || g === l) continue;
    (errorClass(g, l) === 2 ? conceptual : boundary).push(row);
  }
  const total = conceptual.length + boundary.length;
  const diagnostics: vscode.Diagnostic[] = [];
  // conceptual errors first: they matter more when the cap cuts the list
  for (const row of [...conceptual, ...boundary]) {
    if (diagnostics.length >= max) break;
    if (diagnostics.length > 0 && diagnostics.length % PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
    const g = rows.gold[row];
    const l = rows.llm[row];
    const distance = Math.abs(g - l);
    const line = rows.line[row] - 1;
    const range = document && line < document.lineCount ? document.lineAt(line).range : new vscode.Range(line, 0, line, 1000);
    const isConceptual = errorClass(g, l) === 2;
    const message = `LLM label '${levels[l]}' vs gold '${levels[g]}': ${isConceptual ? `conceptual error (${distance} levels apart)` : 'boundary error (adjacent levels)'}. ${isConceptual ? conceptualNote : boundaryNote}`;
    const diagnostic = new vscode.Diagnostic(range, message, isConceptual ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information);
    diagnostic.source = 'preflight';
    diagnostic.code = isConceptual ? 'annotation-conceptual-error' : 'annotation-boundary-error';
    diagnostics.push(diagnostic);
  }
  return { diagnostics, total };
}
