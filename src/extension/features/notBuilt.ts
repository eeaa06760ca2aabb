import * as vscode from 'vscode';
import { Feature } from './feature';

/** Registers commands whose feature is not built yet; running one says so plainly. */
export function notBuiltFeature(id: string, commands: Record<string, string>): Feature {
  return {
    id,
    activate(context) {
      for (const [command, title] of Object.entries(commands)) {
        context.subscriptions.push(
          vscode.commands.registerCommand(command, () =>
            vscode.window.showInformationMessage(`Preflight: ${title} is not built yet in this version.`),
          ),
        );
      }
    },
  };
}
