// The safe quick fix is an edit the user applies (the file on disk is untouched until saved);
// files over the live-validation limit are validated from disk on command; Show Report finds the
// validation result of the active file.
import { readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const fileState = (t, name) => t.extensionState().validation?.files?.[name];

export default async function fixesLargeFilesReports(t) {
  const jsonlOnDisk = join(t.workspace, 'malformed.jsonl');
  const before = readFileSync(jsonlOnDisk, 'utf8');

  // ---- the quick fix on the duplicate (line 5)
  await t.openFile('malformed.jsonl');
  await t.waitForState((s) => s.validation?.files?.['malformed.jsonl']?.diagnostics?.some((d) => d.code === 'duplicate-exact'), { timeout: 30000 });
  await t.runCommand('Go to Line/Column...');
  await t.page.keyboard.type('5');
  await t.page.keyboard.press('Enter');
  await sleep(300);
  await t.page.keyboard.press('Control+.');
  const fix = t.page.locator('.action-widget .monaco-list-row', { hasText: 'Delete this duplicate of line 1' }).first();
  const offered = await fix.waitFor({ timeout: 15000 }).then(
    () => true,
    () => false,
  );
  t.check('the duplicate line offers the quick fix "Delete this duplicate of line 1"', offered);
  if (offered) {
    await t.screenshot('quick-fix', { themes: ['light'] }); // a theme switch would close the menu
    await fix.click();
    const fixed = await t.waitForState(
      (s) => {
        const f = s.validation?.files?.['malformed.jsonl'];
        return f && f.summary.records === 4 && !f.diagnostics.some((d) => d.code === 'duplicate-exact');
      },
      { timeout: 15000 },
    );
    t.check('after the fix the duplicate finding is gone (4 records left)', fixed, fileState(t, 'malformed.jsonl'));
    t.check('the fix edits the buffer only: the file on disk is unchanged', readFileSync(jsonlOnDisk, 'utf8') === before);
    await t.runCommand('File: Revert File');
  }

  // ---- large files: a tiny live-validation limit makes every fixture "large"
  const vscodeDir = join(t.workspace, '.vscode');
  mkdirSync(vscodeDir, { recursive: true });
  writeFileSync(join(vscodeDir, 'settings.json'), JSON.stringify({ 'preflight.validation.maxFileSizeForLiveValidationMB': 0.0001 }));
  try {
    const cleared = await t.waitForState((s) => !s.validation?.files?.['malformed.jsonl'], { timeout: 20000 });
    t.check('over the live limit, open files are not validated as they open', cleared, t.extensionState().validation);
    await t.openFile('malformed.csv');
    const status = t.page.locator('.statusbar-item', { hasText: 'validates on save' }).first();
    t.check(
      'the status bar says a large file validates on save',
      await status.waitFor({ timeout: 15000 }).then(
        () => true,
        () => false,
      ),
    );
    await t.runCommand('Preflight: Validate File');
    const fromDisk = await t.waitForState((s) => s.validation?.files?.['malformed.csv']?.source === 'disk', { timeout: 30000 });
    t.check('Validate File streams a large file from disk', fromDisk, fileState(t, 'malformed.csv'));
    t.check(
      'the findings from disk are at the same line',
      fileState(t, 'malformed.csv')?.diagnostics?.some((d) => d.code === 'csv-ragged-row' && d.line === 4),
      fileState(t, 'malformed.csv'),
    );

    // ---- Show Report: the validation result of the active file
    await t.runCommand('Preflight: Show Report');
    const report = await t.waitForState((s) => s.showReport?.file === 'malformed.csv', { timeout: 15000 });
    t.check('Show Report finds the validation report of the active file', report?.showReport?.kinds?.includes('validation'), t.extensionState().showReport);
    await sleep(500);
    await t.screenshot('large-file-report');
  } finally {
    rmSync(vscodeDir, { recursive: true, force: true });
  }

  // ---- Show Report on a file without any report
  await t.openFile('settings.json');
  await t.runCommand('Preflight: Show Report');
  const none = t.page.locator('.notifications-toasts .notification-toast', { hasText: 'no report yet for settings.json' }).first();
  t.check(
    'Show Report says plainly when a file has no report',
    await none.waitFor({ timeout: 15000 }).then(
      () => true,
      () => false,
    ),
  );
}
