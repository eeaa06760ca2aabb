// One rule for a forecast's rates and shifts in the panel, the CLI and the findings
// (src/shared/reports/format.ts): one decimal; a nonzero value below what one decimal shows, "<0.1".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { percent, signedPoints } from '../../../src/shared/reports/format';

test('shifts in points: one decimal, signed, "<0.1" for tiny nonzero ones', () => {
  assert.equal(signedPoints(0.034), '+3.4');
  assert.equal(signedPoints(-0.005), '-0.5');
  assert.equal(signedPoints(0.000012), '+<0.1');
  assert.equal(signedPoints(-0.0004), '-<0.1');
  assert.equal(signedPoints(0), '+0.0');
  assert.equal(signedPoints(-0), '+0.0');
  assert.equal(signedPoints(0.0005), '+0.1'); // 0.05 pt rounds up to what one decimal shows
  assert.equal(signedPoints(1), '+100.0');
});

test('rates in percent: one decimal, "<0.1" for tiny nonzero ones', () => {
  assert.equal(percent(0.123), '12.3');
  assert.equal(percent(0.00001), '<0.1');
  assert.equal(percent(0), '0.0');
  assert.equal(percent(1), '100.0');
});

test('the panel, the CLI and the findings use it (no formatter of their own)', async () => {
  const { readFileSync } = await import('node:fs');
  for (const file of ['webview/mdf/main.ts', 'src/cli/commands/mdf.ts', 'src/core/mdf/findings.ts']) {
    const code = readFileSync(file, 'utf8');
    assert.match(code, /signedPoints/, file);
    assert.doesNotMatch(code, /\(100 \* [\w.]+\)\.toFixed/, file);
  }
});
