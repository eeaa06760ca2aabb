// A large training file that is never opened: "Validate File" from the Explorer's context menu
// streams it from disk with a progress notification; Cancel stops it without publishing
// anything; a second run completes and reports the throughput inside the extension host.
import { mkdirSync, openSync, writeSync, closeSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const FOLDER = 'large';
const FILE = 'large-train.jsonl';
const TARGET_BYTES = 300e6; // a few seconds of validation: time enough to press Cancel

function writeLargeFile(path) {
  const record = (i) =>
    JSON.stringify({
      messages: [
        { role: 'user', content: `Question ${i}: ${'how do I tune the gears on my bicycle? '.repeat(6)}` },
        { role: 'assistant', content: `Answer ${i}: ${'turn the barrel adjuster a quarter turn at a time. '.repeat(8)}` },
      ],
    });
  const fd = openSync(path, 'w');
  let records = 0;
  let bytes = 0;
  while (bytes < TARGET_BYTES) {
    const chunk = [];
    for (let k = 0; k < 5000; k++) chunk.push(record(records++));
    const text = chunk.join('\n') + '\n';
    writeSync(fd, text);
    bytes += Buffer.byteLength(text);
  }
  closeSync(fd);
  return records;
}

async function validateFromExplorer(t) {
  await t.runCommand('View: Show Explorer');
  // the file watcher may not have reported a file this size yet
  await t.runCommand('Refresh Explorer');
  const folder = t.page.locator('.explorer-folders-view .monaco-list-row', { hasText: FOLDER }).first();
  await folder.waitFor({ timeout: 20000 });
  const row = t.page.locator('.explorer-folders-view .monaco-list-row', { hasText: FILE }).first();
  if (!(await row.isVisible())) await folder.click();
  await row.waitFor({ timeout: 20000 });
  await row.click({ button: 'right' });
  const item = t.page.locator('.context-view .action-item', { hasText: 'Validate File' }).first();
  await item.waitFor({ timeout: 10000 });
  await item.click();
  // a click that lands while the menu is still settling only highlights the item: Enter runs it
  const menu = t.page.locator('.context-view .monaco-menu');
  if (
    await menu.waitFor({ state: 'hidden', timeout: 2000 }).then(
      () => false,
      () => true,
    )
  )
    await t.page.keyboard.press('Enter');
}

export default async function largeFileProgress(t) {
  const dir = join(t.workspace, FOLDER);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, FILE);
  const records = writeLargeFile(path);
  const size = statSync(path).size;
  t.log(`wrote ${FILE}: ${(size / 1e6).toFixed(0)} MB, ${records} records`);
  const key = `${FOLDER}/${FILE}`;
  try {
    // ---- first run: cancelled from the progress notification
    await validateFromExplorer(t);
    const progress = t.page.locator('.notifications-toasts .notification-toast', { hasText: `validating ${FILE}` }).first();
    const shown = await progress.waitFor({ timeout: 20000 }).then(
      () => true,
      () => false,
    );
    t.check('Validate File from the Explorer shows a progress notification', shown);
    if (shown) {
      await progress.locator('.monaco-button', { hasText: 'Cancel' }).first().click({ timeout: 10000 });
      await progress.waitFor({ state: 'hidden', timeout: 15000 }).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      t.check(
        'Cancel stops the validation without publishing a result',
        !t.extensionState().validation?.files?.[key],
        t.extensionState().validation?.files?.[key]?.summary,
      );
    }

    // ---- second run: to the end
    await validateFromExplorer(t);
    if (
      await progress.waitFor({ timeout: 20000 }).then(
        () => true,
        () => false,
      )
    )
      await t.screenshot('progress', { themes: ['light'] });
    const done = await t.waitForState((s) => s.validation?.files?.[key]?.source === 'disk', { timeout: 240000 });
    const result = done?.validation?.files?.[key];
    t.check('the second run completes from disk', result, t.extensionState().validation?.files?.[key]);
    if (result) {
      t.check('it counts every record', result.summary.records === records, { expected: records, got: result.summary.records });
      t.check('it finds nothing wrong in the clean file', result.summary.errors === 0 && result.summary.warnings === 0, result.summary);
      const mbPerSecond = size / 1e6 / (result.durationMs / 1000);
      t.log(`validated ${(size / 1e6).toFixed(0)} MB in ${(result.durationMs / 1000).toFixed(1)} s in the extension host: ${mbPerSecond.toFixed(0)} MB/s`);
    }
    const toast = t.page.locator('.notifications-toasts .notification-toast', { hasText: `${FILE}: no findings` }).first();
    t.check(
      'the result is reported in a notification',
      await toast.waitFor({ timeout: 20000 }).then(
        () => true,
        () => false,
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
