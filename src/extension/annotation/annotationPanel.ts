// The annotation report panel: one per labels file. The controller owns the analysis (and the
// per-row codes behind the confusion cells); the webview app only renders and asks.
import * as vscode from 'vscode';
import { webviewPage, webviewPanelOptions } from '../webviewPage';
import { linesOfCell, type AnnotationAnalysis } from '../../core/annotation/analyze';
import { ANNOTATION_VIEW_TYPE, AnnotationView, FromWebview, ToWebview } from './protocol';

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

export class AnnotationPanel {
  private static readonly panels = new Map<string, AnnotationPanel>();
  private analysis: AnnotationAnalysis | undefined;
  private view: AnnotationView | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** a panel restored after a reload re-runs its analysis once its webview is ready */
  private needsRun = false;

  static get(file: vscode.Uri): AnnotationPanel | undefined {
    return AnnotationPanel.panels.get(file.toString());
  }

  static open(extensionUri: vscode.Uri, file: vscode.Uri, host: PanelHost, title: string): AnnotationPanel {
    const existing = AnnotationPanel.get(file);
    if (existing) {
      existing.panel.reveal(undefined, true);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(ANNOTATION_VIEW_TYPE, title, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, AnnotationPanel.options(extensionUri));
    return new AnnotationPanel(panel, extensionUri, file, host);
  }

  static options(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return webviewPanelOptions(extensionUri);
  }

  /** Restores a panel after a reload (WebviewPanelSerializer): it shows the saved view, then re-runs. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, file: vscode.Uri, host: PanelHost, saved?: AnnotationView): AnnotationPanel {
    panel.webview.options = AnnotationPanel.options(extensionUri);
    const revived = new AnnotationPanel(panel, extensionUri, file, host);
    if (saved) revived.view = saved;
    revived.needsRun = true;
    return revived;
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    readonly file: vscode.Uri,
    private readonly host: PanelHost,
  ) {
    AnnotationPanel.panels.set(file.toString(), this);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.svg');
    panel.webview.html = this.html();
    panel.webview.onDidReceiveMessage((message: FromWebview) => this.receive(message), undefined, this.disposables);
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
  }

  show(analysis: AnnotationAnalysis, view: AnnotationView): void {
    this.analysis = analysis;
    this.view = view;
    this.post({ type: 'show', view });
  }

  busy(message: string): void {
    this.post({ type: 'busy', message });
  }

  failed(message: string): void {
    this.post({ type: 'failed', message });
  }

  get current(): AnnotationView | undefined {
    return this.view;
  }

  private post(message: ToWebview): void {
    void this.panel.webview.postMessage(message);
  }

  private async receive(message: FromWebview): Promise<void> {
    switch (message.type) {
      case 'ready':
        if (this.view) this.post({ type: 'show', view: this.view });
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
    const lines = linesOfCell(this.analysis.rows, gold, llm, 10000);
    const levels = this.analysis.scale.levels;
    if (lines.length === 0) {
      void vscode.window.showInformationMessage(`Preflight: no rows with gold '${levels[gold]}' and LLM '${levels[llm]}'.`);
      return;
    }
    const document = await vscode.workspace.openTextDocument(this.file);
    const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
    editor.selections = lines.filter((line) => line - 1 < document.lineCount).map((line) => {
      const range = document.lineAt(line - 1).range;
      return new vscode.Selection(range.start, range.end);
    });
    editor.revealRange(editor.selections[0], vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    this.host.revealed(this.file, { gold: levels[gold], llm: levels[llm], rows: editor.selections.length, firstLine: lines[0] });
    vscode.window.setStatusBarMessage(`Preflight: ${lines.length} row(s) with gold '${levels[gold]}' and LLM '${levels[llm]}' selected`, 5000);
  }

  private html(): string {
    return webviewPage(this.panel.webview, this.extensionUri, { app: 'annotation', title: 'Annotation error analysis', loading: 'Analysing…' });
  }

  dispose(): void {
    AnnotationPanel.panels.delete(this.file.toString());
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
