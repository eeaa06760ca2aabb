// Caches written into a workspace (.preflight/cache/...) hold derived data — per-record hidden
// states, reports — that must never be committed by accident: the folder gets a `.gitignore`
// of `*` (which ignores itself too) when it is made.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function ensureCacheDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(join(dir, '.gitignore'), '# written by Preflight: a cache, never committed\n*\n', { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}
