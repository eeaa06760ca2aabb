// The models feature: the Build Model command, the Models view, and the shared model service that
// other features (MDF, annotation) use to get an InferenceModel running in the worker thread.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { Feature } from '../features/feature';
import { buildModelCommand } from './buildModelCommand';
import { ModelsTree } from './modelsTree';
import { ModelService } from './modelService';

export function modelsFeature(): Feature {
  return {
    id: 'models',
    activate(context) {
      const modelsRoot = join(context.globalStorageUri.fsPath, 'models');
      const config = () => vscode.workspace.getConfiguration('preflight.model');
      const service = ModelService.init(context, modelsRoot);
      const tree = new ModelsTree(
        () => modelsRoot,
        () => config().get<string>('path', ''),
        (dir) => (service.opened?.dir === dir ? `${service.opened.provider} (running)` : config().get<string>('provider', 'auto')),
      );
      context.subscriptions.push(
        tree,
        service,
        service.onDidChange(() => tree.refresh()),
        vscode.window.registerTreeDataProvider('preflight.models', tree),
        vscode.commands.registerCommand('preflight.buildModel', (arg?: unknown) => buildModelCommand(modelsRoot, arg, () => tree.refresh())),
        vscode.commands.registerCommand('preflight.refreshModels', () => tree.refresh()),
        vscode.workspace.onDidChangeConfiguration((e) => {
          if (e.affectsConfiguration('preflight.model')) {
            tree.refresh();
            void service.reset();
          }
        }),
      );
    },
  };
}
