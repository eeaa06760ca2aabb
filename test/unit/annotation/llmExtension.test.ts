// Static checks of "Preflight: Annotate with Local Model…" (the live flow is test/e2e/scenarios/
// annotate-llm.mjs): it runs a model, so it is offered in trusted workspaces only — the manifest's
// enablement and menus, and a check in code before anything is read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const command = readFileSync('src/extension/annotation/annotateLlmCommand.ts', 'utf8');
const feature = readFileSync('src/extension/annotation/annotationFeature.ts', 'utf8');
const ID = 'preflight.annotateWithLocalModel';

test('contributed with trusted-workspace enablement, on CSV menus only when trusted', () => {
  const entry = pkg.contributes.commands.find((c: { command: string }) => c.command === ID);
  assert.equal(entry?.title, 'Annotate with Local Model…');
  assert.equal(entry?.enablement, 'isWorkspaceTrusted');
  for (const menu of ['editor/title', 'explorer/context']) {
    const item = pkg.contributes.menus[menu].find((m: { command: string }) => m.command === ID);
    assert.match(item?.when ?? '', /^isWorkspaceTrusted && .*\\\.csv/, menu);
  }
  assert.match(pkg.capabilities.untrustedWorkspaces.description, /LLM annotation/);
});

test('registered by the annotation feature; the code refuses an untrusted workspace first', () => {
  assert.match(feature, new RegExp(`registerCommand\\('${ID.replace('.', '\\.')}'`));
  const body = command.slice(command.indexOf('export async function annotateWithLocalModel'));
  const trust = body.indexOf('vscode.workspace.isTrusted');
  assert.ok(trust > 0, 'checks isTrusted');
  for (const later of ['readHeader(', 'ModelService.get()', 'annotateWithModel(']) assert.ok(body.indexOf(later) > trust, `${later} after the trust check`);
  // the model runs in the inference worker (ModelService opens it there), never on the host thread
  assert.doesNotMatch(command, /core\/model\/runtime|openModel\(/);
});
