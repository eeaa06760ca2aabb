// "Preflight: Forecast Behaviour (MDF)": forecasts on a training file with the configured model, or
// the bundled demo model when none is (running in the inference worker through the model service),
// shows the report panel, and marks the top-attributed records inline. Core work stays in
// src/core/mdf; settings and their defaults come from the schema the CLI shares (src/core/settings),
// and the report cache is the CLI's (same folder, same key), so both give the same report.
import { basename, isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { findingsToDiagnostics } from './diagnostics';
import { ProbeSuiteError, loadProbeSuites } from '../../core/mdf/probes';
import { reportCacheDir } from '../../core/mdf/reportCache';
import { modelFingerprint } from '../../core/mdf/signature';
import { chooseForecaster, pythonPackageDir } from '../../core/mdf/forecaster';
import { runPythonForecast } from '../../core/mdf/pythonForecast';
import { modelLabel } from '../../core/model/modelSource';
import { MDF_SETTINGS, MdfScoring } from '../../core/settings/schema';
import { resolvePython } from '../bear/python';
import { Feature } from '../features/feature';
import { log } from '../log';
import { ModelService, setting } from '../models/modelService';
import { registerReportHandler } from '../reports/registry';
import { setTestState } from '../testState';
import { MdfPanel, MdfPanelHost } from './mdfPanel';
import { MdfRenderSummary, MdfView, viewOf } from '../../shared/protocol/mdf';
import { CancelledError } from '../../shared/errors';

export const MDF_DIAGNOSTICS = 'preflight-mdf';

interface Settings {
  alphas: number[];
  samplesPerPrompt: number;
  probes: string[];
  records: number;
  seed: number;
  scoring: MdfScoring;
}

function settings(): Settings {
  return {
    alphas: setting(MDF_SETTINGS.alphas),
    samplesPerPrompt: setting(MDF_SETTINGS.samplesPerPrompt),
    probes: setting(MDF_SETTINGS.probes),
    records: setting(MDF_SETTINGS.records),
    seed: setting(MDF_SETTINGS.seed),
    scoring: setting(MDF_SETTINGS.scoring),
  };
}

class MdfController implements MdfPanelHost {
  readonly diagnostics = vscode.languages.createDiagnosticCollection(MDF_DIAGNOSTICS);
  private readonly last = new Map<string, MdfView>();
  private readonly running = new Set<string>();

  constructor(private readonly context: vscode.ExtensionContext) {}

  async command(arg?: unknown): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Preflight: behaviour forecasts run a model on your data and are disabled in an untrusted workspace.');
      return;
    }
    const file = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
    if (!file || file.scheme !== 'file' || !/\.jsonl$/i.test(file.path)) {
      void vscode.window.showInformationMessage(
        'Preflight: open a JSONL training file (chat messages, prompt/completion, instruction/output or text) to forecast its behaviour shift.',
      );
      return;
    }
    MdfPanel.open(this.context.extensionUri, file, this, `Forecast: ${basename(file.fsPath)}`);
    // creating the webview and reading the settings and probe suites in one step held the host ~40 ms under load
    await new Promise((resolve) => setImmediate(resolve));
    await this.run(file);
  }

  async run(file: vscode.Uri): Promise<void> {
    const key = file.toString();
    if (this.running.has(key)) return;
    this.running.add(key);
    const panel = MdfPanel.open(this.context.extensionUri, file, this, `Forecast: ${basename(file.fsPath)}`);
    const config = settings();
    const folder = vscode.workspace.getWorkspaceFolder(file)?.uri.fsPath ?? null;
    try {
      const suites = loadProbeSuites(
        config.probes.map((p) => (p.endsWith('.json') && !isAbsolute(p) && folder ? join(folder, p) : p)),
        { builtinDir: join(this.context.extensionPath, 'models', 'probes'), workspaceDir: folder },
      );
      panel.busy(`Forecasting ${basename(file.fsPath)}…`);
      const outcome = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Preflight: forecasting ${basename(file.fsPath)}`, cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          let reported = 0;
          const service = ModelService.get();
          // which forecaster: the CLI's rule (core/mdf/forecaster.ts), preflight.mdf.method choosing
          const python = await resolvePython(file);
          const source = service.source();
          const choice = await chooseForecaster({
            requested: setting(MDF_SETTINGS.method),
            trusted: vscode.workspace.isTrusted,
            modelKind: source.kind,
            modelDir: source.dir,
            python,
            packageDir: pythonPackageDir(this.context.extensionPath),
          });
          log().info(`forecaster for ${file.fsPath}: ${choice.method} (${choice.reason})`);
          if (choice.method !== 'mdf') {
            progress.report({ message: `${choice.method} in ${python.path}` });
            const report = await runPythonForecast(
              {
                python: python.path,
                packageDir: pythonPackageDir(this.context.extensionPath)!,
                model: source.dir,
                data: file.fsPath,
                method: choice.method,
                probes: suites.map((s) => s.source),
                seed: config.seed,
              },
              { signal: abort.signal, onProgress: (message) => progress.report({ message }) },
            );
            return { report: { ...report, forecaster: choice }, reused: false };
          }
          const model = await service.open((message) => progress.report({ message }), abort.signal);
          const opened = service.opened!;
          // the whole forecast runs in the inference worker (tokenising, statistics, the cache): this thread only waits
          const outcome = await model.forecast(file.fsPath, {
            suites,
            // the CLI's key: the built model folder's fingerprint (core/mdf/reportCache.ts)
            modelHash: modelFingerprint(opened.dir),
            modelPath: opened.dir,
            modelLabel: modelLabel(opened.source),
            alphas: config.alphas,
            samplesPerPrompt: config.samplesPerPrompt,
            samples: config.records,
            seed: config.seed,
            scoring: config.scoring,
            cacheDir: folder ? reportCacheDir(folder) : join(this.context.globalStorageUri.fsPath, 'mdf'),
            signal: abort.signal,
            onProgress: (p) => {
              const increment = Math.max(0, Math.round(p.fraction * 100) - reported);
              reported += increment;
              progress.report({ message: p.message, increment });
            },
          });
          return { ...outcome, report: { ...outcome.report, forecaster: choice } };
        },
      );
      const view = viewOf(key, basename(file.fsPath), outcome.report, outcome.reused);
      this.last.set(key, view);
      panel.show(view);
      this.diagnostics.set(file, findingsToDiagnostics(outcome.report));
      log().info(
        `${outcome.report.forecaster?.method ?? 'mdf'} forecast of ${file.fsPath}: max risk ${outcome.report.summary.maxRisk}${outcome.reused ? ' (reused from the cache)' : ''}`,
      );
      setTestState('mdf', {
        file: file.fsPath,
        reused: outcome.reused,
        forecaster: outcome.report.forecaster,
        maxRisk: outcome.report.summary.maxRisk,
        chosenAlpha: outcome.report.alpha.chosen,
        behaviours: outcome.report.behaviours.length,
        diagnostics: this.diagnostics.get(file)?.length ?? 0,
        model: outcome.report.model,
        // the numbers the panel shows, for the end-to-end comparison with `preflight mdf --json`
        numbers: outcome.report.behaviours.map((b) => ({
          key: b.key,
          base: b.base,
          predicted: b.predicted,
          shift: b.shift,
          controlShift: b.controlShift,
          risk: b.risk,
        })),
      });
    } catch (error) {
      const cancelled = error instanceof CancelledError;
      const message = error instanceof ProbeSuiteError ? error.message : error instanceof Error ? error.message : String(error);
      panel.failed(cancelled ? 'Forecast cancelled.' : message);
      if (!cancelled) {
        log().error(`MDF forecast of ${file.fsPath} failed: ${message}`);
        void vscode.window.showErrorMessage(`Preflight: forecast failed: ${message.split('\n')[0]}`);
      }
      setTestState('mdf', { file: file.fsPath, error: cancelled ? 'cancelled' : message });
    } finally {
      this.running.delete(key);
    }
  }

  rendered(file: vscode.Uri, summary: MdfRenderSummary): void {
    setTestState('mdfPanel', { file: file.fsPath, ...summary });
  }

  revealed(file: vscode.Uri, line: number): void {
    setTestState('mdfReveal', { file: file.fsPath, line });
  }

  lastReport(file: vscode.Uri): Date | undefined {
    const view = this.last.get(file.toString());
    return view ? new Date(view.generatedAt) : undefined;
  }

  openLast(file: vscode.Uri): void {
    const view = this.last.get(file.toString());
    if (!view) return;
    MdfPanel.open(this.context.extensionUri, file, this, `Forecast: ${basename(file.fsPath)}`).show(view);
  }

  remember(view: MdfView): void {
    this.last.set(view.file, view);
  }
}

export function mdfFeature(): Feature {
  return {
    id: 'mdf',
    activate(context) {
      const controller = new MdfController(context);
      context.subscriptions.push(
        controller.diagnostics,
        vscode.commands.registerCommand('preflight.forecastBehaviour', (arg?: unknown) => controller.command(arg)),
        MdfPanel.panels.registerSerializer(context.extensionUri, MdfPanel.usable, (panel, state) => {
          controller.remember(state);
          return MdfPanel.revive(panel, context.extensionUri, state, controller);
        }),
        registerReportHandler({
          kind: 'mdf',
          label: 'Behaviour forecast (MDF)',
          lastReport: (file) => controller.lastReport(file),
          open: (file) => controller.openLast(file),
        }),
        // marks on records go stale once the file changes: the lines may have moved
        vscode.workspace.onDidChangeTextDocument((event) => {
          if (event.contentChanges.length && controller.diagnostics.has(event.document.uri)) controller.diagnostics.delete(event.document.uri);
        }),
      );
    },
  };
}
