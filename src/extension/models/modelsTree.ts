// The Models view (preflight.models): the model in use (the folder named by `preflight.model.path`,
// else the bundled demo model preflight-tiny) and the built models in the build cache shared with
// the CLI, each with its architecture, size, dtype and provider.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { formatParameters, listModels, ModelEntry } from '../../core/model/catalog';
import { DEFAULT_MODEL_NAME } from '../../core/model/modelSource';
import { MANIFEST_FILE } from '../../core/model/manifest';

/** The model in use: its folder, whether it is the bundled demo model, and where a checkpoint's build goes. */
export interface InUse {
  dir: string;
  isDefault: boolean;
  builtDir: string | null;
}

type Node = { type: 'model'; entry: ModelEntry } | { type: 'detail'; label: string; value: string };

export class ModelsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly modelsRoot: () => string,
    private readonly inUse: () => InUse | undefined,
    /** where a model runs: the actual provider once opened, else the configured one */
    private readonly provider: (dir: string) => string,
  ) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  entries(): ModelEntry[] {
    const current = this.inUse();
    return listModels([this.modelsRoot()], current ? [current.dir] : []);
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
    const current = this.inUse();
    const configured = e.dir === current?.dir || (current?.builtDir !== null && e.dir === current?.builtDir);
    const demo = configured && current?.isDefault;
    const item = new vscode.TreeItem(
      demo && e.dir === current?.dir ? DEFAULT_MODEL_NAME : e.name,
      e.kind === 'built' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.resourceUri = vscode.Uri.file(e.dir);
    item.contextValue = `preflight.model.${e.kind}`;
    if (e.kind === 'built') {
      const m = e.manifest;
      item.description = `${demo ? 'bundled demo model · ' : ''}${m.info.family} · ${formatParameters(m.parameters)} · ${m.info.dtype} · ${this.provider(e.dir)}${configured ? ' · in use' : ''}`;
      item.iconPath = new vscode.ThemeIcon(configured ? 'pass-filled' : 'circuit-board');
      item.tooltip = new vscode.MarkdownString(
        `**${e.name}**\n\n${m.architecture}, ${formatParameters(m.parameters)} parameters, ${m.info.numLayers} layers, hidden ${m.info.hiddenSize}, ` +
          `${m.info.numHeads}/${m.info.numKvHeads} heads, vocab ${m.info.vocabSize}, ${m.info.dtype}\n\nbuilt ${m.createdAt} from \`${m.sourceDir}\``,
      );
    } else if (e.kind === 'checkpoint') {
      const built = configured && current?.builtDir && existsSync(join(current.builtDir, MANIFEST_FILE));
      item.description = `${demo ? 'bundled demo model (not your base model) · ' : ''}Hugging Face checkpoint · ${built ? 'built in the cache' : 'built on first use'}${configured ? ' · in use' : ''}`;
      item.iconPath = new vscode.ThemeIcon(configured ? 'pass-filled' : 'cloud-download');
      item.command = { command: 'preflight.buildModel', title: 'Build Model', arguments: [vscode.Uri.file(e.dir)] };
      item.tooltip = demo
        ? `${DEFAULT_MODEL_NAME}: the small model bundled with Preflight so that every feature runs without one of yours. Its forecasts are a demonstration, not a statement about your base model: set preflight.model.path to the checkpoint you will fine-tune.\n\n${e.dir}`
        : 'Click to build an MDF-ready ONNX model from this checkpoint (otherwise it is built on first use).';
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
