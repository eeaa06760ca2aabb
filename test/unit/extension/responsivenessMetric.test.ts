// The figures the e2e responsiveness scenario reads from a CPU profile
// (test/e2e/scenarios/40-responsiveness.mjs): Preflight's longest run of samples, and since run 8
// of docs/responsiveness.md its share of each recorded stall, on hand-built profiles whose answer
// is known.
import assert from 'node:assert/strict';
import { test } from 'node:test';
// @ts-expect-error: a plain ES module of the e2e harness, no type declarations
import { attribute, stallShares } from '../../e2e/scenarios/40-responsiveness.mjs';

const START = 1_000_000; // µs, on the monotonic clock
const URL = { P: '/run/extensions/preflight.preflight-0.1.0/dist/extension.js', V: '/code-server/lib/vscode/out/host.js' };
const NODES = [
  { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 3, 4, 5] },
  { id: 2, callFrame: { functionName: 'analyze', url: URL.P, lineNumber: 1 } },
  { id: 3, callFrame: { functionName: 'serialize', url: URL.V, lineNumber: 1 } },
  { id: 4, callFrame: { functionName: '(garbage collector)', url: '', lineNumber: -1 } },
  { id: 5, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
];
const ID = { P: 2, V: 3, GC: 4, idle: 5 };

/** samples [kind, count, ms each]: sample i starts where i-1 ends */
function profile(seq: [keyof typeof ID, number, number][]) {
  const samples: number[] = [];
  const timeDeltas: number[] = [0];
  for (const [kind, count, ms] of seq)
    for (let i = 0; i < count; i++) {
      samples.push(ID[kind]);
      timeDeltas.push(ms * 1000);
    }
  timeDeltas.pop();
  const endTime = START + timeDeltas.reduce((a, b) => a + b, 0);
  return { nodes: NODES, samples, timeDeltas, startTime: START, endTime };
}

// 0-5 ms idle, 5-15 Preflight, 15-35 garbage collection, 35-45 Preflight, 45-50 idle
const p = profile([
  ['idle', 10, 0.5],
  ['P', 20, 0.5],
  ['GC', 40, 0.5],
  ['P', 20, 0.5],
  ['idle', 10, 0.5],
]);
const at = (ms: number) => START + ms * 1000;

test('one stall over both stretches: its Preflight samples count, the collection is reported beside them', () => {
  assert.equal(attribute(p).longestPreflightMs, 40); // the run of samples joins them through the collection
  const share = stallShares(p, [[0, 35, at(45)]]); // the timer ran 35 ms late at 45 ms: a stall from 0 (with the 10 ms tick)
  assert.deepEqual(share, { preflightMs: 20, stallMs: 35, gcMs: 20, stallsInProfile: 1 });
});

test('where the event loop turned between them (two stalls), each counts alone', () => {
  const share = stallShares(p, [
    [0, 10, at(25)],
    [0, 10, at(45)],
  ]);
  assert.equal(share.preflightMs, 10);
  assert.equal(share.stallsInProfile, 2);
});

test('stalls outside the profile, or without the monotonic end (before run 8), are left out; a phase without one reads 0', () => {
  assert.deepEqual(
    stallShares(p, [
      [0, 30, at(500)],
      [0, 30],
    ]),
    { preflightMs: 0, stallMs: 0, gcMs: 0, stallsInProfile: 0 },
  );
});

test('a sample counts at most 2 ms: a longer gap is the process waiting for a core', () => {
  const slow = profile([
    ['P', 1, 30],
    ['V', 4, 0.5],
  ]);
  assert.equal(attribute(slow).longestPreflightMs, 2);
  assert.equal(stallShares(slow, [[0, 40, at(32)]]).preflightMs, 2);
});
