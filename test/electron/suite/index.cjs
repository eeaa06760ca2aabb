// Runs inside VS Code's extension host (test/electron/run.mjs starts it). No test framework: a
// handful of checks, each named, run in order; run() rejects if any failed.
'use strict';
const assert = require('node:assert/strict');
const path = require('node:path');
const vscode = require('vscode');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(fn, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) return value;
    await sleep(200);
  }
}
const workspaceFile = (name) => vscode.Uri.file(path.join(vscode.workspace.workspaceFolders[0].uri.fsPath, name));
const preflightDiagnostics = (uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'preflight');
const codeAt = (diagnostics, code, line) => diagnostics.some((d) => d.code === code && d.range.start.line === line - 1);

const checks = [
  [
    'the extension activates',
    async () => {
      const extension = vscode.extensions.getExtension('preflight.preflight');
      assert.ok(extension, 'preflight.preflight is installed');
      await extension.activate();
      assert.ok(extension.isActive);
    },
  ],
  [
    'every job has a command',
    async () => {
      const commands = await vscode.commands.getCommands(true);
      for (const id of [
        'preflight.validateFile',
        'preflight.forecastBehaviour',
        'preflight.analyzeAnnotations',
        'preflight.launchBear',
        'preflight.buildModel',
        'preflight.showReport',
      ]) {
        assert.ok(commands.includes(id), id);
      }
    },
  ],
  [
    'a malformed JSONL file gets its findings at the right lines',
    async () => {
      const uri = workspaceFile('malformed.jsonl');
      await vscode.window.showTextDocument(uri);
      const diagnostics = await until(() => {
        const d = preflightDiagnostics(uri);
        return codeAt(d, 'json-malformed', 3) && codeAt(d, 'duplicate-exact', 5) ? d : undefined;
      });
      assert.ok(diagnostics, JSON.stringify(preflightDiagnostics(uri).map((d) => [d.code, d.range.start.line + 1])));
    },
  ],
  [
    'the duplicate offers a quick fix that deletes only its line',
    async () => {
      const uri = workspaceFile('malformed.jsonl');
      const document = await vscode.workspace.openTextDocument(uri);
      const actions = await vscode.commands.executeCommand('vscode.executeCodeActionProvider', uri, new vscode.Range(4, 0, 4, 1));
      const fix = (actions || []).find((a) => /Delete this duplicate/.test(a.title));
      assert.ok(fix, (actions || []).map((a) => a.title).join(', '));
      const lines = document.lineCount;
      assert.ok(await vscode.workspace.applyEdit(fix.edit));
      assert.equal(document.lineCount, lines - 1);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    },
  ],
  [
    'a ragged CSV row is found, and Validate File runs from the command',
    async () => {
      const uri = workspaceFile('malformed.csv');
      await vscode.window.showTextDocument(uri);
      await vscode.commands.executeCommand('preflight.validateFile', uri);
      const found = await until(() => codeAt(preflightDiagnostics(uri), 'csv-ragged-row', 4));
      assert.ok(found);
    },
  ],
  [
    'a JSON configuration file is left alone',
    async () => {
      const uri = workspaceFile('settings.json');
      await vscode.window.showTextDocument(uri);
      await sleep(1500);
      assert.equal(preflightDiagnostics(uri).length, 0);
    },
  ],
];

async function run() {
  const failures = [];
  for (const [name, check] of checks) {
    try {
      await check();
      console.log(`ok   ${name}`);
    } catch (error) {
      failures.push(name);
      console.log(`FAIL ${name}: ${error && error.message}`);
    }
  }
  console.log(`${checks.length - failures.length} passed, ${failures.length} failed`);
  if (failures.length) throw new Error(`${failures.length} check(s) failed: ${failures.join('; ')}`);
}

module.exports = { run };
