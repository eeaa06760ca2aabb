// The "Preflight" output channel, created on first use.
import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

export function log(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel('Preflight', { log: true });
  return channel;
}
