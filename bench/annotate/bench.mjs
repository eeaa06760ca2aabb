// Benchmark of `preflight annotate` (docs/annotation.md, "Performance"):
//   1. end to end: the CLI on a generated 1,000,000-row labels CSV with a 40-item human test,
//      1000 bootstrap resamples, JSON out; wall time and peak RSS of the CLI process;
//   2. the bootstrap alone: 1000 resamples on 10,000 rows (in process, after reading).
// Usage: npm run build && node --import tsx bench/annotate/bench.mjs [--rows N] [--keep]
// Files go to a temporary folder, removed afterwards unless --keep.
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rng } from '../../src/shared/random.ts';

const args = process.argv.slice(2);
const rowsArg = args.indexOf('--rows');
const ROWS = rowsArg >= 0 ? Number(args[rowsArg + 1]) : 1_000_000;
const keep = args.includes('--keep');
const LEVELS = ['remember', 'understand', 'apply', 'analyze', 'evaluate', 'create'];
const MODELS = ['gpt-a', 'gpt-b', 'llama-c'];

if (!existsSync('dist/cli.js')) {
  console.error('run `npm run build` first (the benchmark times the built CLI)');
  process.exit(2);
}

/** LLM label: right 55%, one step off 30% (leaning up), further off 15%. */
function llmLabel(g, r) {
  const u = r();
  if (u < 0.55) return g;
  if (u < 0.85) return Math.max(0, Math.min(5, g + (r() < 0.65 ? 1 : -1)));
  return (g + 2 + Math.floor(r() * 3)) % 6;
}

async function generate(dir, rows) {
  const r = rng(7);
  const labels = join(dir, `labels-${rows}.csv`);
  const out = createWriteStream(labels);
  const gold = [];
  let chunk = 'id,text,gold,llm,model\n';
  for (let i = 0; i < rows; i++) {
    const g = Math.floor(r() * 6);
    if (i < 40) gold.push(g);
    chunk += `${i},"Learning outcome number ${i}, with a comma",${LEVELS[g]},${LEVELS[llmLabel(g, r)]},${MODELS[i % 3]}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
      chunk = '';
    }
  }
  out.write(chunk);
  await new Promise((resolve) => out.end(resolve));
  const human = ['Annotator,ID,Label'];
  gold.forEach((g, i) => human.push(`groundtruth,${i},${LEVELS[g]}`));
  for (const coder of ['A1', 'A2'])
    gold.forEach((g, i) => human.push(`${coder},${i},${LEVELS[r() < 0.75 ? g : Math.max(0, Math.min(5, g + (r() < 0.5 ? 1 : -1)))]}`));
  const humanFile = join(dir, 'human.csv');
  writeFileSync(humanFile, `${human.join('\n')}\n`);
  return { labels, human: humanFile };
}

/** Runs the built CLI under /usr/bin/time: wall seconds and peak RSS (MiB) of that process. */
function timeCli(cliArgs) {
  const hasTime = existsSync('/usr/bin/time');
  const cmd = hasTime ? '/usr/bin/time' : process.execPath;
  const argv = hasTime ? ['-f', '%e %M %U %S', process.execPath, 'dist/cli.js', ...cliArgs] : ['dist/cli.js', ...cliArgs];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 256 << 20 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`CLI failed (${r.status}): ${r.stderr}`);
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [, kb, user, sys] = last.split(' ').map(Number);
  return { wall, rssMiB: hasTime ? kb / 1024 : NaN, cpu: hasTime ? user + sys : NaN, stdout: r.stdout };
}

const dir = mkdtempSync(join(tmpdir(), 'preflight-bench-annotate-'));
// wall times on a shared machine depend on what else runs: print the load beside them
console.log(
  `node ${process.version}, ${(await import('node:os')).cpus().length} CPUs, load average ${(await import('node:os'))
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
try {
  let t = Date.now();
  const big = await generate(dir, ROWS);
  console.log(`generated ${ROWS.toLocaleString()} rows in ${((Date.now() - t) / 1000).toFixed(1)} s (${dir})`);
  const e2e = timeCli(['annotate', big.labels, '--human', big.human, '--json', '--bootstrap', '1000', '--seed', '1']);
  const report = JSON.parse(e2e.stdout);
  console.log(
    `end to end, ${ROWS.toLocaleString()} rows + 40-item human test, 1000 resamples: ${e2e.wall.toFixed(2)} s wall, ${e2e.cpu.toFixed(2)} s CPU, peak RSS ${e2e.rssMiB.toFixed(0)} MiB (goal < 5 s)`,
  );
  console.log(
    `  check: ${report.labels.used.toLocaleString()} rows used, accuracy ${(100 * report.llm.metrics.accuracy.value).toFixed(2)}%, shares sum ${Object.values(
      report.decomposition.shares,
    )
      .reduce((a, s) => a + s.value, 0)
      .toFixed(12)}`,
  );

  // the bootstrap alone on 10,000 rows (read once; then 1000 resamples timed in process)
  const small = await generate(dir, 10_000);
  const { analyzeAnnotations } = await import('../../src/core/annotation/analyze.ts').catch(() => ({}));
  if (analyzeAnnotations) {
    const base = await analyzeAnnotations({ path: small.labels }, [{ path: small.human }], { resamples: 0 });
    t = process.hrtime.bigint();
    await analyzeAnnotations({ path: small.labels }, [{ path: small.human }], { resamples: 1000 });
    const withBoot = Number(process.hrtime.bigint() - t) / 1e9;
    t = process.hrtime.bigint();
    await analyzeAnnotations({ path: small.labels }, [{ path: small.human }], { resamples: 0 });
    const without = Number(process.hrtime.bigint() - t) / 1e9;
    console.log(
      `bootstrap, 10,000 rows (${base.report.groups.length} groups + overall), 1000 resamples: ${(withBoot - without).toFixed(3)} s (analysis with it ${withBoot.toFixed(3)} s, without ${without.toFixed(3)} s; goal < 2 s)`,
    );
  }
  const cli10k = timeCli(['annotate', small.labels, '--human', small.human, '--json', '--bootstrap', '1000']);
  console.log(
    `end to end, 10,000 rows, 1000 resamples (CLI): ${cli10k.wall.toFixed(2)} s wall, ${cli10k.cpu.toFixed(2)} s CPU, peak RSS ${cli10k.rssMiB.toFixed(0)} MiB`,
  );
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
