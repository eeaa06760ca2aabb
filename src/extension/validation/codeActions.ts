// Quick fixes for findings that carry a safe fix (today: deleting an exact duplicate line).
// Each is a WorkspaceEdit the user chooses to apply; nothing is ever rewritten silently. Fixes are
// offered only while the document is at the version the findings were computed for, so a stale
// line number can never delete the wrong line.
import * as vscode from 'vscode';
import type { Finding } from '../../core/data/types';
import { ValidationController } from './validationController';
import { findingRange } from './diagnostics';

export function deleteLineRange(document: vscode.TextDocument, line: number): vscode.Range | undefined {
  const index = line - 1;
  if (index < 0 || index >= document.lineCount) return undefined;
  if (index + 1 < document.lineCount) return new vscode.Range(index, 0, index + 1, 0);
  if (index === 0) return document.lineAt(0).range;
  // the last line: take the line break before it instead
  return new vscode.Range(index - 1, document.lineAt(index - 1).text.length, index, document.lineAt(index).text.length);
}

export class SafeFixProvider implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  constructor(private readonly controller: ValidationController) {}

  provideCodeActions(document: vscode.TextDocument, range: vscode.Range | vscode.Selection, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const result = this.controller.results.get(document.uri.toString());
    if (!result || (result.version !== undefined && result.version !== document.version)) return [];
    if (result.source === 'disk' && document.isDirty) return [];
    const fixable = result.findings.filter((f): f is Finding & { fix: NonNullable<Finding['fix']> } => f.fix?.kind === 'deleteLine');
    if (fixable.length === 0) return [];

    const actions: vscode.CodeAction[] = [];
    for (const finding of fixable) {
      if (!findingRange(finding).intersection(range) && finding.fix.line - 1 !== range.start.line) continue;
      const target = deleteLineRange(document, finding.fix.line);
      if (!target) continue;
      const action = new vscode.CodeAction(finding.fix.title, vscode.CodeActionKind.QuickFix);
      action.edit = new vscode.WorkspaceEdit();
      action.edit.delete(document.uri, target);
      action.diagnostics = context.diagnostics.filter((d) => d.code === finding.code && d.range.start.line === finding.line - 1);
      actions.push(action);
    }
    if (actions.length > 0 && fixable.length > 1) {
      // all deleteLine fixes of the file in one edit (distinct lines, so the deletions never overlap)
      const lines = [...new Set(fixable.map((f) => f.fix.line))];
      const all = new vscode.CodeAction(
        `Preflight: apply all ${lines.length} safe fixes in this file (delete duplicate lines)`,
        vscode.CodeActionKind.QuickFix,
      );
      all.edit = new vscode.WorkspaceEdit();
      for (const line of lines) {
        const target = deleteLineRange(document, line);
        if (target) all.edit.delete(document.uri, target);
      }
      actions.push(all);
    }
    return actions;
  }
}
