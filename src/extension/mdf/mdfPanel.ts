// The MDF report panel, one per training file. The controller owns the report; the webview app
// (webview/mdf/main.ts) only renders it and asks to reveal lines or to re-run.
import * as vscode from 'vscode';
import { webviewPage, webviewPanelOptions } from '../webviewPage';
import { FromWebview, MDF_VIEW_TYPE, MdfRenderSummary, MdfView, ToWebview } from './protocol';

export interface MdfPanelHost {
  run(file: vscode.Uri): Promise<void>;
  rendered(file: vscode.Uri, summary: MdfRenderSummary): void;
  revealed(file: vscode.Uri, line: number): void;
}

export class MdfPanel {
  private static readonly panels = new Map<string, MdfPanel>();
  private view: MdfView | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  static get(file: vscode.Uri): MdfPanel | undefined {
    return MdfPanel.panels.get(file.toString());
  }

  static open(extensionUri: vscode.Uri, file: vscode.Uri, host: MdfPanelHost, title: string): MdfPanel {
    const existing = MdfPanel.get(file);
    if (existing) {
      existing.panel.reveal(undefined, true);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(MDF_VIEW_TYPE, title, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, MdfPanel.options(extensionUri));
    return new MdfPanel(panel, extensionUri, file, host);
  }

  static options(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return webviewPanelOptions(extensionUri);
  }

  /** A panel restored after a reload shows its saved report; nothing is recomputed. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, file: vscode.Uri, host: MdfPanelHost, saved?: MdfView): MdfPanel {
    panel.webview.options = MdfPanel.options(extensionUri);
    const revived = new MdfPanel(panel, extensionUri, file, host);
    revived.view = saved;
    return revived;
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    readonly file: vscode.Uri,
    private readonly host: MdfPanelHost,
  ) {
    MdfPanel.panels.set(file.toString(), this);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.svg');
    panel.webview.html = this.html();
    panel.webview.onDidReceiveMessage((message: FromWebview) => this.receive(message), undefined, this.disposables);
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
  }

  get current(): MdfView | undefined {
    return this.view;
  }

  show(view: MdfView): void {
    this.view = view;
    this.post({ type: 'show', view });
  }

  busy(message: string): void {
    this.post({ type: 'busy', message });
  }

  failed(message: string): void {
    this.post({ type: 'failed', message });
  }

  private post(message: ToWebview): void {
    void this.panel.webview.postMessage(message);
  }

  private async receive(message: FromWebview): Promise<void> {
    switch (message.type) {
      case 'ready':
        if (this.view) this.post({ type: 'show', view: this.view });
        return;
      case 'revealLine':
        return this.revealLine(message.line);
      case 'rerun':
        return this.host.run(this.file);
      case 'rendered':
        this.host.rendered(this.file, message.summary);
        return;
    }
  }

  private async revealLine(line: number): Promise<void> {
    if (!Number.isInteger(line) || line < 1) return;
    const document = await vscode.workspace.openTextDocument(this.file);
    if (line > document.lineCount) return;
    const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
    const range = document.lineAt(line - 1).range;
    editor.selection = new vscode.Selection(range.start, range.end);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    this.host.revealed(this.file, line);
  }

  private html(): string {
    return webviewPage(this.panel.webview, this.extensionUri, { app: 'mdf', title: 'Behaviour forecast (MDF)', loading: 'Forecasting…' });
  }

  dispose(): void {
    MdfPanel.panels.delete(this.file.toString());
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
