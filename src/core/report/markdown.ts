// The demo report's Markdown summary: the figures of each step in a few lines and tables (for a CI
// job summary or a pull request), beside the HTML page that has the charts.
import type { DemoReport } from './demo';

const pct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)}%`);
const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
/** Markdown table cells: no pipes or newlines from the data */
const cell = (s: unknown) =>
  String(s)
    .replace(/\|/g, '\\|')
    .replace(/\s*\n\s*/g, ' ');

export function renderMarkdown(d: DemoReport): string {
  const out: string[] = [];
  out.push('# Preflight demo report', '');
  out.push(
    `${d.createdAt} · ${d.machine.cpus} CPUs, load ${d.machine.load1.toFixed(1)} · Node ${d.machine.node} · total ${(d.totalMs / 1000).toFixed(1)} s`,
    '',
  );
  if (d.model.isDefault) out.push(`> **Model: ${d.model.name}, the bundled demo model, not your base model.** Pass \`--model <checkpoint>\` for yours.`, '');
  else out.push(`Model: ${cell(d.model.source)}`, '');
  out.push('| step | time | status |', '|---|---:|---|');
  for (const s of d.steps) out.push(`| ${cell(s.name)} | ${(s.ms / 1000).toFixed(1)} s | ${s.status}${s.note ? `: ${cell(s.note)}` : ''} |`);
  out.push('');
  if (d.validation) {
    out.push('## Data validation', '', '| file | records | errors | warnings | infos |', '|---|---:|---:|---:|---:|');
    for (const f of d.validation.files) out.push(`| ${cell(f.file)} | ${f.records} | ${f.errors} | ${f.warnings} | ${f.infos} |`);
    out.push('');
  }
  if (d.forecasts.length) {
    const method = d.forecaster?.method ?? 'mdf';
    out.push(`## Behaviour forecast (${method === 'mdf' ? 'MDF' : method})`, '');
    if (d.forecaster) out.push(`Forecaster: ${cell(d.forecaster.reason)}.`, '');
    const validation = d.forecasts[0]?.report.summary.validation;
    if (validation) out.push(`What the benchmark measured for this forecaster on this model: ${cell(validation)}.`, '');
    for (const f of d.forecasts) {
      const r = f.report;
      out.push(
        `### ${cell(f.file)} (${f.role})`,
        '',
        `${method === 'mdf' ? `alpha ${r.alpha.chosen}; ` : ''}max risk **${r.summary.maxRisk}**${r.summary.flagged.length ? ` (${r.summary.flagged.join(', ')})` : ''}`,
        '',
      );
      // both controls, as the HTML report and the panel show them: the risk is judged against the stronger
      out.push('| behaviour | base | predicted | shift [95% CI] (pt) | random ctl (pt) | neutral ctl (pt) | risk |', '|---|---:|---:|---|---:|---:|---|');
      const top = [...r.behaviours].sort((a, b) => Number(b.risk !== 'none') - Number(a.risk !== 'none') || b.shift.value - a.shift.value).slice(0, 5);
      for (const b of top)
        out.push(
          `| ${cell(b.key)} | ${pct(b.base)} | ${pct(b.predicted)} | ${pts(b.shift.value)} [${pts(b.shift.low)}, ${pts(b.shift.high)}] | ${pts(b.controlShift.value)} | ${b.neutralShift ? pts(b.neutralShift.value) : '–'} | ${b.risk} |`,
        );
      out.push('');
    }
  }
  if (d.annotation) {
    const a = d.annotation.report;
    const s = a.decomposition?.shares;
    out.push('## Annotation error analysis', '');
    out.push(
      `${a.labels.used} rows; accuracy ${pct(a.llm.metrics.accuracy.value)} [${pct(a.llm.metrics.accuracy.lo)}, ${pct(a.llm.metrics.accuracy.hi)}]; quadratic κ ${a.llm.metrics.quadraticKappa.value?.toFixed(3) ?? '–'}; human test of ${a.human?.items ?? 0} items.`,
    );
    if (s)
      out.push(
        '',
        `Decomposition: correct ${pct(s.correct.value)}, boundary task-inherent ${pct(s.boundaryTask.value)}, conceptual task-inherent ${pct(s.conceptualTask.value)}, boundary model-specific ${pct(s.boundaryModel.value)}, conceptual model-specific ${pct(s.conceptualModel.value)}.`,
      );
    out.push('');
  }
  if (d.bear) {
    const b = d.bear;
    out.push(
      '## BEAR beam-pruning audit',
      '',
      `${b.users} users, ${b.items} titles, B = ${b.beam}: target in the top ${b.beam} by probability for ${pct(b.targetInTopB)}; found by beam search for ${pct(b.foundByBeam)}; of the top-${b.beam} targets, ${pct(b.prunedGivenTopB)} pruned by beam search.`,
      '',
    );
  }
  return `${out.join('\n')}\n`;
}
