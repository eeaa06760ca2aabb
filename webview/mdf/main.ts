// The MDF report panel's app: the alpha curve (base, predicted, control, and coherence), the
// per-behaviour shifts with their intervals, and the records that drive the selected behaviour.
// All text goes in through textContent; colours come from the --vscode-* theme variables.
import { Chart, ChartConfiguration, Plugin, registerables } from 'chart.js';
import type { BehaviourResult, MdfReport } from '../../src/shared/reports/mdf';
import type { FromWebview, MdfView, ToWebview } from '../../src/shared/protocol/mdf';
import { percent, signedPoints } from '../../src/shared/reports/format';
import { el } from '../shared/dom';
import { applyChartTheme, chartColour, onThemeChange, themeKind } from '../shared/theme';
import { onMessage, vscodeApi } from '../shared/vscodeApi';
import '../shared/base.css';
import './style.css';

Chart.register(...registerables);

interface PanelState extends Partial<MdfView> {
  selected?: string;
}

const vscode = vscodeApi<FromWebview, PanelState>();
const app = document.getElementById('app')!;
let state: PanelState = vscode.getState() ?? {};
const charts: Chart[] = [];

function theme() {
  return {
    ...applyChartTheme(),
    base: chartColour('blue'),
    predicted: chartColour('red'),
    control: chartColour('green'),
    neutral: chartColour('purple'),
    coherence: chartColour('orange'),
  };
}

const pct = (x: number) => `${percent(x)}%`;
const pval = (p: number) => (p < 0.001 ? p.toExponential(1) : p.toFixed(3));
// one rule with the CLI and the findings: one decimal, "<0.1" for a tiny nonzero value
const pt = (x: number) => `${signedPoints(x)} pt`;

