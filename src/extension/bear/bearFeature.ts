// The BEAR feature: Launch BEAR Fine-tuning (form), the Jobs view, the live dashboard, Stop/Resume.
// Nothing heavy happens at activation: the tree lists run folders lazily, Python starts only on Launch.
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { formToRunConfig, type AuditResult, type LaunchForm } from '../../core/recsys';
import type { Feature } from '../features/feature';
import { setTestState } from '../testState';
import { DashboardPanel } from './dashboardPanel';
import { JobsTree } from './jobsTree';
import { LaunchPanel } from './launchPanel';
import { BearRunner } from './runner';

function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

function runsRoot(outputDir: string): string | undefined {
  if (isAbsolute(outputDir)) return outputDir;
  const root = workspaceRoot();
  return root ? join(root, outputDir) : undefined;
}

export function bearFeature(): Feature {
  return {
    id: 'bear',
    activate(context) {
      const extraRoots = new Set<string>(context.workspaceState.get<string[]>('preflight.bear.runRoots', []));
      const roots = () => {
        const configured = runsRoot(vscode.workspace.getConfiguration('preflight.bear').get<string>('outputDir', '.preflight/runs'));
        return [...new Set([...(configured ? [configured] : []), ...extraRoots])].filter((r) => existsSync(r));
      };
      const runner = new BearRunner(context.extensionUri);
      const tree = new JobsTree(roots);
      const runDirOf = (runId: string) => tree.find(runId)?.dir;

      const host = {
        runsRoot,
        audit: (dir: string, form: LaunchForm) => auditHost(dir, form),
        async launch(runId: string, runDir: string, form: LaunchForm) {
          const root = join(runDir, '..');
          if (!extraRoots.has(root)) {
            extraRoots.add(root);
            void context.workspaceState.update('preflight.bear.runRoots', [...extraRoots]);
          }
          await runner.launch(runId, runDir, formToRunConfig(form, runDir), form.gpus);
          setTestState('bear', { launched: runId, runDir });
          tree.refresh();
          DashboardPanel.open(context.extensionUri, runId, runDir, dashboardHost);
        },
      };
      const auditHost = async (dir: string, form: LaunchForm) => {
        const config = formToRunConfig(form, dir);
        config.lora.enabled = false; // the audit scores the base model as it is
        return (await runner.audit(dir, config, 100)) as AuditResult | undefined;
      };
      const dashboardHost = {
        stop: (runId: string, runDir: string) => {
          setTimeout(() => tree.refresh(), 1500);
          void runner.stop(runId, runDir).finally(() => tree.refresh());
        },
        resume: async (runId: string, runDir: string) => {
          try {
            await runner.launch(runId, runDir, undefined, 1, true);
            tree.refresh();
          } catch (e) {
            void vscode.window.showErrorMessage(`Preflight: could not resume: ${(e as Error).message}`);
          }
        },
      };

      const runArg = (arg: unknown): { runId: string; runDir: string } | undefined => {
        const id = typeof arg === 'string' ? arg : (arg as { run?: { id?: string } } | undefined)?.run?.id;
        const dir = id ? runDirOf(id) : undefined;
        return id && dir ? { runId: id, runDir: dir } : undefined;
      };

      context.subscriptions.push(
        runner,
        tree,
        vscode.window.registerTreeDataProvider('preflight.jobs', tree),
        vscode.commands.registerCommand('preflight.launchBear', (uri?: unknown) => {
          if (!vscode.workspace.isTrusted) {
            void vscode.window.showWarningMessage('Preflight: BEAR fine-tuning runs a Python interpreter; it is disabled in an untrusted workspace.');
            return;
          }
          const file = uri instanceof vscode.Uri ? uri.fsPath : vscode.window.activeTextEditor?.document.uri.fsPath;
          LaunchPanel.open(context.extensionUri, host, file);
        }),
        vscode.commands.registerCommand('preflight.bear.openDashboard', (arg?: unknown) => {
          const run = runArg(arg);
          if (run) DashboardPanel.open(context.extensionUri, run.runId, run.runDir, dashboardHost);
        }),
        vscode.commands.registerCommand('preflight.bear.stop', (arg?: unknown) => {
          const run = runArg(arg);
          if (run) dashboardHost.stop(run.runId, run.runDir);
        }),
        vscode.commands.registerCommand('preflight.bear.resume', (arg?: unknown) => {
          const run = runArg(arg);
          if (run) void dashboardHost.resume(run.runId, run.runDir);
        }),
        vscode.commands.registerCommand('preflight.bear.refreshJobs', () => tree.refresh()),
        runner.onDidChange(() => {
          tree.refresh();
          DashboardPanel.refreshAll();
        }),
        DashboardPanel.panels.registerSerializer(context.extensionUri, DashboardPanel.usable, (panel, state) => DashboardPanel.revive(panel, context.extensionUri, state, dashboardHost)),
        vscode.workspace.onDidChangeConfiguration((e) => {
          if (e.affectsConfiguration('preflight.bear.outputDir')) tree.refresh();
        }),
      );
    },
  };
}
