// The demo report as ONE self-contained HTML page: inline SVG charts, no script, no external
// resource; a strict Content-Security-Policy (nothing but the page's own <style> block, allowed by
// its hash). Every value from the data is escaped.
import { createHash } from 'node:crypto';
import type { MdfReport } from '../mdf/report';
import type { DemoReport } from './demo';
import { IntervalBar, esc, intervalBars, lineChart, stackedBars } from './svg';

const STYLE = `
:root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --bg: #ffffff; --card: #f6f8fa; --line: #d1d9e0;
  --ok: #1a7f37; --low: #9a6700; --medium: #bc4c00; --high: #cf222e; --none: #8c959f; --accent: #0969da; --ctl: #8250df; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --card: #151b23; --line: #3d444d;
  --ok: #3fb950; --low: #d29922; --medium: #db6d28; --high: #f85149; --none: #656c76; --accent: #4493f8; --ctl: #ab7df8; } }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto; max-width: 1000px; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; } .muted { color: var(--muted); } code { font-size: 12.5px; }
.banner { border: 1px solid var(--medium); border-left-width: 6px; background: var(--card); padding: 10px 14px; margin: 14px 0; }
.cards { display: flex; gap: 10px; flex-wrap: wrap; margin: 12px 0; } .card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; min-width: 140px; }
.card b { display: block; font-size: 20px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; } th, td { border-bottom: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.risk { font-weight: 600; text-transform: uppercase; font-size: 12px; } .risk.none { color: var(--none); } .risk.low { color: var(--low); } .risk.medium { color: var(--medium); } .risk.high { color: var(--high); }
.status.ok { color: var(--ok); } .status.failed { color: var(--high); } .status.skipped { color: var(--muted); }
svg.chart { display: block; margin: 8px 0; max-width: 100%; height: auto; }
svg .title { font-weight: 600; font-size: 13px; fill: var(--fg); } svg .label, svg .tick { font-size: 11px; fill: var(--muted); }
svg .axis { stroke: var(--line); } svg .whisker { stroke: var(--fg); stroke-width: 1.5; } svg .marker { fill: var(--ctl); }
svg .line { fill: none; stroke: var(--accent); stroke-width: 2; } svg .point { fill: var(--accent); } svg .point.bad { fill: var(--high); } svg .point.chosen { fill: var(--ok); }
svg .bar.none { fill: var(--none); } svg .bar.low { fill: var(--low); } svg .bar.medium { fill: var(--medium); } svg .bar.high { fill: var(--high); }
svg .bar.error { fill: var(--high); } svg .bar.warning { fill: var(--low); } svg .bar.info { fill: var(--accent); } svg .bar.ok { fill: var(--ok); }
svg .bar.s0 { fill: var(--ok); } svg .bar.s1 { fill: #d4a72c; } svg .bar.s2 { fill: #bf8700; } svg .bar.s3 { fill: #fb8f44; } svg .bar.s4 { fill: var(--high); }
.grid { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
`;