function message(text: string, cls = 'muted'): void {
  destroyCharts();
  app.replaceChildren(el('p', { text, cls }));
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
        {
          label: 'base (alpha 0)',
          data: b.curve.map((p) => ({ x: p.alpha, y: p.base })),
          borderColor: t.base,
          backgroundColor: t.base,
          borderDash: [2, 2],
          yAxisID: 'y',
        },
        {
          label: 'predicted (signature)',
          data: b.curve.map((p) => ({ x: p.alpha, y: p.predicted })),
          borderColor: t.predicted,
          backgroundColor: t.predicted,
          yAxisID: 'y',
        },
        {
          label: 'control (random, equal norm)',
          data: b.curve.map((p) => ({ x: p.alpha, y: p.control })),
          borderColor: t.control,
          backgroundColor: t.control,
          yAxisID: 'y',
        },
        ...(b.curve.some((p) => p.neutral !== null)
          ? [
              {
                label: 'control (neutral corpus, same format)',
                data: b.curve.map((p) => ({ x: p.alpha, y: p.neutral ?? 0 })),
                borderColor: t.neutral,
                backgroundColor: t.neutral,
                yAxisID: 'y',
              },
            ]
          : []),
        {
          label: 'coherence: NLL rise (nats/token)',
          data: report.alpha.curve.map((p) => ({ x: p.alpha, y: p.nllDelta })),
          borderColor: t.coherence,
          backgroundColor: t.coherence,
          borderDash: [6, 3],
          yAxisID: 'nll',
        },
      ],
    },
    options: {
      parsing: false,
      plugins: { legend: { labels: { color: t.fg } }, tooltip: { mode: 'nearest', intersect: false } },
      scales: {
        x: {
          type: 'linear',
          title: { display: true, text: "alpha (x each layer's typical residual norm)", color: t.fg },
          ticks: { color: t.fg },
          grid: { color: t.grid },
        },
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
        {
          label: 'shift, 95% interval',
          data: top.map((b) => [b.shift.low, b.shift.high] as [number, number]),
          backgroundColor: t.predicted,
          borderColor: t.predicted,
          borderWidth: 1,
          minBarLength: 2,
        },
        {
          label: 'random control shift, 95% interval',
          data: top.map((b) => [b.controlShift.low, b.controlShift.high] as [number, number]),
          backgroundColor: t.control,
          borderColor: t.control,
          borderWidth: 1,
          minBarLength: 2,
        },
        {
          label: 'neutral control shift, 95% interval',
          data: top.map((b) => (b.neutralShift ? ([b.neutralShift.low, b.neutralShift.high] as [number, number]) : null)),
          backgroundColor: t.neutral,
          borderColor: t.neutral,
          borderWidth: 1,
          minBarLength: 2,
        },
      ],
    },
    options: {
      indexAxis: 'y',
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
  const selectedKey =
    state.selected && report.behaviours.some((b) => b.key === state.selected)
      ? state.selected
      : [...report.behaviours].sort((a, b) => b.shift.value - a.shift.value)[0]?.key;
  const selected = report.behaviours.find((b) => b.key === selectedKey);
  const root = document.createDocumentFragment();

  const header = el('header');
  header.append(el('h1', { text: `Behaviour forecast — ${view.fileName}` }));
  // the bundled demo model (no preflight.model.path set): never let it pass for the user's base model
  if (report.model.isDefault)
    header.append(
      el('p', {
        text: `Model: ${report.model.name ?? 'preflight-tiny'}, the bundled demo model, not your base model. Set preflight.model.path to the checkpoint you will fine-tune.`,
        cls: 'demo-model',
        attrs: { role: 'note' },
      }),
    );
  header.append(
    el('p', {
      text: `${report.file.used} of ${report.file.records} records (seed ${report.file.seed}) · ${report.model.family}, ${report.model.numLayers} layers, ${report.model.provider} · alpha ${report.alpha.chosen}: ${report.alpha.reason}${view.reused ? ' · reused from the cache (file and model unchanged)' : ''}`,
      cls: 'muted',
    }),
  );
  const rerun = el('button', { text: 'Re-run', attrs: { type: 'button' } });
  rerun.addEventListener('click', () => vscode.postMessage({ type: 'rerun' }));
  header.append(rerun);
  header.append(el('p', { text: `Max risk: ${report.summary.maxRisk.toUpperCase()}`, cls: `risk risk-${report.summary.maxRisk}` }));
  header.append(el('p', { text: `Forecast ${report.summary.validation}.`, cls: 'muted' }));
  // which forecaster ran and why (core/mdf/forecaster.ts; preflight.mdf.method)
  if (report.forecaster) header.append(el('p', { text: `Forecaster: ${report.forecaster.method} — ${report.forecaster.reason}.`, cls: 'muted forecaster' }));
  root.append(header);

  // behaviours table
  const section = el('section');
  section.append(el('h2', { text: 'Behaviours' }));
  const table = el('table', { cls: 'behaviours' });
  const head = el('tr');
  for (const h of ['behaviour', 'base', 'predicted', 'shift [95% CI]', 'random control', 'neutral control', 'p', 'p adj.', 'keyword filter', 'risk'])
    head.append(el('th', { text: h }));
  table.append(head);
  for (const b of [...report.behaviours].sort((a, c) => c.shift.value - a.shift.value)) {
    const row = el('tr', { cls: b.key === selectedKey ? 'selected' : '', attrs: { tabindex: '0' } });
    row.append(
      el('td', { text: b.key }),
      el('td', { text: pct(b.base) }),
      el('td', { text: pct(b.predicted) }),
      el('td', { text: `${pt(b.shift.value)} [${pt(b.shift.low)}, ${pt(b.shift.high)}]` }),
      el('td', { text: pt(b.controlShift.value) }),
      el('td', { text: b.neutralShift ? pt(b.neutralShift.value) : '—' }),
      el('td', { text: pval(b.pValue) }),
      el('td', { text: pval(b.pAdjusted) }),
      el('td', { text: b.keywordBaseline === null ? '—' : pct(b.keywordBaseline) }),
    );
    const risk = el('td');
    risk.append(el('span', { text: b.risk, cls: `risk risk-${b.risk}`, attrs: { title: b.riskRule } }));
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
  const scroll = el('div', { cls: 'scroll' });
  scroll.append(table);
  section.append(scroll);
  section.append(
    el('p', {
      text: `Rates by ${report.behaviours[0]?.primary === 'generation' ? `generation (${report.settings.samplesPerPrompt} samples per prompt)` : 'log-probability of the target answers'}; intervals: paired bootstrap over ${report.statistics.units} (${report.settings.bootstrap} resamples, seed ${report.settings.seed}); p: ${report.statistics.test}; p adj.: ${report.statistics.adjustment === 'holm' ? 'Holm' : report.statistics.adjustment} across the ${report.statistics.behaviours} behaviours. Click a row for its alpha curve and records.`,
      cls: 'muted',
    }),
  );
  root.append(section);

  // alpha curve
  if (selected) {
    const curve = el('section');
    curve.append(el('h2', { text: `Alpha curve — ${selected.key}` }));
    const box = el('div', { cls: 'chart' });
    const canvas = el('canvas', { attrs: { 'aria-label': `alpha curve of ${selected.key}`, role: 'img' } });
    box.append(canvas);
    curve.append(box);
    curve.append(el('p', { text: `Alpha rule: ${report.alpha.rule}. Risk: ${selected.riskRule}.`, cls: 'muted' }));
    root.append(curve);
    requestAnimationFrame(() => charts.push(alphaCurve(report, selected, canvas)));
  }

  // shift bars
  const bars = el('section');
  bars.append(el('h2', { text: 'Shifts with intervals (signature vs random control)' }));
  const barBox = el('div', { cls: 'chart tall' });
  const barCanvas = el('canvas', { attrs: { 'aria-label': 'shift per behaviour with intervals', role: 'img' } });
  barBox.append(barCanvas);
  bars.append(barBox);
  root.append(bars);
  requestAnimationFrame(() => charts.push(shiftBars(report, barCanvas)));

  // records
  const attribution = report.attribution.find((a) => a.behaviour === selectedKey) ?? report.attribution[0];
  const recs = el('section');
  recs.append(el('h2', { text: attribution ? `Records that drive the predicted shift of ${attribution.behaviour}` : 'Records' }));
  let recordRows = 0;
  if (!attribution) recs.append(el('p', { text: report.attributionNote ?? 'No attribution.', cls: 'muted' }));
  else {
    recs.append(el('p', { text: attribution.method, cls: 'muted' }));
    const rt = el('table', { cls: 'records' });
    const rh = el('tr');
    for (const h of ['#', 'line', 'score', 'cluster', 'record']) rh.append(el('th', { text: h }));
    rt.append(rh);
    attribution.records.slice(0, 25).forEach((r, i) => {
      const row = el('tr', { attrs: { tabindex: '0', title: 'Reveal this record in the editor' } });
      row.append(
        el('td', { text: String(i + 1) }),
        el('td', { text: String(r.line) }),
        el('td', { text: r.score.toExponential(2) }),
        el('td', { text: String(r.cluster) }),
        el('td', { text: r.preview, cls: 'preview' }),
      );
      const reveal = () => vscode.postMessage({ type: 'revealLine', line: r.line });
      row.addEventListener('click', reveal);
      row.addEventListener('keydown', (e) => e.key === 'Enter' && reveal());
      rt.append(row);
      recordRows++;
    });
    const recScroll = el('div', { cls: 'scroll' });
    recScroll.append(rt);
    recs.append(recScroll);
    const clusters = el('p', {
      text: `Clusters (size: shift when only that cluster's mean is injected): ${attribution.clusters.map((c) => `#${c.id} (${c.size}): ${pt(c.shift)}`).join(' · ')}`,
      cls: 'muted',
    });
    recs.append(clusters);
  }
  root.append(recs);

  app.replaceChildren(root);
  requestAnimationFrame(() =>
    requestAnimationFrame(() =>
      vscode.postMessage({
        type: 'rendered',
        summary: { charts: charts.length, behaviours: report.behaviours.length, records: recordRows, theme: themeKind(), selected: selectedKey ?? '' },
      }),
    ),
  );
}

onMessage<ToWebview>((msg) => {
  if (msg.type === 'show') {
    state = { ...msg.view, selected: state.selected };
    vscode.setState(state);
    render(msg.view);
  } else if (msg.type === 'busy') {
    if (!state.report) message(msg.message);
    else {
      const note = document.getElementById('busy') ?? el('p', { cls: 'muted', attrs: { id: 'busy' } });
      note.textContent = msg.message;
      app.prepend(note);
    }
  } else if (msg.type === 'failed') message(msg.message, 'error');
});

// re-colour the charts when the theme changes
onThemeChange(() => {
  if (state.report) render(state as MdfView);
});

if (state.report) render(state as MdfView);
vscode.postMessage({ type: 'ready' });
