// Imported first by extension.ts, so that this runs before the rest of the bundle is evaluated:
// activation time then counts evaluating the extension's code as well as activate(). CPU time
// beside wall time: on a loaded machine wall time is mostly waiting for a core.
export const loadStarted = performance.now();
export const loadStartedCpu = process.cpuUsage();

/** milliseconds of process CPU time (user + system) since `from` */
export function cpuMsSince(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return Math.round((used.user + used.system) / 100) / 10;
}
