// Restricted mode (the workspace is not trusted), as package.json's untrustedWorkspaces declares:
// validation still runs; the commands that run a model or Python (Build Model, Forecast
// Behaviour, Launch BEAR) are not offered; the Models view says why.

async function paletteOffers(t, title) {
  await t.page.keyboard.press('F1');
  const input = t.page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 15000 });
  await input.fill('>' + title);
  await new Promise((resolve) => setTimeout(resolve, 800));
  const offered = (await t.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).count()) > 0;
  await t.page.keyboard.press('Escape');
  return offered;
}

export default async function restrictedMode(t) {
  const state = await t.waitForState((s) => s.activation, { timeout: 60000 });
  t.check('the extension activates in an untrusted workspace', state);
  t.check('it knows the workspace is not trusted', state?.activation?.trusted === false, state?.activation);

  await t.openFile('malformed.jsonl');
  const validated = await t.waitForState(
    (s) => s.validation?.files?.['malformed.jsonl']?.diagnostics?.some((d) => d.code === 'json-malformed' && d.line === 3),
    { timeout: 45000 },
  );
  t.check('validation runs in restricted mode', validated, t.extensionState().validation);

  t.check('the palette offers Validate File', await paletteOffers(t, 'Preflight: Validate File'));
  t.check('the palette offers Analyze Annotation Errors', await paletteOffers(t, 'Preflight: Analyze Annotation Errors'));
  for (const title of ['Preflight: Build Model', 'Preflight: Forecast Behaviour (MDF)', 'Preflight: Launch BEAR Fine-tuning']) {
    t.check(`the palette does not offer ${title}`, !(await paletteOffers(t, title)));
  }

  await t.runCommand('View: Show Preflight');
  const why = t.page.locator('.pane-body', { hasText: 'disabled in an untrusted workspace' }).first();
  t.check(
    'the Models view says building is disabled here',
    await why.waitFor({ timeout: 15000 }).then(
      () => true,
      () => false,
    ),
  );
  await t.screenshot('sidebar');
}
