// Collects findings for one file: counts every finding by severity, keeps at most maxFindings,
// and closes with one summary finding that says how many more there were.
import { Finding, SafeFix, Severity } from './types';

export class FindingCollector {
  readonly findings: Finding[] = [];
  errors = 0;
  warnings = 0;
  infos = 0;
  dropped = 0;
  readonly byCode: Record<string, number> = {};

  constructor(
    readonly file: string,
    readonly maxFindings: number,
  ) {}

  add(line: number, column: number, endLine: number, endColumn: number, severity: Severity, code: string, message: string, fix?: SafeFix): void {
    if (severity === 'error') this.errors++;
    else if (severity === 'warning') this.warnings++;
    else this.infos++;
    this.byCode[code] = (this.byCode[code] ?? 0) + 1;
    if (this.findings.length >= this.maxFindings) {
      this.dropped++;
      return;
    }
    const finding: Finding = { file: this.file, line, column, endLine, endColumn, severity, code, message };
    if (fix) finding.fix = fix;
    this.findings.push(finding);
  }

  /**
   * Counts findings that another collector (a worker thread's, for a later part of the file)
   * dropped beyond the cap: they come after at least maxFindings others, so they are dropped here too.
   */
  countDropped(errors: number, warnings: number, infos: number, byCode: Record<string, number>): void {
    this.errors += errors;
    this.warnings += warnings;
    this.infos += infos;
    let n = 0;
    for (const [code, count] of Object.entries(byCode)) {
      if (count === 0) continue;
      this.byCode[code] = (this.byCode[code] ?? 0) + count;
      n += count;
    }
    this.dropped += n;
  }

  get truncated(): boolean {
    return this.dropped > 0;
  }

  /** Findings in file order, plus the truncation notice when findings were dropped. */
  finish(): Finding[] {
    this.findings.sort((a, b) => a.line - b.line || a.column - b.column);
    if (this.dropped > 0) {
      const last = this.findings.length ? this.findings[this.findings.length - 1] : undefined;
      const line = last ? last.line : 1;
      this.findings.push({
        file: this.file,
        line,
        column: 1,
        endLine: line,
        endColumn: 1,
        severity: 'info',
        code: 'findings-truncated',
        message: `${this.dropped} more finding(s) not shown (limit ${this.maxFindings}; raise it with maxFindings / --max-findings); the summary counts all of them`,
      });
    }
    return this.findings;
  }
}
