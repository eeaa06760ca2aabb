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
      return tokenizer.encode(text, { add_special_tokens: false }).ids.length;
    },
  };
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
      throw Object.assign(new Error(`cannot load tokenizer '${path}': ${error.message}`), { code: 'ETOKENIZER' });
    });
    tokenizerCache.set(options.tokenizerPath, loaded);
    loaded.catch(() => tokenizerCache.delete(options.tokenizerPath!));
  }
  return loaded;
}