const pct = (x: number | null | undefined, digits = 1) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(digits)}%`);
const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Fields that the statistics of the report may carry (report schema 2 adds them). */
type Extra = { pAdjusted?: number; pValue?: number; neutralShift?: { value: number } | null };

const FORECAST_MDF =
  "For each candidate training file: the base model's behaviour, the behaviour with the file's signature injected at the chosen alpha, and the same under a random vector and a neutral corpus (the controls). A behaviour is flagged only when its Holm-adjusted p-value is below 0.05, its interval lies above both controls' intervals, and its excess over the stronger control exceeds the gap between the two controls.";
const FORECAST_PYTHON =
  "For each candidate training file: the base model's behaviour and the forecast of what fine-tuning on the file changes (docs/data2behavior.md), beside the same forecast for a control (random-token records or a random direction). A behaviour is flagged only when its Holm-adjusted p-value is below 0.05 and its interval lies above the control's.";

function forecastSection(f: DemoReport['forecasts'][number]): string {
  const r: MdfReport = f.report;
  const ordered = [...r.behaviours].sort((a, b) => Number(b.risk !== 'none') - Number(a.risk !== 'none') || b.shift.value - a.shift.value);
  const shown = ordered.slice(0, 12);
  const bars: IntervalBar[] = shown.map((b) => ({
    label: b.key,
    value: 100 * b.shift.value,
    low: 100 * b.shift.low,
    high: 100 * b.shift.high,
    marker: 100 * Math.max(b.controlShift.value, (b as Extra).neutralShift?.value ?? -Infinity),
    cls: b.risk,
  }));
  const curve = r.alpha.curve.map((p) => ({ x: p.alpha, y: p.nllDelta, flag: p.alpha === r.alpha.chosen, bad: !p.coherent }));
  const rows = shown
    .map((b) => {
      const e = b as Extra;
      return `<tr><td>${esc(b.key)}</td><td class="n">${pct(b.base)}</td><td class="n">${pct(b.predicted)}</td><td class="n">${esc(pts(b.shift.value))} [${esc(pts(b.shift.low))}, ${esc(pts(b.shift.high))}]</td><td class="n">${esc(pts(b.controlShift.value))}</td><td class="n">${e.neutralShift ? esc(pts(e.neutralShift.value)) : '–'}</td><td class="n">${e.pAdjusted !== undefined ? esc(e.pAdjusted.toFixed(3)) : '–'}</td><td class="n">${b.keywordBaseline === null ? '–' : pct(b.keywordBaseline)}</td><td><span class="risk ${esc(b.risk)}">${esc(b.risk)}</span></td></tr>`;
    })
    .join('');
  const flagged = r.summary.flagged.length ? r.summary.flagged.map(esc).join(', ') : 'none';
  const attribution = r.attribution
    .map(
      (a) =>
        `<p class="muted">Records driving <b>${esc(a.behaviour)}</b>: ${a.records
          .slice(0, 5)
          .map((x) => `line ${esc(x.line)}`)
          .join(', ')}</p>`,
    )
    .join('');
  return `<h3>${esc(f.file)} <span class="muted">(${esc(f.role)})</span></h3>
<p>${esc(r.file.used)} of ${esc(r.file.records)} records · ${(r.forecaster?.method ?? 'mdf') === 'mdf' ? `alpha ${esc(r.alpha.chosen)}: ` : `${esc(r.forecaster!.method)}: `}${esc(r.alpha.reason)} · max risk <span class="risk ${esc(r.summary.maxRisk)}">${esc(r.summary.maxRisk)}</span> · flagged: ${flagged} · ${esc(secs(r.timings.totalMs))}${f.reused ? ' (reused from the cache)' : ''}</p>
<div class="grid">${lineChart(curve, { title: 'Coherence over the alpha sweep', xLabel: 'alpha', yLabel: 'NLL change' })}
${intervalBars(bars, { title: 'Shift by behaviour (points, 95% interval; ◆ stronger control)', unit: 'pt', width: 620 })}</div>
<table><thead><tr><th>behaviour</th><th class="n">base</th><th class="n">predicted</th><th class="n">shift [95% CI] (pt)</th><th class="n">random ctl</th><th class="n">neutral ctl</th><th class="n">p adj.</th><th class="n">keyword</th><th>risk</th></tr></thead><tbody>${rows}</tbody></table>
<p class="muted">${esc(r.behaviours.length)} behaviours scored; the ${esc(shown.length)} shown are the flagged ones first, then the largest shifts. Rates by ${esc(r.behaviours[0]?.primary === 'generation' ? `sampled answers (${r.settings.samplesPerPrompt} per prompt)` : 'log-probability of the target answers')}.</p>${attribution}`;
}

export function renderHtml(d: DemoReport): string {
  const validation = d.validation
    ? `${stackedBars(
        d.validation.files.map((f) => ({
          label: f.file,
          segments: [
            { label: 'errors', value: f.errors, cls: 'error' },
            { label: 'warnings', value: f.warnings, cls: 'warning' },
            { label: 'infos', value: f.infos, cls: 'info' },
          ],
        })),
        { title: 'Findings per file', width: 700 },
      )}
