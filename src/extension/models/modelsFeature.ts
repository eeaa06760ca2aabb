// The models feature: the Build Model command, the Models view, and the shared model service that
// other features (MDF, annotation) use to get an InferenceModel running in the worker thread.
import * as vscode from 'vscode';
import { builtModelDir, dtypeFor, modelCacheRoot } from '../../core/model/modelSource';
import { MODEL_SETTINGS } from '../../core/settings/schema';
import { Feature } from '../features/feature';
import { buildModelCommand } from './buildModelCommand';
import { InUse, ModelsTree } from './modelsTree';
import { ModelService, setting } from './modelService';

export function modelsFeature(): Feature {
  return {
    id: 'models',
    activate(context) {
      // the one build cache, shared with the CLI (core/model/modelSource.ts)
      const modelsRoot = modelCacheRoot();
      const service = ModelService.init(context);
      const inUse = (): InUse | undefined => {
        try {
          const source = service.source();
          return {
            dir: source.dir,
            isDefault: source.isDefault,
            builtDir:
              source.kind === 'checkpoint'
                ? builtModelDir(source.dir, dtypeFor(setting(MODEL_SETTINGS.provider), setting(MODEL_SETTINGS.weights)), modelsRoot)
                : null,
          };
        } catch {
          return undefined;
        }
      };
      const tree = new ModelsTree(
        () => modelsRoot,
        inUse,
        (dir) => (service.opened?.dir === dir ? `${service.opened.provider} (running)` : setting(MODEL_SETTINGS.provider)),
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
