// "Preflight: Annotate with Local Model…" in a real VS Code: on a CSV with a text and a gold column,
// with preflight.model.path on the planted checkpoint (its label is 'mid' for every row), the
// command asks for the text column, the level order (detected from the gold column) and the
// number of examples, labels the file in the inference worker with progress, writes the copy
// <stem>.llm.csv (the input unchanged) and opens the annotation panel on it, with the human test
// found beside it and the calibration section. Screenshots in light and dark.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sha = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Accepts the active row of the quick pick whose title contains `step`. */
async function accept(t, step) {
  const title = t.page.locator('.quick-input-widget .quick-input-title', { hasText: step });
  const shown = await title.first().waitFor({ timeout: 60000 }).then(() => true, () => false);
  t.check(`the quick pick ${step} is shown`, shown);
  if (!shown) return false;
  await t.page.waitForTimeout(300);
  await t.page.keyboard.press('Enter');
  return true;
}

export default async function annotateLlm(t) {
  const made = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'e2e', 'scenarios', 'annotate-llm.fixture.ts'), t.workspace], { cwd: ROOT, encoding: 'utf8' });
  t.check('the fixtures (planted checkpoint, labels, human test) are written', made.status === 0, made.stderr);
  if (made.status !== 0) return;
  mkdirSync(join(t.workspace, '.vscode'), { recursive: true });
  writeFileSync(join(t.workspace, '.vscode', 'settings.json'), JSON.stringify({ 'preflight.model.path': made.stdout.trim(), 'preflight.model.provider': 'cpu' }, null, 2));
  const input = join(t.workspace, 'annotate-llm', 'labels.csv');
  const before = sha(input);
  const activated = await t.waitForState((s) => s.activation?.features?.includes('annotation'), { timeout: 60000 });
  t.check('the extension activates with its annotation feature', activated, t.extensionState().activation);

  await t.openFile('annotate-llm/labels.csv');
  await t.runCommand('Preflight: Annotate with Local Model…');
  if (!(await accept(t, '(1/3)'))) return; // the detected text column
  if (!(await accept(t, '(2/3)'))) return; // the detected order low < mid < high
  if (!(await accept(t, '(3/3)'))) return; // 4 examples
  const state = await t.waitForState((s) => (s.annotateLlm?.status === 'done' && s.annotation?.['labels.llm.csv']?.rendered) || s.annotateLlm?.status === 'failed', { timeout: 300000 });
  const run = state?.annotateLlm ?? t.extensionState().annotateLlm;
  t.check('the file was labelled to the end', run?.status === 'done' && run.labeled === 30 && run.rows === 30, run);
  t.check('the levels were detected from the gold column in order', JSON.stringify(run?.levels) === JSON.stringify(['low', 'mid', 'high']), run?.levels);
  const out = join(t.workspace, 'annotate-llm', 'labels.llm.csv');
  const copy = existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n') : [];
  t.check('the copy has llm_label and llm_confidence, every row labelled mid (the planted preference)', copy[0] === 'id,text,gold,llm_label,llm_confidence' && copy.length === 31 && copy.slice(1).every((line) => /,mid,0\.\d+$/.test(line)), copy.slice(0, 3));
  t.check('the input file is byte-identical', sha(input) === before);
  const panel = state?.annotation?.['labels.llm.csv'];
  t.check('the panel opened on the copy with the human test beside it', panel?.humanFile === 'human.csv' && Math.abs((panel?.llmAccuracy ?? 0) - 1 / 3) < 1e-9, panel);
  t.check('the panel has the calibration (one confidence bucket, 30 labels)', panel?.calibration?.n === 30 && panel.calibration.buckets === 1 && panel.rendered?.calibrationBuckets === 1, panel?.calibration);

  const frame = t.webviewFrame();
  const heading = frame.locator('h2', { hasText: 'Calibration' }).first();
  const shown = await heading.waitFor({ timeout: 20000 }).then(() => true, () => false);
  t.check('the webview shows the calibration section', shown);
  await t.screenshot('panel');
  await heading.scrollIntoViewIfNeeded().catch(() => undefined);
  await t.screenshot('calibration');
  await t.reset?.();
}
