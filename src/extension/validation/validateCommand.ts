// preflight.validateFile: validates the right-clicked or active file now and says what it found.
// An open file under the live-validation size limit is validated from the editor (unsaved edits
// included); anything else is streamed from disk with a cancellable progress notification.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { ValidationController, isValidatablePath } from './validationController';
import { readValidationSettings } from './settings';
import { describeCounts } from '../sidebar/datasetsTree';

export async function validateFileCommand(controller: ValidationController, arg?: unknown): Promise<void> {
  const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
  if (!uri) {
    void vscode.window.showInformationMessage('Preflight: open a .jsonl, .json or .csv file (or right-click one in the Explorer) to validate it.');
    return;
  }
  const name = basename(uri.fsPath);
  if (!isValidatablePath(uri.path)) {
    void vscode.window.showWarningMessage(`Preflight validates .jsonl, .json and .csv files; ${name} is none of these.`);
    return;
  }
  const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  const settings = readValidationSettings(uri);
  let result;
  if (document && (Buffer.byteLength(document.getText()) <= settings.liveLimitBytes || uri.scheme !== 'file')) {
    result = await controller.validateBuffer(document);
  } else {
    if (document?.isDirty) {
      void vscode.window.showInformationMessage(`Preflight: ${name} is large, so the saved file on disk is validated; unsaved edits are not included.`);
    }
    result = await controller.validateFromDisk(uri);
  }
  if (!result) {
    const state = controller.state(uri);
    if (state.kind === 'failed') void vscode.window.showErrorMessage(`Preflight: could not validate ${name}: ${state.message}`);
    return;
  }
  const { summary } = result;
  const text = `Preflight: ${name}: ${describeCounts(result)}.`;
  const show = summary.errors + summary.warnings + summary.infos > 0 ? 'Show Problems' : undefined;
  const notify = summary.errors > 0 ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  const choice = await (show ? notify(text, show) : notify(text));
  if (choice === show) await vscode.commands.executeCommand('workbench.actions.view.problems');
}
