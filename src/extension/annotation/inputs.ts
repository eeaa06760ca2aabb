// Where the analysis inputs come from in VS Code: the column mapping (detected, or chosen in a
// quick pick and remembered per file in workspaceState) and the human test (remembered per file,
// else a sibling file found by convention, else none until the user picks one).
import * as vscode from 'vscode';
import { basename, dirname, extname, join } from 'node:path';
import { existsSync } from 'node:fs';
import type { LabelColumnOverrides } from '../../core/annotation/readLabels';
import { annotationCore } from './core';

const COLUMNS_KEY = 'preflight.annotation.columns:';
const HUMAN_KEY = 'preflight.annotation.human:';
const LEVELS_KEY = 'preflight.annotation.levels:';

/** This file's label order, if the user set one (it wins over the preflight.annotation.levels setting). */
export function rememberedLevels(state: vscode.Memento, file: vscode.Uri): string[] | undefined {
  return state.get<string[]>(LEVELS_KEY + file.toString());
}

/** Asks for the label order (lowest first), prefilled with the current one; empty = detect again. Remembered per file. */
export async function pickLevels(state: vscode.Memento, file: vscode.Uri, current: string[]): Promise<boolean> {
  const answer = await vscode.window.showInputBox({
    title: `Preflight: label order of ${basename(file.fsPath)}`,
    prompt: 'Levels from lowest to highest, separated by commas (distances between labels follow this order). Leave empty to detect the order again.',
    value: current.join(', '),
    validateInput: (text) => {
      const levels = text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (levels.length === 1) return 'An ordinal scale needs at least two levels.';
      if (new Set(levels.map((l) => l.toLowerCase())).size !== levels.length) return 'A level is listed twice.';
      return undefined;
    },
  });
  if (answer === undefined) return false;
  const levels = answer
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  await state.update(LEVELS_KEY + file.toString(), levels.length ? levels : undefined);
  return true;
}

export function rememberedColumns(state: vscode.Memento, file: vscode.Uri): LabelColumnOverrides | undefined {
  return state.get<LabelColumnOverrides>(COLUMNS_KEY + file.toString());
}

/** Asks which columns hold the gold label, the LLM label, the id and the groups; remembers the answer. */
export async function pickColumns(state: vscode.Memento, file: vscode.Uri, header: string[]): Promise<LabelColumnOverrides | undefined> {
  let detected: ReturnType<ReturnType<typeof annotationCore>['detectLabelColumns']> | undefined;
  try {
    detected = annotationCore().detectLabelColumns(header, {}, basename(file.fsPath));
  } catch {
    detected = undefined;
  }
  const columns = header.map((name, i) => ({ label: name || `(column ${i + 1})`, name }));
  const one = async (title: string, preferred: number | undefined, optional: boolean) => {
    const items: Array<vscode.QuickPickItem & { name?: string }> = columns.map((c, i) => ({
      label: c.label,
      name: c.name,
      description: i === preferred ? 'detected' : undefined,
    }));
    if (optional) items.unshift({ label: '(none)', name: undefined });
    const active = preferred !== undefined ? items.find((item) => item.name === header[preferred]) : undefined;
    const quickPick = vscode.window.createQuickPick<vscode.QuickPickItem & { name?: string }>();
    quickPick.title = title;
    quickPick.items = items;
    if (active) quickPick.activeItems = [active];
    quickPick.show();
    const choice = await new Promise<(vscode.QuickPickItem & { name?: string }) | undefined>((resolve) => {
      quickPick.onDidAccept(() => resolve(quickPick.selectedItems[0] ?? quickPick.activeItems[0]));
      quickPick.onDidHide(() => resolve(undefined));
    });
    quickPick.dispose();
    return choice;
  };
  const gold = await one(`Preflight (1/4): which column of ${basename(file.fsPath)} holds the gold label?`, detected?.gold, false);
  if (!gold || gold.name === undefined) return undefined;
  const llm = await one('Preflight (2/4): which column holds the LLM label?', detected?.llm, false);
  if (!llm) return undefined;
  const id = await one('Preflight (3/4): which column holds the item id? (used to join a coder sheet)', detected?.id, true);
  if (!id) return undefined;
  const groups = await vscode.window.showQuickPick(
    columns
      .filter((c) => c.name !== gold.name && c.name !== llm.name && c.name !== id.name)
      .map((c) => ({ label: c.label, name: c.name, picked: detected?.groups.some((g) => header[g] === c.name) })),
    { title: 'Preflight (4/4): group columns (model, prompting technique, …) to report per value', canPickMany: true },
  );
  if (!groups) return undefined;
  const answer: LabelColumnOverrides = { gold: gold.name, llm: llm.name, id: id.name, groups: groups.map((g) => g.name) };
  await state.update(COLUMNS_KEY + file.toString(), answer);
  return answer;
}

export type HumanTestSource = { uri: vscode.Uri; how: 'remembered' | 'sibling' | 'picked' };

/** Sibling names tried, in order: <stem>.human.csv, <stem>_human.csv, <stem>-human.csv, human_annotation.csv (the LAK'26 authors' layout). */
export function siblingCandidates(fsPath: string): string[] {
  const dir = dirname(fsPath);
  const stem = basename(fsPath, extname(fsPath));
  return [`${stem}.human.csv`, `${stem}_human.csv`, `${stem}-human.csv`, 'human_annotation.csv', 'human.csv']
    .map((name) => join(dir, name))
    .filter((path) => path !== fsPath);
}

export function findHumanTest(state: vscode.Memento, file: vscode.Uri): HumanTestSource | undefined {
  const remembered = state.get<string>(HUMAN_KEY + file.toString());
  if (remembered) {
    const uri = vscode.Uri.parse(remembered);
    if (uri.scheme !== 'file' || existsSync(uri.fsPath)) return { uri, how: 'remembered' };
  }
  if (file.scheme !== 'file') return undefined;
  const sibling = siblingCandidates(file.fsPath).find((path) => existsSync(path));
  return sibling ? { uri: vscode.Uri.file(sibling), how: 'sibling' } : undefined;
}

export async function pickHumanTest(state: vscode.Memento, file: vscode.Uri): Promise<HumanTestSource | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title: `Preflight: the human test for ${basename(file.fsPath)} (coders' labels of a gold-labelled subset)`,
    defaultUri: vscode.Uri.file(dirname(file.fsPath)),
    canSelectMany: false,
    filters: { CSV: ['csv'] },
    openLabel: 'Use as human test',
  });
  if (!picked?.[0]) return undefined;
  await state.update(HUMAN_KEY + file.toString(), picked[0].toString());
  return { uri: picked[0], how: 'picked' };
}

export async function forgetHumanTest(state: vscode.Memento, file: vscode.Uri): Promise<void> {
  await state.update(HUMAN_KEY + file.toString(), undefined);
}

/** Sets this file's columns (the LLM annotation flow opens its labelled copy with them). */
export async function rememberColumns(state: vscode.Memento, file: vscode.Uri, columns: LabelColumnOverrides): Promise<void> {
  await state.update(COLUMNS_KEY + file.toString(), columns);
}

/** Sets this file's label order, lowest first. */
export async function rememberLevels(state: vscode.Memento, file: vscode.Uri, levels: string[]): Promise<void> {
  await state.update(LEVELS_KEY + file.toString(), levels);
}
