// Live validation of editor buffers in a worker thread (dist/liveValidationWorker.js): the editor
// sends a buffer's text once, then only its edits; after a pause in typing it asks for a
// validation, which the worker runs on its own copy. The extension host thread never joins,
// encodes or scans a large buffer while the user types.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TextEdit } from './textMirror';
import type { ValidationOptions, ValidationResult } from './types';

export type LiveRequest =
  /** the buffer's text; with `more`, its first slice: 'append's with the same `seq` follow, the last without `more` */
  | { kind: 'open'; key: string; version: number; text: string; eol: '\n' | '\r\n'; seq?: number; more?: boolean }
  | { kind: 'append'; key: string; seq: number; text: string; more: boolean }
  /** the buffer is the saved file: the worker reads it (UTF-8, BOM dropped, as the editor shows it) */
  | { kind: 'open-file'; key: string; version: number; path: string; eol: '\n' | '\r\n'; maxBytes: number }
  | { kind: 'edit'; key: string; version: number; edits: TextEdit[] }
  | { kind: 'close'; key: string }
  | {
      kind: 'validate';
      id: number;
      key: string;
      version: number;
      file: string;
      options: ValidationOptions;
      /** larger buffers are not validated (answer 'too-large') */
      limitBytes: number;
      /** the editor's line count, length (UTF-16) and line break, to check the copy against */
      expect: { lines: number; length: number; eol: '\n' | '\r\n' };
    };

export type LiveOutcome =
  | { kind: 'result'; result: ValidationResult }
  | { kind: 'too-large'; bytes: number }
  /** the worker's copy is missing or differs from the editor's buffer: send the text again */
  | { kind: 'unsynced' };

export type LiveResponse = { id: number } & (LiveOutcome | { kind: 'error'; message: string });

/** What openBufferInSlices reads of an editor document (core has no vscode types). */
export interface SliceSource {
  /** the document's version now (it changes with every edit) */
  readonly version: number;
  readonly lineCount: number;
  /** the line that holds UTF-16 offset `offset` (the last line past the end) */
  lineAt(offset: number): number;
  /** UTF-16 offset of the start of `line` */
  offsetOf(line: number): number;
  /** the text of lines [start, end), each with its line break except the document's last line */
  text(start: number, end: number): string;
}

/** UTF-16 units a slice (about 2 MB to join and copy: a few ms of the editor thread) */
export const SLICE_CHARS = 1 << 20;

/** The client: one worker thread for every open buffer, started on first use. */
export class LiveValidator {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (o: LiveOutcome) => void; reject: (e: Error) => void }>();
  /** the buffers the worker holds a copy of */
  private readonly open = new Set<string>();
  /** the buffers being sent in slices: key -> that sending's seq (a newer one takes over) */
  private readonly sending = new Map<string, number>();

  constructor(private readonly entry: { file: string; eval?: boolean } = liveWorkerEntry()) {}

  holds(key: string): boolean {
    return this.open.has(key);
  }

  /** Sends a buffer's whole text (on first validation, or when the copy fell out of step). */
  openBuffer(key: string, version: number, text: string, eol: '\n' | '\r\n'): void {
    this.post({ kind: 'open', key, version, text, eol });
    this.open.add(key);
  }

  /**
   * Sends a buffer's text in slices of lines of about `sliceChars` UTF-16 units, one slice per turn
   * of the event loop, so the editor thread never joins or copies the whole text at once. Stops
   * (false) when the document changes or `signal` fires before the last slice: the copy is then
   * dropped and the next validation sends the text again. True once the worker holds the copy.
   */
  async openBufferInSlices(key: string, source: SliceSource, eol: '\n' | '\r\n', signal?: AbortSignal, sliceChars = SLICE_CHARS): Promise<boolean> {
    const version = source.version;
    const seq = this.nextId++;
    this.close(key);
    this.sending.set(key, seq);
    const stop = () => {
      // a newer sending of this key owns the worker's partial copy: leave it alone
      if (this.sending.get(key) === seq) {
        this.sending.delete(key);
        this.post({ kind: 'close', key });
      }
      return false;
    };
    for (let start = 0; start < source.lineCount;) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      if (signal?.aborted || source.version !== version || this.sending.get(key) !== seq) return stop();
      const end = Math.min(source.lineCount, Math.max(start + 1, source.lineAt(source.offsetOf(start) + sliceChars) + 1));
      const text = source.text(start, end);
      const more = end < source.lineCount;
      this.post(start === 0 ? { kind: 'open', key, version, text, eol, seq, more } : { kind: 'append', key, seq, text, more });
      start = end;
    }
    this.sending.delete(key);
    this.open.add(key);
    return true;
  }

  /**
   * An unmodified buffer of a local file: the worker reads the file itself, so the editor thread
   * neither joins nor copies the text. The check before each validation catches a file that
   * differs from the buffer (another encoding, changed on disk): the caller then sends the text.
   */
  openFile(key: string, version: number, path: string, eol: '\n' | '\r\n', maxBytes: number): void {
    this.post({ kind: 'open-file', key, version, path, eol, maxBytes });
    this.open.add(key);
  }

  /** Forwards an edit to a buffer the worker holds (others are ignored: they are sent whole later). */
  edit(key: string, version: number, edits: TextEdit[]): void {
    if (this.open.has(key)) this.post({ kind: 'edit', key, version, edits });
  }

  close(key: string): void {
    const sending = this.sending.delete(key);
    if (!this.open.delete(key) && !sending) return;
    this.post({ kind: 'close', key });
  }

  closeAll(): void {
    for (const key of [...this.open]) this.close(key);
  }

  validate(
    key: string,
    version: number,
    file: string,
    options: ValidationOptions,
    limitBytes: number,
    expect: { lines: number; length: number; eol: '\n' | '\r\n' },
  ): Promise<LiveOutcome> {
    const id = this.nextId++;
    return new Promise<LiveOutcome>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ kind: 'validate', id, key, version, file, options, limitBytes, expect });
    });
  }

  dispose(): void {
    void this.worker?.terminate();
    this.worker = undefined;
    this.failAll(new Error('live validation stopped'));
  }

  private post(request: LiveRequest): void {
    this.start().postMessage(request);
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = this.entry.eval
      ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(this.entry.file)});`, { eval: true })
      : new Worker(this.entry.file);
    worker.unref(); // an idle worker never keeps a process alive
    worker.on('message', (msg: LiveResponse) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.kind === 'error') p.reject(new Error(msg.message));
      else p.resolve(msg);
    });
    const lost = (error: Error) => {
      if (this.worker !== worker) return;
      // its copies are gone with it: the next validation of each buffer sends it whole
      this.worker = undefined;
      this.open.clear();
      this.sending.clear();
      this.failAll(error);
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`live validation worker exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}

/** dist/liveValidationWorker.js beside the bundle; under tsx, the TypeScript entry. */
export function liveWorkerEntry(): { file: string; eval?: boolean } {
  const js = join(__dirname, 'liveValidationWorker.js');
  if (existsSync(js)) return { file: js };
  return { file: join(__dirname, 'liveValidationWorker.ts'), eval: true };
}
