// The annotation report panel (browser side). Renders the AnnotationView the controller sends;
// every piece of data goes into the DOM through textContent (never innerHTML), colours come from
// the theme's --vscode-* variables, and the last view is kept with setState so the panel comes
// back after a reload before the controller has re-run the analysis.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import type { AnnotationView, FromWebview, RenderSummary, ToWebview } from '../../src/shared/protocol/annotation';
import { ERROR_TYPES, errorClass, type Estimate, type RaterReport, type ShareName } from '../../src/shared/reports/annotation';
import { el } from '../shared/dom';
import { applyChartTheme, CHART_COLOURS, chartColour, onThemeChange, themeKind, type ChartColour } from '../shared/theme';
import { onMessage, vscodeApi } from '../shared/vscodeApi';
import '../shared/base.css';
import './annotation.css';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip, Legend);

const vscode = vscodeApi<FromWebview, AnnotationView>();
const app = document.getElementById('app') as HTMLElement;
let charts: Chart[] = [];
let current: AnnotationView | undefined = vscode.getState();

const SHARES: Array<{ key: ShareName; label: string; color: ChartColour }> = [
  { key: 'correct', label: 'Correct', color: 'green' },
  { key: 'boundaryTask', label: 'Boundary, task-inherent', color: 'blue' },
  { key: 'conceptualTask', label: 'Conceptual, task-inherent', color: 'purple' },
  { key: 'boundaryModel', label: 'Boundary, model-specific', color: 'yellow' },
  { key: 'conceptualModel', label: 'Conceptual, model-specific', color: 'red' },
];

function pct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined ? '—' : `${(100 * x).toFixed(digits)}%`;
}

function num(x: number | null | undefined): string {
  return x === null || x === undefined ? '—' : x.toFixed(3);
}

function interval(e: Estimate, format: (x: number | null) => string): string {
  return e.lo === null || e.hi === null ? '' : ` [${format(e.lo)}, ${format(e.hi)}]`;
}

function withCi(e: Estimate, format: (x: number | null) => string): string {
  return `${format(e.value)}${interval(e, format)}`;
}

function button(label: string, message: FromWebview, title?: string): HTMLButtonElement {
  const b = el('button', { text: label, title });
  b.addEventListener('click', () => vscode.postMessage(message));
  return b;
}

function section(title: string, ...children: Node[]): HTMLElement {
  return el('section', {}, el('h2', { text: title }), ...children);
}

function canvas(label: string, height = 220): { wrap: HTMLElement; canvas: HTMLCanvasElement } {
  const c = el('canvas');
  c.setAttribute('role', 'img');
  c.setAttribute('aria-label', label);
  const wrap = el('div', { cls: 'chart' }, c);
  wrap.style.height = `${height}px`;
  return { wrap, canvas: c };
}

function table(head: string[], rows: Array<Array<string | Node>>, className = 'grid'): HTMLTableElement {
  const t = el('table', { cls: className });
  const thead = el('thead');
  const tr = el('tr');
  for (const h of head) tr.append(el('th', { text: h }));
  thead.append(tr);
  const tbody = el('tbody');
  for (const row of rows) {
    const r = el('tr');
    row.forEach((cell, i) => r.append(el(i === 0 ? 'th' : 'td', {}, cell)));
    tbody.append(r);
  }
  t.append(thead, tbody);
  return t;
}

// ---- charts ----

function sharesChart(target: HTMLCanvasElement, view: AnnotationView): Chart {
  const d = view.report.decomposition!;
  const { grid } = applyChartTheme();
  return new Chart(target, {
    type: 'bar',
    data: {
      labels: ['LLM labels'],
      datasets: SHARES.map((s) => ({ label: s.label, data: [100 * (d.shares[s.key].value ?? 0)], backgroundColor: chartColour(s.color), borderWidth: 0 })),
    },
    options: {
      indexAxis: 'y',
      scales: {
        x: { stacked: true, min: 0, max: 100, grid: { color: grid }, ticks: { callback: (v) => `${v}%` } },
        y: { stacked: true, grid: { display: false } },
      },
      plugins: {
        legend: { position: 'bottom' },
        tooltip: {
          callbacks: {
            label: (ctx) => {
              const s = SHARES[ctx.datasetIndex];
              return `${s.label}: ${withCi(d.shares[s.key], (x) => pct(x, 2))}`;
            },
          },
        },
      },
    },
  });
}

