// A report panel: one per file, showing the view its controller computed. The view is also what the
// app saves (setState), so a panel revived after a reload shows it before anything is recomputed.
import * as vscode from 'vscode';
import { Panel, PanelSet } from './panel';
import type { Ready, ReportToWebview } from '../../shared/protocol/panel';

export abstract class ReportPanel<View, FromWebview extends { type: string }> extends Panel<ReportToWebview<View>, FromWebview | Ready> {
  private view: View | undefined;

  protected constructor(
    panel: vscode.WebviewPanel,
    home: PanelSet<ReportPanel<View, FromWebview>>,
    readonly file: vscode.Uri,
    extensionUri: vscode.Uri,
    saved?: View,
  ) {
    super(panel, home, file.toString(), extensionUri);
    this.view = saved;
  }

  get current(): View | undefined {
    return this.view;
  }

  show(view: View): void {
    this.view = view;
    this.post({ type: 'show', view });
  }

  busy(message: string): void {
    this.post({ type: 'busy', message });
  }

  failed(message: string): void {
    this.post({ type: 'failed', message });
  }

  /** The app (re)loaded: it gets the last view again. */
  protected ready(): void {
    if (this.view) this.post({ type: 'show', view: this.view });
  }
}
