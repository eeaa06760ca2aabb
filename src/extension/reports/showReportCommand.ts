// preflight.showReport: opens the last report for the active (or right-clicked) file; with
// several kinds of report it asks which, newest first; with none it says so.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { Feature } from '../features/feature';
import { reportsFor } from './registry';
import { setTestState } from '../testState';

async function showReport(arg?: unknown): Promise<void> {
  const file = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
  if (!file) {
    void vscode.window.showInformationMessage('Preflight: open a data file first; Show Report opens the last report made for it.');
    return;
  }
  const reports = await reportsFor(file);
  setTestState('showReport', { file: basename(file.fsPath), kinds: reports.map((r) => r.handler.kind) });
  if (reports.length === 0) {
    void vscode.window.showInformationMessage(
      `Preflight: no report yet for ${basename(file.fsPath)}. Validate it, forecast its behaviour (MDF) or analyze its annotations first (BEAR runs show in the Jobs view).`,
    );
    return;
  }
  let chosen = reports[0];
  if (reports.length > 1) {
    const pick = await vscode.window.showQuickPick(
      reports.map((r) => ({ label: r.handler.label, description: r.at.toLocaleString(), report: r })),
      { title: `Preflight reports for ${basename(file.fsPath)}`, placeHolder: 'Which report?' },
    );
    if (!pick) return;
    chosen = pick.report;
  }
  await chosen.handler.open(file);
}

export function reportsFeature(): Feature {
  return {
    id: 'reports',
    activate(context) {
      context.subscriptions.push(vscode.commands.registerCommand('preflight.showReport', showReport));
    },
  };
}