function intervalsChart(target: HTMLCanvasElement, view: AnnotationView): Chart {
  const d = view.report.decomposition!;
  const { grid, fg } = applyChartTheme();
  const labels = SHARES.map((s) => s.label);
  return new Chart(target, {
    type: 'bar',
    data: {
      labels,
      datasets: [
        {
          type: 'bar',
          label: `${Math.round(view.report.bootstrap.confidence * 100)}% interval`,
          data: SHARES.map((s) =>
            d.shares[s.key].lo === null ? null : [100 * (d.shares[s.key].lo ?? 0), 100 * (d.shares[s.key].hi ?? 0)],
          ) as unknown as number[],
          backgroundColor: SHARES.map((s) => chartColour(s.color)),
          barPercentage: 0.35,
        },
        {
          type: 'line',
          label: 'point estimate',
          data: SHARES.map((s) => 100 * (d.shares[s.key].value ?? 0)),
          showLine: false,
          pointStyle: 'line',
          pointRadius: 14,
          pointBorderWidth: 3,
          borderColor: fg,
          backgroundColor: fg,
        },
      ],
    },
    options: {
      scales: { y: { min: 0, grid: { color: grid }, ticks: { callback: (v) => `${v}%` } }, x: { grid: { display: false } } },
      plugins: { legend: { position: 'bottom' } },
    },
  });
}

function profileChart(target: HTMLCanvasElement, raters: RaterReport[]): Chart {
  const { grid } = applyChartTheme();
  const colors: ChartColour[] = ['orange', 'blue', 'green', 'purple', 'yellow'];
  return new Chart(target, {
    type: 'bar',
    data: {
      labels: ['correct', 'boundary error (d = 1)', 'conceptual error (d ≥ 2)'],
      datasets: raters.map((r, i) => ({
        label: r.name === 'llm' ? 'LLM' : r.name,
        data: [r.metrics.accuracy.value, r.metrics.boundaryRate.value, r.metrics.conceptualRate.value].map((x) => 100 * (x ?? 0)),
        backgroundColor: chartColour(colors[i % colors.length]),
      })),
    },
    options: {
      scales: { y: { min: 0, max: 100, grid: { color: grid }, ticks: { callback: (v) => `${v}%` } }, x: { grid: { display: false } } },
      plugins: {
        legend: { position: 'bottom' },
        tooltip: {
          callbacks: {
            label: (ctx) => {
              const r = raters[ctx.datasetIndex];
              const e = [r.metrics.accuracy, r.metrics.boundaryRate, r.metrics.conceptualRate][ctx.dataIndex];
              return `${ctx.dataset.label}: ${withCi(e, (x) => pct(x, 1))} (n = ${r.n})`;
            },
          },
        },
      },
    },
  });
}

