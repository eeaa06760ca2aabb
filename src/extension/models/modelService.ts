// One lazily started inference worker for the whole extension: the first feature that needs the
// model opens it (building it first, in a worker, into the build cache it shares with the CLI when
// the model is a Hugging Face checkpoint); a change of the model settings closes it. Which model:
// core/model/modelSource.ts (preflight.model.path, else the bundled demo model preflight-tiny).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { ModelSource, dtypeFor, ensureBuilt, resolveModelSource } from '../../core/model/modelSource';
import { MODEL_SETTINGS, SettingSpec } from '../../core/settings/schema';
import { WorkerModel, buildModelInWorker, openModelInWorker } from '../../worker/client';
import { log } from '../log';

/** Reads a shared setting (core/settings/schema.ts) with the schema's default. */
export function setting<T>(spec: SettingSpec<T>): T {
  return vscode.workspace.getConfiguration().get<T>(spec.key, spec.default);
}

export class ModelService implements vscode.Disposable {
  private static instance: ModelService | undefined;
  private model: Promise<WorkerModel> | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  /** fires when a model is opened or closed (the Models view shows where it actually runs) */
  readonly onDidChange = this.changed.event;
  /** the open model's built folder, where it came from and where its sessions run, once opened */
  opened: { dir: string; source: ModelSource; provider: string } | undefined;

  private constructor(private readonly context: vscode.ExtensionContext) {}

  static init(context: vscode.ExtensionContext): ModelService {
    ModelService.instance = new ModelService(context);
    return ModelService.instance;
  }

  /** The service of the active extension (other features call this). */
  static get(): ModelService {
    if (!ModelService.instance) throw new Error('the models feature is not active');
    return ModelService.instance;
  }

  /** Which model open() uses: preflight.model.path, else the bundled demo model (one-line error when unusable).
   *  In an untrusted workspace VS Code ignores a workspace value of preflight.model.path (restrictedConfigurations). */
  source(): ModelSource {
    return resolveModelSource(setting(MODEL_SETTINGS.path), { packageRoot: this.context.extensionPath });
  }

  /** The configured model, opened in the worker thread (built first if needed). */
  open(progress?: (message: string) => void, signal?: AbortSignal): Promise<WorkerModel> {
    this.model ??= this.start(progress, signal).catch((error) => {
      this.model = undefined;
      throw error;
    });
    return this.model;
  }

  private async start(progress?: (message: string) => void, signal?: AbortSignal): Promise<WorkerModel> {
    const provider = setting(MODEL_SETTINGS.provider);
    const source = this.source();
    const workerPath = join(this.context.extensionPath, 'dist', 'worker.js');
    const inWorker = existsSync(workerPath) ? workerPath : undefined;
    if (source.kind === 'checkpoint') progress?.(`building an ONNX model from ${source.name} (once)`);
    const { dir } = await ensureBuilt(source, (src, out, options) => buildModelInWorker(src, out, { ...options, workerPath: inWorker }), {
      dtype: dtypeFor(provider, setting(MODEL_SETTINGS.weights)),
      signal,
      onProgress: (_fraction, message) => progress?.(message),
    });
    const model = await openModelInWorker(dir, {
      provider,
      threads: setting(MODEL_SETTINGS.threads),
      workerPath: inWorker,
      onNotice: (message) => {
        log().warn(message);
        vscode.window.showWarningMessage(message);
      },
    });
    log().info(`model opened: ${dir} (${source.isDefault ? 'the bundled demo model, ' : ''}${model.info.family}, ${model.info.dtype}, ${model.info.provider})`);
    this.opened = { dir, source, provider: model.info.provider };
    this.changed.fire();
    return model;
  }

  /**
   * Closes the open model; the next open() starts the configured one. With `letRunningFinish` (a
   * settings change) the calls in flight finish on the model they started with before its worker
   * goes: a forecast running when the user edits a model setting completes instead of failing.
   */
  async reset(options: { letRunningFinish?: boolean } = {}): Promise<void> {
    const current = this.model;
    this.model = undefined;
    if (this.opened) {
      this.opened = undefined;
      this.changed.fire();
    }
    const model = await current?.catch(() => undefined);
    if (!model) return;
    if (options.letRunningFinish) await model.whenIdle();
    await model.dispose();
  }

  dispose(): void {
    void this.reset().finally(() => this.changed.dispose());
  }
}
