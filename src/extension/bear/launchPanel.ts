// The launch form: prefilled from settings and the active data file, validated by src/core/bear
// (fields and data files), and on Launch writes .preflight/runs/<id>/config.json and starts the task.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import {
  checkDataset,
  defaultForm,
  describeAudit,
  newRunId,
  prefillForm,
  validateForm,
  type AuditResult,
  type DataCheckResult,
  type BearSettings,
  type LaunchForm,
} from '../../core/bear';
import { BEAR_FORM_VIEW_TYPE, type FormFromWebview, type FormToWebview } from '../../shared/protocol/bear';
import { Panel, PanelSet } from '../panels/panel';
import { resolvePython } from './python';

export interface LaunchHost {
  /** absolute runs folder for the form's output folder (relative ones sit in the workspace folder) */
  runsRoot(outputDir: string): string | undefined;
  launch(runId: string, runDir: string, form: LaunchForm): Promise<void>;
  /** runs the pruning audit for the form's data and base model; resolves with its result */
  audit(dir: string, form: LaunchForm): Promise<AuditResult | undefined>;
}

export function bearSettings(): BearSettings {
  const c = vscode.workspace.getConfiguration('preflight.bear');
  return {
    loss: c.get<string>('loss'),
    lambda: c.get<number>('lambda'),
    xi: c.get<number>('xi'),
    beamSize: c.get<number>('beamSize'),
    learningRate: c.get<number>('learningRate'),
    batchSize: c.get<number>('batchSize'),
    epochs: c.get<number>('epochs'),
    outputDir: c.get<string>('outputDir'),
  };
}

const MAX_CHECK_BYTES = 64e6;

export class LaunchPanel extends Panel<FormToWebview, FormFromWebview> {
  /** one form: a second Launch command brings it back, refilled */
  static readonly panels = new PanelSet<LaunchPanel>({
    viewType: BEAR_FORM_VIEW_TYPE,
    app: 'bear',
    pageTitle: 'Launch BEAR Fine-tuning',
    loading: 'Loading…',
    placement: 'active',
  });
  private static readonly KEY = 'form';
  private cached: { key: string; result: DataCheckResult } | undefined;

  static open(extensionUri: vscode.Uri, host: LaunchHost, dataFile?: string): void {
    const form = { ...defaultForm(bearSettings()), ...prefillForm(dataFile) };
    const existing = LaunchPanel.panels.get(LaunchPanel.KEY);
    if (existing) {
      existing.reveal();
      void existing.init(form);
      return;
    }
    LaunchPanel.panels.open(extensionUri, LaunchPanel.KEY, 'Launch BEAR Fine-tuning', (panel) => new LaunchPanel(panel, extensionUri, host, form));
  }

  /** The form the app saved comes back after a reload, in a trusted workspace only (as the command). */
  static usable(state: Partial<LaunchForm> | undefined): state is Partial<LaunchForm> {
    return state !== undefined && vscode.workspace.isTrusted;
  }

