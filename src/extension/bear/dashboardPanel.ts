// The run dashboard: tails <run>/metrics.jsonl (polling the file size; works on every platform and
// across the trainer's appends) and forwards new lines to the webview, which charts them with Chart.js.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { MetricsParser, readRun, type MetricsLine } from '../../core/bear';
import { BEAR_DASHBOARD_VIEW_TYPE, type DashboardFromWebview, type DashboardHeader, type DashboardToWebview } from '../../shared/protocol/bear';
import { isReallyInside } from '../../core/io/inside';
import { Panel, PanelSet } from '../panels/panel';

export interface DashboardHost {
  stop(runId: string, runDir: string): void;
  resume(runId: string, runDir: string): Promise<void>;
}

/** What the dashboard's app saves (setState): enough to reopen the run after a reload. */
export interface DashboardState {
  runId: string;
  runDir: string;
}

export class DashboardPanel extends Panel<DashboardToWebview, DashboardFromWebview> {
  static readonly panels = new PanelSet<DashboardPanel>({
    viewType: BEAR_DASHBOARD_VIEW_TYPE,
    app: 'bear',
    pageTitle: 'BEAR run',
    loading: 'Loading…',
    placement: 'beside',
  });
  private offset = 0;
  private parser = new MetricsParser();
  private lines: MetricsLine[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastHeader = '';

  static open(extensionUri: vscode.Uri, runId: string, runDir: string, host: DashboardHost): DashboardPanel {
    return DashboardPanel.panels.open(extensionUri, runDir, `BEAR: ${runId}`, (panel) => new DashboardPanel(panel, extensionUri, runId, runDir, host));
  }

  /** A saved run is revived only while its folder is still there. */
  static usable(state: Partial<DashboardState> | undefined): state is DashboardState {
    return Boolean(state?.runId && state.runDir && existsSync(state.runDir));
  }

  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, state: DashboardState, host: DashboardHost): DashboardPanel {
    return new DashboardPanel(panel, extensionUri, state.runId, state.runDir, host);
  }

  static refreshAll(): void {
    for (const p of DashboardPanel.panels.all()) p.poll();
  }

  private constructor(
    panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly runId: string,
    private readonly runDir: string,
    private readonly host: DashboardHost,
  ) {
    super(panel, DashboardPanel.panels, runDir, extensionUri, { title: `BEAR: ${runId}`, data: { view: 'dashboard', run: runId, dir: runDir } });
    this.timer = setInterval(() => this.poll(), 1000);
  }

  private header(): DashboardHeader {
    const run = readRun(this.runDir, this.runId);
    return { runId: this.runId, name: run.name, state: run.state, loss: run.loss, outputDir: this.runDir, error: run.status?.error };
  }

  /** Reads what the trainer appended since the last poll. */
  private readNew(): MetricsLine[] {
    const path = join(this.runDir, 'metrics.jsonl');
    if (!existsSync(path)) return [];
    const size = statSync(path).size;
    if (size < this.offset) {
      // truncated or replaced: start over
      this.offset = 0;
      this.parser = new MetricsParser();
      this.lines = [];
    }
    if (size === this.offset) return [];
    const fd = openSync(path, 'r');
    try {
      const buffer = Buffer.alloc(size - this.offset);
      readSync(fd, buffer, 0, buffer.length, this.offset);
      this.offset = size;
      const fresh = this.parser.push(buffer.toString('utf8'));
      this.lines.push(...fresh);
      return fresh;
    } finally {
      closeSync(fd);
    }
  }

  private poll(): void {
    const fresh = this.readNew();
    if (fresh.length) this.post({ type: 'append', lines: fresh });
    const header = this.header();
    const key = JSON.stringify(header);
    if (key !== this.lastHeader) {
      this.lastHeader = key;
      this.post({ type: 'state', header });
    }
  }

  protected async receive(message: DashboardFromWebview): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.readNew();
        this.lastHeader = JSON.stringify(this.header());
        this.post({ type: 'reset', header: this.header(), lines: this.lines });
        return;
      case 'stop':
        this.host.stop(this.runId, this.runDir);
        return;
      case 'resume':
        await this.host.resume(this.runId, this.runDir);
        return;
      case 'openCheckpoint':
        // the path comes from the webview: only something really inside this run's folder
        if (typeof message.path === 'string' && isReallyInside(this.runDir, message.path))
          await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(message.path));
        return;
      case 'openConfig':
        await vscode.window.showTextDocument(vscode.Uri.file(join(this.runDir, 'config.json')));
        return;
    }
  }

  protected closed(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
