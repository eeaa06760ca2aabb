// The Jobs view (preflight.jobs): every run folder under the runs root with its state, progress and,
// once finished, its best validation metrics and checkpoint.
import * as vscode from 'vscode';
import { formatMetric, listRuns, type RunInfo } from '../../core/bear';

type Node = { kind: 'run'; run: RunInfo } | { kind: 'detail'; run: RunInfo; label: string; description?: string; path?: string };

const ICONS: Record<string, [string, string?]> = {
  running: ['sync~spin', 'charts.blue'],
  pending: ['clock'],
  finished: ['pass', 'charts.green'],
  failed: ['error', 'errorForeground'],
  stopped: ['debug-stop', 'charts.yellow'],
  interrupted: ['warning', 'charts.yellow'],
};

export class JobsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private timer: ReturnType<typeof setInterval> | undefined;
  private runs: RunInfo[] = [];

  constructor(private readonly roots: () => string[]) {
    // Progress of running jobs is polled (cheap: a few small JSON files) while any job runs.
    this.timer = setInterval(() => {
      if (this.runs.some((r) => r.state === 'running' || r.state === 'pending')) this.refresh();
    }, 3000);
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  find(runId: string): RunInfo | undefined {
    return this.load().find((r) => r.id === runId);
  }

  load(): RunInfo[] {
    this.runs = this.roots().flatMap((root) => listRuns(root));
    return this.runs;
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.load().map((run) => ({ kind: 'run', run }));
    if (node.kind !== 'run') return [];
    const s = node.run.status;
    const out: Node[] = [];
    if (s?.best) {
      const m = s.best.metrics;
      out.push({
        kind: 'detail',
        run: node.run,
        label: `Best epoch ${s.best.epoch} (validation)`,
        description: `HR@10 ${formatMetric(m['hr@10'])} · NDCG@10 ${formatMetric(m['ndcg@10'])}`,
      });
      out.push({ kind: 'detail', run: node.run, label: 'Checkpoint', description: s.best.checkpoint, path: s.best.checkpoint });
    }
    if (s?.test) {
      out.push({
        kind: 'detail',
        run: node.run,
        label: 'Test',
        description: `HR@10 ${formatMetric(s.test['hr@10'])} · NDCG@10 ${formatMetric(s.test['ndcg@10'])}`,
      });
    }
    if (s?.error) out.push({ kind: 'detail', run: node.run, label: 'Error', description: s.error });
    return out;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'detail') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
      item.description = node.description;
      item.tooltip = node.description;
      if (node.path) {
        item.resourceUri = vscode.Uri.file(node.path);
        item.iconPath = new vscode.ThemeIcon('folder');
        item.contextValue = 'bearCheckpoint';
        item.command = { command: 'revealInExplorer', title: 'Reveal', arguments: [vscode.Uri.file(node.path)] };
      }
      return item;
    }
    const run = node.run;
    const s = run.status;
    const hasDetails = Boolean(s?.best || s?.test || s?.error);
    const item = new vscode.TreeItem(run.name, hasDetails ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = `bear:${run.dir}`;
    const progress = s?.epochs ? ` · epoch ${s.epoch ?? 0}/${s.epochs}` : '';
    item.description = `${(run.loss ?? 'bear').toUpperCase()} · ${run.state}${progress}`;
    const [icon, color] = ICONS[run.state] ?? ['circle-outline'];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    const tip = new vscode.MarkdownString(undefined, false);
    tip.appendText(`${run.id}\n${run.dir}\nstate: ${run.state}`);
    if (s?.step !== undefined) tip.appendText(`\nstep ${s.step}/${s.total_steps ?? '?'}`);
    item.tooltip = tip;
    item.contextValue = `bearRun.${run.state}`;
    item.command = { command: 'preflight.bear.openDashboard', title: 'Open Dashboard', arguments: [run.id] };
    return item;
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.changed.dispose();
  }
}
