// Test mode: when PREFLIGHT_TEST_STATE_FILE is set (by the end-to-end harness), the extension
// writes what it shows (diagnostics per file, reports opened, ...) to that JSON file so a test
// can assert on it beside the screenshots. Outside test mode every call here is a no-op.
import { writeFile } from 'node:fs/promises';

const stateFile = process.env.PREFLIGHT_TEST_STATE_FILE;
const state: Record<string, unknown> = {};
let timer: ReturnType<typeof setTimeout> | undefined;
let writing: Promise<void> = Promise.resolve();

export function testModeEnabled(): boolean {
  return Boolean(stateFile);
}

/** Sets one top-level key of the state file (each feature owns its key, e.g. 'validation', 'mdf'). */
export function setTestState(key: string, value: unknown): void {
  if (!stateFile) return;
  state[key] = value;
  state.updatedAt = new Date().toISOString();
  // coalesce bursts of updates into one write
  if (timer) return;
  timer = setTimeout(() => {
    timer = undefined;
    const text = JSON.stringify(state, null, 2);
    writing = writing.then(() => writeFile(stateFile, text)).catch(() => undefined);
  }, 50);
}
