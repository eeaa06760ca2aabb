// Activation stays cheap: each feature registers its commands and views; nothing heavy
// (ONNX Runtime, the worker, big files) loads until a command or an opened file needs it.
import * as vscode from 'vscode';
import { features } from './features';
import { log } from './log';
import { setTestState } from './testState';

export function activate(context: vscode.ExtensionContext): void {
  const started = Date.now();
  const activated: string[] = [];
  for (const feature of features) {
    try {
      feature.activate(context);
      activated.push(feature.id);
    } catch (error) {
      // one broken feature must not take the others down
      log().error(`feature ${feature.id} failed to activate: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    }
  }
  setTestState('activation', {
    features: activated,
    ms: Date.now() - started,
    vscodeVersion: vscode.version,
    uiKind: vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop',
    trusted: vscode.workspace.isTrusted,
  });
}

export function deactivate(): void {
  // Disposables registered on the context are released by VS Code.
}
