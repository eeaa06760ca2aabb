// The extension manifest (package.json "contributes") against the code: every command, view and
// walkthrough file it names exists, every setting is described, and the trust declaration
// restricts only settings that exist. Reference: VS Code's extension manifest documentation
// (code.visualstudio.com/api/references/contribution-points).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const contributes = pkg.contributes;

function sources(dir: string): string {
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .map((path) => (statSync(path).isDirectory() ? sources(path) : /\.ts$/.test(path) ? readFileSync(path, 'utf8') : ''))
    .join('\n');
}
const extensionSource = sources('src/extension');
const commandIds: string[] = contributes.commands.map((c: { command: string }) => c.command);

test('the identity is preflight.preflight, "Preflight"', () => {
  assert.equal(pkg.name, 'preflight');
  assert.equal(pkg.publisher, 'preflight');
  assert.equal(pkg.displayName, 'Preflight');
  assert.ok(existsSync(pkg.icon), pkg.icon);
});

test('every job has its command, in category Preflight', () => {
  for (const id of [
    'preflight.validateFile',
    'preflight.forecastBehaviour',
    'preflight.analyzeAnnotations',
    'preflight.launchBear',
    'preflight.buildModel',
    'preflight.showReport',
  ]) {
    assert.ok(commandIds.includes(id), id);
  }
  for (const command of contributes.commands) {
    assert.equal(command.category, 'Preflight', command.command);
    assert.ok(command.title.length > 0);
  }
});

test('every contributed command is registered by the extension', () => {
  for (const id of commandIds) {
    assert.ok(extensionSource.includes(`'${id}'`), `${id} is not registered anywhere under src/extension`);
  }
});

test('menus, welcome views and walkthroughs name only existing commands', () => {
  const named: string[] = [];
  for (const entries of Object.values(contributes.menus) as { command: string }[][]) named.push(...entries.map((e) => e.command));
  const links = /\(command:([\w.]+)\)/g;
  for (const welcome of contributes.viewsWelcome) for (const m of welcome.contents.matchAll(links)) named.push(m[1]);
  for (const walkthrough of contributes.walkthroughs) for (const step of walkthrough.steps) for (const m of step.description.matchAll(links)) named.push(m[1]);
  for (const id of named) {
    if (id.startsWith('preflight.')) assert.ok(commandIds.includes(id), id);
    else assert.match(id, /^workbench\./, `${id}: only Preflight's or the workbench's commands`);
  }
});

test('the activity-bar container has the three views, each registered in code', () => {
  const container = contributes.viewsContainers.activitybar.find((c: { id: string }) => c.id === 'preflight');
  assert.ok(container && existsSync(container.icon));
  const ids = contributes.views.preflight.map((v: { id: string }) => v.id);
  assert.deepEqual(ids, ['preflight.datasets', 'preflight.models', 'preflight.jobs']);
  for (const id of ids) assert.ok(extensionSource.includes(`'${id}'`), `${id} is not registered`);
  const welcomed = new Set(contributes.viewsWelcome.map((w: { view: string }) => w.view));
  for (const id of ['preflight.models', 'preflight.jobs']) assert.ok(welcomed.has(id), `${id} has a welcome view`);
});

test('walkthrough steps point at markdown that exists', () => {
  for (const step of contributes.walkthroughs[0].steps) {
    assert.ok(existsSync(step.media.markdown), step.media.markdown);
  }
});

test('every setting has a description and a default', () => {
  for (const section of contributes.configuration) {
    for (const [key, schema] of Object.entries(section.properties) as [string, { description?: string; markdownDescription?: string; default?: unknown }][]) {
      assert.ok(key.startsWith('preflight.'), key);
      assert.ok((schema.description ?? schema.markdownDescription ?? '').length > 10, `${key} needs a description`);
      assert.ok('default' in schema, `${key} needs a default`);
    }
  }
});

