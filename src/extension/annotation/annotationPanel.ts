// The annotation report panel: one per labels file. The controller owns the analysis (and the
// per-row codes behind the confusion cells); the webview app only renders and asks.
import * as vscode from 'vscode';
import type { AnnotationAnalysis } from '../../core/annotation/analyze';
import { annotationCore } from './core';
import { PanelSet } from '../panels/panel';
import { ReportPanel } from '../panels/reportPanel';
import { ANNOTATION_VIEW_TYPE, AnnotationView, FromWebview } from '../../shared/protocol/annotation';

export interface PanelHost {
  /** runs (or re-runs) the analysis for the panel's file; undefined if cancelled or failed */
  analyze(file: vscode.Uri, panel: AnnotationPanel): Promise<void>;
  chooseHumanTest(file: vscode.Uri, panel: AnnotationPanel): Promise<void>;
  forgetHumanTest(file: vscode.Uri, panel: AnnotationPanel): Promise<void>;
  changeColumns(file: vscode.Uri, panel: AnnotationPanel): Promise<void>;
  changeLevels(file: vscode.Uri, panel: AnnotationPanel): Promise<void>;
  rendered(file: vscode.Uri, summary: unknown): void;
  revealed(file: vscode.Uri, cell: { gold: string; llm: string; rows: number; firstLine: number }): void;
}

export class AnnotationPanel extends ReportPanel<AnnotationView, FromWebview> {
  static readonly panels = new PanelSet<AnnotationPanel>({
    viewType: ANNOTATION_VIEW_TYPE,
    app: 'annotation',
    pageTitle: 'Annotation error analysis',
    loading: 'Analysing…',
    placement: 'beside',
  });
  private analysis: AnnotationAnalysis | undefined;
  /** a panel restored after a reload re-runs its analysis once its webview is ready */
  private needsRun = false;

  static open(extensionUri: vscode.Uri, file: vscode.Uri, host: PanelHost, title: string): AnnotationPanel {
    return AnnotationPanel.panels.open(extensionUri, file.toString(), title, (panel) => new AnnotationPanel(panel, extensionUri, file, host));
  }

  /** The saved view names its file (the analysis is re-run anyway). */
  static usable(state: Partial<AnnotationView> | undefined): state is AnnotationView {
    return Boolean(state?.file);
  }

  /** Restores a panel after a reload: it shows the saved view, then re-runs. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, saved: AnnotationView, host: PanelHost): AnnotationPanel {
    const revived = new AnnotationPanel(panel, extensionUri, vscode.Uri.parse(saved.file), host, saved);
    revived.needsRun = true;
    return revived;
  }

  private constructor(
    panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    file: vscode.Uri,
    private readonly host: PanelHost,
    saved?: AnnotationView,
  ) {
    super(panel, AnnotationPanel.panels, file, extensionUri, saved);
  }

  /** The analysis stays here (not in the view): its per-row codes answer the confusion-cell clicks. */
  showAnalysis(analysis: AnnotationAnalysis, view: AnnotationView): void {
    this.analysis = analysis;
    this.show(view);
  }

  protected async receive(message: FromWebview): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.ready();
        if (this.needsRun) {
          this.needsRun = false;
          await this.host.analyze(this.file, this);
        }
        return;
      case 'revealCell':
        return this.revealCell(message.gold, message.llm);
      case 'chooseHumanTest':
        return this.host.chooseHumanTest(this.file, this);
      case 'forgetHumanTest':
        return this.host.forgetHumanTest(this.file, this);
      case 'changeColumns':
        return this.host.changeColumns(this.file, this);
      case 'changeLevels':
        return this.host.changeLevels(this.file, this);
      case 'rerun':
        return this.host.analyze(this.file, this);
      case 'rendered':
        this.host.rendered(this.file, message.summary);
        return;
    }
  }

  /** Selects every row of one confusion cell in the editor (multi-cursor) and reveals the first. */
  private async revealCell(gold: number, llm: number): Promise<void> {
    if (!this.analysis) return;
    const lines = annotationCore().linesOfCell(this.analysis.rows, gold, llm, 10000);
    const levels = this.analysis.scale.levels;
    if (lines.length === 0) {
      void vscode.window.showInformationMessage(`Preflight: no rows with gold '${levels[gold]}' and LLM '${levels[llm]}'.`);
      return;
    }
    const document = await vscode.workspace.openTextDocument(this.file);
    const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
    editor.selections = lines
      .filter((line) => line - 1 < document.lineCount)
      .map((line) => {
        const range = document.lineAt(line - 1).range;
        return new vscode.Selection(range.start, range.end);
      });
    editor.revealRange(editor.selections[0], vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    this.host.revealed(this.file, { gold: levels[gold], llm: levels[llm], rows: editor.selections.length, firstLine: lines[0] });
    vscode.window.setStatusBarMessage(`Preflight: ${lines.length} row(s) with gold '${levels[gold]}' and LLM '${levels[llm]}' selected`, 5000);
  }
}
