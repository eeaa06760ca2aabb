// Training records rendered exactly as fine-tuning would see them, streamed from JSONL with
// bounded memory (reservoir sampling) and the file's content hash computed in the same pass.
import { createHash } from 'node:crypto';
import { createRegularReadStream } from '../io/regularFile';
import { createInterface } from 'node:readline';
import type { ChatMessage, TextTokenizer } from '../model/api';
import { rng } from '../../shared/random';
import { throwIfCancelled } from '../../shared/errors';
import type { RecordFormat } from '../../shared/dataFiles';

export type { RecordFormat };

/**
 * Which token's hidden state represents a record. 'final': the record's last token as fine-tuning
 * sees it (the published method; with a chat template that is the template's end-of-turn marker).
 * 'content': the last token of the last message's content, before any template trailer — the
 * design notes show the final token can be the same marker for every record and say little.
 */
export type AnchorToken = 'final' | 'content';

export interface FormatOptions {
  /** 'auto' detects the schema per record */
  format?: 'auto' | RecordFormat;
  anchor?: AnchorToken;
  /** records longer than this are cut to their first maxTokens tokens (as a trainer would truncate) */
  maxTokens?: number;
}

export interface RenderedRecord {
  /** 1-based line in the file */
  line: number;
  format: RecordFormat;
  text: string;
}

// Stanford Alpaca's prompt templates, verbatim.
const ALPACA_WITH_INPUT =
  'Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n';
const ALPACA_NO_INPUT =
  'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:\n';

export function detectFormat(record: unknown): RecordFormat | null {
  if (!record || typeof record !== 'object' || Array.isArray(record)) return null;
  const r = record as Record<string, unknown>;
  if (Array.isArray(r.messages)) return 'chat';
  if (Array.isArray(r.conversations)) return 'sharegpt';
  if (typeof r.prompt === 'string' && typeof r.completion === 'string') return 'prompt-completion';
  if (Array.isArray(r.prompt) && Array.isArray(r.completion)) return 'chat';
  if (typeof r.instruction === 'string' && typeof r.output === 'string') return 'alpaca';
  if (typeof r.text === 'string') return 'text';
  return null;
}

function toMessages(record: Record<string, unknown>, format: RecordFormat): ChatMessage[] {
  const asMessage = (m: unknown): ChatMessage => {
    const o = (m ?? {}) as Record<string, unknown>;
    return { role: String(o.role ?? 'user'), content: typeof o.content === 'string' ? o.content : JSON.stringify(o.content ?? '') };
  };
  if (format === 'sharegpt') {
    const roles: Record<string, string> = { human: 'user', user: 'user', gpt: 'assistant', assistant: 'assistant', system: 'system' };
    return (record.conversations as unknown[]).map((m) => {
      const o = (m ?? {}) as Record<string, unknown>;
      return { role: roles[String(o.from)] ?? 'user', content: String(o.value ?? '') };
    });
  }
  if (Array.isArray(record.messages)) return record.messages.map(asMessage);
  // conversational prompt/completion (TRL): two message lists
  return [...(record.prompt as unknown[]), ...(record.completion as unknown[])].map(asMessage);
}

/** Renders one parsed record to the exact string a trainer would tokenize; null when no schema fits. */
export function renderRecord(record: unknown, tokenizer: TextTokenizer, options: FormatOptions = {}): { format: RecordFormat; text: string } | null {
  const detected = detectFormat(record);
  const format = options.format && options.format !== 'auto' ? options.format : detected;
  if (!format || !detected) return null;
  const r = record as Record<string, unknown>;
  const anchor = options.anchor ?? 'final';
  if (format === 'chat' || format === 'sharegpt') {
    const messages = toMessages(r, detected === 'sharegpt' ? 'sharegpt' : 'chat');
    if (messages.length === 0) return null;
    let text = tokenizer.applyChatTemplate(messages, { addGenerationPrompt: false });
    if (anchor === 'content') {
      const last = messages[messages.length - 1].content;
      const at = last ? text.lastIndexOf(last) : -1;
      if (at >= 0) text = text.slice(0, at + last.length);
    }
    return { format, text };
  }
  if (format === 'prompt-completion') {
    if (typeof r.prompt !== 'string' || typeof r.completion !== 'string') return null;
    return { format, text: r.prompt + r.completion };
  }
  if (format === 'alpaca') {
    if (typeof r.instruction !== 'string' || typeof r.output !== 'string') return null;
    const input = typeof r.input === 'string' ? r.input : '';
    const prompt = (input ? ALPACA_WITH_INPUT.replace('{input}', input) : ALPACA_NO_INPUT).replace('{instruction}', r.instruction);
    return { format, text: prompt + r.output };
  }
  if (typeof r.text !== 'string') return null;
  return { format, text: r.text };
}

