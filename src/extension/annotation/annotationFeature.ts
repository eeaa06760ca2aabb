// "Preflight: Analyze Annotation Errors": runs the annotation analysis on a labeled CSV, shows
// the report panel and marks the LLM's errors in the editor. Core work stays in src/core/annotation.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import type { AnalysisWithMarks } from '../../core/annotation/analyzeInWorker';
import type { CalibrationReport } from '../../core/annotation/calibration';
import type { CsvSource } from '../../core/annotation/csv';
import type { LabelColumnOverrides } from '../../core/annotation/readLabels';
import { Feature } from '../features/feature';
import { registerReportHandler } from '../reports/registry';
import { setTestState } from '../testState';
import { annotateWithLocalModel } from './annotateLlmCommand';
import { AnnotationPanel, PanelHost } from './annotationPanel';
import { annotationCore } from './core';
import { AnnotationDiagnostics, type MarkingCost } from './diagnostics';
import { findHumanTest, forgetHumanTest, HumanTestSource, pickColumns, pickHumanTest, pickLevels, rememberedColumns, rememberedLevels } from './inputs';
import { AnnotationView } from '../../shared/protocol/annotation';
import { CancelledError, InputError } from '../../shared/errors';

interface Settings {
  resamples: number;
  seed: number;
  levels: string[];
  diagnostics: boolean;
  maxDiagnostics: number;
}

function settings(): Settings {
  const config = vscode.workspace.getConfiguration('preflight.annotation');
  return {
    resamples: config.get<number>('bootstrapResamples', 1000),
    seed: config.get<number>('seed', 1),
    levels: config.get<string[]>('levels', []),
    diagnostics: config.get<boolean>('diagnostics', true),
    maxDiagnostics: config.get<number>('maxDiagnostics', 1000),
  };
}

const round1 = (ms: number) => Math.round(ms * 10) / 10;

/** An open editor's text wins over the file on disk (unsaved edits are analysed too). */
function sourceFor(uri: vscode.Uri): CsvSource {
  const open = vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === uri.toString());
  if (open && (open.isDirty || uri.scheme !== 'file')) return { text: open.getText(), name: basename(uri.fsPath) };
  return { path: uri.fsPath };
}

class AnnotationController implements PanelHost {
  readonly diagnostics = new AnnotationDiagnostics();
  private readonly lastRun = new Map<string, Date>();
  private readonly testState: Record<string, unknown> = {};

  constructor(private readonly context: vscode.ExtensionContext) {}

  async command(arg?: unknown): Promise<void> {
    const file = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
    if (!file || !/\.csv$/i.test(file.path)) {
      void vscode.window.showInformationMessage('Preflight: open a labeled CSV (gold label and LLM label per row) to analyze its annotation errors.');
      return;
    }
    const panel = AnnotationPanel.open(this.context.extensionUri, file, this, `Annotations: ${basename(file.fsPath)}`);
    // a turn of its own for creating the panel: the analysis then loads the annotation core on
    // first use (./core.ts), and the two in one step held the host 34 ms under load (run 9)
    await new Promise((resolve) => setImmediate(resolve));
    await this.analyze(file, panel);
  }

