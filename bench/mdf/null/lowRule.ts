// Re-judges the behaviours of real null reports (the behaviours.jsonl that run.ts writes) with the
// current risk rule (src/core/mdf/report.ts riskLevel) and prints the false-alarm rates at low and
// at medium or above, beside the rule the reports were made with, and the relative excesses that
// 'low' rests on (docs/mdf.md, section 6).
//
//   node --import tsx bench/mdf/null/lowRule.ts <data>/behaviours.jsonl [more.jsonl ...]
import { readFileSync } from 'node:fs';
import { DEFAULT_RISK, MetricResult, RiskLevel, atLeast, riskLevel } from '../../../src/core/mdf/report';

interface Row extends Pick<MetricResult, 'base' | 'shift' | 'controlShift' | 'neutralShift' | 'strongerControl'> {
  seed: number;
  key: string;
  pAdjusted: number;
  risk: RiskLevel;
}

const files = process.argv.slice(2);
if (!files.length) {
  console.error('usage: lowRule.ts <behaviours.jsonl> [...]');
  process.exit(2);
}
// one report per (file, seed)
const reports = new Map<string, { recorded: RiskLevel[]; now: RiskLevel[] }>();
const cleared: { key: string; seed: number; relative: number; excessPt: number }[] = [];
for (const file of files) {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as Row;
    const id = `${file}:${row.seed}`;
    const entry = reports.get(id) ?? { recorded: [], now: [] };
    reports.set(id, entry);
    const now = riskLevel(row, row.pAdjusted, DEFAULT_RISK);
    entry.recorded.push(row.risk);
    entry.now.push(now.risk);
    // behaviours that cleared conditions (1)-(3): what 'low' used to rest on alone
    if (row.risk !== 'none') {
      const stronger = row.strongerControl === 'neutral' && row.neutralShift ? row.neutralShift : row.controlShift;
      const excess = row.shift.value - Math.max(0, stronger.value);
      cleared.push({ key: row.key, seed: row.seed, relative: excess / (row.base + Math.max(0, stronger.value)), excessPt: 100 * excess });
    }
  }
}
const share = (pick: (r: { recorded: RiskLevel[]; now: RiskLevel[] }) => RiskLevel[], level: RiskLevel) =>
  [...reports.values()].filter((r) => pick(r).some((x) => atLeast(x, level))).length;
const n = reports.size;
const line = (label: string, k: number) => `${label}: ${k}/${n} (${((100 * k) / Math.max(1, n)).toFixed(1)}%)`;
console.log(`${n} null reports, ${[...reports.values()].reduce((s, r) => s + r.now.length, 0)} behaviours`);
console.log(
  line(
    '  low or above, as recorded',
    share((r) => r.recorded, 'low'),
  ),
);
console.log(
  line(
    '  low or above, current rule',
    share((r) => r.now, 'low'),
  ),
);
console.log(
  line(
    '  medium or above, as recorded',
    share((r) => r.recorded, 'medium'),
  ),
);
console.log(
  line(
    '  medium or above, current rule',
    share((r) => r.now, 'medium'),
  ),
);
if (cleared.length) {
  const rel = cleared.map((c) => c.relative).sort((a, b) => a - b);
  const keys = [...new Set(cleared.map((c) => c.key))].join(', ');
  console.log(
    `  behaviours that cleared the p-value, interval and gap conditions: ${cleared.length} (${keys}); excess ${Math.min(...cleared.map((c) => c.excessPt)).toFixed(2)}-${Math.max(...cleared.map((c) => c.excessPt)).toFixed(2)} pt, ${(100 * rel[0]).toFixed(2)}-${(100 * rel[rel.length - 1]).toFixed(2)}% of the reference rate`,
  );
}
