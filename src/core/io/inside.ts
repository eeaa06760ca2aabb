// "Is this path inside that folder?" — asked of paths that come from data (an index file's shard
// names, a webview's message). A string prefix test is wrong twice: "/runs/a" is a prefix of
// "/runs/ab", and "/runs/a/../../etc" starts with "/runs/a". The answer comes from path.relative
// on resolved paths, and, where the files exist, on their real paths (no symlink out).
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

function within(dir: string, target: string): boolean {
  const rel = relative(dir, target);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** True when `target` (absolute, or relative to `dir`) names something strictly inside `dir`. */
export function isInside(dir: string, target: string): boolean {
  if (target.includes('\0')) return false;
  return within(resolve(dir), resolve(dir, target));
}

/** isInside, and also after resolving symbolic links when both exist. */
export function isReallyInside(dir: string, target: string): boolean {
  if (!isInside(dir, target)) return false;
  try {
    return within(realpathSync(dir), realpathSync(resolve(dir, target)));
  } catch {
    return true; // does not exist (yet): the lexical answer stands
  }
}
