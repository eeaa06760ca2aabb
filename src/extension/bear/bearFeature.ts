// The BEAR feature: Launch BEAR Fine-tuning (form), the Jobs view, the live dashboard, Stop/Resume.
// Nothing heavy happens at activation: the tree lists run folders lazily, Python starts only on Launch.
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { formToRunConfig, type AuditResult, type LaunchForm } from '../../core/bear';
import type { Feature } from '../features/feature';
import { setTestState } from '../testState';
import { DashboardHost, DashboardPanel } from './dashboardPanel';
import { JobsTree } from './jobsTree';
import { LaunchHost, LaunchPanel } from './launchPanel';
import { BearRunner } from './runner';

function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

function runsRoot(outputDir: string): string | undefined {
  if (isAbsolute(outputDir)) return outputDir;
  const root = workspaceRoot();
  return root ? join(root, outputDir) : undefined;
}

class BearController implements LaunchHost, DashboardHost {
  readonly runner: BearRunner;
  readonly tree: JobsTree;
  /** runs folders outside the configured one that a launch used: the Jobs view keeps listing them */
  private readonly extraRoots: Set<string>;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.extraRoots = new Set<string>(context.workspaceState.get<string[]>('preflight.bear.runRoots', []));
    this.runner = new BearRunner(context.extensionUri);
    this.tree = new JobsTree(() => this.roots());
  }

  private roots(): string[] {
    const configured = runsRoot(vscode.workspace.getConfiguration('preflight.bear').get<string>('outputDir', '.preflight/runs'));
    return [...new Set([...(configured ? [configured] : []), ...this.extraRoots])].filter((r) => existsSync(r));
  }

  /** "Preflight: Launch BEAR Fine-tuning", on a data file or the active editor's. */
  launchCommand(uri?: unknown): void {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Preflight: BEAR fine-tuning runs a Python interpreter; it is disabled in an untrusted workspace.');
      return;
    }
    const file = uri instanceof vscode.Uri ? uri.fsPath : vscode.window.activeTextEditor?.document.uri.fsPath;
    LaunchPanel.open(this.context.extensionUri, this, file);
  }

  runsRoot(outputDir: string): string | undefined {
    return runsRoot(outputDir);
  }

  async launch(runId: string, runDir: string, form: LaunchForm): Promise<void> {
    const root = join(runDir, '..');
    if (!this.extraRoots.has(root)) {
      this.extraRoots.add(root);
      void this.context.workspaceState.update('preflight.bear.runRoots', [...this.extraRoots]);
    }
    await this.runner.launch(runId, runDir, formToRunConfig(form, runDir), form.gpus);
    setTestState('bear', { launched: runId, runDir });
    this.tree.refresh();
    this.openDashboard(runId, runDir);
  }

  async audit(dir: string, form: LaunchForm): Promise<AuditResult | undefined> {
    const config = formToRunConfig(form, dir);
    config.lora.enabled = false; // the audit scores the base model as it is
    return (await this.runner.audit(dir, config, 100)) as AuditResult | undefined;
  }

  openDashboard(runId: string, runDir: string): void {
    DashboardPanel.open(this.context.extensionUri, runId, runDir, this);
  }

  stop(runId: string, runDir: string): void {
    setTimeout(() => this.tree.refresh(), 1500);
    void this.runner.stop(runId, runDir).finally(() => this.tree.refresh());
  }

  async resume(runId: string, runDir: string): Promise<void> {
    try {
      await this.runner.launch(runId, runDir, undefined, 1, true);
      this.tree.refresh();
    } catch (e) {
      void vscode.window.showErrorMessage(`Preflight: could not resume: ${(e as Error).message}`);
    }
  }

  /** A command's run argument: a run id, or a Jobs view node; undefined when the run is not listed. */
  run(arg: unknown): { runId: string; runDir: string } | undefined {
    const id = typeof arg === 'string' ? arg : (arg as { run?: { id?: string } } | undefined)?.run?.id;
    const dir = id ? this.tree.find(id)?.dir : undefined;
    return id && dir ? { runId: id, runDir: dir } : undefined;
  }

  changed(): void {
    this.tree.refresh();
    DashboardPanel.refreshAll();
  }
}

export function bearFeature(): Feature {
  return {
    id: 'bear',
    activate(context) {
      const controller = new BearController(context);
      const withRun = (act: (runId: string, runDir: string) => unknown) => (arg?: unknown) => {
        const run = controller.run(arg);
        if (run) void act(run.runId, run.runDir);
      };
      context.subscriptions.push(
        controller.runner,
        controller.tree,
        vscode.window.registerTreeDataProvider('preflight.jobs', controller.tree),
        vscode.commands.registerCommand('preflight.launchBear', (uri?: unknown) => controller.launchCommand(uri)),
        vscode.commands.registerCommand(
          'preflight.bear.openDashboard',
          withRun((runId, runDir) => controller.openDashboard(runId, runDir)),
        ),
        vscode.commands.registerCommand(
          'preflight.bear.stop',
          withRun((runId, runDir) => controller.stop(runId, runDir)),
        ),
        vscode.commands.registerCommand(
          'preflight.bear.resume',
          withRun((runId, runDir) => controller.resume(runId, runDir)),
        ),
        vscode.commands.registerCommand('preflight.bear.refreshJobs', () => controller.tree.refresh()),
        controller.runner.onDidChange(() => controller.changed()),
        DashboardPanel.panels.registerSerializer(context.extensionUri, DashboardPanel.usable, (panel, state) =>
          DashboardPanel.revive(panel, context.extensionUri, state, controller),
        ),
        LaunchPanel.panels.registerSerializer<Partial<LaunchForm>>(context.extensionUri, LaunchPanel.usable, (panel, state) =>
          LaunchPanel.revive(panel, context.extensionUri, state, controller),
        ),
        vscode.workspace.onDidChangeConfiguration((e) => {
          if (e.affectsConfiguration('preflight.bear.outputDir')) controller.tree.refresh();
        }),
      );
    },
  };
}
