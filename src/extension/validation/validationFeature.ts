// Data validation in the editor: diagnostics, quick fixes, the Datasets & Findings view, the
// status bar item and the Validate File command. The validators themselves are src/core/data;
// ValidationController runs them and owns the findings the other parts read.
import * as vscode from 'vscode';
import { workspace } from 'vscode';
import { basename } from 'node:path';
import { Feature } from '../features/feature';
import { ValidationController } from './validationController';
import { registerValidationEvents } from './events';
import { SafeFixProvider } from './codeActions';
import { DATA_FILES } from './dataFiles';
import { ValidationStatusBar } from './statusBar';
import { validateFileCommand } from './validateCommand';
import { DatasetsTree, revealFinding } from '../sidebar/datasetsTree';
import { registerReportHandler } from '../reports/registry';
import { setTestState, testModeEnabled } from '../testState';

export function validationFeature(): Feature {
  return {
    id: 'validation',
    activate(context) {
      const controller = new ValidationController();
      const statusBar = new ValidationStatusBar(controller);
      const datasets = new DatasetsTree(controller);
      context.subscriptions.push(
        controller,
        statusBar,
        datasets,
        vscode.languages.registerCodeActionsProvider(DATA_FILES, new SafeFixProvider(controller), { providedCodeActionKinds: SafeFixProvider.kinds }),
        vscode.commands.registerCommand('preflight.validateFile', (arg?: unknown) => validateFileCommand(controller, arg)),
        vscode.commands.registerCommand('preflight.revealFinding', revealFinding),
        vscode.commands.registerCommand('preflight.clearFindings', () => controller.clearAll()),
        registerReportHandler({
          kind: 'validation',
          label: 'Validation findings',
          lastReport: (file) => controller.lastReport(file),
          open: (file) => datasets.reveal(file),
        }),
        registerValidationEvents({ controller, refreshStatus: () => statusBar.refresh() }),
      );
      if (testModeEnabled()) context.subscriptions.push(publishTestState(controller));
    },
  };
}

/** For the end-to-end tests: the state they assert on, published now and after every change. */
function publishTestState(controller: ValidationController): vscode.Disposable {
  setTestState('validation', snapshot(controller));
  return controller.onDidChange(() => setTestState('validation', snapshot(controller)));
}

/** What the end-to-end tests assert on: per file, its summary and its diagnostics as published. */
function snapshot(controller: ValidationController): unknown {
  const files: Record<string, unknown> = {};
  for (const result of controller.results.values()) {
    const diagnostics = vscode.languages.getDiagnostics(result.uri).filter((d) => d.source === 'preflight');
    files[workspace.asRelativePath(result.uri, false) || basename(result.uri.fsPath)] = {
      source: result.source,
      summary: result.summary,
      durationMs: result.durationMs,
      diagnostics: diagnostics.map((d) => ({
        code: typeof d.code === 'object' ? d.code.value : d.code,
        line: d.range.start.line + 1,
        column: d.range.start.character + 1,
        severity: ['error', 'warning', 'info', 'hint'][d.severity],
        message: d.message,
      })),
    };
  }
  return { files };
}
