// The readable table `preflight annotate` prints by default.
import { AnnotationReport, Estimate, MetricName, RaterReport, ShareName } from './types';

const SHARE_LABELS: Record<ShareName, string> = {
  correct: 'correct',
  boundaryTask: 'boundary error, task-inherent',
  conceptualTask: 'conceptual error, task-inherent',
  boundaryModel: 'boundary error, model-specific',
  conceptualModel: 'conceptual error, model-specific',
};

const METRIC_LABELS: Array<[MetricName, string, 'pct' | 'num']> = [
  ['accuracy', 'accuracy', 'pct'],
  ['boundaryRate', 'boundary rate AER (d=1)', 'pct'],
  ['conceptualRate', 'conceptual rate CRI (d>=2)', 'pct'],
  ['severityWeightedError', 'severity-weighted error', 'num'],
  ['boundaryBias', 'boundary bias index', 'num'],
  ['signedShift', 'signed mean shift (steps)', 'num'],
  ['kappa', "Cohen's kappa", 'num'],
  ['quadraticKappa', 'quadratic-weighted kappa', 'num'],
  ['alphaNominal', "Krippendorff's alpha nominal", 'num'],
  ['alphaOrdinal', "Krippendorff's alpha ordinal", 'num'],
  ['alphaInterval', "Krippendorff's alpha interval", 'num'],
];

function num(x: number | null, kind: 'pct' | 'num'): string {
  if (x === null) return '—';
  return kind === 'pct' ? `${(100 * x).toFixed(2)}%` : x.toFixed(3);
}

export function formatEstimate(e: Estimate, kind: 'pct' | 'num'): string {
  const value = num(e.value, kind);
  if (e.lo === null || e.hi === null) return value;
  const strip = (s: string) => s.replace('%', '');
  return `${value} [${strip(num(e.lo, kind))}, ${strip(num(e.hi, kind))}]`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd(),
  );
}

function matrix(report: RaterReport, levels: string[], title: string): string[] {
  const rows = [[`${title}`, ...levels]];
  report.confusion.forEach((row, g) => rows.push([levels[g], ...row.map(String)]));
  return table(rows).map((line) => `  ${line}`);
}

