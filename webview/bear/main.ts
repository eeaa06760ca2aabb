// The BEAR panels (browser side): the launch form and the live run dashboard, picked by the page's
// data-view attribute. All text reaches the DOM through textContent (never innerHTML); colours come
// from the theme's --vscode-* variables.
import { CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import type { DashboardFromWebview, DashboardHeader, DashboardToWebview, FormFromWebview, FormToWebview } from '../../src/shared/protocol/bear';
import type { DataIssue, EvalLine, FormIssue, LaunchForm, MetricsLine, StartLine, StepLine } from '../../src/shared/reports/bear';
import { el } from '../shared/dom';
import { applyChartTheme, chartColour, onThemeChange, type ChartColour } from '../shared/theme';
import { onMessage, vscodeApi } from '../shared/vscodeApi';
import '../shared/base.css';
import './bear.css';

Chart.register(CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip, Legend);

const app = document.getElementById('app') as HTMLElement;

// ---------------------------------------------------------------------------------------------
// Launch form
// ---------------------------------------------------------------------------------------------

type FieldSpec = {
  key: keyof LaunchForm;
  label: string;
  kind: 'text' | 'number' | 'int' | 'bool' | 'file' | 'folder';
  hint?: string;
  bearOnly?: boolean;
  step?: string;
};

const SECTIONS: Array<{ title: string; fields: FieldSpec[] }> = [
  { title: 'Run', fields: [{ key: 'name', label: 'Name', kind: 'text' }] },
  {
    title: 'Base model',
    fields: [
      {
        key: 'baseModel',
        label: 'Model',
        kind: 'folder',
        hint: "A Hugging Face checkpoint folder or hub id (needs transformers), or 'builtin' for Preflight's small CPU model.",
      },
      { key: 'loraEnabled', label: 'LoRA', kind: 'bool', hint: 'LoRA on q_proj and v_proj (needs peft); ignored for the built-in model.' },
      { key: 'loraR', label: 'LoRA rank r', kind: 'int' },
      { key: 'loraAlpha', label: 'LoRA α', kind: 'number' },
    ],
  },
  {
    title: 'Data',
    fields: [
      { key: 'train', label: 'Train split', kind: 'file', hint: 'JSONL {"history": [titles], "target": title}, or a user_id,item_ids CSV with an items file.' },
      { key: 'valid', label: 'Validation split', kind: 'file', hint: 'Picks the best epoch. The test split never does.' },
      { key: 'test', label: 'Test split', kind: 'file', hint: 'Optional: evaluated once, with the best epoch.' },
      { key: 'items', label: 'Items (id2name)', kind: 'file', hint: 'Optional for JSONL: the full catalogue; required for the CSV layout.' },
    ],
  },
  {
    title: 'Loss',
    fields: [
      { key: 'tau', label: 'Temperature τ', kind: 'number', step: '0.05' },
      { key: 'beam', label: 'Beam size B', kind: 'int', hint: 'The pruning threshold in training and the beam width in evaluation.' },
      { key: 'lam', label: 'λ', kind: 'number', bearOnly: true, step: '0.05', hint: 'Published: 0.25.' },
      { key: 'xi', label: 'ξ', kind: 'number', bearOnly: true, step: '0.05', hint: 'Published: 2.75.' },
    ],
  },
  {
    title: 'Training',
    fields: [
      { key: 'epochs', label: 'Epochs', kind: 'int' },
      { key: 'batchSize', label: 'Effective batch', kind: 'int', hint: 'Per-device batch × gradient accumulation × GPUs.' },
      { key: 'perDeviceBatch', label: 'Per-device batch', kind: 'int' },
      { key: 'lr', label: 'Learning rate', kind: 'number', step: '0.00001' },
      { key: 'gpus', label: 'GPUs', kind: 'int', hint: '0: CPU; 1: one GPU; more: torchrun with DistributedDataParallel.' },
      { key: 'evalMaxUsers', label: 'Evaluation users', kind: 'int', hint: '0: every user of the split.' },
      { key: 'outputDir', label: 'Runs folder', kind: 'text', hint: 'Relative to the workspace folder.' },
    ],
  },
];

function formApp(): void {
  const vscode = vscodeApi<FormFromWebview, LaunchForm>();
  let form: LaunchForm | undefined = vscode.getState();
  const inputs = new Map<keyof LaunchForm, HTMLInputElement>();
  const fieldErrors = new Map<keyof LaunchForm, HTMLElement>();
  const issuesBox = el('div', { cls: 'issues', attrs: { role: 'status' } });
  const pythonLine = el('p', { cls: 'muted' });
  const trustLine = el('p', { cls: 'error' });
  const launchButton = el('button', { text: 'Launch', attrs: { type: 'submit' } });
  const auditButton = el('button', {
    text: 'Audit beam-pruning risk',
    cls: 'secondary',
    attrs: { type: 'button', title: 'Before training: how often would beam search prune a target the base model ranks in the top B?' },
  });
  const auditBox = el('p', { cls: 'muted', attrs: { 'aria-live': 'polite' } });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let auditRunning = false;

  const read = (): LaunchForm => {
    const next = { ...(form as LaunchForm) } as Record<string, unknown>;
    for (const [key, input] of inputs) {
      const spec = SECTIONS.flatMap((s) => s.fields).find((f) => f.key === key);
      if (!spec) continue;
      if (spec.kind === 'bool') next[key] = input.checked;
      else if (spec.kind === 'number' || spec.kind === 'int') next[key] = input.value.trim() === '' ? NaN : Number(input.value);
      else next[key] = input.value;
    }
    const loss = document.querySelector<HTMLInputElement>('input[name="loss"]:checked');
    if (loss) next.loss = loss.value;
    return next as unknown as LaunchForm;
  };

  const changed = () => {
    form = read();
    vscode.setState(form);
    document.body.classList.toggle('not-bear', form.loss !== 'bear');
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => vscode.postMessage({ type: 'validate', form: form as LaunchForm }), 300);
  };

  const render = (f: LaunchForm) => {
    form = f;
    app.replaceChildren();
    const formEl = el('form', { attrs: { novalidate: '' } });
    formEl.appendChild(el('h1', { text: 'Launch BEAR fine-tuning' }));
    formEl.appendChild(
      el('p', {
        cls: 'muted',
        text: 'Train an LLM recommender with plain cross-entropy (LML), the masked-softmax loss (MSL) or BEAR, evaluate with trie-constrained beam search, and watch the curves live.',
      }),
    );
    formEl.appendChild(pythonLine);
    formEl.appendChild(trustLine);
    for (const section of SECTIONS) {
      const fs = el('fieldset', {}, el('legend', { text: section.title }));
      if (section.title === 'Loss') {
        const radios = el('div', { cls: 'radios', attrs: { role: 'radiogroup', 'aria-label': 'Loss' } });
        for (const [value, label, hint] of [
          ['lml', 'LML', 'next-token cross-entropy (BIGRec)'],
          ['msl', 'MSL', 'softmax over the trie’s valid tokens'],
          ['bear', 'BEAR', 'MSL weighted by beam-pruning risk'],
        ]) {
          const id = `loss-${value}`;
          const radio = el('input', { attrs: { type: 'radio', name: 'loss', value, id } });
          radio.checked = f.loss === value;
          radio.addEventListener('change', changed);
          radios.appendChild(el('label', { attrs: { for: id } }, radio, el('strong', { text: ` ${label} ` }), el('span', { cls: 'muted', text: hint })));
        }
        fs.appendChild(radios);
      }
      for (const spec of section.fields) {
        const id = `f-${spec.key}`;
        const input = el('input', { attrs: { id, name: spec.key } });
        if (spec.kind === 'bool') {
          input.type = 'checkbox';
          input.checked = Boolean(f[spec.key]);
        } else if (spec.kind === 'number' || spec.kind === 'int') {
          input.type = 'number';
          input.step = spec.kind === 'int' ? '1' : (spec.step ?? 'any');
          input.value = String(f[spec.key]);
        } else {
          input.type = 'text';
          input.value = String(f[spec.key] ?? '');
          input.spellcheck = false;
        }
        input.addEventListener('input', changed);
        input.addEventListener('change', changed);
        inputs.set(spec.key, input);
        const row = el('div', { cls: `row${spec.bearOnly ? ' bear-only' : ''}` }, el('label', { text: spec.label, attrs: { for: id } }));
        const control = el('div', { cls: 'control' }, input);
        if (spec.kind === 'file' || spec.kind === 'folder') {
          const browse = el('button', { text: 'Browse…', cls: 'secondary', attrs: { type: 'button', 'aria-label': `Browse for ${spec.label}` } });
          browse.addEventListener('click', () => vscode.postMessage({ type: 'pick', field: spec.key, folder: spec.kind === 'folder' }));
          control.appendChild(browse);
        }
        const err = el('div', { cls: 'field-error', attrs: { 'aria-live': 'polite' } });
        fieldErrors.set(spec.key, err);
        control.appendChild(err);
        if (spec.hint) control.appendChild(el('div', { cls: 'hint', text: spec.hint }));
        row.appendChild(control);
        fs.appendChild(row);
      }
      formEl.appendChild(fs);
    }
    formEl.appendChild(issuesBox);
    auditButton.addEventListener('click', () => {
      form = read();
      vscode.postMessage({ type: 'audit', form });
    });
    formEl.appendChild(el('div', { cls: 'actions' }, launchButton, auditButton));
    formEl.appendChild(auditBox);
    formEl.addEventListener('submit', (e) => {
      e.preventDefault();
      form = read();
      vscode.postMessage({ type: 'launch', form });
    });
    app.appendChild(formEl);
    document.body.classList.toggle('not-bear', f.loss !== 'bear');
    changed();
  };

  const showIssues = (formIssues: FormIssue[], dataIssues: DataIssue[], summary?: string) => {
    for (const err of fieldErrors.values()) err.textContent = '';
    for (const issue of formIssues) {
      const err = fieldErrors.get(issue.field);
      if (err) err.textContent = issue.message;
    }
    issuesBox.replaceChildren();
    if (summary) issuesBox.appendChild(el('p', { cls: 'muted', text: `Data: ${summary}` }));
    if (dataIssues.length) {
      const list = el('ul');
      for (const i of dataIssues.slice(0, 50)) {
        const where = i.line ? `${i.file}:${i.line}` : i.file;
        list.appendChild(el('li', { cls: i.severity }, el('span', { cls: 'code', text: i.code }), el('span', { text: ` ${where}: ${i.message}` })));
      }
      issuesBox.appendChild(list);
    }
    const errors = formIssues.length + dataIssues.filter((i) => i.severity === 'error').length;
    launchButton.disabled = errors > 0;
    auditButton.disabled = errors > 0 || auditRunning;
  };

  onMessage<FormToWebview>((m) => {
    switch (m.type) {
      case 'init':
        pythonLine.textContent = `Python: ${m.python}`;
        trustLine.textContent = m.trusted ? '' : 'This workspace is not trusted: launching is disabled.';
        render(m.form);
        return;
      case 'issues':
        showIssues(m.formIssues, m.dataIssues, m.summary);
        return;
      case 'picked': {
        const input = inputs.get(m.field);
        if (input) {
          input.value = m.value;
          changed();
        }
        return;
      }
      case 'audit':
        auditRunning = m.state === 'running';
        auditButton.disabled = auditRunning;
        auditBox.className = m.state === 'failed' ? 'error' : m.state === 'done' ? 'notice' : 'muted';
        auditBox.textContent = m.text;
        return;
      case 'launched':
        issuesBox.appendChild(el('p', { cls: 'notice', text: `Launched run ${m.runId}. Its dashboard is open beside this form; the Jobs view lists it.` }));
        return;
    }
  });
  if (form) render(form);
  vscode.postMessage({ type: 'ready' });
}

