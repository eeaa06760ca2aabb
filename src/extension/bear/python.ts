// Which Python runs the trainer: the preflight.python.path setting when set, else the interpreter the
// Python extension (ms-python.python) has selected for the workspace, else the system python3.
import * as vscode from 'vscode';
import { systemPython } from '../../core/mdf/forecaster';

export interface ResolvedPython {
  path: string;
  source: string;
}

interface PythonEnvironmentsApi {
  getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined;
  resolveEnvironment(env: { path: string } | string): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
}

export async function resolvePython(resource?: vscode.Uri): Promise<ResolvedPython> {
  const configured = vscode.workspace.getConfiguration('preflight.python', resource).get<string>('path', '').trim();
  if (configured) return { path: configured, source: 'setting preflight.python.path' };
  const extension = vscode.extensions.getExtension<{ environments?: PythonEnvironmentsApi }>('ms-python.python');
  if (extension) {
    try {
      const api = extension.isActive ? extension.exports : await extension.activate();
      const envs = api?.environments;
      const active = envs?.getActiveEnvironmentPath(resource);
      if (envs && active) {
        const resolved = await envs.resolveEnvironment(active);
        const executable = resolved?.executable?.uri?.fsPath ?? active.path;
        if (executable) return { path: executable, source: 'Python extension (selected interpreter)' };
      }
    } catch {
      // The Python extension failed to answer: fall back to the system interpreter below.
    }
  }
  // the CLI's default too (core/mdf/forecaster.ts)
  const system = systemPython();
  return { path: system, source: system.startsWith('/') ? `system (${system})` : 'PATH' };
}
