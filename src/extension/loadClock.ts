// Imported first by extension.ts, so that this runs before the rest of the bundle is evaluated:
// activation time then counts evaluating the extension's code as well as activate(). CPU time
// beside wall time: on a loaded machine wall time is mostly waiting for a core. The CPU time is the
// extension host thread's own where Node tells it (process.threadCpuUsage, Node 23.9+; VS Code's
// extension host runs on a newer Node): the process's also counts its other threads (V8's
// concurrent compiler and collector, worker threads, file reads), which do not hold the host.

type Usage = { user: number; system: number };
const threadCpuUsage = (process as unknown as { threadCpuUsage?: (from?: Usage) => Usage }).threadCpuUsage?.bind(process);

/** which CPU clock cpuMsSince reads */
export const cpuClock: 'thread' | 'process' = threadCpuUsage ? 'thread' : 'process';

function cpuUsage(from?: Usage): Usage {
  return threadCpuUsage ? threadCpuUsage(from) : process.cpuUsage(from);
}

export const loadStarted = performance.now();
export const loadStartedCpu = cpuUsage();

/** milliseconds of CPU time (user + system) of this thread (else the process) since `from` */
export function cpuMsSince(from: Usage): number {
  const used = cpuUsage(from);
  return Math.round((used.user + used.system) / 100) / 10;
}

/** the CPU usage now, to pass to cpuMsSince later */
export function cpuNow(): Usage {
  return cpuUsage();
}
