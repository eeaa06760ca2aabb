// "Preflight: Annotate with Local Model…": labels a CSV with the configured model (the shared
// ModelService: inference in the worker thread, off the extension host), then opens the
// annotation panel on the labelled copy. Choices: the text column, the levels (detected from the
// gold column, reorderable) and the number of examples. The labelling itself is core
// (src/core/annotation/llmAnnotate.ts), the same code and defaults as `preflight annotate-llm`.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import type { LlmAnnotateResult } from '../../core/annotation/llmAnnotate';
import { annotationCore } from './core';
import { log } from '../log';
import { ModelService } from '../models/modelService';
import { setTestState } from '../testState';
import { rememberColumns, rememberLevels } from './inputs';
import { CancelledError } from '../../shared/errors';

type Item<T> = vscode.QuickPickItem & { value: T };

/** A quick pick that resolves with the accepted item (undefined when dismissed). */
async function pick<T>(title: string, items: Item<T>[], active?: Item<T>): Promise<Item<T> | undefined> {
  const quickPick = vscode.window.createQuickPick<Item<T>>();
  quickPick.title = title;
  quickPick.items = items;
  if (active) quickPick.activeItems = [active];
  quickPick.show();
  const choice = await new Promise<Item<T> | undefined>((resolve) => {
    quickPick.onDidAccept(() => resolve(quickPick.selectedItems[0] ?? quickPick.activeItems[0]));
    quickPick.onDidHide(() => resolve(undefined));
  });
  quickPick.dispose();
  return choice;
}

/** The detected order, or a new one picked level by level from the lowest up. */
async function chooseOrder(levels: string[], guessed: boolean): Promise<string[] | undefined> {
  const keep: Item<'keep' | 'reorder'> = {
    label: `$(check) ${levels.join(' < ')}`,
    description: guessed ? 'alphabetical guess' : 'detected',
    detail: 'Use this order (lowest first)',
    value: 'keep',
  };
  const reorder: Item<'keep' | 'reorder'> = { label: '$(list-ordered) Reorder…', detail: 'Pick the levels one by one, lowest first', value: 'reorder' };
  const answer = await pick(
    'Preflight (2/3): the levels, lowest first — distances between labels follow this order',
    guessed ? [reorder, keep] : [keep, reorder],
  );
  if (!answer) return undefined;
  if (answer.value === 'keep') return levels;
  const left = [...levels];
  const order: string[] = [];
  while (left.length > 1) {
    const next = await pick(
      `Preflight: level ${order.length + 1} of ${levels.length} (${order.length ? `after ${order.join(' < ')}` : 'the lowest'})`,
      left.map((level) => ({ label: level, value: level })),
    );
    if (!next) return undefined;
    order.push(next.value);
    left.splice(left.indexOf(next.value), 1);
  }
  return [...order, ...left];
}

