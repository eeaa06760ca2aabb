// The models feature: the Build Model command, the Models view, and the shared model service that
// other features (MDF, annotation) use to get an InferenceModel running in the worker thread.
import * as vscode from 'vscode';
import { builtModelDir, dtypeFor, modelCacheRoot } from '../../core/model/modelSource';
import { MODEL_SETTINGS } from '../../core/settings/schema';
import { Feature } from '../features/feature';
import { buildModelCommand } from './buildModelCommand';
import { InUse, ModelsTree } from './modelsTree';
import { ModelService, setting } from './modelService';

class ModelsController {
  /** the one build cache, shared with the CLI (core/model/modelSource.ts) */
  readonly modelsRoot = modelCacheRoot();
  readonly service: ModelService;
  readonly tree: ModelsTree;

  constructor(context: vscode.ExtensionContext) {
    this.service = ModelService.init(context);
    this.tree = new ModelsTree(
      () => this.modelsRoot,
      () => this.inUse(),
      (dir) => this.provider(dir),
    );
  }

  /** The model in use, for the view; undefined while the setting names no usable model. */
  inUse(): InUse | undefined {
    try {
      const source = this.service.source();
      return {
        dir: source.dir,
        isDefault: source.isDefault,
        builtDir:
          source.kind === 'checkpoint'
            ? builtModelDir(source.dir, dtypeFor(setting(MODEL_SETTINGS.provider), setting(MODEL_SETTINGS.weights)), this.modelsRoot)
            : null,
      };
    } catch {
      return undefined;
    }
  }

  /** Where a model runs: the actual provider once opened, else the configured one. */
  provider(dir: string): string {
    const opened = this.service.opened;
    return opened?.dir === dir ? `${opened.provider} (running)` : setting(MODEL_SETTINGS.provider);
  }

  buildCommand(arg?: unknown): Promise<string | undefined> {
    return buildModelCommand(this.modelsRoot, arg, () => this.tree.refresh());
  }

  /** A new model setting: the view shows it, and the next user opens the new model. */
  configurationChanged(event: vscode.ConfigurationChangeEvent): void {
    if (!event.affectsConfiguration('preflight.model')) return;
    this.tree.refresh();
    void this.service.reset({ letRunningFinish: true });
  }
}

export function modelsFeature(): Feature {
  return {
    id: 'models',
    activate(context) {
      const controller = new ModelsController(context);
      context.subscriptions.push(
        controller.tree,
        controller.service,
        controller.service.onDidChange(() => controller.tree.refresh()),
        vscode.window.registerTreeDataProvider('preflight.models', controller.tree),
        vscode.commands.registerCommand('preflight.buildModel', (arg?: unknown) => controller.buildCommand(arg)),
        vscode.commands.registerCommand('preflight.refreshModels', () => controller.tree.refresh()),
        vscode.workspace.onDidChangeConfiguration((event) => controller.configurationChanged(event)),
      );
    },
  };
}
