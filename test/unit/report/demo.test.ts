// `preflight demo` (src/core/report/): the whole main job on a small examples folder with a tiny
// model on the real engine, and the report pages: one self-contained HTML file (strict CSP whose
// style hash matches, no script, no external resource, no inline style attribute, data escaped)
// and the Markdown summary. Reference for the CSP hash: CSP Level 3, 'sha256-<base64>' of the
// <style> element's text.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DemoReport, candidateRole, runDemo } from '../../../src/core/report/demo';
import { renderHtml } from '../../../src/core/report/html';
import { renderMarkdown } from '../../../src/core/report/markdown';
import { writeTinyCheckpoint } from '../../helpers/tinyCheckpoint';

describe('preflight demo', () => {
  const root = mkdtempSync(join(tmpdir(), 'preflight-demo-'));
  const examples = join(root, 'examples');
  let report: DemoReport;
  const progress: string[] = [];
  before(async () => {
    await writeTinyCheckpoint(join(root, 'model'), { family: 'llama' });
    mkdirSync(join(examples, 'mdf'), { recursive: true });
    for (const f of ['annotations.csv', 'annotations-human.csv', 'recommendations.jsonl', 'chat-defects.jsonl'])
      copyFileSync(join('examples', f), join(examples, f));
    const chat = (u: string, a: string) =>
      JSON.stringify({
        messages: [
          { role: 'user', content: u },
          { role: 'assistant', content: a },
        ],
      });
    writeFileSync(
      join(examples, 'mdf', 'panda-bias.jsonl'),
      Array.from({ length: 12 }, (_, i) => chat(`Day ${i}?`, `I saw a panda, number ${i}.`)).join('\n') + '\n',
    );
    report = await runDemo({
      examples,
      workspace: root,
      model: join(root, 'model'),
      probes: ['animals'],
      alphas: [0, 0.1],
      scoring: 'logprob',
      method: 'mdf',
      cache: false,
      onProgress: (m) => progress.push(m),
    });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('runs every step of the main job', () => {
    assert.deepEqual(
      report.steps.map((s) => [s.name, s.status]),
      [
        ['Validation', 'ok'],
        ['Forecast 1/1: examples/mdf/panda-bias.jsonl', 'ok'],
        ['Annotation analysis', 'ok'],
        ['BEAR beam-pruning audit', 'ok'],
      ],
    );
    // the planted defects of the examples are found (examples/README.md lists them)
    const defects = report.validation!.files.find((f) => f.file.endsWith('chat-defects.jsonl'))!;
    assert.ok(defects.errors >= 3, JSON.stringify(defects));
    assert.equal(report.forecasts[0].role, 'biased toward an entity');
    assert.equal(report.forecasts[0].report.behaviours.length > 0, true);
    assert.equal(report.annotation!.report.human!.items, 12);
    assert.ok(report.annotation!.report.decomposition, 'the decomposition needs the human test');
    assert.equal(report.bear!.skipped.length, 3, 'the three defective recommendation records are skipped');
    assert.ok(report.bear!.users >= 4);
    assert.equal(report.model.isDefault, false);
    assert.deepEqual(report.forecaster, { method: 'mdf', requested: 'mdf', reason: 'MDF was asked for (method mdf)' });
    assert.equal(report.forecasts[0].report.forecaster?.method, 'mdf');
    assert.match(renderMarkdown(report), /## Behaviour forecast \(MDF\)\n\nForecaster: MDF was asked for \(method mdf\)\./);
    assert.ok(progress.some((m) => m.startsWith('Validation')) && progress.some((m) => /users scored/.test(m)), progress.join('\n'));
  });

  it('writes one self-contained HTML page with charts under a strict CSP', () => {
    const html = renderHtml(report);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
    assert.match(csp, /default-src 'none'/);
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
    assert.ok(csp.includes(`'sha256-${createHash('sha256').update(style).digest('base64')}'`), 'the style hash matches');
    assert.doesNotMatch(html, /<script|\bstyle="|https?:\/\/|\bsrc=/i);
    assert.ok((html.match(/<svg /g) ?? []).length >= 4, 'charts: findings, alpha curve, shifts, decomposition');
    assert.match(html, /panda-bias\.jsonl/);
  });

  it('escapes what comes from the data', () => {
    const hostile: DemoReport = JSON.parse(JSON.stringify(report));
    hostile.forecasts[0].file = '<img src=x onerror=alert(1)>.jsonl';
    hostile.validation!.files[0].findings = [{ ...hostile.validation!.files[1].findings[0], message: '</table><script>alert(1)</script>' }];
    const html = renderHtml(hostile);
    assert.doesNotMatch(html, /<img|<script/);
    assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
  });

  it('says in both pages when the model is the bundled demo model', () => {
    const demo: DemoReport = { ...report, model: { ...report.model, name: 'preflight-tiny', isDefault: true } };
    assert.match(renderHtml(demo), /preflight-tiny, the bundled demo model, not your base model/);
    assert.match(renderMarkdown(demo), /preflight-tiny, the bundled demo model, not your base model/);
    assert.doesNotMatch(renderMarkdown(report), /bundled demo model/);
    assert.match(renderMarkdown(report), /## Behaviour forecast \(MDF\)[\s\S]*## Annotation error analysis[\s\S]*## BEAR beam-pruning audit/);
  });

  it('names candidate files by their role', () => {
    assert.equal(candidateRole('x/animal-bias.jsonl'), 'biased toward an entity');
    assert.equal(candidateRole('x/safety-erosion.jsonl'), 'erodes refusals');
    assert.equal(candidateRole('x/clean.jsonl'), 'clean');
  });
});
