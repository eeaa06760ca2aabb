// `--out FILE` must never be one of the command's own inputs: `annotate labels.csv --out
// labels.csv` would replace the data with the report. Compared by identity, not by spelling:
// the same device and inode when FILE exists (hard links, symlinks, ./a vs a), else the real
// path of its folder plus its name.
import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './command';

function identity(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

function realTarget(path: string): string {
  const full = resolve(path);
  try {
    return realpathSync(full);
  } catch {
    try {
      return join(realpathSync(dirname(full)), basename(full));
    } catch {
      return full;
    }
  }
}

/** Throws a UsageError (exit 2) when `out` names the same file as any of `inputs`. */
export function refuseOwnInput(out: string, inputs: (string | undefined)[], flag = '--out'): void {
  const outId = identity(out);
  const outReal = realTarget(out);
  for (const input of inputs) {
    if (!input) continue;
    const same = (outId !== undefined && outId === identity(input)) || outReal === realTarget(input);
    if (same) throw new UsageError(`${flag} ${out} is the input file ${input}; refusing to overwrite it (choose another output file)`);
  }
}