export async function annotateWithLocalModel(context: vscode.ExtensionContext, arg?: unknown): Promise<void> {
  // the flow runs a model the workspace may name: never in an untrusted workspace (the manifest's
  // enablement hides the command; this guards other ways of invoking it)
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage('Preflight: annotating with a local model runs a model and is disabled in an untrusted workspace.');
    return;
  }
  const file = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
  if (!file || file.scheme !== 'file' || !/\.csv$/i.test(file.path)) {
    void vscode.window.showInformationMessage(
      'Preflight: open a CSV with a text column (and, for examples and the levels, a gold label column) to annotate it with the local model.',
    );
    return;
  }
  const record = (patch: Record<string, unknown>) => setTestState('annotateLlm', { file: file.fsPath, ...patch });
  try {
    // the annotation core, loaded on first use (./core.ts)
    const { annotateWithModel, DEFAULT_SHOTS, defaultOutputPath, detectLevels, LLM_LABEL_COLUMN, readHeader, suggestColumns } = annotationCore();
    const header = await readHeader(file.fsPath);
    const suggested = suggestColumns(header);
    const columns = header.map((name, i) => ({
      label: name || `(column ${i + 1})`,
      value: name,
      description: name === suggested.text ? 'detected' : undefined,
    }));
    const textItem = await pick(
      `Preflight (1/3): which column of ${basename(file.fsPath)} holds the text to label?`,
      columns,
      columns.find((c) => c.value === suggested.text),
    );
    if (!textItem) return;
    let detected: Awaited<ReturnType<typeof detectLevels>>;
    try {
      detected = await detectLevels(file.fsPath, suggested.gold && suggested.gold !== textItem.value ? suggested.gold : undefined);
    } catch (error) {
      void vscode.window.showErrorMessage(
        `Preflight: ${(error as Error).message} (the levels come from the gold label column; \`preflight annotate-llm --levels\` takes them explicitly).`,
      );
      return;
    }
    const levels = await chooseOrder(detected.levels, detected.source === 'guessed');
    if (!levels) return;
    const shotItems = [0, 2, 4, 8].map((n) => ({
      label: String(n),
      value: n,
      description: n === DEFAULT_SHOTS ? 'default' : n === 0 ? 'zero-shot' : undefined,
    }));
    const shots = await pick(
      `Preflight (3/3): gold-labelled examples per prompt (stratified over the levels from '${detected.goldColumn}', never the row itself)`,
      shotItems,
      shotItems.find((s) => s.value === DEFAULT_SHOTS),
    );
    if (!shots) return;
    const out = defaultOutputPath(file.fsPath);
    const outUri = vscode.Uri.file(out);
    record({ status: 'running', out, levels, textColumn: textItem.value, shots: shots.value });
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Preflight: annotating ${basename(file.fsPath)} with the local model`, cancellable: true },
      async (progress, token): Promise<LlmAnnotateResult> => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        const model = await ModelService.get().open((message) => progress.report({ message }), abort.signal);
        let reported = 0;
        return annotateWithModel(model, file.fsPath, {
          textColumn: textItem.value,
          goldColumn: detected.goldColumn,
          levels,
          shots: shots.value,
          out,
          signal: abort.signal,
          onProgress: (p) => {
            const share = p.total ? Math.floor((100 * p.rows) / p.total) : 0;
            const increment = Math.max(0, share - reported);
            reported += increment;
            progress.report({
              increment,
              message: `${p.rows.toLocaleString()} of ${p.total.toLocaleString()} rows${p.kept ? ` (${p.kept.toLocaleString()} kept from the earlier copy)` : ''} · ${p.rowsPerSecond.toFixed(1)} rows/s`,
            });
            record({ status: 'running', out, rows: p.rows, total: p.total, labeled: p.labeled, kept: p.kept });
          },
        });
      },
    );
    log().info(
      `annotate with local model: ${file.fsPath} -> ${out}: ${result.labeled} labelled, ${result.kept} kept, ${result.rowsPerSecond.toFixed(1)} rows/s${result.cancelled ? ' (cancelled)' : ''}`,
    );
    for (const warning of result.warnings) log().warn(`annotate with local model: ${warning}`);
    record({
      status: result.cancelled ? 'cancelled' : 'done',
      out,
      rows: result.rows,
      labeled: result.labeled,
      kept: result.kept,
      levels: result.levels,
      rowsPerSecond: result.rowsPerSecond,
    });
    if (result.cancelled) {
      void vscode.window.showInformationMessage(
        `Preflight: annotation cancelled; ${basename(out)} holds the ${(result.kept + result.labeled).toLocaleString()} rows labelled so far. Run the command again to resume.`,
      );
      return;
    }
    // the panel reads the copy with these columns and this scale
    await rememberColumns(context.workspaceState, outUri, { gold: detected.goldColumn, llm: LLM_LABEL_COLUMN, text: textItem.value });
    await rememberLevels(context.workspaceState, outUri, levels);
    await vscode.commands.executeCommand('preflight.analyzeAnnotations', outUri);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof CancelledError) {
      record({ status: 'cancelled' });
      return;
    }
    log().error(`annotate with local model: ${message}`);
    record({ status: 'failed', error: message });
    void vscode.window.showErrorMessage(`Preflight: annotation failed: ${message.split('\n')[0]}`);
  }
}
