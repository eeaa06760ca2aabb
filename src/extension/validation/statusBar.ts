// One status-bar item: the validation result of the active editor's file.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { ValidationController } from './validationController';
import { dataFileFormat } from '../../shared/dataFiles';

export class ValidationStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('preflight.validation', vscode.StatusBarAlignment.Left, 50);

  constructor(private readonly controller: ValidationController) {
    this.item.name = 'Preflight validation';
  }

  refresh(): void {
    const document = vscode.window.activeTextEditor?.document;
    if (!document || !dataFileFormat(document.uri.path)) {
      this.item.hide();
      return;
    }
    const name = basename(document.uri.fsPath);
    const state = this.controller.state(document.uri);
    this.item.command = 'preflight.validateFile';
    this.item.backgroundColor = undefined;
    switch (state.kind) {
      case 'idle':
        if (!this.controller.isLiveCandidate(document)) {
          this.item.hide();
          return;
        }
        this.item.text = '$(checklist) Preflight';
        this.item.tooltip = `Validate ${name}`;
        break;
      case 'running':
        this.item.text = '$(sync~spin) Preflight: validating…';
        this.item.tooltip = `Validating ${name}`;
        break;
      case 'tooLargeForLive':
        this.item.text = `$(info) Preflight: ${(state.bytes / 1048576).toFixed(0)} MB, validates on save`;
        this.item.tooltip = `${name} is larger than preflight.validation.maxFileSizeForLiveValidationMB: it is validated on save or when you click here (streamed from disk).`;
        break;
      case 'failed':
        this.item.text = '$(warning) Preflight: validation failed';
        this.item.tooltip = `${state.message}\nClick to try again; details in the Preflight output.`;
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
        break;
      case 'done': {
        const { summary } = state.result;
        const problems = summary.errors + summary.warnings;
        this.item.text =
          problems === 0 ? `$(pass) Preflight: ${summary.records} records` : `Preflight: $(error) ${summary.errors} $(warning) ${summary.warnings}`;
        this.item.tooltip = [
          `${name}: ${summary.records} records${summary.schema ? ` (${summary.schema})` : ''}`,
          `${summary.errors} errors, ${summary.warnings} warnings, ${summary.infos} infos${summary.truncated ? ' (findings capped)' : ''}`,
          `validated ${state.result.source === 'disk' ? 'from disk' : 'from the editor'} in ${state.result.durationMs} ms`,
          'Click to validate again.',
        ].join('\n');
        if (summary.errors > 0) this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        break;
      }
    }
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
