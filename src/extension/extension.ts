// Activation stays cheap: each feature registers its commands and views; nothing heavy
// (ONNX Runtime, the worker, big files) loads until a command or an opened file needs it.
import * as vscode from 'vscode';
import { features } from './features';

export function activate(context: vscode.ExtensionContext): void {
  for (const feature of features) {
    feature.activate(context);
  }
}

export function deactivate(): void {
  // Disposables registered on the context are released by VS Code.
}
