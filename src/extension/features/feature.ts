import * as vscode from 'vscode';

/** One user-facing job of the extension: it registers its own commands, views and listeners. */
export interface Feature {
  id: string;
  activate(context: vscode.ExtensionContext): void;
}
