// BEAR fine-tuning in a real VS Code: "Preflight: Launch BEAR Fine-tuning" with a training split
// open shows the launch form prefilled from the settings and the file's siblings; Launch starts the
// trainer (python/preflight_train, Debian's torch) as a task on a tiny synthetic data set
// (workspace/bear/: `preflight_train synth --genres 4 --per-genre 6 --users 80`, the sequences.csv
// dropped and train.jsonl's repeated windows removed; 24 items: seconds on 2 cores); the Jobs view lists the run, its
// dashboard charts live metrics and, at the end, the best validation metrics, the test metrics and
// the checkpoint. A second, longer run is stopped from the Jobs view: status 'stopped', no trainer
// process left. Screenshots of the form and the dashboard in light and dark.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PYTHON = '/usr/bin/python3';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Merges keys into the workspace's .vscode/settings.json (other scenarios write there too). */
function mergeWorkspaceSettings(workspace, values) {
  const dir = join(workspace, '.vscode');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'settings.json');
  const current = readJson(file) ?? {};
  writeFileSync(file, JSON.stringify({ ...current, ...values }, null, 2));
}

/** The content frame of the BEAR webview whose body says data-view=view (and data-run=run). */
async function bearFrame(t, view, run, timeout = 30000) {
  return t.waitFor(
    async () => {
      for (const frame of t.page.frames()) {
        const data = await frame.evaluate(() => ({ view: document.body?.dataset.view, run: document.body?.dataset.run })).catch(() => undefined);
        if (data?.view === view && (!run || data.run === run)) return frame;
      }
      return undefined;
    },
    { timeout, interval: 500 },
  );
}

/** The Jobs view's row for a run (by its name), after the view is shown. */
async function jobsRow(t, name) {
  const pane = t.page.locator('.pane', { has: t.page.locator('.pane-header', { hasText: /^\s*Jobs/ }) }).first();
  return pane.locator('.monaco-list-row', { hasText: name }).first();
}

/**
 * Hovers a run's Jobs row and clicks its Stop action. While a run runs the tree re-renders every few
 * seconds, which on a loaded machine can detach the button under a slow click: then hover the fresh
 * row and try again.
 */
async function clickStop(t, name) {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const row = await jobsRow(t, name);
    await row.hover().catch(() => undefined);
    const clicked = await row
      .locator('.action-label[aria-label="Stop Run"], .action-label[title="Stop Run"]')
      .first()
      .click({ timeout: 5000 })
      .then(
        () => true,
        (e) => t.log(`Stop action click failed (try ${attempt})`, String(e).split('\n')[0]),
      );
    if (clicked) return true;
  }
  return false;
}

async function showJobs(t) {
  await t.runCommand('Preflight: Focus on Jobs View').catch(async () => {
    await t.page.keyboard.press('Escape');
    await t.page.locator('.activitybar .action-item a[aria-label^="Preflight"]').first().click({ timeout: 5000 });
  });
}

/** Fills the form's inputs by field key; waits until the form accepts them (Launch enabled). */
async function fillForm(frame, values) {
  for (const [key, value] of Object.entries(values)) await frame.locator(`#f-${key}`).fill(String(value));
}

async function launchEnabled(t, frame) {
  return t.waitFor(
    async () => {
      const button = frame.locator('button[type=submit]');
      const summary = (await frame.locator('.issues').textContent()) ?? '';
      return (await button.isEnabled()) && /Data: /.test(summary) && !/error/.test(summary) ? summary : undefined;
    },
    { timeout: 20000 },
  );
}

/** Nonblank pixels on a canvas: Chart.js drew something. */
async function drawnCanvases(frame) {
  return frame.locator('canvas').evaluateAll(
    (canvases) =>
      canvases.filter((c) => {
        const ctx = c.getContext('2d');
        if (!ctx || !c.width || !c.height) return false;
        const data = ctx.getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
        return painted > 200;
      }).length,
  );
}

