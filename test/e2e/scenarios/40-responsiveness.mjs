// Responsiveness of the extension host, measured inside it (src/extension/responsiveness.ts: in
// test mode every event-loop stall over 20 ms is recorded with the time it ended): activation time,
// and the longest stall while a 20 MB JSON Lines file with live validation on is opened and typed
// in, while a behaviour forecast runs (MDF on ONNX Runtime, and the Python forecaster the product
// defaults to where torch is) and while an annotation analysis of a 20,000-row CSV runs.
// Goals (issue 15): activation <= 100 ms, no stall over 50 ms. A CPU profile of each phase tells
// whose code ran; Preflight's share of a stall is the time of its samples inside that stall
// (stallShares()). Asserted: activation CPU time, and Preflight's share of every stall while
// typing; while forecasting and analysing the same figure is recorded as a goal (goals()); every
// stall is recorded. The figures are printed and written to responsiveness.json in the run folder
// (docs/responsiveness.md).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const FOLDER = 'responsiveness';
const LIVE = 'live-20mb.jsonl';
const LIVE_BYTES = 19.5 * 1024 * 1024; // under the 20 MB live-validation limit
const ACTIVATION_GOAL_MS = 100;
const STALL_GOAL_MS = 50;
const LEVELS = ['low', 'mid', 'high'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One forecast or analysis phase: its window, the host's worst stall in it and its profile, printed;
 * Preflight's share of the phase's worst stall (stallShares()) is its goal, computed at the end once
 * every stall is written (goals()).
 */
function recordPhase(t, figures, windows, phase, { label, during, from, to, profiled }) {
  windows[phase] = [from, to];
  figures[phase] = { ...worstStall(t, from, to), seconds: (to - from) / 1000, profile: profiled.profile, during, profileFile: profiled.file };
  t.log(`${label}: longest host stall ${figures[phase].worst} ms, Preflight's longest run of samples ${profiled.profile?.longestPreflightMs} ms`);
}

/**
 * Each phase's goal: Preflight's code holds the host at most 50 ms within any one stall
 * (stallShares(); its longest run of samples, attribute(), is recorded beside it). Asserted where
 * the phase says so (typing), else recorded as a goal (docs/responsiveness.md, "Asserted or
 * recorded").
 */
function goals(t, figures, phases, stalls) {
  for (const phase of phases) {
    const f = figures[phase];
    if (!f?.profileFile || !existsSync(f.profileFile)) continue;
    f.inStall = stallShares(JSON.parse(readFileSync(f.profileFile, 'utf8')), stalls);
    delete f.profileFile;
    if (!f.during) continue;
    const name = `Preflight's code never holds the extension host over ${STALL_GOAL_MS} ms while ${f.during}`;
    const met = f.inStall.preflightMs <= STALL_GOAL_MS;
    const detail = `${f.inStall.preflightMs} ms of a ${f.inStall.stallMs} ms stall, gc ${f.inStall.gcMs} ms; longest run of samples ${f.profile?.longestPreflightMs} ms`;
    if (f.asserted) t.check(name, met, { ...f.inStall, runOfSamplesMs: f.profile?.longestPreflightMs });
    else {
      (figures.goals ??= []).push({ name, met, preflightMs: f.inStall.preflightMs, runOfSamplesMs: f.profile?.longestPreflightMs });
      t.log(`goal ${met ? 'met' : 'NOT met'}: ${name} (${detail})`);
    }
    if (f.asserted) t.log(`${name}: ${detail}`);
  }
}

/** Chat records, one exact copy every 997 records (findings to publish), seeded by the index. */
function writeLiveFile(path) {
  const lines = [];
  let bytes = 0;
  for (let i = 0; bytes < LIVE_BYTES - 2000; i++) {
    const n = i % 997 === 996 ? i - 500 : i;
    const line = JSON.stringify({
      messages: [
        { role: 'system', content: 'You answer questions about bicycles.' },
        { role: 'user', content: `Question ${n}: ${'how do I tune the gears on my bicycle? '.repeat(3 + (n % 5))}` },
        { role: 'assistant', content: `Answer ${n}: ${'turn the barrel adjuster a quarter turn at a time. '.repeat(4 + (n % 7))}` },
      ],
    });
    lines.push(line);
    bytes += Buffer.byteLength(line) + 1;
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return lines.length;
}

/** A labeled CSV of 20,000 rows and a human test of 200 items by three annotators. */
function writeAnnotationFiles(dir) {
  const rows = ['id,text,gold,llm'];
  const gold = [];
  for (let i = 1; i <= 20000; i++) {
    const g = (i * 7) % 3;
    const l = i % 7 === 0 ? (g === 0 ? 2 : 0) : i % 5 === 0 ? (g === 2 ? 1 : g + 1) : g;
    gold.push(g);
    rows.push(`${i},"utterance ${i}, as said",${LEVELS[g]},${LEVELS[l]}`);
  }
  writeFileSync(join(dir, 'ann.csv'), `${rows.join('\n')}\n`);
  const human = ['Annotator,ID,Label'];
  for (const who of ['groundtruth', 'A1', 'A2']) {
    for (let i = 1; i <= 200; i++)
      human.push(`${who},${i},${LEVELS[who !== 'groundtruth' && i % (who === 'A1' ? 11 : 13) === 0 ? (gold[i - 1] + 1) % 3 : gold[i - 1]]}`);
  }
  writeFileSync(join(dir, 'ann.human.csv'), `${human.join('\n')}\n`);
}

/** The longest stall (ms) that ended between `from` and `to` (epoch ms), 0 if none over 20 ms. */
function worstStall(t, from, to) {
  const stalls = t.extensionState().responsiveness?.stalls ?? [];
  let worst = 0;
  let count = 0;
  for (const [end, ms] of stalls) {
    if (end >= from && end <= to) {
      worst = Math.max(worst, ms);
      if (ms > STALL_GOAL_MS) count++;
    }
  }
  return { worst, over: count };
}

/**
 * Runs fn while the extension host profiles its thread (responsiveness.ts), then sums the samples'
 * self time by whose code it is: Preflight's bundle, VS Code's own, another extension, or V8/GC.
 */
async function profiled(t, name, fn) {
  const base = process.env.E2E_STATE_FILE;
  if (!base) return { result: await fn() };
  rmSync(`${base}.${name}.cpuprofile`, { force: true });
  writeFileSync(`${base}.profile`, `start ${name}`);
  await sleep(600);
  let result;
  try {
    result = await fn();
  } finally {
    writeFileSync(`${base}.profile`, 'stop');
  }
  const file = `${base}.${name}.cpuprofile`;
  await t.waitFor(() => existsSync(file), { timeout: 30000 });
  if (!existsSync(file)) return { result, profile: 'none written' };
  return { result, profile: attribute(JSON.parse(readFileSync(file, 'utf8'))), file };
}

/** Which samples of a profile have one of Preflight's frames on their stack. */
function preflightSamples(profile) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ours = new Map();
  const isOurs = (id) => {
    if (ours.has(id)) return ours.get(id);
    const node = nodes.get(id);
    const value = /preflight/.test(node.callFrame.url) || (parent.has(id) && isOurs(parent.get(id)));
    ours.set(id, value);
    return value;
  };
  return { nodes, isOurs };
}

/**
 * Preflight's share of each real stall: the stall monitor's stalls (the host's event loop did not
 * turn for that long; src/extension/responsiveness.ts records each one's end on the profile's
 * clock) and, inside each, the time of the samples with a Preflight frame on the stack, each at
 * most 2 ms as in attribute(). Runs of samples (attribute()) join work split over turns of the
 * event loop when nothing else was waiting between them; a stall ends where the loop turns. Garbage
 * collection inside the stall is reported beside it, not counted. Stalls under 20 ms are not
 * recorded: a phase without one reads 0.
 */
export function stallShares(profile, stalls, tickMs = 10) {
  const { nodes, isOurs } = preflightSamples(profile);
  const times = [];
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) times.push((t += profile.timeDeltas[i] ?? 0));
  let worst = { preflightMs: 0, stallMs: 0, gcMs: 0 };
  let seen = 0;
  for (const [, ms, endUs] of stalls) {
    if (typeof endUs !== 'number' || endUs < profile.startTime || endUs - ms * 1000 > profile.endTime) continue;
    seen++;
    const from = endUs - (ms + tickMs) * 1000;
    let preflight = 0;
    let gc = 0;
    for (let i = 0; i < times.length; i++) {
      if (times[i] < from || times[i] >= endUs) continue;
      const dt = Math.min(2, ((times[i + 1] ?? times[i]) - times[i]) / 1000);
      if (isOurs(profile.samples[i])) preflight += dt;
      else if (nodes.get(profile.samples[i]).callFrame.functionName === '(garbage collector)') gc += dt;
    }
    if (preflight > worst.preflightMs) worst = { preflightMs: preflight, stallMs: ms, gcMs: gc };
  }
  return { preflightMs: Math.round(worst.preflightMs), stallMs: worst.stallMs, gcMs: Math.round(worst.gcMs), stallsInProfile: seen };
}

