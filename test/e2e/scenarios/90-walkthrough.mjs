// The walkthrough: it is listed, opens, and its first step shows its markdown page
// (docs/walkthrough/validate.md, rendered by VS Code in a webview).

export default async function walkthrough(t) {
  await t.runCommand('Welcome: Open Walkthrough...');
  const entry = t.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Get started with Preflight' }).first();
  const listed = await entry.waitFor({ timeout: 15000 }).then(
    () => true,
    () => false,
  );
  t.check('the walkthrough is listed', listed);
  if (!listed) return;
  await entry.click();
  const step = t.page.locator('.getting-started-step', { hasText: 'Validate a data file' }).first();
  t.check(
    'the walkthrough opens at its steps',
    await step.waitFor({ timeout: 20000 }).then(
      () => true,
      () => false,
    ),
  );
  // the first step is open from the start; its markdown renders in a webview inside the Welcome
  // editor (no click on the step: the webview would take the focus and close the theme picker)
  const heading = t.webviewFrame().locator('h1', { hasText: 'Validate a data file' });
  t.check(
    "the first step's page renders (docs/walkthrough/validate.md)",
    await heading.waitFor({ timeout: 20000 }).then(
      () => true,
      () => false,
    ),
  );
  await t.screenshot('walkthrough');
}
