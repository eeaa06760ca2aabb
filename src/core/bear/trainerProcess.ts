// Which process a Stop may signal, and how. A run folder's status.json is workspace content: its pid is
// only a hint. Stop signals a process only when it is verifiably this run's trainer (its command line
// names preflight_train and this run's config.json), or when the caller started it itself; then SIGTERM
// goes to its process group (torchrun workers included), and SIGKILL follows after a grace period if the
// trainer is still there (a rank blocked in a collective never runs its SIGTERM handler).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** How long a trainer gets to finish its stop (write status 'stopped', exit) before SIGKILL. */
export const STOP_GRACE_MS = 10_000;

export interface ProcessProbe {
  /** argv of a live process, or undefined when it is gone or cannot be read (no /proc). */
  cmdline(pid: number): string[] | undefined;
  /** Process group id, or undefined when unknown. */
  processGroup(pid: number): number | undefined;
  alive(pid: number): boolean;
  /** process.kill semantics: a negative pid signals the group. */
  kill(pid: number, signal: NodeJS.Signals): void;
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1');
  } catch {
    return undefined;
  }
}

export const systemProbe: ProcessProbe = {
  cmdline(pid) {
    const raw = readProc(pid, 'cmdline');
    return raw === undefined || raw === '' ? undefined : raw.replace(/\0$/, '').split('\0');
  },
  processGroup(pid) {
    const stat = readProc(pid, 'stat');
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
    const rest = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = rest ? Number(rest[2]) : NaN;
    return Number.isSafeInteger(pgrp) && pgrp > 0 ? pgrp : undefined;
  },
  alive(pid) {
    try {
      process.kill(pid, 0);
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
    // A zombie (exited, not yet reaped by its parent) counts as gone.
    const stat = readProc(pid, 'stat');
    return stat === undefined || stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  },
  kill(pid, signal) {
    process.kill(pid, signal);
  },
};

function plausiblePid(pid: unknown): pid is number {
  return typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 1 && pid !== process.pid;
}

/** True when `pid` is a live process whose command line runs preflight_train with this run's config. */
export function isRunTrainer(pid: unknown, runDir: string, probe: ProcessProbe = systemProbe): pid is number {
  if (!plausiblePid(pid)) return false;
  const argv = probe.cmdline(pid);
  return Boolean(argv && argv.includes('preflight_train') && argv.includes(join(runDir, 'config.json')));
}

export type StopOutcome = 'refused' | 'gone' | 'exited' | 'killed';

/**
 * Stops a trainer: SIGTERM to its process group (when the group leader is the trainer or this run's
 * launcher), else to the process; SIGKILL to the same target if it is still alive after `graceMs`.
 * `trusted`: the caller started this pid itself in this session (no command-line check needed).
 */
export async function stopTrainer(
  pid: unknown,
  runDir: string,
  opts: { trusted?: boolean; probe?: ProcessProbe; graceMs?: number } = {},
): Promise<StopOutcome> {
  const probe = opts.probe ?? systemProbe;
  const graceMs = opts.graceMs ?? STOP_GRACE_MS;
  const ours = (p: unknown): p is number => plausiblePid(p) && (opts.trusted === true && p === pid ? probe.alive(p) : isRunTrainer(p, runDir, probe));
  if (!plausiblePid(pid)) return 'refused';
  if (!probe.alive(pid)) return 'gone';
  if (!ours(pid)) return 'refused';
  const group = probe.processGroup(pid);
  const target = group !== undefined && (group === pid || isRunTrainer(group, runDir, probe)) ? -group : pid;
  const signal = (sig: NodeJS.Signals) => {
    try {
      probe.kill(target, sig);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!probe.alive(pid)) return 'exited';
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!probe.alive(pid)) return 'exited';
  // Still there: re-check that the pid was not reused before the hard kill.
  if (!ours(pid)) return 'exited';
  signal('SIGKILL');
  return 'killed';
}
