// The page every Preflight panel loads: a strict CSP with a fresh nonce per render, the panel's
// bundled app and stylesheet from dist/webview only. Data never travels as markup: apps build their
// DOM with textContent from posted messages, and the few data-* attributes here are escaped.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** Scripts on; resources only from the bundled webview code and the shared media folder. */
export function webviewPanelOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    retainContextWhenHidden: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export function escapeHtmlAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export interface PageOptions {
  /** the bundle's name: dist/webview/<app>.js and <app>.css */
  app: string;
  title: string;
  /** shown until the app renders */
  loading: string;
  /** data-* attributes on <body> */
  data?: Record<string, string>;
}

export function webviewPage(webview: vscode.Webview, extensionUri: vscode.Uri, options: PageOptions): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', `${options.app}.js`));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', `${options.app}.css`));
  const attributes = Object.entries(options.data ?? {})
    .map(([key, value]) => ` data-${key}="${escapeHtmlAttribute(value)}"`)
    .join('');
  // Chart.js sizes its canvases through the CSSOM, which style-src does not restrict.
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${webview.cspSource} data:; style-src ${webview.cspSource}; font-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>${escapeHtmlAttribute(options.title)}</title>
</head>
<body${attributes}>
<main id="app" aria-live="polite"><p class="muted">${escapeHtmlAttribute(options.loading)}</p></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
