// Every editor event validation listens to, in one place. The set is torn down and registered
// again when a preflight.validation setting changes (and left empty while validation is off).
import * as vscode from 'vscode';
import { ValidationController } from './validationController';
import { readValidationSettings } from './settings';

export interface EventTargets {
  controller: ValidationController;
  /** the active editor changed, or a file's state did */
  refreshStatus(): void;
}

function subscribe(targets: EventTargets): vscode.Disposable {
  const { controller } = targets;
  if (!readValidationSettings().enabled) {
    controller.clearAll();
    targets.refreshStatus();
    return new vscode.Disposable(() => undefined);
  }
  const subscriptions = [
    vscode.workspace.onDidOpenTextDocument((document) => void controller.onOpenOrSave(document, 'open')),
    vscode.workspace.onDidChangeTextDocument((event) => {
      if (event.contentChanges.length > 0) controller.schedule(event.document, event.contentChanges);
    }),
    vscode.workspace.onDidSaveTextDocument((document) => void controller.onOpenOrSave(document, 'save')),
    vscode.workspace.onDidCloseTextDocument((document) => controller.onClose(document)),
    vscode.window.onDidChangeActiveTextEditor(() => targets.refreshStatus()),
    controller.onDidChange(() => targets.refreshStatus()),
  ];
  // documents already open when validation starts (or restarts with new settings)
  for (const document of vscode.workspace.textDocuments) void controller.onOpenOrSave(document, 'open');
  targets.refreshStatus();
  return vscode.Disposable.from(...subscriptions);
}

/** Registers the listeners and re-registers them whenever validation settings change. */
export function registerValidationEvents(targets: EventTargets): vscode.Disposable {
  let current = subscribe(targets);
  const onConfiguration = vscode.workspace.onDidChangeConfiguration((event) => {
    if (!event.affectsConfiguration('preflight.validation')) return;
    current.dispose();
    targets.controller.clearAll();
    current = subscribe(targets);
  });
  return new vscode.Disposable(() => {
    onConfiguration.dispose();
    current.dispose();
  });
}