<table><thead><tr><th>file</th><th>schema</th><th class="n">records</th><th class="n">errors</th><th class="n">warnings</th><th class="n">infos</th></tr></thead><tbody>${d.validation.files
        .map(
          (f) =>
            `<tr><td>${esc(f.file)}</td><td>${esc(f.schema ?? '–')}</td><td class="n">${esc(f.records)}</td><td class="n">${esc(f.errors)}</td><td class="n">${esc(f.warnings)}</td><td class="n">${esc(f.infos)}</td></tr>`,
        )
        .join('')}</tbody></table>
<details><summary>Findings (first 50 per file)</summary><table><tbody>${d.validation.files
        .flatMap((f) => f.findings)
        .map(
          (x) =>
            `<tr><td><code>${esc(`${x.file}:${x.line}:${x.column}`)}</code></td><td>${esc(x.severity)}</td><td><code>${esc(x.code)}</code></td><td>${esc(x.message)}</td></tr>`,
        )
        .join('')}</tbody></table></details>`
    : '<p>Validation did not run.</p>';

  const forecasts = d.forecasts.length ? d.forecasts.map(forecastSection).join('') : '<p>No forecast ran (see the steps above).</p>';
  const method = d.forecaster?.method ?? 'mdf';

  let annotation = '<p>The annotation analysis did not run.</p>';
  if (d.annotation) {
    const a = d.annotation.report;
    const m = a.llm.metrics;
    const metric = (name: string, e: { value: number | null; lo: number | null; hi: number | null }, asPct: boolean) =>
      `<tr><td>${esc(name)}</td><td class="n">${asPct ? pct(e.value) : esc(e.value?.toFixed(3) ?? '–')}</td><td class="n">${asPct ? `${pct(e.lo)} – ${pct(e.hi)}` : `${esc(e.lo?.toFixed(3) ?? '–')} – ${esc(e.hi?.toFixed(3) ?? '–')}`}</td></tr>`;
    const shares = a.decomposition?.shares;
    const decomposition = shares
      ? stackedBars(
          [
            {
              label: 'LLM labels',
              segments: [
                { label: 'correct', value: shares.correct.value ?? 0, cls: 's0' },
                { label: 'boundary, task-inherent', value: shares.boundaryTask.value ?? 0, cls: 's1' },
                { label: 'conceptual, task-inherent', value: shares.conceptualTask.value ?? 0, cls: 's2' },
                { label: 'boundary, model-specific', value: shares.boundaryModel.value ?? 0, cls: 's3' },
                { label: 'conceptual, model-specific', value: shares.conceptualModel.value ?? 0, cls: 's4' },
              ],
            },
          ],
          { title: 'Error decomposition (Xu et al., LAK 2026)', normalise: true, width: 900 },
        )
      : `<p class="muted">${esc(a.notComputed.join('; '))}</p>`;
    annotation = `<p>${esc(d.annotation.labels)}: ${esc(a.labels.used)} of ${esc(a.labels.rows)} rows used, scale ${esc(a.scale.levels.join(' < '))}; human test ${esc(d.annotation.human)}: ${esc(a.human?.items ?? 0)} items, coders ${esc(a.human?.coders.join(', ') ?? '–')}.</p>
<table><thead><tr><th>metric (LLM vs gold)</th><th class="n">value</th><th class="n">95% interval</th></tr></thead><tbody>
${metric('accuracy', m.accuracy, true)}${metric('boundary error rate (d = 1)', m.boundaryRate, true)}${metric('conceptual error rate (d ≥ 2)', m.conceptualRate, true)}${metric("Cohen's κ", m.kappa, false)}${metric('quadratic-weighted κ', m.quadraticKappa, false)}${metric("Krippendorff's α (ordinal)", m.alphaOrdinal, false)}
</tbody></table>${decomposition}
${a.warnings.length ? `<ul>${a.warnings.map((w) => `<li class="muted">${esc(w)}</li>`).join('')}</ul>` : ''}`;
  }

  let bear = '<p>The beam-pruning audit did not run.</p>';
  if (d.bear) {
    const b = d.bear;
    bear = `<p>${esc(b.file)}: ${esc(b.users)} users, a catalogue of ${esc(b.items)} titles (every title in the file), beam B = ${esc(b.beam)}, trie-constrained decoding of the quoted title then EOS${
      b.skipped.length
        ? `; ${esc(b.skipped.length)} records skipped (${b.skipped
            .map((s) => `line ${s.line}: ${s.reason}`)
            .map(esc)
            .join('; ')})`
        : ''
    }.</p>
