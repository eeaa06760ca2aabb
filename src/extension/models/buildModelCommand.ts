// "Preflight: Build Model…": pick a Hugging Face checkpoint folder (or take the one right-clicked),
// build it in a worker thread with progress and cancel, into the build cache shared with the CLI.
import * as vscode from 'vscode';
import { builtModelDir, dtypeFor } from '../../core/model/modelSource';
import { MODEL_SETTINGS } from '../../core/settings/schema';
import { setting } from './modelService';
import { buildModelInWorker } from '../../worker/client';
import { log } from '../log';
import { CancelledError } from '../../shared/errors';

export async function buildModelCommand(modelsRoot: string, arg: unknown, onBuilt: (dir: string) => void): Promise<string | undefined> {
  // The manifest hides the command in untrusted workspaces; a keybinding or another extension could still call it.
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage('Preflight: building models is disabled in an untrusted workspace. Trust the workspace first.');
    return undefined;
  }
  let folder = arg instanceof vscode.Uri ? arg : undefined;
  if (!folder) {
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      openLabel: 'Build Model',
      title: 'Hugging Face checkpoint folder (config.json, *.safetensors, tokenizer.json)',
    });
    folder = picked?.[0];
  }
  if (!folder) return undefined;
  const src = folder.fsPath;
  const dtype = dtypeFor(setting(MODEL_SETTINGS.provider), setting(MODEL_SETTINGS.weights));
  const out = builtModelDir(src, dtype, modelsRoot);
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Preflight: building ${folder.path.split('/').pop()}`, cancellable: true },
      async (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        let last = 0;
        return buildModelInWorker(src, out, {
          dtype,
          signal: controller.signal,
          onProgress: ({ fraction, message }) => {
            progress.report({ increment: Math.max(0, fraction * 100 - last), message });
            last = Math.max(last, fraction * 100);
          },
        });
      },
    );
    log().info(`model ${result.reused ? 'up to date' : 'built'}: ${out}`);
    onBuilt(out);
    const use = 'Use This Model';
    const choice = await vscode.window.showInformationMessage(
      `Preflight: ${result.manifest.architecture} ${result.reused ? 'was already built' : 'built'} (${result.manifest.info.dtype}).`,
      use,
    );
    if (choice === use) await vscode.workspace.getConfiguration('preflight.model').update('path', out, vscode.ConfigurationTarget.Global);
    return out;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof CancelledError) {
      vscode.window.showInformationMessage('Preflight: model build cancelled.');
    } else {
      log().error(`build-model ${src}: ${message}`);
      vscode.window.showErrorMessage(`Preflight: cannot build a model from ${src}: ${message}`);
    }
    return undefined;
  }
}