export default async function bear(t) {
  const torch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (!t.check(`${PYTHON} imports torch`, torch.status === 0, torch.stderr)) return;
  // the trainer's interpreter, and small training defaults that the form must pick up from settings
  mergeWorkspaceSettings(t.workspace, {
    'preflight.python.path': PYTHON,
    'preflight.bear.epochs': 2,
    'preflight.bear.batchSize': 16,
    'preflight.bear.learningRate': 0.003,
  });
  const activated = await t.waitForState((s) => s.activation?.features?.includes('bear'), { timeout: 60000 });
  t.check('the extension activates with its bear feature', activated, t.extensionState().activation);

  // ---- the form, prefilled from the settings and the active file -------------------------------
  await t.runCommand('View: Hide Panel').catch(() => t.page.keyboard.press('Escape')); // a panel left open by an earlier scenario
  // The settings file was written after the workbench started (and an earlier scenario may have
  // deleted .vscode/): VS Code's file watcher can take a while to see it. Until the form shows the
  // settings' epochs, open the data file and run the command again (it re-fills the open form).
  let form;
  const settled = await t.waitFor(
    async () => {
      await t.openFile('bear/train.jsonl');
      await t.runCommand('Preflight: Launch BEAR Fine-tuning');
      form = await bearFrame(t, 'form');
      if (!form) return undefined;
      await form.locator('#f-train').waitFor({ timeout: 20000 });
      if ((await form.locator('#f-epochs').inputValue()) === '2') return true;
      await sleep(3000);
      return undefined;
    },
    { timeout: 90000, interval: 0 },
  );
  if (!t.check('the launch form opens', form)) return;
  t.log(settled ? 'the form shows the workspace settings' : 'the workspace settings never reached the form');
  const value = (key) => form.locator(`#f-${key}`).inputValue();
  const dir = join(t.workspace, 'bear');
  t.check('the training split is the active file', (await value('train')) === join(dir, 'train.jsonl'), await value('train'));
  t.check(
    'its valid/test/items siblings are guessed',
    (await value('valid')) === join(dir, 'valid.jsonl') &&
      (await value('test')) === join(dir, 'test.jsonl') &&
      (await value('items')) === join(dir, 'items.json'),
    [await value('valid'), await value('test'), await value('items')],
  );
  t.check(
    'epochs, batch and learning rate come from the settings',
    (await value('epochs')) === '2' && (await value('batchSize')) === '16' && Number(await value('lr')) === 0.003,
    [await value('epochs'), await value('batchSize'), await value('lr')],
  );
  t.check('the BEAR loss is selected (the default)', await form.locator('#loss-bear').isChecked());
  const python = await t.waitFor(
    async () => {
      const text = (await form.locator('p.muted', { hasText: 'Python:' }).first().textContent()) ?? '';
      return text.includes(PYTHON) ? text : undefined;
    },
    { timeout: 10000 },
  );
  t.check('the form names the interpreter from preflight.python.path', python && /preflight\.python\.path/.test(python), python);

  await fillForm(form, { name: 'e2e-finish', perDeviceBatch: 16, gpus: 0, evalMaxUsers: 0 });
  const summary = await launchEnabled(t, form);
  const records = readFileSync(join(dir, 'train.jsonl'), 'utf8').trim().split('\n').length;
  t.check(
    'the data check passes and Launch is enabled',
    summary && summary.includes(`train ${records},`) && /24 item titles/.test(summary),
    summary ?? (await form.locator('.issues').textContent()),
  );
  await t.screenshot('form');

  // ---- run 1: to the end ------------------------------------------------------------------------
  await form.locator('button[type=submit]').click();
  const launched = await t.waitForState((s) => s.bear?.launched?.endsWith('e2e-finish'), { timeout: 20000 });
  if (!t.check('Launch starts a run', launched, t.extensionState().bear)) return;
  const { launched: runId, runDir } = launched.bear;
  const config = readJson(join(runDir, 'config.json'));
  t.check(
    'the run config is written with the form’s values',
    config?.train?.epochs === 2 &&
      config.train.batch_size === 16 &&
      config.train.lr === 0.003 &&
      config.loss?.name === 'bear' &&
      config.model?.type === 'builtin' &&
      config.data?.valid === join(dir, 'valid.jsonl'),
    config,
  );
  const running = await t.waitFor(() => ['running', 'finished'].includes(readJson(join(runDir, 'status.json'))?.state), { timeout: 60000 });
  t.check('the task starts the trainer (status.json running)', running, readJson(join(runDir, 'status.json')));
  const terminal = await t.page
    .locator('.terminal-tab, .single-terminal-tab, .tabs-list .monaco-list-row', { hasText: `BEAR ${runId}` })
    .first()
    .waitFor({ timeout: 10000 })
    .then(
      () => true,
      () => false,
    );
  t.log(terminal ? 'the task terminal is listed' : 'the task terminal tab is not visible (silent reveal)');

  await showJobs(t);
  const row = await jobsRow(t, 'e2e-finish');
  const listed = await row.waitFor({ timeout: 20000 }).then(
    () => true,
    () => false,
  );
  t.check('the Jobs view lists the run', listed);

  const dash = await bearFrame(t, 'dashboard', runId);
  if (!t.check('the run’s dashboard opens', dash)) return;
  const live = await t.waitFor(
    async () => {
      const n = await drawnCanvases(dash);
      return n >= 3 ? { n, state: readJson(join(runDir, 'status.json'))?.state } : undefined;
    },
    { timeout: 60000 },
  );
  t.check('the dashboard draws the loss, BEAR-weight and top-B charts', live, await dash.locator('canvas').count());
  t.log(`charts drawn while the run was ${live?.state}`);
  const stepShown = await dash.locator('p.muted', { hasText: /step \d+\/\d+/ }).count();
  t.check('the dashboard shows the step progress', stepShown >= 1);

  const finished = await t.waitFor(
    () => {
      const s = readJson(join(runDir, 'status.json'));
      return s && s.state !== 'running' ? s : undefined;
    },
    { timeout: 150000, interval: 1000 },
  );
  t.check('the run finishes (status.json finished)', finished?.state === 'finished', finished ?? readJson(join(runDir, 'status.json')));
  t.check(
    'status.json has the best epoch, its metrics and checkpoint, and the test metrics',
    finished?.best?.metrics?.['hr@10'] > 0 && existsSync(finished.best.checkpoint ?? '') && finished.test?.['hr@10'] > 0,
    finished,
  );
  const badge = await dash
    .locator('h1 .badge.state-finished')
    .waitFor({ timeout: 20000 })
    .then(
      () => true,
      () => false,
    );
  t.check('the dashboard says finished', badge);
  const result = await dash.locator('h2', { hasText: 'Result' }).count();
  const captions = await dash.locator('table.grid caption').allTextContents();
  t.check(
    'the dashboard shows the best validation and the test metrics',
    result === 1 && captions.some((c) => /^Validation, epoch \d/.test(c)) && captions.some((c) => /^Test, epoch \d/.test(c)),
    captions,
  );
  const checkpoint = finished?.best?.checkpoint ? await dash.locator('span.muted', { hasText: finished.best.checkpoint }).count() : 0;
  t.check('the dashboard names the best checkpoint', checkpoint === 1);
  t.check('the dashboard draws the validation HR/NDCG chart too', (await drawnCanvases(dash)) >= 4);

  // the Jobs row: finished, expandable to the best metrics and the checkpoint
  await t.runCommand('Preflight: Refresh Jobs').catch(() => undefined);
  const done = await t.waitFor(async () => /finished/.test((await row.textContent()) ?? ''), { timeout: 15000 });
  t.check('the Jobs view shows the run finished', done, await row.textContent().catch(() => ''));
  await row.click();
  await t.page.keyboard.press('ArrowRight');
  const pane = t.page.locator('.pane', { has: t.page.locator('.pane-header', { hasText: /^\s*Jobs/ }) }).first();
  const bestRow = await pane
    .locator('.monaco-list-row', { hasText: /Best epoch \d \(validation\)/ })
    .first()
    .waitFor({ timeout: 10000 })
    .then(
      () => true,
      () => false,
    );
  const ckRow = await pane
    .locator('.monaco-list-row', { hasText: 'Checkpoint' })
    .first()
    .waitFor({ timeout: 5000 })
    .then(
      () => true,
      () => false,
    );
  t.check('the Jobs view shows the best metrics and the checkpoint under the run', bestRow && ckRow);
  await dash
    .locator('h1')
    .first()
    .scrollIntoViewIfNeeded()
    .catch(() => undefined);
  await t.screenshot('dashboard');
  await dash
    .locator('canvas')
    .last()
    .scrollIntoViewIfNeeded()
    .catch(() => undefined);
  await t.screenshot('charts');
  await dash
    .locator('h1')
    .first()
    .scrollIntoViewIfNeeded()
    .catch(() => undefined);

  // ---- run 2: stopped from the Jobs view ---------------------------------------------------------
  const form2 = await bearFrame(t, 'form');
  if (!t.check('the launch form is still open for a second run', form2)) return;
  await fillForm(form2, { name: 'e2e-stop', epochs: 40 });
  await launchEnabled(t, form2);
  await form2.locator('button[type=submit]').click();
  const launched2 = await t.waitForState((s) => s.bear?.launched?.endsWith('e2e-stop'), { timeout: 20000 });
  if (!t.check('a second run starts', launched2, t.extensionState().bear)) return;
  const { launched: runId2, runDir: runDir2 } = launched2.bear;
  // wait for its first logged step: the trainer is past its start-up and training
  const stepping = await t.waitFor(
    () => {
      const s = readJson(join(runDir2, 'status.json'));
      return s?.state === 'running' && s.step > 0 ? s : undefined;
    },
    { timeout: 90000, interval: 500 },
  );
  t.check('the second run is training', stepping, readJson(join(runDir2, 'status.json')));
  const pid = stepping?.pid;
  // live: its dashboard charts the steps while the trainer is still running
  const dash2live = await bearFrame(t, 'dashboard', runId2);
  const drawnLive =
    dash2live &&
    (await t.waitFor(async () => ((await drawnCanvases(dash2live)) >= 3 && readJson(join(runDir2, 'status.json'))?.state === 'running') || undefined, {
      timeout: 30000,
    }));
  t.check('its dashboard charts the metrics live, while the trainer runs', drawnLive, readJson(join(runDir2, 'status.json'))?.state);

  await showJobs(t);
  const row2 = await jobsRow(t, 'e2e-stop');
  await row2.waitFor({ timeout: 20000 }).catch(() => undefined);
  await t.waitFor(async () => /running/.test((await row2.textContent()) ?? ''), { timeout: 15000 });
  const clicked = await clickStop(t, 'e2e-stop');
  t.check('the Jobs view offers Stop on the running run', clicked);
  const stopped = await t.waitFor(
    () => {
      const s = readJson(join(runDir2, 'status.json'));
      return s && s.state !== 'running' ? s : undefined;
    },
    { timeout: 60000, interval: 500 },
  );
  t.check('status.json says stopped', stopped?.state === 'stopped', stopped ?? readJson(join(runDir2, 'status.json')));
  const gone = await t.waitFor(() => (pid && !alive(pid)) || undefined, { timeout: 20000, interval: 500 });
  t.check('the trainer process is gone', gone, pid);
  const left = spawnSync('pgrep', ['-f', runDir2], { encoding: 'utf8' });
  t.check('no process of the run is left (pgrep -f <run folder>)', left.status === 1 && !left.stdout.trim(), left.stdout);
  const stoppedRow = await t.waitFor(async () => /stopped/.test((await row2.textContent()) ?? ''), { timeout: 15000 });
  t.check('the Jobs view shows the run stopped', stoppedRow, await row2.textContent().catch(() => ''));
  const dash2 = await bearFrame(t, 'dashboard', runId2, 10000);
  const resumable =
    dash2 &&
    (await dash2
      .locator('button', { hasText: 'Resume from last checkpoint' })
      .waitFor({ timeout: 15000 })
      .then(
        () => true,
        () => false,
      ));
  t.check('its dashboard says stopped and offers Resume', resumable && (await dash2.locator('h1 .badge.state-stopped').count()) === 1);
  await t.screenshot('stopped');

  // ---- run 3: stopped while it evaluates; its output folder holds shell metacharacters ------------
  // A validation split of 250 copies of the valid users keeps the trainer in beam search for a while
  // after its one short epoch; the Stop must end it there (status 'stopped', no eval record, no
  // checkpoint). The task runs without a shell, so the folder name is taken literally.
  const evalDir = join(t.workspace, 'bear-eval');
  mkdirSync(evalDir, { recursive: true });
  for (const f of ['train.jsonl', 'test.jsonl', 'items.json']) writeFileSync(join(evalDir, f), readFileSync(join(dir, f)));
  const validLines = readFileSync(join(dir, 'valid.jsonl'), 'utf8').trim().split('\n');
  writeFileSync(join(evalDir, 'valid.jsonl'), Array.from({ length: 250 }, () => validLines.join('\n')).join('\n') + '\n');
  const oddRoot = 'runs; touch pwned1 & echo $(touch pwned2) | x';
  const form3 = await bearFrame(t, 'form');
  if (!t.check('the launch form is still open for a third run', form3)) return;
  await fillForm(form3, {
    name: 'e2e-evalstop',
    epochs: 1,
    outputDir: oddRoot,
    evalMaxUsers: 0,
    train: join(evalDir, 'train.jsonl'),
    valid: join(evalDir, 'valid.jsonl'),
    test: join(evalDir, 'test.jsonl'),
    items: join(evalDir, 'items.json'),
  });
  await launchEnabled(t, form3);
  await form3.locator('button[type=submit]').click();
  const launched3 = await t.waitForState((s) => s.bear?.launched?.endsWith('e2e-evalstop'), { timeout: 20000 });
  if (!t.check('a third run starts', launched3, t.extensionState().bear)) return;
  const runDir3 = launched3.bear.runDir;
  t.check('its run folder is under the output folder, named literally', runDir3.startsWith(join(t.workspace, oddRoot)), runDir3);
  // Validation has begun once the epoch's last step is logged (the trainer logs the last micro-batch).
  const metricsOf = (d) => {
    try {
      return readFileSync(join(d, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    } catch {
      return [];
    }
  };
  const evaluating = await t.waitFor(
    () => {
      const m = metricsOf(runDir3);
      const total = m.find((r) => r.type === 'start')?.total_steps;
      return total && m.some((r) => r.type === 'step' && r.step === total) && !m.some((r) => r.type === 'eval') ? m : undefined;
    },
    { timeout: 120000, interval: 250 },
  );
  t.check('the third run trains its epoch and starts validating', evaluating, metricsOf(runDir3).slice(-2));
  const pid3 = readJson(join(runDir3, 'status.json'))?.pid;
  await showJobs(t);
  const row3 = await jobsRow(t, 'e2e-evalstop');
  await row3.waitFor({ timeout: 20000 }).catch(() => undefined);
  const stopAt = Date.now();
  const clicked3 = await clickStop(t, 'e2e-evalstop');
  t.check('Stop is offered while the run validates', clicked3);
  const stopped3 = await t.waitFor(
    () => {
      const s = readJson(join(runDir3, 'status.json'));
      return s && s.state !== 'running' ? s : undefined;
    },
    { timeout: 30000, interval: 250 },
  );
  t.check('a stop during validation ends the run as stopped', stopped3?.state === 'stopped', stopped3 ?? readJson(join(runDir3, 'status.json')));
  t.log(`stopped ${Date.now() - stopAt} ms after the click`);
  const after = metricsOf(runDir3);
  t.check(
    'no validation result and no checkpoint were written after the stop',
    !after.some((r) => r.type === 'eval') && !existsSync(join(runDir3, 'checkpoint-epoch1')),
    after.map((r) => r.type),
  );
  const gone3 = await t.waitFor(() => (pid3 && !alive(pid3)) || undefined, { timeout: 20000, interval: 250 });
  t.check('the third trainer process is gone', gone3, pid3);
  const pwned = spawnSync('find', [t.workspace, '-name', 'pwned*'], { encoding: 'utf8' });
  t.check('nothing in the output folder name was run by a shell', pwned.status === 0 && pwned.stdout.trim() === '', pwned.stdout);

  // ---- a window reload: the form and the dashboard come back from the state their apps saved -------
  await t.runCommand('Developer: Reload Window');
  await t.page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
  const formBack = await bearFrame(t, 'form', undefined, 60000);
  const nameBack =
    formBack &&
    (await t.waitFor(
      async () =>
        (await formBack
          .locator('#f-name')
          .inputValue()
          .catch(() => '')) || undefined,
      { timeout: 20000 },
    ));
  t.check('after a window reload the launch form is back with what was typed', nameBack === 'e2e-evalstop', nameBack);
  const dashBack = await bearFrame(t, 'dashboard', undefined, 60000);
  const titleBack =
    dashBack &&
    (await t.waitFor(
      async () =>
        (await dashBack
          .locator('h1')
          .first()
          .textContent()
          .catch(() => '')) || undefined,
      { timeout: 20000 },
    ));
  t.check('after a window reload a run dashboard is back and shows its run', /e2e-/.test(titleBack ?? ''), titleBack);
  await sleep(100);
}