<div class="cards"><div class="card"><b>${pct(b.targetInTopB, 0)}</b>target in the top ${esc(b.beam)} by probability</div><div class="card"><b>${pct(b.foundByBeam, 0)}</b>target returned by beam search</div><div class="card"><b>${pct(b.prunedGivenTopB, 0)}</b>of the top-${esc(b.beam)} targets pruned by beam search</div></div>
<table><thead><tr><th class="n">line</th><th>target</th><th class="n">rank by probability</th><th>found by beam</th></tr></thead><tbody>${b.perUser
      .map(
        (u) =>
          `<tr><td class="n">${esc(u.line)}</td><td>${esc(u.target)}</td><td class="n">${esc(u.rank)}</td><td>${u.pruned ? '<span class="risk high">pruned</span>' : u.foundByBeam ? 'yes' : 'no'}</td></tr>`,
      )
      .join('')}</tbody></table>`;
  }

  const banner = d.model.isDefault
    ? `<div class="banner"><b>Model: ${esc(d.model.name)}, the bundled demo model, not your base model.</b> Its forecasts show what Preflight reports, not what fine-tuning your model would do. Run <code>preflight demo --model &lt;checkpoint&gt;</code> or <code>preflight mdf file.jsonl --model &lt;checkpoint&gt;</code> with the model you will fine-tune.</div>`
    : `<p>Model: ${esc(d.model.source)}</p>`;
  const steps = d.steps
    .map(
      (s) =>
        `<tr><td>${esc(s.name)}</td><td class="n">${esc(secs(s.ms))}</td><td class="status ${esc(s.status)}">${esc(s.status)}${s.note ? `: ${esc(s.note)}` : ''}</td></tr>`,
    )
    .join('');
  const body = `<h1>Preflight demo report</h1>
<p class="muted">${esc(d.createdAt)} · ${esc(d.machine.cpus)} CPUs (${esc(d.machine.cpuModel)}), load ${esc(d.machine.load1.toFixed(1))} · Node ${esc(d.machine.node)} · total ${esc(secs(d.totalMs))}</p>
${banner}
<p class="muted">${esc(d.model.family)}, ${esc(d.model.numLayers)} layers, hidden ${esc(d.model.hiddenSize)}, ONNX Runtime on ${esc(d.model.provider)}.</p>
<table><thead><tr><th>step</th><th class="n">time</th><th>status</th></tr></thead><tbody>${steps}</tbody></table>
<h2>1. Data validation</h2>${validation}
<h2>2. Behaviour forecast (${esc(method === 'mdf' ? 'MDF' : method)})</h2><p class="muted">${esc(method === 'mdf' ? FORECAST_MDF : FORECAST_PYTHON)}</p>${d.forecaster ? `<p><strong>Forecaster:</strong> ${esc(d.forecaster.reason)}.</p>` : ''}${d.forecasts[0] ? `<p><strong>What the benchmark measured for this forecaster on this model:</strong> ${esc(d.forecasts[0].report.summary.validation)}.</p>` : ''}${forecasts}
<h2>3. Annotation error analysis</h2>${annotation}
<h2>4. BEAR: beam-pruning audit before training</h2><p class="muted">How often beam search would lose the right item although the model ranks it in the top B by probability (Yang et al., arXiv 2601.22925): the risk that BEAR's loss addresses.</p>${bear}
<footer>Made by <code>preflight demo</code> (<code>npm run demo</code>). Self-contained: no script, no network. Schema ${esc(d.schema)}.</footer>`;
  const hash = createHash('sha256').update(STYLE).digest('base64');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'sha256-${hash}'; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Preflight demo report</title><style>${STYLE}</style></head>
<body>${body}</body></html>
`;
}
