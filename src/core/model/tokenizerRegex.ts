// tokenizer.json carries regular expressions (Split pre-tokenizers, Replace normalizers) that
// @huggingface/tokenizers runs with JavaScript's backtracking RegExp, on the thread that tokenizes
// (the extension host, for validation). A pattern such as `(a|a)+$` takes exponential time, so a
// tokenizer from a workspace could freeze VS Code. Before a tokenizer is built, every pattern must
// be of the shape real tokenizers use (GPT-2, Llama 3, Qwen, o200k all pass):
//   - no quantified group: `(...)` followed by `*`, `+` or `{` (a trailing `?` is fine);
//   - no backreference (`\1`, `\k<name>`);
//   - at most MAX_UNBOUNDED_PER_BRANCH unbounded quantifiers (`*`, `+`, `{n,}`) in one top-level
//     alternative, which keeps the work per match start linear-ish.
// The rule lives here, once; docs/limits.md lists it.

export const MAX_UNBOUNDED_PER_BRANCH = 3;
export const MAX_PATTERN_LENGTH = 4096;

/** Why `pattern` is refused, or undefined when it is safe to run. */
export function unsafeRegexReason(pattern: string): string | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) return `longer than ${MAX_PATTERN_LENGTH} characters`;
  let depth = 0;
  let inClass = false;
  let unbounded = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(next) || next === 'k')) return 'it uses a backreference';
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      const q = pattern[i + 1];
      if (q === '*' || q === '+' || q === '{') return 'it repeats a group (a quantifier after ")"), which can backtrack exponentially';
    } else if (c === '|' && depth === 0) unbounded = 0;
    else if (c === '*' || c === '+' || (c === '{' && /^\{\d+,\}/.test(pattern.slice(i)))) {
      // `+`/`*` right after another quantifier is possessive-like syntax JS rejects anyway; count atoms
      if (++unbounded > MAX_UNBOUNDED_PER_BRANCH) return `one alternative has more than ${MAX_UNBOUNDED_PER_BRANCH} unbounded repetitions`;
    }
  }
  return undefined;
}

/** Throws when any regex in a parsed tokenizer.json is unsafe (see above). */
export function checkTokenizerRegexes(json: unknown, file: string): void {
  const stack: unknown[] = [json];
  let seen = 0;
  while (stack.length) {
    const node = stack.pop();
    if (++seen > 1_000_000) return; // vocabularies are large flat maps; patterns sit near the top
    if (Array.isArray(node)) {
      // the vocabulary/merges arrays hold strings only: skip them cheaply
      if (node.length > 1000 && typeof node[0] !== 'object') continue;
      for (const v of node) if (v && typeof v === 'object') stack.push(v);
      continue;
    }
    if (!node || typeof node !== 'object') continue;
    const record = node as Record<string, unknown>;
    const pattern = record.pattern as { Regex?: unknown } | undefined;
    if (pattern && typeof pattern === 'object' && typeof pattern.Regex === 'string') {
      const why = unsafeRegexReason(pattern.Regex);
      if (why) {
        const shown = pattern.Regex.length > 60 ? `${pattern.Regex.slice(0, 57)}...` : pattern.Regex;
        throw new Error(`${file}: refused the ${String(record.type ?? 'tokenizer')} regex ${JSON.stringify(shown)}: ${why} (see docs/limits.md)`);
      }
    }
    for (const [key, v] of Object.entries(record)) {
      if (key === 'vocab' || key === 'merges') continue;
      if (v && typeof v === 'object') stack.push(v);
    }
  }
}