  /** Fields the saved form lacks (saved by an older version) come from the settings' defaults. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, saved: Partial<LaunchForm>, host: LaunchHost): LaunchPanel {
    return new LaunchPanel(panel, extensionUri, host, { ...defaultForm(bearSettings()), ...saved });
  }

  private constructor(
    panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly host: LaunchHost,
    private form: LaunchForm,
  ) {
    super(panel, LaunchPanel.panels, LaunchPanel.KEY, extensionUri, { data: { view: 'form' } });
  }

  private async init(form: LaunchForm): Promise<void> {
    this.form = form;
    const python = await resolvePython();
    this.post({ type: 'init', form, python: `${python.path} (${python.source})`, trusted: vscode.workspace.isTrusted });
  }

  private resolve(p: string): string {
    if (!p || isAbsolute(p)) return p;
    const folder = vscode.workspace.workspaceFolders?.[0];
    return folder ? join(folder.uri.fsPath, p) : p;
  }

  private absolute(form: LaunchForm): LaunchForm {
    const baseModel = form.baseModel.trim() === 'builtin' || !existsSync(this.resolve(form.baseModel)) ? form.baseModel.trim() : this.resolve(form.baseModel);
    return {
      ...form,
      baseModel,
      train: this.resolve(form.train),
      valid: this.resolve(form.valid),
      test: this.resolve(form.test),
      items: this.resolve(form.items),
    };
  }

  /**
   * Field checks, then the data files. Returns true when launchable. The files are read on the extension
   * host, so results are cached by path, size and mtime (the form re-checks as you type), and files over
   * MAX_CHECK_BYTES are left to the trainer, which checks them anyway.
   */
  private check(form: LaunchForm): boolean {
    const formIssues = validateForm(form);
    const abs = this.absolute(form);
    const files = { train: abs.train || undefined, valid: abs.valid || undefined, test: abs.test || undefined, items: abs.items || undefined };
    const key = JSON.stringify(
      Object.values(files).map((f) => {
        try {
          const st = f ? statSync(f) : undefined;
          return [f, st?.size, st?.mtimeMs];
        } catch {
          return [f];
        }
      }),
    );
    if (this.cached?.key !== key) {
      const big = Object.values(files).find((f) => {
        try {
          return f !== undefined && statSync(f).size > MAX_CHECK_BYTES;
        } catch {
          return false;
        }
      });
      const result: DataCheckResult = big
        ? {
            issues: [
              {
                file: big,
                line: 0,
                severity: 'warning',
                code: 'bear-not-checked',
                message: `Over ${MAX_CHECK_BYTES / 1e6} MB: not checked here; the trainer checks every record when it starts.`,
              },
            ],
            counts: {},
            items: 0,
          }
        : checkDataset(files);
      this.cached = { key, result };
    }
    const data = this.cached.result;
    const errors = formIssues.length + data.issues.filter((i) => i.severity === 'error').length;
    const counts = Object.entries(data.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const summary = `${counts || 'no records'}; ${data.items} item titles${errors ? `; ${errors} error(s)` : ''}`;
    this.post({ type: 'issues', formIssues, dataIssues: data.issues, summary });
    return errors === 0;
  }

  protected async receive(message: FormFromWebview): Promise<void> {
    switch (message.type) {
      case 'ready':
        await this.init(this.form);
        return;
      case 'validate':
        this.form = message.form;
        this.check(message.form);
        return;
      case 'pick': {
        const picked = await vscode.window.showOpenDialog({
          canSelectFiles: !message.folder,
          canSelectFolders: message.folder,
          canSelectMany: false,
          filters: message.folder ? undefined : { Data: ['jsonl', 'json', 'csv'] },
        });
        if (picked?.[0]) this.post({ type: 'picked', field: message.field, value: picked[0].fsPath });
        return;
      }
      case 'audit': {
        this.form = message.form;
        if (!vscode.workspace.isTrusted) return;
        if (!this.check(message.form)) return;
        const root = this.host.runsRoot('.preflight/audits');
        if (!root) return;
        this.post({ type: 'audit', state: 'running', text: 'Scoring every title for up to 100 validation users with the base model (see the terminal)…' });
        try {
          const result = await this.host.audit(join(root, newRunId(new Date(), message.form.name)), this.absolute(message.form));
          this.post(
            result
              ? { type: 'audit', state: 'done', text: describeAudit(result) }
              : { type: 'audit', state: 'failed', text: 'The audit did not finish; its terminal says why.' },
          );
        } catch (e) {
          this.post({ type: 'audit', state: 'failed', text: (e as Error).message });
        }
        return;
      }
      case 'launch': {
        this.form = message.form;
        if (!vscode.workspace.isTrusted) {
          void vscode.window.showWarningMessage('Preflight: launching training is disabled in an untrusted workspace.');
          return;
        }
        if (!this.check(message.form)) return;
        const root = this.host.runsRoot(message.form.outputDir);
        if (!root) {
          void vscode.window.showErrorMessage('Preflight: open a workspace folder first (or give an absolute output folder); runs are written under it.');
          return;
        }
        const runId = newRunId(new Date(), message.form.name);
        const runDir = join(root, runId);
        try {
          await this.host.launch(runId, runDir, this.absolute(message.form));
          this.post({ type: 'launched', runId });
        } catch (e) {
          void vscode.window.showErrorMessage(`Preflight: could not launch the run: ${(e as Error).message}`);
        }
        return;
      }
    }
  }
}
