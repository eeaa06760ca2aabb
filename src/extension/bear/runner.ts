// Starts BEAR runs as VS Code tasks and stops them. The trainer runs under ProcessExecution: the
// interpreter is executed with an argument array, no shell, so `; & | $( )` in the workspace path or the
// output folder are plain characters (its output still shows in the terminal panel). Stop (trusted
// workspaces only) sends SIGTERM to the trainer's process group, then SIGKILL after STOP_GRACE_MS; the
// pid is the task process this session started, or status.json's pid once /proc shows it is this run's
// trainer (core/bear/trainerProcess.ts) -- a planted status.json cannot make Stop kill anything else.
import { delimiter, join } from 'node:path';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { auditCommand, readRun, stopTrainer, trainerCommand, type BearRunConfig, type StopOutcome } from '../../core/bear';
import { log } from '../log';
import { resolvePython } from './python';

export const TASK_TYPE = 'preflight-bear';

export class BearRunner implements vscode.Disposable {
  private readonly executions = new Map<string, vscode.TaskExecution>();
  /** pid of each run's task process started in this session (ProcessExecution: the interpreter itself). */
  private readonly pids = new Map<string, number>();
  private readonly changed = new vscode.EventEmitter<string>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];

  constructor(private readonly extensionUri: vscode.Uri) {
    this.disposables.push(
      vscode.tasks.onDidEndTaskProcess((e) => {
        const runId = (e.execution.task.definition as { runId?: string }).runId;
        if (e.execution.task.definition.type !== TASK_TYPE || !runId) return;
        this.executions.delete(runId);
        this.pids.delete(runId);
        log().info(`BEAR run ${runId}: trainer exited with code ${e.exitCode ?? 'unknown'}`);
        this.changed.fire(runId);
      }),
      vscode.tasks.onDidStartTaskProcess((e) => {
        const runId = (e.execution.task.definition as { runId?: string }).runId;
        if (e.execution.task.definition.type !== TASK_TYPE || !runId) return;
        if (this.executions.get(runId) === e.execution) this.pids.set(runId, e.processId);
        this.changed.fire(runId);
      }),
    );
  }

  /** The workspace folder holding `dir`, its Python, and what every trainer command needs to run it
   *  (the bundled package on PYTHONPATH, before the user's). */
  private async pythonFor(dir: string) {
    const folder = vscode.workspace.workspaceFolders?.find((f) => dir.startsWith(f.uri.fsPath));
    const python = await resolvePython(folder?.uri);
    const args = {
      python: python.path,
      packageDir: vscode.Uri.joinPath(this.extensionUri, 'python').fsPath,
      existingPythonPath: process.env.PYTHONPATH,
      pathSeparator: delimiter,
    };
    return { folder, python, args };
  }

  isRunning(runId: string): boolean {
    return this.executions.has(runId);
  }

  /** Writes <runDir>/config.json and starts the trainer (or resumes it from the latest checkpoint). */
  async launch(runId: string, runDir: string, config: BearRunConfig | undefined, gpus: number, resume = false): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      throw new Error('Training runs a Python interpreter named by the workspace: trust the workspace first.');
    }
    mkdirSync(runDir, { recursive: true });
    const configPath = join(runDir, 'config.json');
    if (config) writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n');
    if (!existsSync(configPath)) throw new Error(`${configPath} does not exist`);
    const { folder, python, args } = await this.pythonFor(runDir);
    const command = trainerCommand({ ...args, configPath, gpus, resume });
    log().info(`BEAR run ${runId}: ${python.path} (${python.source}) ${command.args.join(' ')}`);
    const task = new vscode.Task(
      { type: TASK_TYPE, runId },
      folder ?? vscode.TaskScope.Workspace,
      `BEAR ${runId}`,
      'preflight',
      new vscode.ProcessExecution(command.executable, command.args, { cwd: runDir, env: command.env }),
    );
    task.presentationOptions = { reveal: vscode.TaskRevealKind.Silent, panel: vscode.TaskPanelKind.Dedicated, clear: true, echo: true };
    const execution = await vscode.tasks.executeTask(task);
    this.executions.set(runId, execution);
    this.changed.fire(runId);
  }

  /**
   * Runs the pre-training pruning audit as a task and resolves with its JSON result (undefined if the
   * task failed or was terminated).
   */
  async audit(dir: string, config: BearRunConfig, users: number): Promise<unknown> {
    if (!vscode.workspace.isTrusted) throw new Error('The audit runs a Python interpreter: trust the workspace first.');
    mkdirSync(dir, { recursive: true });
    const configPath = join(dir, 'config.json');
    const outPath = join(dir, 'audit.json');
    writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n');
    const { folder, args } = await this.pythonFor(dir);
    const command = auditCommand({ ...args, configPath, outPath, users });
    const id = `audit-${Date.now()}`;
    const task = new vscode.Task(
      { type: TASK_TYPE, auditId: id },
      folder ?? vscode.TaskScope.Workspace,
      'BEAR pruning audit',
      'preflight',
      new vscode.ProcessExecution(command.executable, command.args, { cwd: dir, env: command.env }),
    );
    task.presentationOptions = { reveal: vscode.TaskRevealKind.Silent, panel: vscode.TaskPanelKind.Dedicated, clear: true };
    return new Promise((resolve, reject) => {
      const sub = vscode.tasks.onDidEndTaskProcess((e) => {
        if ((e.execution.task.definition as { auditId?: string }).auditId !== id) return;
        sub.dispose();
        if (e.exitCode !== 0 || !existsSync(outPath)) {
          resolve(undefined);
          return;
        }
        try {
          resolve(JSON.parse(readFileSync(outPath, 'utf8')));
        } catch (err) {
          reject(err);
        }
      });
      vscode.tasks.executeTask(task).then(undefined, (err) => {
        sub.dispose();
        reject(err);
      });
    });
  }

  /**
   * Stops a run: SIGTERM to the trainer's process group (it writes status 'stopped' and exits), SIGKILL
   * after STOP_GRACE_MS if it is still there. Only in a trusted workspace, and only for a process that is
   * this session's task process or verifiably this run's trainer; otherwise nothing is signalled.
   */
  async stop(runId: string, runDir: string): Promise<StopOutcome> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Preflight: Stop is disabled in an untrusted workspace.');
      return 'refused';
    }
    const own = this.pids.get(runId);
    const outcome = own !== undefined ? await stopTrainer(own, runDir, { trusted: true }) : await stopTrainer(readRun(runDir, runId).status?.pid, runDir);
    log().info(`BEAR run ${runId}: stop -> ${outcome}`);
    if (outcome === 'refused' && own === undefined) {
      void vscode.window.showWarningMessage(`Preflight: no trainer process of run ${runId} was found; nothing was stopped.`);
    }
    this.changed.fire(runId);
    return outcome;
  }

  dispose(): void {
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
