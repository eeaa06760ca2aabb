// Behaviour forecast (MDF) in a real VS Code: with preflight.model.path on a tiny checkpoint (built
// to ONNX in the worker on first use), "Preflight: Forecast Behaviour (MDF)" on a training file opens
// the report panel (alpha curve and shift charts, behaviour table, records), marks the records that
// drive the planted shift in the Problems panel, reveals a record's line on click, and a second run
// on the unchanged file and model reuses the cached report; `preflight mdf --json` on the same file,
// model and settings gives the same numbers and finds the panel's cached report. Screenshots in
// light and dark.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export default async function mdf(t) {
  const made = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'e2e', 'scenarios', 'mdf.fixture.ts'), t.workspace], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  t.check('the fixtures (tiny checkpoint, training file, probe suite) are written', made.status === 0, made.stderr);
  mkdirSync(join(t.workspace, '.vscode'), { recursive: true });
  writeFileSync(
    join(t.workspace, '.vscode', 'settings.json'),
    JSON.stringify(
      {
        'preflight.model.path': join(t.workspace, 'mdf-model'),
        'preflight.model.provider': 'cpu',
        'preflight.mdf.probes': ['planted', 'safety'],
        'preflight.mdf.alphas': [0, 0.5, 1],
        'preflight.mdf.samples': 2,
        'preflight.mdf.scoring': 'logprob',
        'preflight.mdf.method': 'mdf',
      },
      null,
      2,
    ),
  );
  const activated = await t.waitForState((s) => s.activation?.features?.includes('mdf'), { timeout: 60000 });
  t.check('the extension activates with its mdf feature', activated, t.extensionState().activation);
  // the settings file is read by a watcher: run nothing before the extension host sees it
  await t.waitForState((s) => s.settings?.mdf?.method === 'mdf' && s.settings?.model?.path, { timeout: 30000 });

  await t.openFile('mdf-train.jsonl');
  await t.runCommand('Preflight: Forecast Behaviour (MDF)');
  const state = await t.waitForState((s) => (s.mdf?.maxRisk || s.mdf?.error) && s.mdfPanel?.charts, { timeout: 360000 });
  const run = state?.mdf ?? t.extensionState().mdf;
  t.check('the forecast ran without error', run && !run.error && run.behaviours === 2, run);
  t.check('the planted shift is flagged', run && run.maxRisk !== 'none', run);
  t.check('the report says MDF ran because it was asked for', run?.forecaster?.method === 'mdf' && run.forecaster.requested === 'mdf', run?.forecaster);
  t.check('the panel drew the alpha curve and the shift chart', state?.mdfPanel?.charts >= 2 && state.mdfPanel.behaviours === 2, state?.mdfPanel);

  // One pipeline: the CLI, given the same file, model and settings, computes the same report as the
  // panel (recomputed with --no-cache), and without --no-cache it finds the extension's cached
  // report under the same key (one build cache, one report cache, one key).
  const cliArgs = [
    join(ROOT, 'dist', 'cli.js'),
    'mdf',
    join(t.workspace, 'mdf-train.jsonl'),
    '--model',
    join(t.workspace, 'mdf-model'),
    '--provider',
    'cpu',
    '--probes',
    'planted,safety',
    '--alphas',
    '0,0.5,1',
    '--probe-samples',
    '2',
    '--scoring',
    'logprob',
    '--workspace',
    t.workspace,
    '--json',
  ];
  const fresh = spawnSync(process.execPath, [...cliArgs, '--no-cache'], { cwd: t.workspace, encoding: 'utf8', timeout: 300000 });
  let cli = null;
  try {
    cli = JSON.parse(fresh.stdout);
  } catch {
    // reported by the check below
  }
  t.check('preflight mdf --json runs on the same inputs', fresh.status === 0 && cli, fresh.stderr.slice(-2000));
  const panelNumbers = run?.numbers ?? [];
  const close = (a, b) => Math.abs(a - b) < 1e-9;
  const same =
    cli &&
    panelNumbers.length === cli.behaviours.length &&
    cli.behaviours.every((b) => {
      const p = panelNumbers.find((x) => x.key === b.key);
      return (
        p &&
        close(p.base, b.base) &&
        close(p.predicted, b.predicted) &&
        close(p.shift.value, b.shift.value) &&
        close(p.shift.low, b.shift.low) &&
        close(p.shift.high, b.shift.high) &&
        close(p.controlShift.value, b.controlShift.value) &&
        p.risk === b.risk
      );
    });
  t.check('the CLI and the panel give the same numbers (rates, shifts, intervals, controls, risk)', same, {
    panel: panelNumbers,
    cli: cli?.behaviours.map((b) => ({ key: b.key, base: b.base, predicted: b.predicted, shift: b.shift, controlShift: b.controlShift, risk: b.risk })),
  });
  t.check(
    'both name the same model and chosen alpha',
    cli && run?.model?.hash === cli.model.hash && run?.chosenAlpha === cli.alpha.chosen && cli.model.isDefault === false,
    { panel: run?.model, cli: cli?.model },
  );
  const cached = spawnSync(process.execPath, cliArgs, { cwd: t.workspace, encoding: 'utf8', timeout: 300000 });
  t.check(
    "the CLI reuses the extension's cached report (same cache, same key)",
    cached.status === 0 && /Report reused from/.test(cached.stderr),
    cached.stderr.slice(-2000),
  );

  const frame = t.webviewFrame();
  const heading = await frame
    .locator('h2', { hasText: 'Alpha curve' })
    .first()
    .waitFor({ timeout: 20000 })
    .then(
      () => true,
      () => false,
    );
  t.check('the webview shows the alpha curve section', heading);
  const forecasterLine = await frame
    .locator('p.forecaster')
    .first()
    .textContent({ timeout: 10000 })
    .catch(() => null);
  t.check('the webview says which forecaster ran and why', /^Forecaster: mdf — MDF was asked for/.test(forecasterLine ?? ''), forecasterLine);
  const canvases = await frame.locator('canvas').count();
  t.check('the webview has Chart.js canvases', canvases >= 2, canvases);
  const rows = await frame.locator('table.records tr[tabindex]').count();
  t.check('the webview lists the records driving the shift', rows >= 5, rows);
  await t.screenshot('panel');

  const problems = await t.waitFor(
    async () => {
      const list = (await t.problems()).filter((p) => p.file.startsWith('mdf-train.jsonl') && /MDF/.test(p.source ?? ''));
      return list.length ? list : undefined;
    },
    { timeout: 20000 },
  );
  t.check('the top-attributed records are marked in the Problems panel', problems && problems.length >= 1, problems);
  t.check(
    'the marked records are the planted ones (even lines)',
    problems && problems.every((p) => p.line % 2 === 0),
    problems?.map((p) => p.line),
  );
  await t.screenshot('problems', { themes: ['light'] });

  await t.runCommand('View: Focus Second Editor Group').catch(() => undefined);
  await t
    .webviewFrame()
    .locator('table.records tr[tabindex]')
    .first()
    .click({ timeout: 15000 })
    .catch((e) => t.log('row click failed', String(e)));
  const revealed = await t.waitForState((s) => s.mdfReveal?.line, { timeout: 15000 });
  t.check('clicking a record reveals its line in the editor', revealed?.mdfReveal?.line % 2 === 0, revealed?.mdfReveal);

  // unchanged file and model: the second run reuses the cached report
  await t.openFile('mdf-train.jsonl');
  await t.runCommand('Preflight: Forecast Behaviour (MDF)');
  const again = await t.waitForState((s) => s.mdf?.reused === true, { timeout: 60000 });
  t.check('a second run on the unchanged file reuses the cached result', again, t.extensionState().mdf);
  await t.screenshot('reused', { themes: ['dark'] });

  // settings for the look-ahead run below, written before the reload: a settings change that
  // arrives while the next forecast has started would leave that forecast on the old method
  writeFileSync(
    join(t.workspace, '.vscode', 'settings.json'),
    JSON.stringify({ 'preflight.model.provider': 'cpu', 'preflight.mdf.probes': ['animals'], 'preflight.mdf.method': 'lookahead' }, null, 2),
  );
  await new Promise((r) => setTimeout(r, 1000));
  // the panel survives a window reload: the serializer restores the saved report without recomputing
  await t.runCommand('Developer: Reload Window');
  await t.page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
  // the new extension host's state has no 'mdfReveal' yet: that tells it from the old one
  const restored = await t.waitForState((s) => s.mdfPanel?.charts >= 2 && !s.mdfReveal, { timeout: 60000 });
  t.check('after a window reload the panel is restored from its saved state', restored, t.extensionState());

  // the Python forecasters are offered too (the settings were written before the reload, so the new
  // extension host starts with them): preflight.mdf.method = lookahead on the bundled
  // preflight-tiny (a checkpoint) runs python -m preflight_train forecast with the system Python
  await t.waitForState((s) => s.settings?.mdf?.method === 'lookahead', { timeout: 30000 });
  await t.openFile('mdf-train.jsonl');
  await t.runCommand('Preflight: Forecast Behaviour (MDF)');
  const looked = await t.waitForState((s) => s.mdf && (s.mdf.forecaster?.method === 'lookahead' || s.mdf.error) && (s.mdf.maxRisk || s.mdf.error), {
    timeout: 420000,
  });
  const la = looked?.mdf ?? t.extensionState().mdf;
  const animals = JSON.parse(readFileSync(join(ROOT, 'models', 'probes', 'animals.json'), 'utf8')).behaviours.length;
  t.check(
    'preflight.mdf.method lookahead runs the look-ahead in Python (torch) and reports it',
    la && !la.error && la.forecaster?.method === 'lookahead' && la.model?.provider?.startsWith('torch') && la.behaviours === animals,
    la,
  );
  await t.screenshot('lookahead');
  await t.reset?.();
}
