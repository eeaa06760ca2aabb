// The top-attributed records of a forecast as diagnostics in the 'preflight-mdf' collection:
// Warning where the behaviour's risk is medium or high, Information otherwise.
import * as vscode from 'vscode';
import { recordFindings } from '../../core/mdf/findings';
import type { MdfReport } from '../../core/mdf/report';

export function findingsToDiagnostics(report: MdfReport, perBehaviour = 10): vscode.Diagnostic[] {
  return recordFindings(report, perBehaviour).map((f) => {
    const line = f.line - 1;
    const diagnostic = new vscode.Diagnostic(
      new vscode.Range(line, 0, line, Number.MAX_SAFE_INTEGER),
      f.message,
      f.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information,
    );
    diagnostic.source = 'Preflight MDF';
    diagnostic.code = `mdf:${f.behaviour}`;
    return diagnostic;
  });
}