test('the untrusted-workspace declaration is limited and restricts existing settings', () => {
  const trust = pkg.capabilities.untrustedWorkspaces;
  assert.equal(trust.supported, 'limited');
  const settings = new Set(contributes.configuration.flatMap((s: { properties: object }) => Object.keys(s.properties)));
  for (const key of trust.restrictedConfigurations) assert.ok(settings.has(key), key);
  assert.ok(trust.restrictedConfigurations.includes('preflight.python.path'));
  assert.ok(trust.restrictedConfigurations.includes('preflight.model.path'));
  // what the description promises: the jobs that run models or Python are off when untrusted
  const enablement = (id: string) => contributes.commands.find((c: { command: string }) => c.command === id)?.enablement;
  for (const id of ['preflight.buildModel', 'preflight.forecastBehaviour', 'preflight.launchBear']) assert.equal(enablement(id), 'isWorkspaceTrusted', id);
  for (const id of ['preflight.validateFile', 'preflight.analyzeAnnotations', 'preflight.showReport']) assert.equal(enablement(id), undefined, id);
});

test('activation is by data files, views and panels; never on startup', () => {
  const events: string[] = pkg.activationEvents;
  assert.ok(!events.includes('*') && !events.includes('onStartupFinished'));
  for (const panel of ['preflightAnnotation', 'preflightMdf', 'preflightBearDashboard', 'preflightBearLaunch'])
    assert.ok(events.includes(`onWebviewPanel:${panel}`), panel);
  for (const view of ['preflight.datasets', 'preflight.models', 'preflight.jobs']) assert.ok(events.includes(`onView:${view}`), view);
});

test('the extension bundle never imports onnxruntime-node at activation', () => {
  // features must lazy-load heavy modules: no static import of onnxruntime-node under src/extension
  const offenders = extensionSource.split('\n').filter((line) => /^\s*import\s[^(]*['"]onnxruntime-node['"]/.test(line));
  assert.deepEqual(offenders, []);
});

test('the VSIX whitelist keeps ONNX Runtime for linux-x64 only', () => {
  const lines = readFileSync('.vscodeignore', 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  assert.equal(lines[0], '**', 'everything is left out unless named');
  const kept = lines.filter((l) => l.startsWith('!'));
  assert.ok(kept.includes('!dist/*.js'));
  assert.ok(kept.some((l) => l.includes('onnxruntime-node/bin/napi-v6/linux/x64/')));
  assert.ok(!kept.some((l) => /darwin|win32|arm64/.test(l)));
  assert.ok(!kept.some((l) => /python\/tests|__pycache__/.test(l)));
});

test('the shared settings schema (src/core/settings/schema.ts) and package.json agree: keys, types, defaults, bounds, choices', async () => {
  const { SHARED_SETTINGS } = await import('../../../src/core/settings/schema');
  const declared = Object.assign({}, ...contributes.configuration.map((s: { properties: object }) => s.properties)) as Record<
    string,
    { type: string; default: unknown; minimum?: number; enum?: string[] }
  >;
  for (const spec of SHARED_SETTINGS) {
    const entry = declared[spec.key];
    assert.ok(entry, `${spec.key} is in the schema but not in package.json`);
    assert.equal(entry.type, spec.type, spec.key);
    assert.deepEqual(
      entry.default,
      spec.default,
      `${spec.key}: package.json default ${JSON.stringify(entry.default)} != schema ${JSON.stringify(spec.default)}`,
    );
    assert.equal(entry.minimum, spec.minimum, `${spec.key} minimum`);
    assert.deepEqual(entry.enum, spec.enum, `${spec.key} enum`);
  }
  // every model and forecast setting goes through the schema (the CLI and core share those)
  const shared = new Set(SHARED_SETTINGS.map((s) => s.key));
  for (const key of Object.keys(declared).filter((k) => /^preflight\.(model|mdf)\./.test(k)))
    assert.ok(shared.has(key), `${key} is in package.json but not in the settings schema`);
  // and the extension reads them through it, not by literal key with its own default
  assert.doesNotMatch(extensionSource, /getConfiguration\('preflight\.(mdf|model)'\)\s*\.get\b/);
});

test('the VSIX ships the bundled demo model preflight-tiny, weights included', () => {
  const kept = readFileSync('.vscodeignore', 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('!'));
  assert.ok(kept.includes('!models/preflight-tiny/**'), 'models/preflight-tiny/** is whitelisted');
});
