// Hostile inputs through the extension host (issue 13): the cases of test/unit/hostile/ that reach
// the editor — a 100,000-column CSV opened for live validation, a FIFO and a /dev/zero link named
// as data, a run folder whose status.json is a FIFO (Jobs view), a 3,000-label sheet and a sheet
// with a stray quote for Analyze Annotation Errors. Each gets its finding or error, and after each
// the host still answers: a new malformed file is validated within seconds.
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export default async function hostile(t) {
  await t.waitForState((s) => s.activation, { timeout: 60000 });
  const dir = join(t.workspace, 'hostile');
  mkdirSync(dir, { recursive: true });

  let probes = 0;
  /** The host answers: a fresh malformed file opened now is validated within 30 s. */
  const responsive = async (after) => {
    const name = `probe-${++probes}.jsonl`;
    writeFileSync(join(dir, name), '{"text": "ok"}\n{"text": }\n');
    const t0 = Date.now();
    await t.openFile(`hostile/${name}`);
    const state = await t.waitForState((s) => s.validation?.files?.[`hostile/${name}`]?.diagnostics?.some((d) => d.code === 'json-malformed'), {
      timeout: 30000,
    });
    t.check(`the host still answers after ${after} (${((Date.now() - t0) / 1000).toFixed(1)} s)`, state);
    await t.runCommand('View: Close All Editors').catch(() => undefined);
  };

  // 1. live validation of a CSV with 100,000 columns (1.1 MB): one finding naming the limit
  const columns = 100000;
  writeFileSync(
    join(dir, 'wide.csv'),
    `${Array.from({ length: columns }, (_, i) => `c${i}`).join(',')}\n${Array.from({ length: columns }, (_, i) => i).join(',')}\n`,
  );
  let t0 = Date.now();
  await t.openFile('hostile/wide.csv');
  const wide = await t.waitForState((s) => s.validation?.files?.['hostile/wide.csv']?.diagnostics?.some((d) => d.code === 'csv-too-many-columns'), {
    timeout: 60000,
  });
  t.check(
    `a 100,000-column CSV gets csv-too-many-columns naming the limit (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    wide &&
      /over the limit of 10,000 columns/.test(wide.validation.files['hostile/wide.csv'].diagnostics.find((d) => d.code === 'csv-too-many-columns').message),
    wide?.validation?.files?.['hostile/wide.csv'],
  );
  await t.runCommand('View: Close All Editors').catch(() => undefined);
  await responsive('the wide CSV');

  // 2. a FIFO and a link to /dev/zero named as data files: never opened by a reader that blocks
  execFileSync('mkfifo', [join(dir, 'pipe.jsonl')]);
  symlinkSync('/dev/zero', join(dir, 'zero.jsonl'));
  // 3. the Jobs view over a run whose status.json is a FIFO
  const run = join(t.workspace, '.preflight', 'runs', 'hostile-run');
  mkdirSync(run, { recursive: true });
  writeFileSync(join(run, 'config.json'), JSON.stringify({ name: 'hostile-run' }));
  execFileSync('mkfifo', [join(run, 'status.json')]);
  // the Jobs view reads each run's status.json when it is shown and refreshed
  await t.runCommand('View: Show Preflight').catch((e) => t.log('show preflight:', e.message));
  await t.runCommand('Preflight: Refresh Jobs').catch((e) => t.log('refresh jobs:', e.message));
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await responsive('a FIFO status.json in the Jobs view');

  // 4. annotation analysis of a sheet with 3,000 distinct labels: a clear error, at once
  const rows = ['id,gold,llm'];
  for (let i = 0; i < 3000; i++) rows.push(`${i},label ${i},label ${(i * 7) % 3000}`);
  writeFileSync(join(dir, 'free-labels.csv'), `${rows.join('\n')}\n`);
  await t.openFile('hostile/free-labels.csv');
  t0 = Date.now();
  await t.runCommand('Preflight: Analyze Annotation Errors');
  const many = await t.waitForState((s) => s.annotation?.['free-labels.csv']?.error, { timeout: 60000 });
  t.check(
    `3,000 distinct labels: an error naming the limit of 100 levels (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    many && /over the limit of 100 levels/.test(many.annotation['free-labels.csv'].error),
    many?.annotation,
  );
  await t.screenshot('too-many-levels');
  await responsive('3,000 labels');

  // 5. a 0.74 MB sheet with one stray quote in its header and columns Preflight cannot name: the
  //    column picker lists the real header at once (the old look-ahead regex took 21 s and
  //    returned the whole file as the header)
  const body = Array.from({ length: 35000 }, (_, i) => `${i},some text ${i},${i % 2 ? 'high' : 'low'},${i % 3 ? 'high' : 'low'}`).join('\n');
  writeFileSync(join(dir, 'stray.csv'), `item,te"xt,first,second\n${body}\n`);
  await t.openFile('hostile/stray.csv');
  t0 = Date.now();
  await t.runCommand('Preflight: Analyze Annotation Errors');
  const picker = t.page.locator('.quick-input-widget', { hasText: 'which column of stray.csv holds the gold label' });
  const shown = await picker.waitFor({ state: 'visible', timeout: 60000 }).then(
    () => true,
    () => false,
  );
  const rowsShown = shown ? await t.page.locator('.quick-input-list .monaco-list-row').count() : 0;
  t.check(`a stray quote: the column picker shows the 4 header columns (${((Date.now() - t0) / 1000).toFixed(1)} s)`, shown && rowsShown === 4, {
    shown,
    rowsShown,
  });
  await t.page.keyboard.press('Escape');
  await responsive('the stray-quote sheet');
}
