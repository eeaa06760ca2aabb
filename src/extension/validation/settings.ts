// The validation settings (preflight.validation.*), read in one place.
import * as vscode from 'vscode';
import type { ValidationOptions } from '../../core/data/types';

export interface ValidationSettings {
  enabled: boolean;
  debounceMs: number;
  /** bytes; larger files are validated on save or on command only, from disk */
  liveLimitBytes: number;
  maxFindings: number;
  options: ValidationOptions;
}

export function readValidationSettings(scope?: vscode.Uri): ValidationSettings {
  const c = vscode.workspace.getConfiguration('preflight.validation', scope);
  const maxFindings = Math.max(1, c.get<number>('maxFindings', 1000));
  const tokenizerPath = trustedTokenizerPath(c);
  const labelLevels = c.get<string[]>('labelLevels', []);
  const labelColumns = c.get<string[]>('labelColumns', []);
  return {
    enabled: c.get<boolean>('enabled', true),
    debounceMs: Math.max(0, c.get<number>('debounceMs', 400)),
    liveLimitBytes: Math.max(0, c.get<number>('maxFileSizeForLiveValidationMB', 20)) * 1024 * 1024,
    maxFindings,
    options: {
      maxFindings,
      contextLimit: c.get<number>('contextLimit', 4096),
      ...(tokenizerPath ? { tokenizerPath: resolveInWorkspace(tokenizerPath, scope) } : {}),
      ...(labelLevels.length ? { labelLevels } : {}),
      ...(labelColumns.length ? { labelColumns } : {}),
    },
  };
}

/** A restricted setting (package.json restrictedConfigurations): in an untrusted workspace only the
 *  user's own value counts, never one planted in the workspace's settings. */
function trustedTokenizerPath(c: vscode.WorkspaceConfiguration): string {
  if (vscode.workspace.isTrusted) return c.get<string>('tokenizerPath', '').trim();
  return (c.inspect<string>('tokenizerPath')?.globalValue ?? '').trim();
}

/** A relative path in a setting is relative to the file's workspace folder. */
function resolveInWorkspace(path: string, scope?: vscode.Uri): string {
  if (path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path)) return path;
  const folder = scope ? vscode.workspace.getWorkspaceFolder(scope) : vscode.workspace.workspaceFolders?.[0];
  return folder ? vscode.Uri.joinPath(folder.uri, path).fsPath : path;
}
