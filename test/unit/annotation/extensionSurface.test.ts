// Static checks of the annotation panel and its manifest entries (the live behaviour is covered by
// test/e2e/scenarios/annotation.mjs in code-server). References: VS Code's webview guide
// (content security policy, localResourceRoots) and the contribution-points documentation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ANNOTATION_VIEW_TYPE } from '../../../src/shared/protocol/annotation';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const feature = readFileSync('src/extension/annotation/annotationFeature.ts', 'utf8');
const panel = readFileSync('src/extension/panels/panel.ts', 'utf8');
const page = readFileSync('src/extension/panels/page.ts', 'utf8');

test('the panel type is activated on restore (onWebviewPanel) and the command is contributed', () => {
  assert.ok(pkg.activationEvents.includes(`onWebviewPanel:${ANNOTATION_VIEW_TYPE}`));
  assert.ok(pkg.contributes.commands.some((c: { command: string }) => c.command === 'preflight.analyzeAnnotations'));
  assert.match(feature, /AnnotationPanel\.panels\.registerSerializer\(/);
  assert.match(readFileSync('src/extension/annotation/annotationPanel.ts', 'utf8'), /viewType: ANNOTATION_VIEW_TYPE/);
  assert.match(panel, /registerWebviewPanelSerializer\(this\.kind\.viewType/);
});

test('every preflight.annotation setting the extension reads is declared, and every declared one is read', () => {
  const declared = new Set<string>();
  for (const section of pkg.contributes.configuration)
    for (const key of Object.keys(section.properties)) if (key.startsWith('preflight.annotation.')) declared.add(key.slice('preflight.annotation.'.length));
  const read = new Set([...feature.matchAll(/config\.get<[^>]+>\('(\w+)'/g)].map((m) => m[1]));
  assert.deepEqual([...read].sort(), [...declared].sort());
});

test('strict CSP with a fresh nonce, narrow resource roots (the shared panel page)', () => {
  assert.match(panel, /webviewPage\(panel\.webview/);
  // new panels and revived ones get the same options
  assert.equal(panel.match(/webviewPanelOptions\(extensionUri\)/g)?.length, 2);
  assert.match(page, /default-src 'none'/);
  assert.match(page, /script-src 'nonce-\$\{nonce\}'/);
  assert.match(page, /randomBytes\(16\)/);
  assert.doesNotMatch(page + panel, /unsafe-inline|unsafe-eval/);
  const roots = /localResourceRoots: \[(.*)\]/.exec(page)?.[1] ?? '';
  assert.deepEqual(
    [...roots.matchAll(/'([\w.]+)'(?:, '([\w.]+)')?\)/g)].map((m) => m.slice(1).filter(Boolean).join('/')),
    ['dist/webview', 'media'],
  );
});

test('the webview apps and their shared kit never write HTML from strings', () => {
  const dirs = readdirSync('webview', { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join('webview', entry.name));
  for (const dir of dirs) {
    for (const name of readdirSync(dir)) {
      // comments may name what the code avoids; only the code counts
      const code = readFileSync(join(dir, name), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      const found = /innerHTML|outerHTML|insertAdjacentHTML|document\.write/.exec(code);
      assert.equal(found, null, `${dir}/${name} uses ${found?.[0]}`);
    }
  }
});
