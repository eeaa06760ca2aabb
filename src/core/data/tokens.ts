// Token counting for length checks. With a tokenizer.json the content is tokenized exactly with
// @huggingface/tokenizers; without one, an estimate is used and every message says so.
//
// The estimate: ~4 characters per token for ASCII text (OpenAI's rule of thumb for English) and
// one token per non-ASCII character (CJK text runs at about 1-1.5 characters per token, so
// counting each as a token is the cautious side). Computed from byte counts while scanning.
import { Tokenizer } from '@huggingface/tokenizers';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MAX_CONFIG_BYTES, MAX_TOKENIZER_BYTES, readJsonFile } from '../io/regularFile';
import { checkTokenizerRegexes } from '../model/tokenizerRegex';
import { ExactTokenCounter } from './records';
import { ValidationOptions } from './types';
import { InputError } from '../../shared/errors';

export interface LoadedTokenizer extends ExactTokenCounter {
  path: string;
}

/** Loads tokenizer.json (and tokenizer_config.json beside it, when present). */
export async function loadTokenizer(path: string): Promise<LoadedTokenizer> {
  const json = await readJsonFile<object>(path, { maxBytes: MAX_TOKENIZER_BYTES, what: 'tokenizer.json' });
  // its regexes run on this thread: refuse the ones that can backtrack without end
  checkTokenizerRegexes(json, path);
  const configPath = join(dirname(path), 'tokenizer_config.json');
  // optional; when present it must be a readable regular JSON file
  const config = existsSync(configPath) ? await readJsonFile<object>(configPath, { maxBytes: MAX_CONFIG_BYTES }) : {};
  const tokenizer = new Tokenizer(json, config);
  return {
    path,
    count(text: string): number {
      let total = 0;
      for (const piece of tokenSlices(text)) total += tokenizer.encode(piece, { add_special_tokens: false }).ids.length;
      return total;
    },
  };
}

/** Text longer than this is tokenized in slices (docs/limits.md). */
export const TOKEN_SLICE_CHARS = 16_384;

/**
 * A long text in slices of at most TOKEN_SLICE_CHARS characters, each cut just before a
 * whitespace character where there is one in the slice's last 1,024 characters. Pre-tokenizers
 * split at whitespace, so the summed counts match one pass over the whole text; and a
 * tokenizer's regex then never runs over more than one slice, so even a pattern that is
 * quadratic on a long run (Llama 3's `\s*[\r\n]+` on a megabyte of spaces) stays bounded.
 */
export function* tokenSlices(text: string): Generator<string> {
  let at = 0;
  while (text.length - at > TOKEN_SLICE_CHARS) {
    let end = at + TOKEN_SLICE_CHARS;
    let cut = end;
    for (let i = end; i > end - 1024; i--) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 10 || c === 9 || c === 13) {
        cut = i;
        break;
      }
    }
    if (cut === end && text.charCodeAt(end - 1) >= 0xd800 && text.charCodeAt(end - 1) <= 0xdbff) cut = end - 1;
    end = cut;
    yield text.slice(at, end);
    at = end;
  }
  yield text.slice(at);
}

export function formatTokens(tokens: number, exact: boolean): string {
  return exact ? `${tokens.toLocaleString('en-US')} tokens` : `≈${tokens.toLocaleString('en-US')} tokens (estimated; pass a tokenizer.json for exact counts)`;
}

const tokenizerCache = new Map<string, Promise<ExactTokenCounter>>();

/** The exact token counter of `options.tokenizerPath` (loaded once per path), or undefined. */
export function tokenCounter(options: ValidationOptions): Promise<ExactTokenCounter | undefined> {
  if (!options.tokenizerPath) return Promise.resolve(undefined);
  let loaded = tokenizerCache.get(options.tokenizerPath);
  if (!loaded) {
    const path = options.tokenizerPath;
    loaded = loadTokenizer(path).catch((error: Error) => {
      throw new InputError('tokenizer', `cannot load tokenizer '${path}': ${error.message}`);
    });
    tokenizerCache.set(options.tokenizerPath, loaded);
    loaded.catch(() => tokenizerCache.delete(options.tokenizerPath!));
  }
  return loaded;
}
