// "Preflight: Show Report" asks every feature that makes reports whether it has one for a file.
// Features register a handler once at activation; the registry knows nothing about their panels.
import * as vscode from 'vscode';

export interface ReportHandler {
  /** stable kind, e.g. 'validation', 'mdf', 'annotation', 'bear' */
  kind: string;
  /** what the user picks from, e.g. 'Behaviour forecast (MDF)' */
  label: string;
  /** when the last report of this kind for the file was made, or undefined if there is none */
  lastReport(file: vscode.Uri): Date | undefined | Promise<Date | undefined>;
  /** opens (or reveals) that last report */
  open(file: vscode.Uri): void | Thenable<unknown>;
}

const handlers = new Map<string, ReportHandler>();

/** Registers a feature's report handler; dispose to remove it. A kind registered twice replaces the first. */
export function registerReportHandler(handler: ReportHandler): vscode.Disposable {
  handlers.set(handler.kind, handler);
  return new vscode.Disposable(() => {
    if (handlers.get(handler.kind) === handler) handlers.delete(handler.kind);
  });
}

export interface AvailableReport {
  handler: ReportHandler;
  at: Date;
}

/** The reports that exist for a file, newest first. A handler that throws counts as having none. */
export async function reportsFor(file: vscode.Uri): Promise<AvailableReport[]> {
  const found: AvailableReport[] = [];
  for (const handler of handlers.values()) {
    try {
      const at = await handler.lastReport(file);
      if (at) found.push({ handler, at });
    } catch {
      // a broken handler must not hide the others' reports
    }
  }
  return found.sort((a, b) => b.at.getTime() - a.at.getTime());
}