/**
 * Sums a V8 CPU profile's samples by whose code they are, and finds the longest time Preflight's
 * code held the thread (exported: the same rule over saved profiles, docs/responsiveness.md).
 */
export function attribute(profile) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  const owners = {};
  const functions = {};
  for (const [id, ms] of self) {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    const owner = /preflight/.test(url)
      ? 'preflight'
      : /\/extensions\/([^/]+)\//.test(url)
        ? url.match(/\/extensions\/([^/]+)\//)[1]
        : /lib\/vscode\//.test(url)
          ? 'vscode'
          : url
            ? 'node'
            : functionName;
    owners[owner] = (owners[owner] ?? 0) + ms;
    if (owner !== '(idle)' && owner !== '(program)') {
      const key = `${owner}: ${functionName || '(anonymous)'} ${url.split('/').slice(-1)[0]}:${lineNumber}`;
      functions[key] = (functions[key] ?? 0) + ms;
    }
  }
  // the longest time Preflight's code held the thread without a break: consecutive samples with one
  // of its frames on the stack (a garbage collection in between continues the run, never starts one).
  // Each sample counts at most 2 ms (4 sampling intervals): a longer gap is the process waiting for
  // a core on the loaded machine (one sample once stood for 104 ms), not work.
  const { isOurs } = preflightSamples(profile);
  // A garbage collection counts only between two Preflight samples: one that ends a run is the
  // whole heap's (run 6 counted a 77 ms collection after a 2 ms sample of the test-mode profile poll).
  let run = 0;
  let pendingGc = 0;
  let longest = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    const dt = Math.min(2, (profile.timeDeltas[i + 1] ?? 0) / 1000); // the time until the next sample
    const name = nodes.get(id).callFrame.functionName;
    if (isOurs(id)) {
      run += pendingGc + dt;
      pendingGc = 0;
    } else if (run > 0 && (name === '(garbage collector)' || name === '(program)')) pendingGc += dt;
    else run = pendingGc = 0;
    longest = Math.max(longest, run);
  }
  const round = (o) =>
    Object.fromEntries(
      Object.entries(o)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
        .map(([k, v]) => [k, Math.round(v)]),
    );
  return { longestPreflightMs: Math.round(longest), ownersMs: round(owners), topFunctionsMs: round(functions) };
}

