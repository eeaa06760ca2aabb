// The MDF report panel, one per training file. The controller owns the report; the webview app
// (webview/mdf/main.ts) only renders it and asks to reveal lines or to re-run.
import * as vscode from 'vscode';
import { PanelSet } from '../panels/panel';
import { ReportPanel } from '../panels/reportPanel';
import { FromWebview, MDF_VIEW_TYPE, MdfRenderSummary, MdfView } from '../../shared/protocol/mdf';

export interface MdfPanelHost {
  run(file: vscode.Uri): Promise<void>;
  rendered(file: vscode.Uri, summary: MdfRenderSummary): void;
  revealed(file: vscode.Uri, line: number): void;
}

export class MdfPanel extends ReportPanel<MdfView, FromWebview> {
  static readonly panels = new PanelSet<MdfPanel>({
    viewType: MDF_VIEW_TYPE,
    app: 'mdf',
    pageTitle: 'Behaviour forecast (MDF)',
    loading: 'Forecasting…',
    placement: 'beside',
  });

  static open(extensionUri: vscode.Uri, file: vscode.Uri, host: MdfPanelHost, title: string): MdfPanel {
    return MdfPanel.panels.open(extensionUri, file.toString(), title, (panel) => new MdfPanel(panel, extensionUri, file, host));
  }

  /** The saved view names its file and holds a report. */
  static usable(state: Partial<MdfView> | undefined): state is MdfView {
    return Boolean(state?.file && state.report);
  }

  /** A panel restored after a reload shows its saved report; nothing is recomputed. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, saved: MdfView, host: MdfPanelHost): MdfPanel {
    return new MdfPanel(panel, extensionUri, vscode.Uri.parse(saved.file), host, saved);
  }

  private constructor(
    panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    file: vscode.Uri,
    private readonly host: MdfPanelHost,
    saved?: MdfView,
  ) {
    super(panel, MdfPanel.panels, file, extensionUri, saved);
  }

  protected async receive(message: FromWebview): Promise<void> {
    switch (message.type) {
      case 'ready':
        return this.ready();
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
}
