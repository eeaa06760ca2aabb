import * as vscode from 'vscode';
import { Feature } from './feature';

/** An always-empty tree, so that a not-yet-built feature's view shows its welcome content. */
const emptyTree: vscode.TreeDataProvider<never> = {
  getTreeItem: (element) => element,
  getChildren: () => [],
};

/**
 * Registers commands whose feature is not built yet; running one says so plainly.
 * `views`: the feature's tree views, registered empty so that their welcome views show.
 */
export function notBuiltFeature(id: string, commands: Record<string, string>, views: string[] = []): Feature {
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
      for (const view of views) {
        context.subscriptions.push(vscode.window.registerTreeDataProvider(view, emptyTree));
      }
    },
  };
}
