// The MDF report panel's app: the alpha curve (base, predicted, control, and coherence), the
// per-behaviour shifts with their intervals, and the records that drive the selected behaviour.
// All text goes in through textContent; colours come from the --vscode-* theme variables.
import { Chart, ChartConfiguration, Plugin, registerables } from 'chart.js';
import type { BehaviourResult, MdfReport } from '../../src/core/mdf/report';
import type { FromWebview, MdfView, ToWebview } from '../../src/extension/mdf/protocol';
import './style.css';

Chart.register(...registerables);

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): PanelState | undefined;
  setState(state: PanelState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface PanelState extends Partial<MdfView> {
  selected?: string;
}

const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;
let state: PanelState = vscode.getState() ?? {};
const charts: Chart[] = [];

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

function theme() {
  return {
    fg: cssVar('--vscode-foreground', '#888'),
    grid: cssVar('--vscode-panel-border', 'rgba(128,128,128,0.3)'),
    base: cssVar('--vscode-charts-blue', '#3794ff'),
    predicted: cssVar('--vscode-charts-red', '#f14c4c'),
    control: cssVar('--vscode-charts-green', '#89d185'),
    neutral: cssVar('--vscode-charts-purple', '#b180d7'),
    coherence: cssVar('--vscode-charts-orange', '#d18616'),
    kind: document.body.classList.contains('vscode-light') ? 'light' : document.body.classList.contains('vscode-high-contrast') ? 'high-contrast' : 'dark',
  };
}

const pct = (x: number) => `${(100 * x).toFixed(x !== 0 && Math.abs(x) < 0.001 ? 4 : 1)}%`;
const pval = (p: number) => (p < 0.001 ? p.toExponential(1) : p.toFixed(3));
const pt = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(Math.abs(x) < 0.001 && x !== 0 ? 4 : 1)} pt`;

function message(text: string, cls = 'muted'): void {
  destroyCharts();
  app.replaceChildren(el('p', { class: cls }, text));
}

function destroyCharts(): void {
  while (charts.length) charts.pop()!.destroy();
}

/** A vertical line at the chosen alpha. */
function chosenAlphaLine(alpha: number, colour: string): Plugin<'line'> {
  return {
    id: 'chosenAlpha',
    afterDraw(chart) {
      const x = chart.scales.x.getPixelForValue(alpha);
      const { top, bottom } = chart.chartArea;
      const ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = colour;
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, bottom);
      ctx.stroke();
      ctx.restore();
    },
  };
}

function alphaCurve(report: MdfReport, b: BehaviourResult, canvas: HTMLCanvasElement): Chart {
  const t = theme();
  const config: ChartConfiguration<'line', { x: number; y: number }[]> = {
    type: 'line',
    data: {
      datasets: [
        { label: 'base (alpha 0)', data: b.curve.map((p) => ({ x: p.alpha, y: p.base })), borderColor: t.base, backgroundColor: t.base, borderDash: [2, 2], yAxisID: 'y' },
        { label: 'predicted (signature)', data: b.curve.map((p) => ({ x: p.alpha, y: p.predicted })), borderColor: t.predicted, backgroundColor: t.predicted, yAxisID: 'y' },
        { label: 'control (random, equal norm)', data: b.curve.map((p) => ({ x: p.alpha, y: p.control })), borderColor: t.control, backgroundColor: t.control, yAxisID: 'y' },
        ...(b.curve.some((p) => p.neutral !== null)
          ? [{ label: 'control (neutral corpus, same format)', data: b.curve.map((p) => ({ x: p.alpha, y: p.neutral ?? 0 })), borderColor: t.neutral, backgroundColor: t.neutral, yAxisID: 'y' }]
          : []),
        { label: 'coherence: NLL rise (nats/token)', data: report.alpha.curve.map((p) => ({ x: p.alpha, y: p.nllDelta })), borderColor: t.coherence, backgroundColor: t.coherence, borderDash: [6, 3], yAxisID: 'nll' },
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      plugins: { legend: { labels: { color: t.fg } }, tooltip: { mode: 'nearest', intersect: false } },
      scales: {
        x: { type: 'linear', title: { display: true, text: "alpha (x each layer's typical residual norm)", color: t.fg }, ticks: { color: t.fg }, grid: { color: t.grid } },
        y: { title: { display: true, text: 'P(target answer) — log-probability twin', color: t.fg }, ticks: { color: t.fg }, grid: { color: t.grid } },
        nll: { position: 'right', title: { display: true, text: 'NLL rise', color: t.fg }, ticks: { color: t.fg }, grid: { drawOnChartArea: false } },
      },
    },
    plugins: [chosenAlphaLine(report.alpha.chosen, t.fg)],
  };
  return new Chart(canvas, config);
}

function shiftBars(report: MdfReport, canvas: HTMLCanvasElement): Chart {
  const t = theme();
  const top = [...report.behaviours].sort((a, b) => b.shift.value - a.shift.value).slice(0, 15);
  return new Chart(canvas, {
    type: 'bar',
    data: {
      labels: top.map((b) => b.key),
      datasets: [
        { label: 'shift, 95% interval', data: top.map((b) => [b.shift.low, b.shift.high] as [number, number]), backgroundColor: t.predicted, borderColor: t.predicted, borderWidth: 1, minBarLength: 2 },
        { label: 'random control shift, 95% interval', data: top.map((b) => [b.controlShift.low, b.controlShift.high] as [number, number]), backgroundColor: t.control, borderColor: t.control, borderWidth: 1, minBarLength: 2 },
        { label: 'neutral control shift, 95% interval', data: top.map((b) => (b.neutralShift ? ([b.neutralShift.low, b.neutralShift.high] as [number, number]) : null)), backgroundColor: t.neutral, borderColor: t.neutral, borderWidth: 1, minBarLength: 2 },
      ],
    },
    options: {
      animation: false,
      indexAxis: 'y',
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        legend: { labels: { color: t.fg } },
        tooltip: {
          callbacks: {
            label: (ctx) => {
              const b = top[ctx.dataIndex];
              const iv = [b.shift, b.controlShift, b.neutralShift][ctx.datasetIndex];
              return iv ? `${ctx.dataset.label}: ${pt(iv.value)} [${pt(iv.low)}, ${pt(iv.high)}]` : `${ctx.dataset.label}: none`;
            },
          },
        },
      },
      scales: {
        x: { title: { display: true, text: `shift at alpha ${report.alpha.chosen} (rate)`, color: t.fg }, ticks: { color: t.fg }, grid: { color: t.grid } },
        y: { ticks: { color: t.fg }, grid: { color: t.grid } },
      },
    },
  });
}

function render(view: MdfView): void {
  destroyCharts();
  const report = view.report;
  // a panel restored from a report of an older schema (before p-values and the neutral control)
  if (!report.statistics) {
    message('This report was made by an older version of Preflight. Re-run the forecast to see it with p-values and both controls.');
    return;
  }
  const selectedKey = state.selected && report.behaviours.some((b) => b.key === state.selected) ? state.selected : [...report.behaviours].sort((a, b) => b.shift.value - a.shift.value)[0]?.key;
  const selected = report.behaviours.find((b) => b.key === selectedKey);
  const root = document.createDocumentFragment();

  const header = el('header');
  header.append(el('h1', {}, `Behaviour forecast — ${view.fileName}`));
  // the bundled demo model (no preflight.model.path set): never let it pass for the user's base model
  if (report.model.isDefault) header.append(el('p', { class: 'demo-model', role: 'note' }, `Model: ${report.model.name ?? 'preflight-tiny'}, the bundled demo model, not your base model. Set preflight.model.path to the checkpoint you will fine-tune.`));
  header.append(
    el(
      'p',
      { class: 'muted' },
      `${report.file.used} of ${report.file.records} records (seed ${report.file.seed}) · ${report.model.family}, ${report.model.numLayers} layers, ${report.model.provider} · alpha ${report.alpha.chosen}: ${report.alpha.reason}${view.reused ? ' · reused from the cache (file and model unchanged)' : ''}`,
    ),
  );
  const rerun = el('button', { type: 'button' }, 'Re-run');
  rerun.addEventListener('click', () => vscode.postMessage({ type: 'rerun' }));
  header.append(rerun);
  header.append(el('p', { class: `risk risk-${report.summary.maxRisk}` }, `Max risk: ${report.summary.maxRisk.toUpperCase()}`));
  header.append(el('p', { class: 'muted' }, `Forecast ${report.summary.validation}.`));
  root.append(header);

  // behaviours table
  const section = el('section');
  section.append(el('h2', {}, 'Behaviours'));
  const table = el('table', { class: 'behaviours' });
  const head = el('tr');
  for (const h of ['behaviour', 'base', 'predicted', 'shift [95% CI]', 'random control', 'neutral control', 'p', 'p adj.', 'keyword filter', 'risk']) head.append(el('th', {}, h));
  table.append(head);
  for (const b of [...report.behaviours].sort((a, c) => c.shift.value - a.shift.value)) {
    const row = el('tr', { tabindex: '0', class: b.key === selectedKey ? 'selected' : '' });
    row.append(el('td', {}, b.key), el('td', {}, pct(b.base)), el('td', {}, pct(b.predicted)), el('td', {}, `${pt(b.shift.value)} [${pt(b.shift.low)}, ${pt(b.shift.high)}]`), el('td', {}, pt(b.controlShift.value)), el('td', {}, b.neutralShift ? pt(b.neutralShift.value) : '—'), el('td', {}, pval(b.pValue)), el('td', {}, pval(b.pAdjusted)), el('td', {}, b.keywordBaseline === null ? '—' : pct(b.keywordBaseline)));
    const risk = el('td');
    risk.append(el('span', { class: `risk risk-${b.risk}`, title: b.riskRule }, b.risk));
    row.append(risk);
    const choose = () => {
      state = { ...state, selected: b.key };
      vscode.setState(state);
      render(view);
    };
    row.addEventListener('click', choose);
    row.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && choose());
    table.append(row);
  }
  const scroll = el('div', { class: 'scroll' });
  scroll.append(table);
  section.append(scroll);
  section.append(el('p', { class: 'muted' }, `Rates by ${report.behaviours[0]?.primary === 'generation' ? `generation (${report.settings.samplesPerPrompt} samples per prompt)` : 'log-probability of the target answers'}; intervals: paired bootstrap over ${report.statistics.units} (${report.settings.bootstrap} resamples, seed ${report.settings.seed}); p: ${report.statistics.test}; p adj.: ${report.statistics.adjustment === 'holm' ? 'Holm' : report.statistics.adjustment} across the ${report.statistics.behaviours} behaviours. Click a row for its alpha curve and records.`));
  root.append(section);

  // alpha curve
  if (selected) {
    const curve = el('section');
    curve.append(el('h2', {}, `Alpha curve — ${selected.key}`));
    const box = el('div', { class: 'chart' });
    const canvas = el('canvas', { 'aria-label': `alpha curve of ${selected.key}`, role: 'img' });
    box.append(canvas);
    curve.append(box);
    curve.append(el('p', { class: 'muted' }, `Alpha rule: ${report.alpha.rule}. Risk: ${selected.riskRule}.`));
    root.append(curve);
    requestAnimationFrame(() => charts.push(alphaCurve(report, selected, canvas)));
  }

  // shift bars
  const bars = el('section');
  bars.append(el('h2', {}, 'Shifts with intervals (signature vs random control)'));
  const barBox = el('div', { class: 'chart tall' });
  const barCanvas = el('canvas', { 'aria-label': 'shift per behaviour with intervals', role: 'img' });
  barBox.append(barCanvas);
  bars.append(barBox);
  root.append(bars);
  requestAnimationFrame(() => charts.push(shiftBars(report, barCanvas)));

  // records
  const attribution = report.attribution.find((a) => a.behaviour === selectedKey) ?? report.attribution[0];
  const recs = el('section');
  recs.append(el('h2', {}, attribution ? `Records that drive the predicted shift of ${attribution.behaviour}` : 'Records'));
  let recordRows = 0;
  if (!attribution) recs.append(el('p', { class: 'muted' }, report.attributionNote ?? 'No attribution.'));
  else {
    recs.append(el('p', { class: 'muted' }, attribution.method));
    const rt = el('table', { class: 'records' });
    const rh = el('tr');
    for (const h of ['#', 'line', 'score', 'cluster', 'record']) rh.append(el('th', {}, h));
    rt.append(rh);
    attribution.records.slice(0, 25).forEach((r, i) => {
      const row = el('tr', { tabindex: '0', title: 'Reveal this record in the editor' });
      row.append(el('td', {}, String(i + 1)), el('td', {}, String(r.line)), el('td', {}, r.score.toExponential(2)), el('td', {}, String(r.cluster)), el('td', { class: 'preview' }, r.preview));
      const reveal = () => vscode.postMessage({ type: 'revealLine', line: r.line });
      row.addEventListener('click', reveal);
      row.addEventListener('keydown', (e) => e.key === 'Enter' && reveal());
      rt.append(row);
      recordRows++;
    });
    const recScroll = el('div', { class: 'scroll' });
    recScroll.append(rt);
    recs.append(recScroll);
    const clusters = el('p', { class: 'muted' }, `Clusters (size: shift when only that cluster's mean is injected): ${attribution.clusters.map((c) => `#${c.id} (${c.size}): ${pt(c.shift)}`).join(' · ')}`);
    recs.append(clusters);
  }
  root.append(recs);

  app.replaceChildren(root);
  requestAnimationFrame(() =>
    requestAnimationFrame(() =>
      vscode.postMessage({ type: 'rendered', summary: { charts: charts.length, behaviours: report.behaviours.length, records: recordRows, theme: theme().kind, selected: selectedKey ?? '' } }),
    ),
  );
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const msg = event.data;
  if (msg.type === 'show') {
    state = { ...msg.view, selected: state.selected };
    vscode.setState(state);
    render(msg.view);
  } else if (msg.type === 'busy') {
    if (!state.report) message(msg.message);
    else {
      const note = document.getElementById('busy') ?? el('p', { id: 'busy', class: 'muted' });
      note.textContent = msg.message;
      app.prepend(note);
    }
  } else if (msg.type === 'failed') message(msg.message, 'error');
});

// re-colour the charts when the theme changes
new MutationObserver(() => {
  if (state.report) render(state as MdfView);
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

if (state.report) render(state as MdfView);
vscode.postMessage({ type: 'ready' });
