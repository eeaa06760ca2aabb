// Stop may signal only this run's trainer: real processes, a planted status.json pid, SIGTERM then SIGKILL
// to the process group, and trainer command lines whose paths hold shell metacharacters (no shell).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isRunTrainer, stopTrainer, systemProbe } from '../../../src/core/bear/trainerProcess';
import { readRun } from '../../../src/core/bear/metrics';
import { trainerCommand } from '../../../src/core/bear/runConfig';

const python = process.env.PREFLIGHT_PYTHON ?? '/usr/bin/python3';
const linux = process.platform === 'linux';

function started(_child: ChildProcess): Promise<void> {
  return new Promise((ok) => setTimeout(ok, 400));
}

function reap(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null && child.pid) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

test('a planted status.json pid of an unrelated process is never signalled', { skip: !linux }, async () => {
  const runDir = mkdtempSync(join(tmpdir(), 'pf-stop-'));
  const victim = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  try {
    await started(victim);
    writeFileSync(join(runDir, 'config.json'), '{}');
    writeFileSync(join(runDir, 'status.json'), JSON.stringify({ state: 'running', pid: victim.pid }));
    const pid = readRun(runDir, 'planted').status?.pid;
    assert.equal(pid, victim.pid);
    assert.equal(isRunTrainer(pid, runDir), false);
    assert.equal(await stopTrainer(pid, runDir, { graceMs: 300 }), 'refused');
    for (const bad of [process.pid, 1, 0, -1, -victim.pid!, 1.5, '123', undefined]) {
      assert.equal(await stopTrainer(bad, runDir, { graceMs: 100 }), 'refused', String(bad));
    }
    assert.equal(systemProbe.alive(victim.pid!), true, 'the unrelated process must survive');
  } finally {
    reap(victim);
  }
});

test("a trainer of another run is not this run's trainer", { skip: !linux }, async () => {
  const runA = mkdtempSync(join(tmpdir(), 'pf-stop-a-'));
  const runB = mkdtempSync(join(tmpdir(), 'pf-stop-b-'));
  const other = spawn(python, ['-c', 'import time; time.sleep(30)', '-m', 'preflight_train', 'train', '--config', join(runA, 'config.json')], {
    detached: true,
    stdio: 'ignore',
  });
  try {
    await started(other);
    assert.equal(isRunTrainer(other.pid, runA), true);
    assert.equal(await stopTrainer(other.pid, runB, { graceMs: 200 }), 'refused');
    assert.equal(systemProbe.alive(other.pid!), true);
  } finally {
    reap(other);
  }
});

test('our trainer gets SIGTERM on its process group, then SIGKILL after the grace period', { skip: !linux }, async () => {
  const runDir = mkdtempSync(join(tmpdir(), 'pf-stop-'));
  const config = join(runDir, 'config.json');
  // A trainer stand-in that ignores SIGTERM (as a rank blocked in a collective does) and has a child in its group.
  const code =
    'import signal, subprocess, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); ' +
    'c = subprocess.Popen(["sleep", "60"]); print(c.pid, flush=True); time.sleep(60)';
  const stubborn = spawn(python, ['-c', code, '-m', 'preflight_train', 'train', '--config', config], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const grandchild = await new Promise<number>((ok) => stubborn.stdout!.once('data', (d) => ok(Number(String(d).trim()))));
  try {
    const t0 = Date.now();
    assert.equal(await stopTrainer(stubborn.pid, runDir, { graceMs: 800 }), 'killed');
    assert.ok(Date.now() - t0 >= 700);
    await new Promise((ok) => setTimeout(ok, 300));
    assert.equal(systemProbe.alive(stubborn.pid!), false);
    assert.equal(systemProbe.alive(grandchild), false, 'the whole process group is killed');
  } finally {
    reap(stubborn);
  }
  // One that honours SIGTERM ends within the grace period.
  const polite = spawn(python, ['-c', 'import time; time.sleep(60)', '-m', 'preflight_train', 'train', '--config', config], {
    detached: true,
    stdio: 'ignore',
  });
  try {
    await started(polite);
    assert.equal(await stopTrainer(polite.pid, runDir, { graceMs: 5000 }), 'exited');
  } finally {
    reap(polite);
  }
});

test('the trainer command is an argument array: shell metacharacters in paths arrive literally', () => {
  const root = mkdtempSync(join(tmpdir(), 'pf-meta-'));
  const odd = join(root, 'ws; touch pwned1 & echo $(touch pwned2) | x `touch pwned3`', 'runs ; rm -rf x && $(id)');
  mkdirSync(odd, { recursive: true });
  const configPath = join(odd, 'config.json');
  writeFileSync(configPath, JSON.stringify({ train: { epochs: 'three' } }));
  const cmd = trainerCommand({ python, packageDir: resolve('python'), configPath, gpus: 0 });
  assert.ok(cmd.args.includes(configPath));
  // What ProcessExecution does: exec the interpreter with these arguments, no shell in between.
  const r = spawnSync(cmd.executable, cmd.args, { cwd: odd, env: { ...process.env, ...cmd.env }, encoding: 'utf8', shell: false, timeout: 60000 });
  assert.equal(r.status, 2, r.stderr);
  assert.ok(r.stderr.includes(configPath), r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  const found = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? found(join(dir, e.name)) : [e.name]));
  assert.deepEqual(
    found(root).filter((n) => n.startsWith('pwned')),
    [],
  );
});
