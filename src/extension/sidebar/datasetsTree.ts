// The "Datasets & Findings" view (preflight.datasets): each validated file with its counts, and
// under it its findings; clicking a finding reveals its line.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import type { Finding } from '../../core/data/types';
import type { FileResult, ValidationController } from '../validation/validationController';
import { findingRange } from '../validation/diagnostics';

export type DatasetNode = { type: 'file'; result: FileResult } | { type: 'finding'; result: FileResult; finding: Finding };

const icons: Record<Finding['severity'], vscode.ThemeIcon> = {
  error: new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground')),
  warning: new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground')),
  info: new vscode.ThemeIcon('info', new vscode.ThemeColor('problemsInfoIcon.foreground')),
};

/** "2 errors · 1 warning · 120 records · chat" */
export function describeCounts(result: FileResult): string {
  const { summary } = result;
  const parts: string[] = [];
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (summary.errors) parts.push(plural(summary.errors, 'error'));
  if (summary.warnings) parts.push(plural(summary.warnings, 'warning'));
  if (summary.infos) parts.push(plural(summary.infos, 'info'));
  if (parts.length === 0) parts.push('no findings');
  parts.push(plural(summary.records, 'record'));
  if (summary.schema) parts.push(summary.schema);
  return parts.join(' · ');
}

export class DatasetsTree implements vscode.TreeDataProvider<DatasetNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<DatasetNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;
  private readonly view: vscode.TreeView<DatasetNode>;

  constructor(private readonly controller: ValidationController) {
    this.subscription = controller.onDidChange(() => this.changed.fire(undefined));
    this.view = vscode.window.createTreeView('preflight.datasets', { treeDataProvider: this, showCollapseAll: true });
  }

  /** Shows a validated file's node, expanded and focused (nothing when it has no findings yet). */
  async reveal(file: vscode.Uri): Promise<void> {
    const result = this.controller.results.get(file.toString());
    if (result) await this.view.reveal({ type: 'file', result }, { focus: true, expand: true });
  }

  getChildren(element?: DatasetNode): DatasetNode[] {
    if (!element) {
      return [...this.controller.results.values()].sort((a, b) => a.uri.fsPath.localeCompare(b.uri.fsPath)).map((result) => ({ type: 'file', result }));
    }
    if (element.type === 'file') {
      return element.result.findings.map((finding) => ({ type: 'finding', result: element.result, finding }));
    }
    return [];
  }

  getParent(element: DatasetNode): DatasetNode | undefined {
    return element.type === 'finding' ? { type: 'file', result: element.result } : undefined;
  }

  getTreeItem(element: DatasetNode): vscode.TreeItem {
    if (element.type === 'file') {
      const { result } = element;
      const item = new vscode.TreeItem(
        basename(result.uri.fsPath),
        result.findings.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
      );
      item.id = result.uri.toString();
      item.resourceUri = result.uri;
      item.description = describeCounts(result);
      item.tooltip = `${vscode.workspace.asRelativePath(result.uri)}\n${describeCounts(result)}\nvalidated ${result.source === 'disk' ? 'from disk' : 'from the editor'} at ${result.at.toLocaleTimeString()}`;
      item.iconPath = result.summary.errors
        ? icons.error
        : result.summary.warnings
          ? icons.warning
          : new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
      item.contextValue = 'preflight.dataset';
      item.command = { command: 'vscode.open', title: 'Open', arguments: [result.uri] };
      return item;
    }
    const { finding, result } = element;
    const item = new vscode.TreeItem(`${finding.line}: ${finding.message}`, vscode.TreeItemCollapsibleState.None);
    item.id = `${result.uri.toString()}#${finding.line}:${finding.column}:${finding.code}:${finding.message.length}`;
    item.description = finding.code;
    item.tooltip = `${finding.severity} ${finding.code} at line ${finding.line}, column ${finding.column}\n${finding.message}${finding.fix ? `\nQuick fix: ${finding.fix.title}` : ''}`;
    item.iconPath = icons[finding.severity];
    item.contextValue = finding.fix ? 'preflight.finding.fixable' : 'preflight.finding';
    item.command = { command: 'preflight.revealFinding', title: 'Reveal', arguments: [result.uri, finding] };
    return item;
  }

  dispose(): void {
    this.view.dispose();
    this.subscription.dispose();
    this.changed.dispose();
  }
}

/** preflight.revealFinding: opens the file with the finding's range selected. */
export async function revealFinding(uri: vscode.Uri, finding: Pick<Finding, 'line' | 'column' | 'endLine' | 'endColumn'>): Promise<void> {
  const range = findingRange(finding);
  await vscode.window.showTextDocument(uri, { selection: range, preview: true });
}
