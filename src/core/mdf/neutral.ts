// The neutral control (docs/mdf.md, Controls): a shipped corpus of generic, varied records
// (models/neutral/neutral.jsonl, canonical fields `instruction` and `response`) rendered in the
// user's file's own format, so its signature carries everything a corpus of that format shares
// (chat template, end-of-turn state, Alpaca scaffolding) and nothing specific to the user's data.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { RecordFormat } from './records';

export interface NeutralRecord {
  instruction: string;
  response: string;
}

/** models/neutral/neutral.jsonl of the installed extension or checkout (walking up from this bundle). */
export function builtinNeutralCorpus(start: string = __dirname): string | null {
  let dir = resolve(start);
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'models', 'neutral', 'neutral.jsonl');
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return null;
}

/** Reads the canonical records; a line that is not one is an error naming the file and line. */
export function readNeutralCorpus(file: string): NeutralRecord[] {
  const records: NeutralRecord[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new Error(`${file}:${i + 1}: not valid JSON`);
      }
      const r = value as Partial<NeutralRecord> | null;
      if (!r || typeof r.instruction !== 'string' || typeof r.response !== 'string' || !r.instruction.trim() || !r.response.trim()) {
        throw new Error(`${file}:${i + 1}: a neutral record needs non-empty "instruction" and "response" strings`);
      }
      records.push({ instruction: r.instruction, response: r.response });
    });
  if (records.length === 0) throw new Error(`${file}: the neutral corpus has no records`);
  return records;
}

/** One neutral record in a training-file schema, as records.ts's renderRecord reads it. */
export function neutralAs(record: NeutralRecord, format: RecordFormat): Record<string, unknown> {
  switch (format) {
    case 'chat':
      return {
        messages: [
          { role: 'user', content: record.instruction },
          { role: 'assistant', content: record.response },
        ],
      };
    case 'sharegpt':
      return {
        conversations: [
          { from: 'human', value: record.instruction },
          { from: 'gpt', value: record.response },
        ],
      };
    case 'prompt-completion':
      return { prompt: `${record.instruction}\n`, completion: record.response };
    case 'alpaca':
      return { instruction: record.instruction, input: '', output: record.response };
    case 'text':
      return { text: `${record.instruction}\n${record.response}` };
  }
}

/** The format most of the user's records have (ties: the first in schema order). */
export function dominantFormat(formats: Partial<Record<RecordFormat, number>>): RecordFormat {
  const order: RecordFormat[] = ['chat', 'sharegpt', 'prompt-completion', 'alpaca', 'text'];
  return order.reduce((best, f) => ((formats[f] ?? 0) > (formats[best] ?? 0) ? f : best), order[0]);
}

/**
 * Writes the corpus rendered as `format` to a temporary JSONL file and passes its path to `use`;
 * the file is removed afterwards. (The signature code reads files; the content, and so the
 * signature cache key, is the same on every run.)
 */
export async function withNeutralFile<T>(corpus: string, format: RecordFormat, use: (path: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'preflight-neutral-'));
  try {
    const path = join(dir, `neutral-${format}.jsonl`);
    writeFileSync(
      path,
      readNeutralCorpus(corpus)
        .map((r) => JSON.stringify(neutralAs(r, format)))
        .join('\n') + '\n',
    );
    return await use(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