// ---------------------------------------------------------------------------------------------
// Dashboard
// ---------------------------------------------------------------------------------------------

function dashboardApp(): void {
  const vscode = vscodeApi<DashboardFromWebview, { runId: string; runDir: string }>();
  vscode.setState({ runId: document.body.dataset.run ?? '', runDir: document.body.dataset.dir ?? '' });
  let header: DashboardHeader | undefined;
  let start: StartLine | undefined;
  const steps: StepLine[] = [];
  const evals = new Map<number, EvalLine>();
  let test: EvalLine | undefined;
  const checkpoints = new Map<number, string>();
  let charts: Chart[] = [];

  // Theme colours are read at every render: a theme switch changes the --vscode-* variables (and the
  // body's class, observed below), and the charts are redrawn with the new ones.
  let colors: string[] = [];
  const themeColours = () => {
    applyChartTheme();
    colors = (['blue', 'orange', 'green', 'purple', 'red', 'yellow'] as ChartColour[]).map(chartColour);
  };

  // x is numeric (steps are logged at uneven intervals: every log_every steps and at each epoch end).
  const lineChart = (canvas: HTMLCanvasElement, xs: number[], series: Array<{ label: string; data: number[] }>, xTitle: string, yMax?: number) =>
    new Chart(canvas, {
      type: 'line',
      data: {
        datasets: series.map((s, i) => ({
          label: s.label,
          data: xs.map((x, j) => ({ x, y: s.data[j] })),
          borderColor: colors[i % colors.length],
          backgroundColor: colors[i % colors.length],
          pointRadius: xs.length > 60 ? 0 : 2,
          borderWidth: 1.5,
          cubicInterpolationMode: 'monotone' as const,
        })),
      },
      options: {
        scales: { x: { type: 'linear', title: { display: true, text: xTitle }, ticks: { precision: 0 } }, y: { beginAtZero: yMax !== undefined, max: yMax } },
        plugins: { legend: { display: series.length > 1 } },
      },
    });

  const best = (): EvalLine | undefined => {
    let b: EvalLine | undefined;
    for (const e of evals.values()) if (!b || Number(e['ndcg@10'] ?? 0) > Number(b['ndcg@10'] ?? 0)) b = e;
    return b;
  };

  const metricsTable = (title: string, line: EvalLine) => {
    const keys = Object.keys(line)
      .filter((k) => /^(hr|ndcg)@\d+$/.test(k))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const table = el('table', { cls: 'grid' });
    table.appendChild(el('caption', { text: title }));
    table.appendChild(
      el('tr', {}, ...keys.map((k) => el('th', { text: k.toUpperCase().replace('HR', 'HR').replace('NDCG', 'NDCG'), attrs: { scope: 'col' } }))),
    );
    table.appendChild(el('tr', {}, ...keys.map((k) => el('td', { text: Number(line[k]).toFixed(4) }))));
    return table;
  };

  const render = () => {
    themeColours();
    // the page is rebuilt on every update: keep the reader's scroll position
    const scrollY = window.scrollY;
    for (const c of charts) c.destroy();
    charts = [];
    app.replaceChildren();
    if (!header) return;
    const h = header;
    app.appendChild(el('h1', { text: `${h.name}` }, el('span', { cls: `badge state-${h.state}`, text: h.state })));
    const last = steps[steps.length - 1];
    const sub = [`loss ${(h.loss ?? start?.loss ?? 'bear').toUpperCase()}`];
    if (start) sub.push(`${start.items} items, ${start.train} training records`, `random HR@10 ${start['random_hr@10'].toFixed(3)}`);
    if (last) sub.push(`step ${last.step}/${last.total_steps ?? start?.total_steps ?? '?'}, epoch ${last.epoch}/${start?.epochs ?? '?'}`);
    app.appendChild(el('p', { cls: 'muted', text: sub.join(' · ') }));
    if (h.error) app.appendChild(el('p', { cls: 'error', text: h.error }));

    const actions = el('div', { cls: 'actions' });
    if (h.state === 'running' || h.state === 'pending') {
      const stop = el('button', { text: 'Stop', attrs: { type: 'button' } });
      stop.addEventListener('click', () => {
        stop.disabled = true;
        vscode.postMessage({ type: 'stop' });
      });
      actions.appendChild(stop);
    }
    if (h.state === 'stopped' || h.state === 'interrupted' || h.state === 'failed') {
      const resume = el('button', { text: 'Resume from last checkpoint', attrs: { type: 'button' } });
      resume.addEventListener('click', () => vscode.postMessage({ type: 'resume' }));
      actions.appendChild(resume);
    }
    const cfg = el('button', { text: 'Open config', cls: 'secondary', attrs: { type: 'button' } });
    cfg.addEventListener('click', () => vscode.postMessage({ type: 'openConfig' }));
    actions.appendChild(cfg);
    app.appendChild(actions);

    const b = best();
    if (b) {
      const section = el('section');
      section.appendChild(el('h2', { text: h.state === 'finished' ? 'Result' : 'Best so far' }));
      section.appendChild(metricsTable(`Validation, epoch ${b.epoch} (selected on NDCG@10)`, b));
      if (test) section.appendChild(metricsTable(`Test, epoch ${test.epoch}`, test));
      const ck = checkpoints.get(b.epoch);
      if (ck) {
        const open = el('button', { text: 'Reveal checkpoint', cls: 'secondary', attrs: { type: 'button' } });
        open.addEventListener('click', () => vscode.postMessage({ type: 'openCheckpoint', path: ck }));
        section.appendChild(el('p', {}, el('span', { cls: 'muted', text: `Checkpoint: ${ck} ` }), open));
      }
      app.appendChild(section);
    }

    const chartSection = (title: string, note: string) => {
      const canvas = el('canvas', { attrs: { role: 'img', 'aria-label': title } });
      app.appendChild(el('section', {}, el('h2', { text: title }), el('p', { cls: 'muted', text: note }), el('div', { cls: 'chart' }, canvas)));
      return canvas;
    };
    if (steps.length) {
      const x = steps.map((s) => s.step);
      charts.push(
        lineChart(chartSection('Training loss', 'Mean over the logged optimiser steps.'), x, [{ label: 'loss', data: steps.map((s) => s.loss) }], 'step'),
      );
      charts.push(
        lineChart(
          chartSection('Mean BEAR weight', 'w = 1 + λ·σ((log p − log β_B)/ξ) over branching target tokens (1 for LML/MSL).'),
          x,
          [{ label: 'weight', data: steps.map((s) => s.bear_weight) }],
          'step',
        ),
      );
      charts.push(
        lineChart(
          chartSection('Target tokens outside the top-B', 'Share of branching target tokens that beam search of width B would prune at that step.'),
          x,
          [{ label: 'share', data: steps.map((s) => s.outside_top_b) }],
          'step',
          1,
        ),
      );
    }
    const ev = [...evals.values()].sort((a, c) => a.epoch - c.epoch);
    if (ev.length) {
      const keys = ['hr@1', 'hr@5', 'hr@10', 'ndcg@1', 'ndcg@5', 'ndcg@10'].filter((k) => k in ev[0]);
      charts.push(
        lineChart(
          chartSection('Validation HR / NDCG per epoch', 'Trie-constrained beam search, exact title match.'),
          ev.map((e) => e.epoch),
          keys.map((k) => ({ label: k.toUpperCase(), data: ev.map((e) => Number(e[k])) })),
          'epoch',
          1,
        ),
      );
    }
    if (!steps.length && !ev.length) app.appendChild(el('p', { cls: 'muted', text: 'Waiting for the trainer’s first metrics…' }));
    window.scrollTo(0, scrollY);
  };

  const ingest = (lines: MetricsLine[]) => {
    for (const line of lines) {
      if (line.type === 'start') start = line;
      else if (line.type === 'step') {
        // a resumed run repeats steps after the last checkpoint: keep the newest
        while (steps.length && steps[steps.length - 1].step >= line.step) steps.pop();
        steps.push(line);
      } else if (line.type === 'eval') evals.set(line.epoch, line);
      else if (line.type === 'test') test = line;
      else if (line.type === 'checkpoint') checkpoints.set(line.epoch, line.path);
    }
  };

  let pending = false;
  const scheduleRender = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      render();
    });
  };

  onThemeChange(scheduleRender);
  onMessage<DashboardToWebview>((m) => {
    if (m.type === 'reset') {
      header = m.header;
      start = undefined;
      steps.length = 0;
      evals.clear();
      checkpoints.clear();
      test = undefined;
      ingest(m.lines);
    } else if (m.type === 'append') ingest(m.lines);
    else if (m.type === 'state') header = m.header;
    scheduleRender();
  });
  vscode.postMessage({ type: 'ready' });
}

if (document.body.dataset.view === 'dashboard') dashboardApp();
else formApp();