export default async function responsiveness(t) {
  const dir = join(t.workspace, FOLDER);
  mkdirSync(dir, { recursive: true });
  const figures = {};
  /** phase -> [from, to] (epoch ms): its stalls are taken at the end, once the extension has written them all */
  const windows = {};
  try {
    const state = await t.waitForState((s) => s.activation && s.responsiveness, { timeout: 60000 });
    const activation = state?.activation;
    t.check('the extension reports its activation time and stalls', activation && typeof activation.totalMs === 'number', state);
    if (!activation) return;
    figures.activation = activation;
    t.log(
      `activation: evaluating the bundle ${activation.loadMs} ms (${activation.loadCpuMs} ms CPU) + activate() ${activation.ms} ms (${activation.cpuMs} ms CPU) = ${activation.totalMs} ms; per feature ${JSON.stringify(activation.featureMs)}`,
    );
    // CPU time: on the shared 2-core machine wall time is mostly waiting for a core (both are recorded)
    t.check(
      `activation (evaluating the bundle + activate()) takes at most ${ACTIVATION_GOAL_MS} ms of CPU`,
      activation.loadCpuMs + activation.cpuMs <= ACTIVATION_GOAL_MS,
      activation,
    );

    // ---- a 20 MB JSON Lines file, live validation on: open, then type in bursts
    // (VS Code for the browser asks before opening a file over 10 MB in the editor)
    mkdirSync(join(t.workspace, '.vscode'), { recursive: true });
    writeFileSync(join(t.workspace, '.vscode', 'settings.json'), JSON.stringify({ 'workbench.editorLargeFileConfirmation': 1024 }, null, 2));
    const records = writeLiveFile(join(dir, LIVE));
    t.log(`wrote ${LIVE}: ${(statSync(join(dir, LIVE)).size / 1048576).toFixed(1)} MiB, ${records} records`);
    const key = `${FOLDER}/${LIVE}`;
    const openFrom = Date.now();
    const openProfile = await profiled(t, 'open', async () => {
      // a 20 MB buffer takes a while to reach the editor on a loaded machine: wait for it below
      await t.openFile(join(FOLDER, LIVE)).catch((error) => t.log(`the editor is slow to show ${LIVE}: ${String(error).split('\n')[0]}`));
      const openAnyway = t.page.locator('.monaco-button', { hasText: 'Open Anyway' }).first();
      if (await openAnyway.isVisible().catch(() => false)) await openAnyway.click();
      await t.page
        .locator('.editor-instance .monaco-editor .view-lines')
        .first()
        .waitFor({ timeout: 120000 })
        .catch(() => undefined);
      return t.waitForState((s) => s.validation?.files?.[key]?.source === 'buffer', { timeout: 180000 });
    });
    const opened = openProfile.result;
    const openTo = Date.now();
    t.check(
      'the 20 MB file is validated live when opened',
      opened?.validation.files[key].summary.records === records,
      opened?.validation?.files?.[key]?.summary ?? t.extensionState().validation,
    );
    windows.open = [openFrom, openTo + 200];
    figures.open = {
      ...worstStall(t, openFrom, openTo + 200),
      seconds: (openTo - openFrom) / 1000,
      validationMs: opened?.validation?.files?.[key]?.durationMs,
      profile: openProfile.profile,
      profileFile: openProfile.file,
    };

    await sleep(2000);
    const typeFrom = Date.now();
    const bursts = 6;
    const typingProfile = await profiled(t, 'typing', async () => {
      await t.page.keyboard.press('Control+End');
      for (let b = 0; b < bursts; b++) {
        await t.page.keyboard.type(`typed${b} `, { delay: 40 }); // letters only: no auto-closed brackets
        await sleep(900); // longer than the 400 ms debounce: each burst is validated
      }
      // the last line is the typed text: not JSON, one json-malformed finding on it
      const found = await t.waitForState(
        (s) => {
          const file = s.validation?.files?.[key];
          return file?.diagnostics?.some((d) => d.code === 'json-malformed' && d.line === records + 1) && file.summary.records === records ? file : undefined;
        },
        { timeout: 120000 },
      );
      await sleep(1500);
      return found;
    });
    const typed = typingProfile.result;
    const typeTo = Date.now();
    t.check(
      'after typing, the findings describe the edited buffer (the typed line is malformed JSON)',
      typed,
      t.extensionState().validation?.files?.[key]?.summary,
    );
    windows.typing = [typeFrom, typeTo];
    figures.typing = {
      ...worstStall(t, typeFrom, typeTo),
      seconds: (typeTo - typeFrom) / 1000,
      bursts,
      profile: typingProfile.profile,
      profileFile: typingProfile.file,
    };
    // asserted at the end, once every stall is written (goals()): Preflight's own share of each
    // stall, which it controls; the host's stalls from every cause are recorded
    figures.typing.during = 'typing in the 20 MB file';
    figures.typing.asserted = true;
    t.log(
      `typing: longest host stall ${figures.typing.worst} ms (${figures.typing.over} over ${STALL_GOAL_MS} ms), Preflight's longest run of samples ${typingProfile.profile?.longestPreflightMs} ms`,
    );
    await t.runCommand('View: Revert File').catch(() => undefined);
    await t.runCommand('View: Close All Editors').catch(() => undefined);
    await sleep(1000);

    // ---- a behaviour forecast (the MDF scenario's tiny checkpoint, built on first use)
    const made = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'e2e', 'scenarios', 'mdf.fixture.ts'), dir], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    t.check('the forecast fixtures are written', made.status === 0, made.stderr);
    mkdirSync(join(t.workspace, '.vscode'), { recursive: true });
    writeFileSync(
      join(t.workspace, '.vscode', 'settings.json'),
      JSON.stringify(
        {
          'workbench.editorLargeFileConfirmation': 1024,
          'preflight.model.path': join(dir, 'mdf-model'),
          'preflight.model.provider': 'cpu',
          'preflight.mdf.probes': [join(dir, '.preflight', 'probes', 'planted.json'), 'safety'],
          'preflight.mdf.alphas': [0, 0.5, 1],
          'preflight.mdf.samples': 2,
          'preflight.mdf.scoring': 'both',
          // MDF asked for by name: with 'auto' a Python with torch and transformers would run gradient-adam instead
          'preflight.mdf.method': 'mdf',
        },
        null,
        2,
      ),
    );
    await sleep(1500);
    await t.openFile(join(FOLDER, 'mdf-train.jsonl'));
    const forecastFrom = Date.now();
    const forecastProfile = await profiled(t, 'forecast', async () => {
      await t.runCommand('Preflight: Forecast Behaviour (MDF)');
      return t.waitForState((s) => s.mdf?.maxRisk || s.mdf?.error, { timeout: 360000 });
    });
    const forecast = forecastProfile.result;
    const forecastTo = Date.now();
    t.check(
      'the forecast runs to the end (MDF)',
      forecast?.mdf && !forecast.mdf.error && forecast.mdf.forecaster?.method === 'mdf',
      forecast?.mdf ?? t.extensionState().mdf,
    );
    // since the forecast runs whole in the inference worker, the host only waits for it
    recordPhase(t, figures, windows, 'forecast', {
      label: 'forecast (MDF)',
      during: 'an MDF forecast runs',
      from: forecastFrom,
      to: forecastTo,
      profiled: forecastProfile,
    });
    await t.runCommand('View: Close All Editors').catch(() => undefined);
    await sleep(1000);

    // ---- the Python forecaster (gradient-adam, the product's default where torch runs) on the
    // bundled preflight-tiny checkpoint: the host starts python -m preflight_train and reads its JSON
    writeFileSync(
      join(t.workspace, '.vscode', 'settings.json'),
      JSON.stringify(
        {
          'workbench.editorLargeFileConfirmation': 1024,
          'preflight.model.provider': 'cpu',
          'preflight.mdf.probes': ['animals'],
          'preflight.mdf.method': 'gradient-adam',
        },
        null,
        2,
      ),
    );
    await sleep(1500);
    await t.openFile(join(FOLDER, 'mdf-train.jsonl'));
    const pythonFrom = Date.now();
    const pythonProfile = await profiled(t, 'forecastPython', async () => {
      await t.runCommand('Preflight: Forecast Behaviour (MDF)');
      return t.waitForState((s) => (s.mdf?.forecaster?.method === 'gradient-adam' && s.mdf.maxRisk) || s.mdf?.error, { timeout: 420000 });
    });
    const pythonTo = Date.now();
    const python = pythonProfile.result?.mdf ?? t.extensionState().mdf;
    t.check('the Python forecast (gradient-adam) runs to the end', python && !python.error && python.forecaster?.method === 'gradient-adam', python);
    recordPhase(t, figures, windows, 'forecastPython', {
      label: 'forecast (Python)',
      during: 'a Python forecast runs',
      from: pythonFrom,
      to: pythonTo,
      profiled: pythonProfile,
    });
    await t.runCommand('View: Close All Editors').catch(() => undefined);
    await sleep(1000);

    // ---- an annotation analysis of 20,000 rows with 1,000 bootstrap resamples
    writeAnnotationFiles(dir);
    await t.openFile(join(FOLDER, 'ann.csv'));
    await sleep(1500);
    const annotationFrom = Date.now();
    const annotationProfile = await profiled(t, 'annotation', async () => {
      await t.runCommand('Preflight: Analyze Annotation Errors');
      // the diagnostics are handed to VS Code in slices after the report: the phase ends when all are
      return t.waitForState((s) => (s.annotation?.['ann.csv']?.rendered && s.annotation['ann.csv'].diagnosticSets) || s.annotation?.['ann.csv']?.error, {
        timeout: 180000,
      });
    });
    const analysed = annotationProfile.result;
    const annotationTo = Date.now();
    t.check(
      'the annotation analysis runs to the end',
      analysed?.annotation?.['ann.csv']?.rendered,
      analysed?.annotation?.['ann.csv'] ?? t.extensionState().annotation,
    );
    recordPhase(t, figures, windows, 'annotation', {
      label: 'annotation',
      during: 'an annotation analysis runs',
      from: annotationFrom,
      to: annotationTo,
      profiled: annotationProfile,
    });
    // 20,000 rows, about 6,000 errors: the default cap (preflight.annotation.maxDiagnostics, 1,000),
    // handed to VS Code in slices (src/extension/annotation/diagnostics.ts); each set call timed
    const marked = analysed?.annotation?.['ann.csv'];
    figures.annotation.diagnostics = marked?.diagnostics;
    figures.annotation.diagnosticSets = marked?.diagnosticSets;
    t.log(`annotation: ${marked?.diagnostics} diagnostics in ${JSON.stringify(marked?.diagnosticSets)}`);
    t.check('1,000 annotation errors are marked, in slices of 100', marked?.diagnostics === 1000 && marked?.diagnosticSets?.sets === 10, marked);
    // the extension writes its state file coalesced and late under load: a phase's stalls read
    // right after it may miss its last ones (run 5 read none while typing), so all are taken now
    await sleep(3000);
    for (const [phase, [from, to]] of Object.entries(windows)) Object.assign(figures[phase], worstStall(t, from, to));
    const stalls = t.extensionState().responsiveness?.stalls ?? [];
    goals(t, figures, Object.keys(windows), stalls);
    t.log(
      `longest host stall per phase, all causes: ${Object.keys(windows)
        .map((p) => `${p} ${figures[p].worst} ms (${figures[p].over} over ${STALL_GOAL_MS} ms)`)
        .join(', ')}`,
    );
    figures.histogramMs = t.extensionState().responsiveness?.histogramMs;
    t.check(
      'the stalls of every phase were recorded and profiled',
      ['open', 'typing', 'forecast', 'forecastPython', 'annotation'].every(
        (p) =>
          typeof figures[p]?.worst === 'number' &&
          typeof figures[p]?.profile?.longestPreflightMs === 'number' &&
          typeof figures[p]?.inStall?.preflightMs === 'number',
      ),
      figures,
    );
    t.log(`figures: ${JSON.stringify(figures)}`);
  } finally {
    if (process.env.E2E_RUN)
      writeFileSync(
        join(process.env.E2E_RUN, 'responsiveness.json'),
        `${JSON.stringify({ at: new Date().toISOString(), figures, stalls: t.extensionState().responsiveness?.stalls ?? [] }, null, 2)}\n`,
      );
    await t.runCommand('View: Close All Editors').catch(() => undefined);
    rmSync(join(t.workspace, '.vscode', 'settings.json'), { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}