/** A token is at most this many UTF-16 characters on average in any text a trainer sees (BPE
 *  vocabularies average 3-5; long whitespace or punctuation runs reach ~16). docs/limits.md. */
export const MAX_CHARS_PER_TOKEN = 32;

/**
 * The prefix of `text` that holds its first `maxTokens` tokens: a 50 MB record is cut to
 * maxTokens × MAX_CHARS_PER_TOKEN characters before it is tokenized, so tokenizing it costs time
 * and memory in proportion to maxTokens, not to the record (never splits a surrogate pair).
 */
export function cutForTokens(text: string, maxTokens: number): string {
  const limit = Math.max(1, maxTokens) * MAX_CHARS_PER_TOKEN;
  if (text.length <= limit) return text;
  const last = text.charCodeAt(limit - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? limit - 1 : limit);
}

/** Token ids of a rendered record (cut to its first maxTokens tokens): chat templates carry their own special tokens. */
export function tokenizeRecord(rendered: { format: RecordFormat; text: string }, tokenizer: TextTokenizer, maxTokens: number): number[] {
  const templated = rendered.format === 'chat' || rendered.format === 'sharegpt';
  let ids = tokenizer.encode(cutForTokens(rendered.text, maxTokens), { addSpecialTokens: !templated });
  if (ids.length === 0 && tokenizer.bosTokenId !== undefined) ids = [tokenizer.bosTokenId];
  return ids.length > maxTokens ? ids.slice(0, maxTokens) : ids;
}

export interface StreamOptions {
  /** keep at most this many records (reservoir sampling, seeded); 0 = all */
  samples?: number;
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (bytesRead: number) => void;
}

export interface StreamResult<T> {
  kept: T[];
  /** records that parsed and matched a schema */
  records: number;
  /** lines skipped: malformed JSON or no known schema */
  skipped: number;
  bytes: number;
  sha256: string;
}

/**
 * Streams a JSONL file line by line. `accept` turns a parsed line into a kept item (or null to skip);
 * with `samples` set, Algorithm R keeps a uniform seeded sample so memory stays bounded.
 */
export async function streamJsonl<T>(path: string, accept: (value: unknown, line: number) => T | null, options: StreamOptions = {}): Promise<StreamResult<T>> {
  const hash = createHash('sha256');
  const stream = createRegularReadStream(path);
  let bytes = 0;
  stream.on('data', (chunk) => {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    options.onProgress?.(bytes);
  });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  const random = rng(options.seed ?? 0);
  const limit = options.samples ?? 0;
  const kept: T[] = [];
  let records = 0;
  let skipped = 0;
  let lineNo = 0;
  try {
    for await (const raw of lines) {
      lineNo++;
      throwIfCancelled(options.signal);
      if (!raw.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        skipped++;
        continue;
      }
      const item = accept(value, lineNo);
      if (item === null) {
        skipped++;
        continue;
      }
      records++;
      if (limit <= 0 || kept.length < limit) kept.push(item);
      else {
        const j = Math.floor(random() * records);
        if (j < limit) kept[j] = item;
      }
    }
  } finally {
    lines.close();
    stream.destroy();
  }
  return { kept, records, skipped, bytes, sha256: hash.digest('hex') };
}

/** sha256 of a file's bytes, streamed. */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createRegularReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
