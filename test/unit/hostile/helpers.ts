// Shared by the hostile-input tests: temp folders, hostile files made at test time (FIFOs, sparse
// multi-GiB files, links to devices), and the CLI run as a child process with its wall time, peak
// RSS (GNU time's %M, in KiB) and exit status measured.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NODE_BUNDLE } from '../../helpers/nodeBundle';

export const REPO = resolve(__dirname, '../../..');

let bundled: string | undefined;
/** The CLI bundled from the current sources (as `npm run build` does), once per test process:
 *  children then start in a fraction of a second, so the time bounds measure the work. */
export function cliBundle(): string {
  if (bundled) return bundled;
  // inside the repository (in the git-ignored .cache/), as dist/cli.js sits: the CLI finds its
  // package (bundled model, probe suites) and node_modules by walking up from itself
  mkdirSync(join(REPO, '.cache'), { recursive: true });
  const dir = mkdtempSync(join(REPO, '.cache', 'hostile-cli-'));
  const out = join(dir, 'cli.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  esbuild.buildSync({ ...NODE_BUNDLE, entryPoints: [join(REPO, 'src/cli/main.ts')], outfile: out });
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  bundled = out;
  return out;
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `preflight-hostile-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function mkfifo(path: string): void {
  const r = spawnSync('mkfifo', [path]);
  if (r.status !== 0) throw new Error(`mkfifo ${path}: ${r.stderr}`);
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** wall time; on a machine shared with other jobs it measures the load as much as the work */
  seconds: number;
  /** user + system CPU time of the child (GNU time %U + %S): the work itself */
  cpuSeconds: number;
  /** peak resident set size of the child, MiB */
  peakMiB: number;
}

/** Runs `preflight <args>` (the current sources, bundled) under /usr/bin/time. */
export function runCli(args: string[], options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const started = Date.now();
    const child = spawn('/usr/bin/time', ['-f', '@@RSS %M %U %S', process.execPath, cliBundle(), ...args], {
      detached: true, // its own process group: a timeout kills node too, not only GNU time
      cwd: options.cwd ?? REPO,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const m = /@@RSS (\d+) ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
      stderr = stderr.replace(/(Command exited with non-zero status \d+\n)?@@RSS [\d. ]+\s*$/, '');
      resolvePromise({
        code: signal ? 128 : (code ?? -1),
        stdout,
        stderr,
        seconds: (Date.now() - started) / 1000,
        cpuSeconds: m ? Number(m[2]) + Number(m[3]) : NaN,
        peakMiB: m ? Number(m[1]) / 1024 : NaN,
      });
    });
  });
}

/** sha256 (and size) of every regular file under `dir` — sparse files hashed by content, so keep them few. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const st = lstatSync(path);
      if (st.isDirectory()) walk(path);
      else if (st.isFile())
        out.set(path, st.size > 64 * 2 ** 20 ? `size ${st.size} mtime ${st.mtimeMs}` : createHash('sha256').update(readFileSync(path)).digest('hex'));
      else out.set(path, `${st.mode}`);
    }
  };
  walk(dir);
  return out;
}

export function fileSize(path: string): number {
  return statSync(path).size;
}

/** A safetensors file with the given header entries; data bytes are `dataBytes` zeros (sparse). */
export function writeSafetensorsRaw(file: string, header: Record<string, unknown>, dataBytes: number): void {
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8) json += ' ';
  const fd = openSync(file, 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeSync(fd, len);
  writeSync(fd, json);
  closeSync(fd);
  truncateSync(file, 8 + Buffer.byteLength(json) + dataBytes);
}
