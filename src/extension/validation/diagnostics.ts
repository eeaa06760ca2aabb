// Findings (1-based, endColumn exclusive) to VS Code diagnostics (0-based, end exclusive),
// capped at maxFindings with one summary diagnostic saying how many more there were.
import * as vscode from 'vscode';
import type { Finding, Severity, ValidationSummary } from '../../core/data/types';

export const DIAGNOSTIC_SOURCE = 'preflight';
export const TRUNCATED_CODE = 'findings-truncated';

const severities: Record<Severity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

export function findingRange(finding: Pick<Finding, 'line' | 'column' | 'endLine' | 'endColumn'>): vscode.Range {
  const startLine = Math.max(0, finding.line - 1);
  const startChar = Math.max(0, finding.column - 1);
  const endLine = Math.max(startLine, (finding.endLine || finding.line) - 1);
  const endChar = Math.max(0, (finding.endColumn || finding.column) - 1);
  if (endLine === startLine && endChar <= startChar) {
    // a point (e.g. 'a field is missing at the end of this row'): underline the character before
    // it, which exists even at the end of a line, rather than an invisible zero-width squiggle
    return startChar > 0 ? new vscode.Range(startLine, startChar - 1, startLine, startChar) : new vscode.Range(startLine, 0, startLine, 1);
  }
  return new vscode.Range(startLine, startChar, endLine, endChar);
}

/**
 * A finding past the end of its line ("']' is missing" after the last character) underlines
 * the line's last character instead: VS Code would draw it as a speck beyond the text.
 */
function visibleRange(range: vscode.Range, lineLength?: (line: number) => number | undefined): vscode.Range {
  const length = lineLength?.(range.start.line);
  if (length === undefined || length === 0 || !range.isSingleLine || range.start.character < length) return range;
  return new vscode.Range(range.start.line, length - 1, range.start.line, length);
}

export function toDiagnostic(finding: Finding, lineLength?: (line: number) => number | undefined): vscode.Diagnostic {
  const diagnostic = new vscode.Diagnostic(visibleRange(findingRange(finding), lineLength), finding.message, severities[finding.severity]);
  diagnostic.source = DIAGNOSTIC_SOURCE;
  diagnostic.code = finding.code;
  return diagnostic;
}

/** At most maxFindings diagnostics; the last one says how many findings were left out. */
export function toDiagnostics(
  findings: Finding[],
  summary: ValidationSummary,
  maxFindings: number,
  lineLength?: (line: number) => number | undefined,
): vscode.Diagnostic[] {
  const convert = (finding: Finding) => toDiagnostic(finding, lineLength);
  const total = summary.errors + summary.warnings + summary.infos;
  const alreadySummarised = findings.some((f) => f.code === TRUNCATED_CODE);
  if (findings.length <= maxFindings && (alreadySummarised || !summary.truncated)) {
    return findings.map(convert);
  }
  const kept = findings.filter((f) => f.code !== TRUNCATED_CODE).slice(0, Math.max(0, maxFindings - 1));
  const diagnostics = kept.map(convert);
  const more = Math.max(0, Math.max(total, findings.length) - kept.length);
  const note = new vscode.Diagnostic(
    new vscode.Range(0, 0, 0, 1),
    `Preflight: ${more} more finding${more === 1 ? '' : 's'} not shown (${summary.errors} errors, ${summary.warnings} warnings, ${summary.infos} infos in all; setting preflight.validation.maxFindings = ${maxFindings}).`,
    vscode.DiagnosticSeverity.Information,
  );
  note.source = DIAGNOSTIC_SOURCE;
  note.code = TRUNCATED_CODE;
  diagnostics.push(note);
  return diagnostics;
}
