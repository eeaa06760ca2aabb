// Activation stays cheap: each feature registers its commands and views; nothing heavy
// (ONNX Runtime, the worker, big files) loads until a command or an opened file needs it.
import { cpuClock, cpuMsSince, cpuNow, loadStarted, loadStartedCpu } from './loadClock'; // first: it times the evaluation of the bundle
import * as vscode from 'vscode';
import { features } from './features';
import { log } from './log';
import { monitorResponsiveness } from './responsiveness';
import { setTestState, testModeEnabled } from './testState';

// the last line of the bundle to run when it is loaded (every import above has been evaluated)
const loadEnded = performance.now();
const loadCpuMs = cpuMsSince(loadStartedCpu);

export function activate(context: vscode.ExtensionContext): void {
  const started = performance.now();
  const startedCpu = cpuNow();
  monitorResponsiveness(context);
  const activated: string[] = [];
  const featureMs: Record<string, number> = {};
  for (const feature of features) {
    try {
      const t = performance.now();
      feature.activate(context);
      featureMs[feature.id] = Math.round((performance.now() - t) * 10) / 10;
      activated.push(feature.id);
    } catch (error) {
      // one broken feature must not take the others down
      log().error(`feature ${feature.id} failed to activate: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  setTestState('activation', {
    features: activated,
    /** activate(); evaluating the bundle (its first line to its last); their sum, the extension's
     *  own share of activation (VS Code's wait between loading and activate() is not in it) */
    ms: Math.round((performance.now() - started) * 10) / 10,
    loadMs: Math.round((loadEnded - loadStarted) * 10) / 10,
    totalMs: Math.round((performance.now() - started + loadEnded - loadStarted) * 10) / 10,
    featureMs,
    cpuMs: cpuMsSince(startedCpu),
    loadCpuMs,
    /** 'thread': the extension host thread's own CPU time; 'process': every thread's */
    cpuClock,
    vscodeVersion: vscode.version,
    uiKind: vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop',
    trusted: vscode.workspace.isTrusted,
  });
  if (testModeEnabled()) publishSettings(context);
}

/** Test mode: the preflight.* settings as this extension host sees them, so a test that edits
 *  settings.json can wait until the change has arrived before it runs a command. */
function publishSettings(context: vscode.ExtensionContext): void {
  const publish = () => setTestState('settings', JSON.parse(JSON.stringify(vscode.workspace.getConfiguration('preflight'))));
  publish();
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('preflight') && publish()));
}

export function deactivate(): void {
  // Disposables registered on the context are released by VS Code.
}