function directionChart(target: HTMLCanvasElement, view: AnnotationView): Chart {
  const { grid } = applyChartTheme();
  const levels = view.report.llm.levels;
  const part = (f: (l: (typeof levels)[number]) => number) => levels.map((l) => (l.gold > 0 ? (100 * f(l)) / l.gold : 0));
  const series: Array<{ label: string; data: number[]; color: ChartColour }> = [
    { label: 'conceptual, lower', data: part((l) => -l.conceptualDown), color: 'red' },
    { label: 'boundary, lower', data: part((l) => -l.boundaryDown), color: 'yellow' },
    { label: 'boundary, higher', data: part((l) => l.boundaryUp), color: 'blue' },
    { label: 'conceptual, higher', data: part((l) => l.conceptualUp), color: 'purple' },
  ];
  return new Chart(target, {
    type: 'bar',
    data: { labels: levels.map((l) => l.level), datasets: series.map((s) => ({ label: s.label, data: s.data, backgroundColor: chartColour(s.color) })) },
    options: {
      indexAxis: 'y',
      scales: {
        x: { stacked: true, grid: { color: grid }, ticks: { callback: (v) => `${Math.abs(Number(v))}%` } },
        y: { stacked: true, grid: { display: false }, title: { display: true, text: 'gold level' } },
      },
      plugins: {
        legend: { position: 'bottom' },
        tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${Math.abs(Number(ctx.raw)).toFixed(1)}% of gold '${levels[ctx.dataIndex].level}'` } },
      },
    },
  });
}

function calibrationChart(target: HTMLCanvasElement, view: AnnotationView): Chart {
  const c = view.calibration!;
  const { grid, fg } = applyChartTheme();
  const buckets = c.buckets.filter((b) => b.n > 0);
  return new Chart(target, {
    type: 'bar',
    data: {
      labels: buckets.map((b) => `${Math.round(100 * b.lo)}–${Math.round(100 * b.hi)}%`),
      datasets: [
        {
          type: 'bar',
          label: 'accuracy (label = gold)',
          data: buckets.map((b) => 100 * (b.accuracy ?? 0)),
          backgroundColor: chartColour('blue'),
          maxBarThickness: 64,
        },
        {
          type: 'line',
          label: 'mean confidence (perfect calibration)',
          data: buckets.map((b) => 100 * (b.meanConfidence ?? 0)),
          borderColor: fg,
          backgroundColor: fg,
          pointRadius: 4,
          clip: false,
        },
      ],
    },
    options: {
      scales: {
        y: { min: 0, max: 100, grid: { color: grid }, ticks: { callback: (v) => `${v}%` } },
        x: { grid: { display: false }, title: { display: true, text: 'confidence bucket' } },
      },
      plugins: {
        legend: { position: 'bottom' },
        tooltip: { callbacks: { afterLabel: (ctx) => `${buckets[ctx.dataIndex].n} label(s) in this bucket` } },
      },
    },
  });
}

// ---- sections ----
function header(view: AnnotationView): HTMLElement {
  const r = view.report;
  const h = el('header');
  h.append(el('h1', { text: `Annotation error analysis — ${view.fileName}` }));
  const facts = el('p', { cls: 'muted' });
  facts.textContent = `${r.labels.used.toLocaleString()} of ${r.labels.rows.toLocaleString()} rows used · gold column '${r.labels.columns.gold}', LLM column '${r.labels.columns.llm}' · scale (${r.scale.name ?? r.scale.source}): ${r.scale.levels.join(' < ')}`;
  h.append(facts);
  const human = el('p');
  if (view.humanFileName && r.human) {
    const how = view.humanSource === 'sibling' ? 'found beside the file' : view.humanSource === 'picked' ? 'chosen' : 'remembered';
    human.textContent = `Human test: ${view.humanFileName} (${how}; ${r.human.items} items, coders ${r.human.coders.join(', ')}, ${r.human.format} format).`;
  } else {
    human.className = 'notice';
    human.textContent =
      'No human test: the decomposition into task-inherent and model-specific errors, and the human coders’ metrics, need one (a few dozen gold-labelled items re-labelled by two coders; `preflight annotate sample` draws them).';
  }
  h.append(human);
  const actions = el('div', { cls: 'actions' });
  actions.append(button(view.humanFileName ? 'Choose another human test…' : 'Choose human test…', { type: 'chooseHumanTest' }));
  if (view.humanSource === 'picked' || view.humanSource === 'remembered') actions.append(button('Forget human test', { type: 'forgetHumanTest' }));
  actions.append(
    button('Change columns…', { type: 'changeColumns' }),
    button(
      r.scale.source === 'guessed' ? 'Set label order… (guessed)' : 'Label order…',
      { type: 'changeLevels' },
      'The order of the levels, lowest first: every distance and ordinal metric depends on it',
    ),
    button('Re-run', { type: 'rerun' }),
  );
  h.append(actions);
  return h;
}

function notices(view: AnnotationView): HTMLElement | undefined {
  const r = view.report;
  const warnings = [...r.warnings, ...(r.decomposition?.warnings ?? [])];
  if (!warnings.length && !r.notComputed.length) return undefined;
  const box = el('div', { cls: 'notices' });
  for (const w of warnings) box.append(el('p', { cls: 'warning', text: `⚠ ${w}` }));
  if (r.notComputed.length) {
    const list = el('ul');
    for (const n of r.notComputed) list.append(el('li', { text: n }));
    box.append(el('p', { text: 'Not computed:' }), list);
  }
  return box;
}

function decompositionSection(view: AnnotationView): HTMLElement | undefined {
  const d = view.report.decomposition;
  if (!d) return undefined;
  const stacked = canvas('Stacked bar of the five shares of the LLM labels', 150);
  const intervals = canvas('Interval of each share', 230);
  const rows = SHARES.map((s) => {
    const swatch = el('span', { cls: 'swatch' });
    swatch.style.background = `var(${CHART_COLOURS[s.color][0]})`;
    return [el('span', {}, swatch, s.label), withCi(d.shares[s.key], (x) => pct(x, 2))];
  });
  rows.push(['Task-inherent fraction of boundary errors', withCi(d.taskFraction.boundary, (x) => pct(x, 1))]);
  rows.push(['Task-inherent fraction of conceptual errors', withCi(d.taskFraction.conceptual, (x) => pct(x, 1))]);
  const s = section(
    'Error decomposition (Xu et al., LAK 2026)',
    stacked.wrap,
    intervals.wrap,
    table(['share of all LLM labels', `value [${Math.round(view.report.bootstrap.confidence * 100)}% CI]`], rows),
  );
  queueMicrotask(() => {
    charts.push(sharesChart(stacked.canvas, view), intervalsChart(intervals.canvas, view));
  });
  s.append(
    el('p', {
      cls: 'muted',
      text: `t_task = H_t / (M_t + H_t) · M_t with M_AER ${pct(d.inputs.mBoundary)}, M_CRI ${pct(d.inputs.mConceptual)} (LLM vs gold) and H_AER ${pct(d.inputs.hBoundary)}, H_CRI ${pct(d.inputs.hConceptual)} (human coders vs gold). ${view.report.bootstrap.resamples} bootstrap resamples, seed ${view.report.bootstrap.seed}.`,
    }),
  );
  return s;
}

function profileSection(view: AnnotationView): HTMLElement {
  const r = view.report;
  const raters = [r.llm, ...(r.human ? [r.human.pooled, ...r.human.perCoder] : [])];
  const chart = canvas('Error profile: correct, boundary and conceptual rates of the LLM and the human coders', 240);
  queueMicrotask(() => charts.push(profileChart(chart.canvas, raters)));
  return section(r.human ? 'Error profile: LLM vs human coders' : 'Error profile of the LLM', chart.wrap);
}

function agreementSection(view: AnnotationView): HTMLElement {
  const r = view.report;
  const raters: RaterReport[] = [r.llm, ...(r.human ? [r.human.pooled, ...r.human.perCoder, ...r.human.pairs] : [])];
  const rows = raters.map((x) => [
    x.name === 'llm' ? 'LLM vs gold' : x.name.includes(' vs ') ? x.name : `${x.name} vs gold`,
    String(x.n),
    withCi(x.metrics.accuracy, (v) => pct(v)),
    withCi(x.metrics.kappa, num),
    withCi(x.metrics.quadraticKappa, num),
    withCi(x.metrics.alphaOrdinal, num),
    withCi(x.metrics.alphaInterval, num),
    withCi(x.metrics.severityWeightedError, num),
    withCi(x.metrics.boundaryBias, num),
    withCi(x.metrics.signedShift, num),
  ]);
  const s = section(
    'Agreement',
    table(
      ['rater', 'n', 'accuracy', 'Cohen κ', 'quadratic κ', 'α ordinal', 'α interval', 'severity-weighted error', 'boundary bias', 'mean shift (steps)'],
      rows,
    ),
  );
  if (r.human) {
    const a = r.human.agreement;
    s.append(
      el('p', {
        text: `Among the ${a.coders} coders (${a.units} items, gold excluded): Krippendorff’s α nominal ${withCi(a.alphaNominal, num)}, ordinal ${withCi(a.alphaOrdinal, num)}, interval ${withCi(a.alphaInterval, num)}.`,
      }),
    );
  }
  s.append(
    el('p', {
      cls: 'muted',
      text: 'Boundary bias: (upward − downward) / all adjacent errors; mean shift: average (rater − gold) in scale steps — one-step errors that lean one way bias group means.',
    }),
  );
  return s;
}

function matrixSection(view: AnnotationView): { node: HTMLElement; cells: number } {
  const r = view.report.llm;
  const levels = view.report.scale.levels;
  const max = Math.max(1, ...r.confusion.flat());
  const t = el('table', { cls: 'matrix' });
  const head = el('tr', {}, el('th', { text: 'gold ↓ / LLM →' }));
  for (const level of levels) head.append(el('th', { text: level }));
  t.append(el('thead', {}, head));
  const body = el('tbody');
  let cells = 0;
  r.confusion.forEach((row, g) => {
    const tr = el('tr', {}, el('th', { text: levels[g] }));
    row.forEach((count, l) => {
      const kind = ERROR_TYPES[errorClass(g, l)];
      const b = el('button', {
        cls: `cell ${kind}`,
        text: String(count),
        title: `gold '${levels[g]}', LLM '${levels[l]}': ${count} row(s) — ${kind}${count ? '. Click to select them in the editor.' : ''}`,
      });
      b.style.setProperty('--heat', String(count / max));
      b.disabled = count === 0;
      b.addEventListener('click', () => vscode.postMessage({ type: 'revealCell', gold: g, llm: l }));
      tr.append(el('td', {}, b));
      cells++;
    });
    body.append(tr);
  });
  t.append(body);
  const s = section('Confusion matrix (click a cell to select its rows)', t);
  s.append(
    el('p', { cls: 'muted', text: 'Cell colour: count; outline: green correct, amber boundary (adjacent levels), red conceptual (two or more levels apart).' }),
  );
  return { node: s, cells };
}

function directionSection(view: AnnotationView): HTMLElement {
  const chart = canvas('Error direction per gold level', 110 + 34 * view.report.llm.levels.length);
  queueMicrotask(() => charts.push(directionChart(chart.canvas, view)));
  const rows = view.report.llm.levels.map((l) => [
    l.level,
    String(l.gold),
    pct(l.recall),
    pct(l.precision),
    String(l.boundaryDown),
    String(l.boundaryUp),
    String(l.conceptualDown),
    String(l.conceptualUp),
    num(l.meanShift),
  ]);
  return section(
    'LLM error direction per gold level',
    chart.wrap,
    table(['gold level', 'n', 'recall', 'precision', 'boundary ↓', 'boundary ↑', 'conceptual ↓', 'conceptual ↑', 'mean shift'], rows),
  );
}

function groupsSection(view: AnnotationView): HTMLElement | undefined {
  const groups = view.report.groups;
  if (!groups.length) return undefined;
  const rows = groups.map((g) => {
    const m = g.rater.metrics;
    const s = g.decomposition?.shares;
    return [
      `${g.column} = ${g.value}`,
      String(g.rater.n),
      withCi(m.accuracy, (x) => pct(x)),
      pct(m.boundaryRate.value),
      pct(m.conceptualRate.value),
      withCi(m.signedShift, num),
      num(m.quadraticKappa.value),
      s ? pct(s.boundaryTask.value) : '—',
      s ? pct(s.conceptualTask.value) : '—',
      s ? pct(s.boundaryModel.value) : '—',
      s ? pct(s.conceptualModel.value) : '—',
    ];
  });
  return section(
    'By group',
    table(['group', 'n', 'accuracy', 'AER', 'CRI', 'mean shift', 'QWK', 'boundary task', 'conceptual task', 'boundary model', 'conceptual model'], rows),
  );
}

function calibrationSection(view: AnnotationView): { node: HTMLElement; buckets: number } | undefined {
  const c = view.calibration;
  if (!c || c.n === 0) return undefined;
  const chart = canvas('Reliability diagram: accuracy and mean confidence per confidence bucket', 240);
  queueMicrotask(() => charts.push(calibrationChart(chart.canvas, view)));
  const buckets = c.buckets.filter((b) => b.n > 0);
  const lean = c.overconfidence === null ? '' : ` — ${c.overconfidence > 0 ? 'overconfident' : 'underconfident'} by ${pct(Math.abs(c.overconfidence))}`;
  const s = section(
    'Calibration of the model’s confidence',
    el('p', {
      text: `Expected calibration error ${pct(c.ece)} over ${c.n.toLocaleString()} labels (largest bucket gap ${pct(c.maxGap)}); mean confidence ${pct(c.meanConfidence)} vs accuracy ${pct(c.accuracy)}${lean}.`,
    }),
    chart.wrap,
  );
  s.append(
    table(
      ['confidence', 'labels', 'accuracy', 'mean confidence'],
      buckets.map((b) => [`${Math.round(100 * b.lo)}–${Math.round(100 * b.hi)}%`, String(b.n), pct(b.accuracy), pct(b.meanConfidence)]),
    ),
  );
  s.append(
    el('p', {
      cls: 'muted',
      text: `From the column '${c.column}': each label's probability normalised over the levels. A calibrated annotator's accuracy in a bucket matches its mean confidence; ECE = Σ (n_b / N) · |accuracy_b − confidence_b|.`,
    }),
  );
  return { node: s, buckets: buckets.length };
}

function findingsSection(view: AnnotationView): HTMLElement | undefined {
  const f = view.report.findings;
  if (!f.length) return undefined;
  const list = el('ul', { cls: 'findings' });
  for (const finding of f.slice(0, 50)) list.append(el('li', { text: `${finding.file.split(/[\\/]/).pop()}:${finding.line} — ${finding.message}` }));
  const more = f.length + view.report.findingsOmitted - Math.min(50, f.length);
  if (more > 0) list.append(el('li', { cls: 'muted', text: `… and ${more} more` }));
  return section('Input findings', list);
}

function render(view: AnnotationView): void {
  for (const chart of charts) chart.destroy();
  charts = [];
  app.replaceChildren();
  app.append(header(view));
  const calibration = calibrationSection(view);
  const parts = [notices(view), decompositionSection(view), calibration?.node, profileSection(view), agreementSection(view)];
  const matrix = matrixSection(view);
  parts.push(matrix.node, directionSection(view), groupsSection(view), findingsSection(view));
  for (const part of parts) if (part) app.append(part);
  queueMicrotask(() => {
    const summary: RenderSummary = {
      shares: view.report.decomposition ? SHARES.length : 0,
      matrixCells: matrix.cells,
      charts: charts.length,
      theme: themeKind(),
      notComputed: view.report.notComputed.length,
      calibrationBuckets: calibration?.buckets ?? 0,
    };
    vscode.postMessage({ type: 'rendered', summary });
  });
}

function status(text: string, className: string): void {
  const p = el('p', { cls: className, text });
  if (current) {
    const old = app.querySelector('.status');
    old?.remove();
    p.classList.add('status');
    app.prepend(p);
  } else app.replaceChildren(p);
}

onMessage<ToWebview>((message) => {
  switch (message.type) {
    case 'show':
      current = message.view;
      vscode.setState(message.view);
      render(message.view);
      break;
    case 'busy':
      status(message.message, 'muted');
      break;
    case 'failed':
      status(message.message, 'error');
      if (!current) {
        // nothing to show yet: still offer the ways out (columns, label order, human test)
        const actions = el('div', { cls: 'actions' });
        actions.append(
          button('Change columns…', { type: 'changeColumns' }),
          button('Label order…', { type: 'changeLevels' }),
          button('Choose human test…', { type: 'chooseHumanTest' }),
          button('Re-run', { type: 'rerun' }),
        );
        app.append(actions);
      }
      break;
  }
});

// theme switches change the --vscode-* variables: redraw the charts with the new colours
onThemeChange(() => current && render(current));

if (current) render(current);
vscode.postMessage({ type: 'ready' });