export function formatReport(report: AnnotationReport, maxFindings = 20): string {
  const out: string[] = [];
  const { labels, scale } = report;
  const conf = Math.round(report.bootstrap.confidence * 100);
  out.push(`Annotation error analysis — ${labels.file}`);
  out.push(`Scale (${scale.name ?? scale.source}, ${scale.levels.length} levels): ${scale.levels.join(' < ')}`);
  out.push(`Rows: ${labels.rows} (${labels.used} used; ${labels.missing} missing labels; ${labels.offScale} off the scale)`);
  const cols = labels.columns;
  out.push(`Columns: gold=${cols.gold}  llm=${cols.llm}${cols.id ? `  id=${cols.id}` : ''}${cols.groups.length ? `  groups=${cols.groups.join(',')}` : ''}`);
  if (report.human) {
    const h = report.human;
    out.push(
      `Human test: ${h.files.join(', ')} (${h.format}), ${h.items} items, coders ${h.coders.join(', ')}; gold from ${h.goldSource === 'gold-rows' ? 'its gold rows' : 'the labels file'}`,
    );
  }
  out.push(
    report.bootstrap.resamples > 0
      ? `Intervals: ${conf}% percentile bootstrap, ${report.bootstrap.resamples} resamples, seed ${report.bootstrap.seed}`
      : 'Intervals: none (--bootstrap 0)',
  );
  out.push('');
  if (report.decomposition) {
    const d = report.decomposition;
    out.push('Decomposition of the LLM labels (Xu et al., LAK 2026)');
    out.push(...table((Object.keys(SHARE_LABELS) as ShareName[]).map((name) => [`  ${SHARE_LABELS[name]}`, formatEstimate(d.shares[name], 'pct')])));
    out.push(
      `  task-inherent fraction of errors: boundary ${formatEstimate(d.taskFraction.boundary, 'pct')}, conceptual ${formatEstimate(d.taskFraction.conceptual, 'pct')}`,
    );
    out.push(
      `  inputs: M_AER ${num(d.inputs.mBoundary, 'pct')}, M_CRI ${num(d.inputs.mConceptual, 'pct')}, H_AER ${num(d.inputs.hBoundary, 'pct')}, H_CRI ${num(d.inputs.hConceptual, 'pct')}`,
    );
    out.push('');
  }
  const raters: RaterReport[] = [report.llm, ...(report.human ? [report.human.pooled, ...report.human.perCoder] : [])];
  out.push('Metrics vs gold');
  out.push(
    ...table([
      ['  metric', ...raters.map((r) => `${r.name} (n=${r.n})`)],
      ...METRIC_LABELS.map(([key, label, kind]) => [`  ${label}`, ...raters.map((r) => formatEstimate(r.metrics[key], kind))]),
    ]),
  );
  out.push('');
  if (report.human) {
    const a = report.human.agreement;
    out.push(
      `Agreement among coders (${a.coders} coders, ${a.units} items): Krippendorff's alpha nominal ${formatEstimate(a.alphaNominal, 'num')}, ordinal ${formatEstimate(a.alphaOrdinal, 'num')}, interval ${formatEstimate(a.alphaInterval, 'num')}`,
    );
    for (const pair of report.human.pairs)
      out.push(`  ${pair.name}: kappa ${formatEstimate(pair.metrics.kappa, 'num')}, QWK ${formatEstimate(pair.metrics.quadraticKappa, 'num')}`);
    out.push('');
  }
  out.push('Confusion matrix (rows gold, columns LLM)');
  out.push(...matrix(report.llm, scale.levels, 'gold \\ llm'));
  out.push('');
  out.push('LLM error direction per gold level');
  out.push(
    ...table([
      ['  level', 'n', 'correct', 'bnd up', 'bnd down', 'concept up', 'concept down', 'mean shift', 'precision', 'recall', 'F1'],
      ...report.llm.levels.map((l) => [
        `  ${l.level}`,
        String(l.gold),
        String(l.correct),
        String(l.boundaryUp),
        String(l.boundaryDown),
        String(l.conceptualUp),
        String(l.conceptualDown),
        num(l.meanShift, 'num'),
        num(l.precision, 'num'),
        num(l.recall, 'num'),
        num(l.f1, 'num'),
      ]),
    ]),
  );
  if (report.groups.length) {
    out.push('');
    out.push('By group');
    const head = ['  group', 'n', 'accuracy', 'AER', 'CRI', 'shift', 'QWK'];
    if (report.decomposition) head.push('bnd task', 'cpt task', 'bnd model', 'cpt model');
    const rows = report.groups.map((g) => {
      const m = g.rater.metrics;
      const row = [
        `  ${g.column}=${g.value}`,
        String(g.rater.n),
        num(m.accuracy.value, 'pct'),
        num(m.boundaryRate.value, 'pct'),
        num(m.conceptualRate.value, 'pct'),
        num(m.signedShift.value, 'num'),
        num(m.quadraticKappa.value, 'num'),
      ];
      if (g.decomposition) {
        const s = g.decomposition.shares;
        row.push(num(s.boundaryTask.value, 'pct'), num(s.conceptualTask.value, 'pct'), num(s.boundaryModel.value, 'pct'), num(s.conceptualModel.value, 'pct'));
      }
      return row;
    });
    out.push(...table([head, ...rows]));
  }
  const warnings = [...report.warnings, ...(report.decomposition?.warnings ?? [])];
  if (warnings.length) {
    out.push('');
    out.push('Warnings');
    for (const w of warnings) out.push(`  ! ${w}`);
  }
  if (report.findings.length) {
    out.push('');
    out.push(`Findings (${report.findings.length + report.findingsOmitted})`);
    for (const f of report.findings.slice(0, maxFindings)) out.push(`  ${f.file}:${f.line}: ${f.severity} ${f.code}: ${f.message}`);
    const more = report.findings.length + report.findingsOmitted - Math.min(maxFindings, report.findings.length);
    if (more > 0) out.push(`  … ${more} more (--json lists up to 1000)`);
  }
  if (report.notComputed.length) {
    out.push('');
    out.push('Not computed');
    for (const n of report.notComputed) out.push(`  - ${n}`);
  }
  return `${out.join('\n')}\n`;
}
