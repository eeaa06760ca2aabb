// Test mode only: how long the extension host's event loop stalls, for the end-to-end
// responsiveness scenario (test/e2e/scenarios/40-responsiveness.mjs). Every stall over
// STALL_REPORT_MS is kept with the time it ended, so that a scenario takes the worst stall of each
// of its phases by wall-clock time. A tick every TICK_MS measures how late it ran (a stall shows as
// lateness); perf_hooks' event-loop delay histogram (never reset: a reset drops the next sample)
// gives the percentiles since activation. A scenario can also take a CPU profile of the host thread
// over one of its phases, to see whose code the stalls are (see profileOnRequest).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type * as vscode from 'vscode';
import { setTestState, testModeEnabled } from './testState';

const TICK_MS = 10;
const STALL_REPORT_MS = 20;
const KEEP = 2000;

export function monitorResponsiveness(context: vscode.ExtensionContext): void {
  if (!testModeEnabled()) return;
  const histogram = monitorEventLoopDelay({ resolution: TICK_MS });
  histogram.enable();
  /** [epoch ms when the stall ended, stall ms, the end on the monotonic clock of process.hrtime in µs
   *  (a CPU profile's timestamps are on it: the scenario finds each stall's samples)] */
  const stalls: [number, number, number][] = [];
  let expected = performance.now() + TICK_MS;
  const publish = () =>
    setTestState('responsiveness', {
      tickMs: TICK_MS,
      reportMs: STALL_REPORT_MS,
      stalls,
      histogramMs: { p50: histogram.percentile(50) / 1e6, p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6 },
    });
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - expected;
    expected = now + TICK_MS;
    if (late <= STALL_REPORT_MS) return;
    stalls.push([Date.now(), Math.round(late), Number(process.hrtime.bigint() / 1000n)]);
    if (stalls.length > KEEP) stalls.shift();
    publish();
  }, TICK_MS);
  publish();
  context.subscriptions.push({ dispose: () => (clearInterval(timer), histogram.disable()) }, profileOnRequest());
}

/**
 * Test mode: when the file <state file>.profile says "start NAME", profiles the extension host
 * thread (V8's sampling profiler, in process) until it says "stop", then writes
 * <state file>.NAME.cpuprofile.
 */
function profileOnRequest(): { dispose(): void } {
  const control = `${process.env.PREFLIGHT_TEST_STATE_FILE}.profile`;
  let session: Session | undefined;
  let name = '';
  const poll = setInterval(() => {
    if (!existsSync(control)) return;
    const command = readFileSync(control, 'utf8').trim();
    if (!session && command.startsWith('start ')) {
      name = command.slice(6);
      session = new Session();
      session.connect();
      session.post('Profiler.enable', () => session?.post('Profiler.setSamplingInterval', { interval: 500 }, () => session?.post('Profiler.start')));
    } else if (session && command === 'stop') {
      const current = session;
      session = undefined;
      current.post('Profiler.stop', (error, result) => {
        if (!error) writeFileSync(`${process.env.PREFLIGHT_TEST_STATE_FILE}.${name}.cpuprofile`, JSON.stringify(result.profile));
        current.disconnect();
      });
    }
  }, 200);
  return { dispose: () => (clearInterval(poll), session?.disconnect()) };
}
