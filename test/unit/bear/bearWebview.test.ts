// The BEAR webview app (webview/bear/main.ts) in a real browser: bundled in memory with esbuild, loaded
// into headless Chromium with a stand-in for acquireVsCodeApi, fed the messages the extension sends.
// Checks: no script errors, the form's protocol, text escaped (textContent), the dashboard's charts.
// Skipped where no Chromium is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as esbuild from 'esbuild';
import { defaultForm } from '../../../src/core/bear/runConfig';

const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));

async function bundle(): Promise<{ js: string; css: string }> {
  const out = await esbuild.build({
    entryPoints: ['webview/bear/main.ts'],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    outdir: 'out-mem',
    logLevel: 'silent',
  });
  const js = out.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? '';
  const css = out.outputFiles.find((f) => f.path.endsWith('.css'))?.text ?? '';
  return { js, css };
}

test('the BEAR form and dashboard render, speak the protocol and escape text', { skip: !chromiumPath && 'no Chromium' }, async () => {
  const { chromium } = await import('playwright-core');
  const { js, css } = await bundle();
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 1200 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const load = async (view: string, messages: unknown[]) => {
      await page.setContent(`<html><head><style>${css}</style></head><body data-view="${view}" data-run="r1" data-dir="/runs/r1"><main id="app"></main>
<script>window.sent=[];window.saved=undefined;window.acquireVsCodeApi=()=>({postMessage:(m)=>window.sent.push(m),getState:()=>undefined,setState:(s)=>{window.saved=s;}});</script>
<script>${js.replace(/<\/script>/g, '<\\/script>')}</script></body></html>`);
      for (const m of messages) await page.evaluate((msg) => window.postMessage(msg, '*'), m);
      await page.waitForTimeout(500);
    };

    const form = defaultForm({}, '/d/train.jsonl');
    await load('form', [
      { type: 'init', form, python: '/usr/bin/python3 (system)', trusted: true },
      {
        type: 'issues',
        formIssues: [{ field: 'valid', message: 'Need <b>valid</b>' }],
        dataIssues: [{ file: '/d/train.jsonl', line: 3, severity: 'error', code: 'bear-empty-history', message: 'Empty <i>history</i>' }],
        summary: 'train 10',
      },
    ]);
    const sent = (await page.evaluate('window.sent')) as Array<{ type: string; form?: { train: string; loss: string } }>;
    assert.equal(sent[0].type, 'ready');
    const validate = sent.find((m) => m.type === 'validate');
    assert.equal(validate?.form?.train, '/d/train.jsonl');
    assert.equal(await page.locator('button[type=submit]').isDisabled(), true, 'launch is disabled while there are errors');
    assert.equal(await page.locator('b').count(), 0, 'messages are text, not HTML');
    assert.match(await page.locator('.field-error:not(:empty)').first().innerText(), /Need <b>valid<\/b>/);
    await page.evaluate((msg) => window.postMessage(msg, '*'), { type: 'audit', state: 'done', text: 'beam search prunes 80.0%' });
    await page.waitForTimeout(200);
    assert.match(await page.locator('.notice').first().innerText(), /prunes 80\.0%/);
    await page.locator('#loss-msl').check();
    assert.equal(await page.locator('.bear-only').first().isVisible(), false, 'λ and ξ hide for MSL');

    const lines = [
      { type: 'start', time: 1, loss: 'bear', items: 96, train: 100, valid: 20, test: 20, epochs: 2, total_steps: 20, 'random_hr@10': 0.104 },
      ...Array.from({ length: 20 }, (_, i) => ({
        type: 'step',
        time: 2 + i,
        epoch: i < 10 ? 1 : 2,
        step: i + 1,
        loss: 3 - i * 0.1,
        lr: 1e-3,
        bear_weight: 1.2,
        outside_top_b: 0.3,
      })),
      { type: 'eval', time: 30, split: 'valid', epoch: 1, 'hr@1': 0.2, 'hr@5': 0.4, 'hr@10': 0.5, 'ndcg@1': 0.2, 'ndcg@5': 0.3, 'ndcg@10': 0.33 },
      { type: 'checkpoint', time: 30, epoch: 1, path: '/runs/r1/checkpoint-epoch1' },
      { type: 'eval', time: 40, split: 'valid', epoch: 2, 'hr@1': 0.3, 'hr@5': 0.5, 'hr@10': 0.6, 'ndcg@1': 0.3, 'ndcg@5': 0.4, 'ndcg@10': 0.43 },
      { type: 'checkpoint', time: 40, epoch: 2, path: '/runs/r1/checkpoint-epoch2' },
    ];
    await load('dashboard', [{ type: 'reset', header: { runId: 'r1', name: '<img src=x>', state: 'running', loss: 'bear', outputDir: '/runs/r1' }, lines }]);
    assert.equal(await page.locator('canvas').count(), 4);
    assert.equal(await page.locator('img').count(), 0);
    assert.deepEqual(await page.evaluate('window.saved'), { runId: 'r1', runDir: '/runs/r1' });
    await page.locator('button', { hasText: 'Stop' }).click();
    assert.ok(((await page.evaluate('window.sent')) as Array<{ type: string }>).some((m) => m.type === 'stop'));
    await page.evaluate((msg) => window.postMessage(msg, '*'), {
      type: 'state',
      header: { runId: 'r1', name: 'run', state: 'stopped', loss: 'bear', outputDir: '/runs/r1' },
    });
    await page.waitForTimeout(300);
    assert.equal(await page.locator('button', { hasText: 'Resume' }).count(), 1);
    assert.match(await page.locator('table caption').first().innerText(), /epoch 2/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
