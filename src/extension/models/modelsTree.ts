// The Models view (preflight.models): built models in the extension's global storage and the folder
// named by `preflight.model.path`, each with its architecture, size, dtype and provider.
import * as vscode from 'vscode';
import { formatParameters, listModels, ModelEntry } from '../../core/model/catalog';

type Node = { type: 'model'; entry: ModelEntry } | { type: 'detail'; label: string; value: string };

export class ModelsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly modelsRoot: () => string,
    private readonly configuredPath: () => string,
    /** where a model runs: the actual provider once opened, else the configured one */
    private readonly provider: (dir: string) => string,
  ) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  entries(): ModelEntry[] {
    return listModels([this.modelsRoot()], [this.configuredPath()]);
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.entries().map((entry) => ({ type: 'model', entry }));
    if (node.type !== 'model' || node.entry.kind !== 'built') return [];
    const m = node.entry.manifest;
    return [
      { type: 'detail', label: 'architecture', value: `${m.architecture} (${m.info.family})` },
      { type: 'detail', label: 'parameters', value: `${formatParameters(m.parameters)} · ${m.info.numLayers} layers · hidden ${m.info.hiddenSize}` },
      { type: 'detail', label: 'dtype', value: m.info.dtype },
      { type: 'detail', label: 'provider', value: this.provider(node.entry.dir) },
      { type: 'detail', label: 'folder', value: node.entry.dir },
    ];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.type === 'detail') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
      item.description = node.value;
      item.tooltip = node.value;
      return item;
    }
    const e = node.entry;
    const configured = e.dir === this.configuredPath();
    const item = new vscode.TreeItem(e.name, e.kind === 'built' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.resourceUri = vscode.Uri.file(e.dir);
    item.contextValue = `preflight.model.${e.kind}`;
    if (e.kind === 'built') {
      const m = e.manifest;
      item.description = `${m.info.family} · ${formatParameters(m.parameters)} · ${m.info.dtype} · ${this.provider(e.dir)}${configured ? ' · in use' : ''}`;
      item.iconPath = new vscode.ThemeIcon(configured ? 'pass-filled' : 'circuit-board');
      item.tooltip = new vscode.MarkdownString(
        `**${e.name}**\n\n${m.architecture}, ${formatParameters(m.parameters)} parameters, ${m.info.numLayers} layers, hidden ${m.info.hiddenSize}, ` +
          `${m.info.numHeads}/${m.info.numKvHeads} heads, vocab ${m.info.vocabSize}, ${m.info.dtype}\n\nbuilt ${m.createdAt} from \`${m.sourceDir}\``,
      );
    } else if (e.kind === 'checkpoint') {
      item.description = 'Hugging Face checkpoint · not built yet';
      item.iconPath = new vscode.ThemeIcon('cloud-download');
      item.command = { command: 'preflight.buildModel', title: 'Build Model', arguments: [vscode.Uri.file(e.dir)] };
      item.tooltip = 'Click to build an MDF-ready ONNX model from this checkpoint.';
    } else {
      item.description = e.reason;
      item.iconPath = new vscode.ThemeIcon('warning');
      item.tooltip = `${e.dir}: ${e.reason}`;
    }
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