  async analyze(
    file: vscode.Uri,
    panel: AnnotationPanel,
    human: HumanTestSource | undefined = findHumanTest(this.context.workspaceState, file),
  ): Promise<void> {
    const config = settings();
    let columns: LabelColumnOverrides | undefined = rememberedColumns(this.context.workspaceState, file);
    // this file's own label order wins over the workspace setting
    const levels = rememberedLevels(this.context.workspaceState, file) ?? (config.levels.length ? config.levels : undefined);
    panel.busy(`Analysing ${basename(file.fsPath)}${human ? ` with the human test ${basename(human.uri.fsPath)}` : ''}…`);
    const run = (cols: LabelColumnOverrides | undefined) =>
      vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Preflight: analysing annotations in ${basename(file.fsPath)}`, cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          // in a worker thread: reading and bootstrapping a large file would stall the extension host
          return annotationCore().analyzeAnnotationsInWorker(sourceFor(file), human ? [sourceFor(human.uri)] : [], {
            columns: cols,
            levels: levels?.length ? levels : undefined,
            resamples: config.resamples,
            seed: config.seed,
            // the editor's marks are built in the worker too: plain data, set here in slices
            errorMarks: config.diagnostics ? config.maxDiagnostics : undefined,
            signal: abort.signal,
            onProgress: (rows) => progress.report({ message: `${rows.toLocaleString()} rows read` }),
          });
        },
      );
    let analysis: AnalysisWithMarks;
    try {
      try {
        analysis = await run(columns);
      } catch (error) {
        // columns not recognisable: ask once, remember the answer, try again
        if (!(error instanceof InputError && error.code === 'missing-column')) throw error;
        const text = (await vscode.workspace.openTextDocument(file)).getText();
        columns = await pickColumns(this.context.workspaceState, file, annotationCore().headerOf(text));
        if (!columns) {
          panel.failed(`${error.message}. Choose the columns to analyse the file.`);
          return;
        }
        analysis = await run(columns);
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      panel.failed(error instanceof CancelledError ? 'Analysis cancelled.' : message);
      this.record(file, { error: message });
      return;
    }
    // labels from "Annotate with Local Model…" carry their confidence: how far can it be trusted?
    let calibration: CalibrationReport | undefined;
    const core = annotationCore();
    if (core.columnKey(analysis.report.labels.columns.llm) === core.columnKey(core.LLM_LABEL_COLUMN)) {
      try {
        calibration = await core.calibrationOf(sourceFor(file), analysis, core.LLM_CONFIDENCE_COLUMN);
      } catch {
        calibration = undefined;
      }
    }
    const view: AnnotationView = {
      file: file.toString(),
      fileName: basename(file.fsPath),
      humanFile: human?.uri.toString(),
      humanFileName: human ? basename(human.uri.fsPath) : undefined,
      humanSource: human?.how,
      report: analysis.report,
      calibration,
      generatedAt: new Date().toISOString(),
    };
    panel.showAnalysis(analysis, view);
    this.lastRun.set(file.toString(), new Date());
    const document = vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === file.toString());
    let diagnosticCount = 0;
    let marking: MarkingCost | undefined;
    if (config.diagnostics) {
      // handed to VS Code in slices, one per turn of the event loop (./diagnostics.ts)
      const { marks, total } = analysis.errorMarks ?? core.errorMarks(analysis, config.maxDiagnostics);
      marking = await this.diagnostics.set(file, marks, document);
      if (!marking) return; // a newer analysis of this file or its closing took over
      diagnosticCount = marks.length;
      if (total > marks.length) {
        vscode.window.setStatusBarMessage(`Preflight: ${marks.length} of ${total} annotation errors marked (preflight.annotation.maxDiagnostics)`, 8000);
      }
    } else this.diagnostics.delete(file);
    const d = analysis.report.decomposition;
    this.record(file, {
      humanFile: view.humanFileName ?? null,
      humanSource: view.humanSource ?? null,
      scale: analysis.report.scale.levels,
      llmAccuracy: analysis.report.llm.metrics.accuracy.value,
      shares: d ? Object.fromEntries(Object.entries(d.shares).map(([k, v]) => [k, v.value])) : null,
      notComputed: analysis.report.notComputed,
      diagnostics: diagnosticCount,
      // what handing them to VS Code cost (the responsiveness scenario reads it)
      diagnosticSets: marking ? { sets: marking.sets, longestMs: round1(marking.longestSetMs), totalMs: round1(marking.totalSetMs) } : null,
      calibration: calibration ? { n: calibration.n, ece: calibration.ece, buckets: calibration.buckets.filter((b) => b.n > 0).length } : null,
    });
  }

  async chooseHumanTest(file: vscode.Uri, panel: AnnotationPanel): Promise<void> {
    const picked = await pickHumanTest(this.context.workspaceState, file);
    if (picked) await this.analyze(file, panel, picked);
  }

  async forgetHumanTest(file: vscode.Uri, panel: AnnotationPanel): Promise<void> {
    await forgetHumanTest(this.context.workspaceState, file);
    await this.analyze(file, panel);
  }

  async changeColumns(file: vscode.Uri, panel: AnnotationPanel): Promise<void> {
    const text = (await vscode.workspace.openTextDocument(file)).getText();
    const columns = await pickColumns(this.context.workspaceState, file, annotationCore().headerOf(text));
    if (columns) await this.analyze(file, panel);
  }

  async changeLevels(file: vscode.Uri, panel: AnnotationPanel): Promise<void> {
    const current = panel.current?.report.scale.levels ?? rememberedLevels(this.context.workspaceState, file) ?? [];
    if (await pickLevels(this.context.workspaceState, file, current)) await this.analyze(file, panel);
  }

  rendered(file: vscode.Uri, summary: unknown): void {
    const previous = (this.testState[basename(file.fsPath)] as { renders?: number } | undefined)?.renders ?? 0;
    this.record(file, { rendered: summary, renders: previous + 1 });
  }

  revealed(file: vscode.Uri, cell: { gold: string; llm: string; rows: number; firstLine: number }): void {
    this.record(file, { revealed: cell });
  }

  lastReport(file: vscode.Uri): Date | undefined {
    return this.lastRun.get(file.toString());
  }

  private record(file: vscode.Uri, patch: Record<string, unknown>): void {
    const key = basename(file.fsPath);
    this.testState[key] = { ...(this.testState[key] as object | undefined), ...patch };
    setTestState('annotation', this.testState);
  }
}

export function annotationFeature(): Feature {
  return {
    id: 'annotation',
    activate(context) {
      const controller = new AnnotationController(context);
      context.subscriptions.push(
        controller.diagnostics,
        vscode.commands.registerCommand('preflight.analyzeAnnotations', (arg?: unknown) => controller.command(arg)),
        vscode.commands.registerCommand('preflight.annotateWithLocalModel', (arg?: unknown) => annotateWithLocalModel(context, arg)),
        AnnotationPanel.panels.registerSerializer(context.extensionUri, AnnotationPanel.usable, (panel, state) =>
          AnnotationPanel.revive(panel, context.extensionUri, state, controller),
        ),
        registerReportHandler({
          kind: 'annotation',
          label: 'Annotation error analysis',
          lastReport: (file) => controller.lastReport(file),
          open: (file) => controller.command(file),
        }),
        vscode.workspace.onDidCloseTextDocument((doc) => {
          // keep diagnostics only while the file is open or its panel is
          if (!AnnotationPanel.panels.get(doc.uri.toString())) controller.diagnostics.delete(doc.uri);
        }),
      );
    },
  };
}
