// One lazily started inference worker for the whole extension: the first feature that needs the
// model opens it (building it first if `preflight.model.path` names a Hugging Face checkpoint);
// a change of the model settings closes it.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { InferenceModel } from '../../core/model/api';
import { buildFolderName, describeModelDir } from '../../core/model/catalog';
import { buildModelInWorker, openModelInWorker } from '../../worker/client';
import { log } from '../log';

export class ModelService implements vscode.Disposable {
  private static instance: ModelService | undefined;
  private model: Promise<InferenceModel> | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  /** fires when a model is opened or closed (the Models view shows where it actually runs) */
  readonly onDidChange = this.changed.event;
  /** the open model's folder and where its sessions run, once opened */
  opened: { dir: string; provider: string } | undefined;

  private constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly modelsRoot: string,
  ) {}

  static init(context: vscode.ExtensionContext, modelsRoot: string): ModelService {
    ModelService.instance = new ModelService(context, modelsRoot);
    return ModelService.instance;
  }

  /** The service of the active extension (other features call this). */
  static get(): ModelService {
    if (!ModelService.instance) throw new Error('the models feature is not active');
    return ModelService.instance;
  }

  /** The configured model, opened in the worker thread (built first if needed). */
  open(progress?: (message: string) => void, signal?: AbortSignal): Promise<InferenceModel> {
    this.model ??= this.start(progress, signal).catch((error) => {
      this.model = undefined;
      throw error;
    });
    return this.model;
  }

  private async start(progress?: (message: string) => void, signal?: AbortSignal): Promise<InferenceModel> {
    const config = vscode.workspace.getConfiguration('preflight.model');
    let dir = config.get<string>('path', '') || join(this.context.extensionPath, 'models', 'default');
    const provider = config.get<'auto' | 'cpu' | 'cuda'>('provider', 'auto');
    const entry = describeModelDir(dir);
    if (entry.kind === 'invalid') {
      throw new Error(
        config.get<string>('path', '')
          ? `preflight.model.path ${dir}: ${entry.reason}`
          : 'no model configured: set preflight.model.path to a Hugging Face checkpoint folder or a model built with "Preflight: Build Model…"',
      );
    }
    if (entry.kind === 'checkpoint') {
      const dtype = provider === 'cuda' ? 'fp16' : 'fp32';
      const out = join(this.modelsRoot, buildFolderName(dir, dtype, createHash('sha256').update(dir).digest('hex')));
      progress?.(`building an ONNX model from ${dir} (once)`);
      await buildModelInWorker(dir, out, { dtype, signal, onProgress: (p) => progress?.(p.message) });
      dir = out;
    }
    const workerPath = join(this.context.extensionPath, 'dist', 'worker.js');
    const model = await openModelInWorker(dir, {
      provider,
      threads: config.get<number>('threads', 0),
      workerPath: existsSync(workerPath) ? workerPath : undefined,
      onNotice: (message) => {
        log().warn(message);
        vscode.window.showWarningMessage(message);
      },
    });
    log().info(`model opened: ${dir} (${model.info.family}, ${model.info.dtype}, ${model.info.provider})`);
    this.opened = { dir, provider: model.info.provider };
    this.changed.fire();
    return model;
  }

  async reset(): Promise<void> {
    const current = this.model;
    this.model = undefined;
    if (this.opened) {
      this.opened = undefined;
      this.changed.fire();
    }
    if (current) await (await current.catch(() => undefined))?.dispose();
  }

  dispose(): void {
    void this.reset().finally(() => this.changed.dispose());
  }
}
