// House rule (docs/architecture.md, Rules): src/core never imports `vscode`, so the CLI and tests run it headless.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : /\.(ts|js|mjs|cjs)$/.test(name) ? [path] : [];
  });
}

const importsVscode = /(?:from\s+|require\(\s*|import\(\s*)['"]vscode['"]/;

test('no file under src/core imports vscode', () => {
  const files = sourceFiles('src/core');
  assert.ok(files.length > 0, 'src/core has source files');
  const offenders = files.filter((file) => importsVscode.test(readFileSync(file, 'utf8')));
  assert.deepEqual(offenders, []);
});

test('the purity check itself catches an import', () => {
  assert.ok(importsVscode.test("import * as vscode from 'vscode';"));
  assert.ok(importsVscode.test('const v = require("vscode")'));
  assert.ok(!importsVscode.test("import { x } from './vscodeish';"));
});
