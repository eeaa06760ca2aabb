// Annotation error analysis in a real VS Code: "Preflight: Analyze Annotation Errors" on a
// labeled CSV finds the human test beside it by convention (<stem>.human.csv), opens the report
// panel (decomposition chart with intervals, confusion heatmap, agreement table, error direction),
// marks the LLM's errors in the Problems panel (conceptual = warning, boundary = information),
// and clicking a confusion cell selects those rows in the editor. Screenshots in light and dark.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const LEVELS = ['low', 'mid', 'high'];

/** 60 items; the LLM is one level up on every 5th row and two levels off on every 7th. */
function fixtures(dir) {
  mkdirSync(dir, { recursive: true });
  const rows = ['id,text,gold,llm'];
  const gold = [];
  const expected = { boundary: [], conceptual: [] };
  for (let i = 1; i <= 60; i++) {
    const g = (i * 7) % 3;
    let l = g;
    if (i % 7 === 0) l = g === 0 ? 2 : 0;
    else if (i % 5 === 0) l = Math.min(2, g + 1) === g ? g - 1 : g + 1;
    gold.push(g);
    if (l !== g) expected[Math.abs(l - g) >= 2 ? 'conceptual' : 'boundary'].push(i + 1); // line = row + header
    rows.push(`${i},"utterance ${i}, as said",${LEVELS[g]},${LEVELS[l]}`);
  }
  writeFileSync(join(dir, 'labels.csv'), `${rows.join('\n')}\n`);
  const human = ['Annotator,ID,Label'];
  for (let i = 1; i <= 20; i++) human.push(`groundtruth,${i},${LEVELS[gold[i - 1]]}`);
  for (let i = 1; i <= 20; i++) human.push(`A1,${i},${LEVELS[i === 3 ? Math.min(2, gold[i - 1] + 1) : gold[i - 1]]}`);
  for (let i = 1; i <= 20; i++) human.push(`A2,${i},${LEVELS[i === 5 || i === 9 ? Math.abs(gold[i - 1] - 1) : gold[i - 1]]}`);
  writeFileSync(join(dir, 'labels.human.csv'), `${human.join('\n')}\n`);
  return expected;
}

export default async function annotation(t) {
  const expected = fixtures(join(t.workspace, 'annotation'));
  const activated = await t.waitForState((s) => s.activation?.features?.includes('annotation'), { timeout: 60000 });
  t.check('the extension activates with its annotation feature', activated, t.extensionState().activation);

  // the fixtures were written after the workspace opened: Quick Open's file index may need a moment
  let opened = false;
  for (let attempt = 0; attempt < 4 && !opened; attempt++) {
    opened = await t.openFile('labels.csv').then(
      () => true,
      async () => {
        await t.page.keyboard.press('Escape');
        await new Promise((resolve) => setTimeout(resolve, 3000));
        return false;
      },
    );
  }
  t.check('labels.csv opens in the editor', opened);
  if (!opened) return;
  await t.runCommand('Preflight: Analyze Annotation Errors');
  const state = await t.waitForState((s) => s.annotation?.['labels.csv']?.rendered && s.annotation?.['labels.csv']?.shares, { timeout: 60000 });
  const run = state?.annotation?.['labels.csv'] ?? t.extensionState().annotation;
  t.check('the analysis ran and the panel rendered', state, run);
  if (!state) return;
  t.check('the human test was found beside the file by convention', run.humanFile === 'labels.human.csv' && run.humanSource === 'sibling', run);
  const sum = Object.values(run.shares).reduce((a, b) => a + b, 0);
  t.check('the five shares sum to 1', Math.abs(sum - 1) < 1e-9, run.shares);
  t.check('the scale was detected in order', JSON.stringify(run.scale) === JSON.stringify(LEVELS), run.scale);
  const errors = expected.boundary.length + expected.conceptual.length;
  t.check('one diagnostic per LLM error', run.diagnostics === errors, `${run.diagnostics} vs ${errors}`);
  t.check('the panel drew its charts and a 3×3 heatmap', run.rendered.charts >= 4 && run.rendered.matrixCells === 9, run.rendered);

  const frame = t.webviewFrame();
  const heading = await frame
    .locator('h2', { hasText: 'Error decomposition' })
    .first()
    .waitFor({ timeout: 20000 })
    .then(
      () => true,
      () => false,
    );
  t.check('the webview shows the decomposition section', heading);
  const canvases = await frame.locator('canvas').count();
  t.check('the webview has Chart.js canvases', canvases >= 4, canvases);
  const agreement = await frame.locator('table.grid', { hasText: 'Cohen κ' }).count();
  t.check('the webview shows the agreement table', agreement === 1, agreement);
  await t.screenshot('panel');
  await frame
    .locator('table.matrix')
    .first()
    .scrollIntoViewIfNeeded()
    .catch(() => undefined);
  await t.screenshot('matrix');

  // Problems: conceptual errors are warnings, boundary errors information, at the rows' lines
  const problems = await t.waitFor(
    async () => {
      const rows = (await t.problems()).filter((p) => p.file.startsWith('labels.csv') && p.source === 'preflight');
      return rows.length >= Math.min(errors, 10) ? rows : undefined;
    },
    { timeout: 20000 },
  );
  const list = problems ?? [];
  const conceptual = list.find((p) => p.line === expected.conceptual[0]);
  t.check(
    'a conceptual error is a warning at its line',
    conceptual?.severity === 'warning' && /conceptual error/.test(conceptual.message) && /task-inherent/.test(conceptual.message),
    list.slice(0, 5),
  );
  const boundary = list.find((p) => p.line === expected.boundary[0]);
  t.check('a boundary error is information at its line', boundary?.severity === 'info' && /boundary error/.test(boundary.message), list.slice(0, 5));
  await t.screenshot('problems', { themes: ['light'] });

  // clicking an off-diagonal cell of the heatmap selects its rows in the editor
  await t.runCommand('View: Focus Second Editor Group').catch(() => undefined);
  const cell = frame.locator('table.matrix button.cell.conceptual:not([disabled])').first();
  await cell.click({ timeout: 15000 }).catch((e) => t.log('cell click failed', String(e)));
  const revealed = await t.waitForState((s) => s.annotation?.['labels.csv']?.revealed, { timeout: 15000 });
  const cellState = revealed?.annotation?.['labels.csv']?.revealed;
  t.check(
    'clicking a conceptual cell selects its rows in the editor',
    cellState && cellState.rows >= 1 && expected.conceptual.includes(cellState.firstLine),
    cellState,
  );
  await t.screenshot('reveal', { themes: ['dark'] });

  // the panel survives a window reload: the serializer restores it (onWebviewPanel activation)
  // and it re-runs its analysis; the extension host starts afresh, so its state starts over
  await t.runCommand('Developer: Reload Window');
  await t.page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
  // the new extension host's state has no 'revealed' entry yet: that tells it from the old one
  const restored = await t.waitForState((s) => s.annotation?.['labels.csv']?.rendered && !s.annotation?.['labels.csv']?.revealed, { timeout: 60000 });
  t.check('after a window reload the panel is restored and re-rendered', restored, t.extensionState().annotation);
  const again = await t
    .webviewFrame()
    .locator('h2', { hasText: 'Confusion matrix' })
    .first()
    .waitFor({ timeout: 20000 })
    .then(
      () => true,
      () => false,
    );
  t.check('the restored panel shows its report', again);
  await t.reset();
}
