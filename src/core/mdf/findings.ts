// Inline findings from a report: the top-attributed records of each attributed behaviour, as
// plain data the extension turns into diagnostics (and any other front end into its own marks).
import type { MdfReport } from './report';
import { signedPoints } from '../../shared/reports/format';

export interface MdfRecordFinding {
  /** 1-based line of the record */
  line: number;
  severity: 'info' | 'warning';
  behaviour: string;
  message: string;
}

/**
 * Up to `perBehaviour` records with a positive score per attributed behaviour; a warning where the
 * behaviour's risk is medium or high, information otherwise. One finding per line (the strongest).
 */
export function recordFindings(report: MdfReport, perBehaviour = 10): MdfRecordFinding[] {
  const byLine = new Map<number, MdfRecordFinding & { rank: number }>();
  for (const a of report.attribution) {
    const b = report.behaviours.find((x) => x.key === a.behaviour);
    if (!b) continue;
    const severity = b.risk === 'medium' || b.risk === 'high' ? 'warning' : 'info';
    const shift = `${signedPoints(b.shift.value)} pt`;
    a.records
      .filter((r) => r.score > 0)
      .slice(0, perBehaviour)
      .forEach((r, rank) => {
        const finding = {
          line: r.line,
          severity,
          behaviour: b.key,
          rank,
          message: `MDF: this record is #${rank + 1} among the records that drive the predicted shift of "${b.label}" (${b.key}; predicted shift ${shift}, risk ${b.risk}; cluster ${r.cluster}).`,
        } as const;
        const existing = byLine.get(r.line);
        if (!existing || (existing.severity === 'info' && severity === 'warning') || (existing.severity === severity && rank < existing.rank))
          byLine.set(r.line, finding);
      });
  }
  return [...byLine.values()].sort((x, y) => x.line - y.line).map(({ rank: _rank, ...f }) => f);
}
