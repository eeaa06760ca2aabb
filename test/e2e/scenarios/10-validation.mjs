// Data validation in the editor: opening malformed files puts their findings in the Problems
// panel at the right lines (checked in the UI and in the extension's own state), a .json config
// file is left alone, "Preflight: Validate File" reports from the palette, and the Preflight
// sidebar lists the files with their findings.

/** What the fixtures in test/e2e/workspace must produce: code and 1-based line. */
const EXPECTED = {
  'malformed.jsonl': [
    { code: 'json-malformed', line: 3 },
    { code: 'duplicate-exact', line: 5 },
  ],
  'malformed.csv': [{ code: 'csv-ragged-row', line: 4 }],
};

const has = (list, { code, line }) => list.some((d) => d.code === code && d.line === line);

async function checkFile(t, file) {
  await t.openFile(file);
  const expected = EXPECTED[file];
  const state = await t.waitForState(
    (s) => {
      const diagnostics = s.validation?.files?.[file]?.diagnostics ?? [];
      return expected.every((e) => has(diagnostics, e));
    },
    { timeout: 45000 },
  );
  const diagnostics = t.extensionState().validation?.files?.[file]?.diagnostics ?? [];
  for (const e of expected) {
    t.check(`${file}: extension state has ${e.code} at line ${e.line}`, state && has(diagnostics, e), diagnostics);
  }
  const problems = await t.waitFor(
    async () => {
      const rows = (await t.problems()).filter((p) => p.file.startsWith(file) && p.source === 'preflight');
      return expected.every((e) => has(rows, e)) ? rows : undefined;
    },
    { timeout: 20000 },
  );
  const shown = problems ?? (await t.problems());
  for (const e of expected) {
    t.check(
      `${file}: Problems panel shows ${e.code} at line ${e.line}`,
      problems && has(problems, e),
      shown.map((p) => p.text),
    );
  }
  // squiggles in the editor
  const squiggles = await t.page.locator('.editor-instance .monaco-editor .squiggly-error, .editor-instance .monaco-editor .squiggly-warning').count();
  t.check(`${file}: the editor underlines the findings`, squiggles > 0, `${squiggles} squiggles`);
}

export default async function validation(t) {
  // activation comes a few seconds after the workbench: wait for it before opening files
  const activated = await t.waitForState((s) => s.activation?.features?.includes('validation'), { timeout: 60000 });
  t.check('the extension activates with its validation feature', activated, t.extensionState());

  await checkFile(t, 'malformed.jsonl');
  await t.screenshot('jsonl');

  await checkFile(t, 'malformed.csv');
  await t.screenshot('csv');

  // a configuration file is not a data set
  await t.openFile('settings.json');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.check(
    'settings.json (an object, not a data set) is not validated',
    !t.extensionState().validation?.files?.['settings.json'],
    t.extensionState().validation?.files,
  );

  // the command from the palette, on the CSV
  await t.openFile('malformed.csv');
  const before = t.extensionState().validation?.files?.['malformed.csv']?.durationMs;
  await t.runCommand('Preflight: Validate File');
  const toast = t.page.locator('.notifications-toasts .notification-toast', { hasText: 'malformed.csv' }).first();
  const toastShown = await toast.waitFor({ timeout: 20000 }).then(
    () => true,
    () => false,
  );
  t.check('Validate File reports its result in a notification', toastShown);
  if (toastShown) {
    const text = (await toast.locator('.notification-list-item-message').textContent()) ?? '';
    t.check('the notification gives the counts', /1 error/.test(text) && /records?/.test(text), text);
  }
  t.check(
    'the extension state still lists the CSV finding after the command',
    has(t.extensionState().validation?.files?.['malformed.csv']?.diagnostics ?? [], EXPECTED['malformed.csv'][0]),
    before,
  );
  await t.screenshot('command');

  // with the workspace trusted, the model commands are offered (scenarios/untrusted checks the opposite)
  await t.page.keyboard.press('F1');
  await t.page.locator('.quick-input-widget input').fill('>Preflight: Build Model');
  const offered = await t.page
    .locator('.quick-input-list .monaco-list-row', { hasText: 'Preflight: Build Model' })
    .first()
    .waitFor({ timeout: 10000 })
    .then(
      () => true,
      () => false,
    );
  await t.page.keyboard.press('Escape');
  t.check('in a trusted workspace the palette offers Build Model', offered);

  // the sidebar: both files with their counts
  await t.runCommand('View: Show Preflight');
  const tree = t.page.locator('.pane-body .monaco-list-row', { hasText: 'malformed.jsonl' }).first();
  const listed = await tree.waitFor({ timeout: 15000 }).then(
    () => true,
    () => false,
  );
  t.check('the Datasets & Findings view lists malformed.jsonl', listed);
  const csvRow = await t.page.locator('.pane-body .monaco-list-row', { hasText: 'malformed.csv' }).count();
  t.check('the Datasets & Findings view lists malformed.csv', csvRow > 0);
  await t.screenshot('sidebar');

  // a click on a finding in the view goes to its line
  await t.runCommand('View: Close All Editors');
  const finding = t.page.locator('.pane-body .monaco-list-row', { hasText: 'exact duplicate' }).first();
  if (
    t.check(
      'the view lists the duplicate finding under its file',
      await finding.waitFor({ timeout: 10000 }).then(
        () => true,
        () => false,
      ),
    )
  ) {
    await finding.click();
    const cursor = t.page.locator('.statusbar-item', { hasText: /Ln 5, Col/ }).first();
    t.check(
      'clicking the finding opens malformed.jsonl at line 5',
      await cursor.waitFor({ timeout: 15000 }).then(
        () => true,
        () => false,
      ),
    );
  }
}
