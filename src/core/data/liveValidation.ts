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
  | { kind: 'open'; key: string; version: number; text: string; eol: '\n' | '\r\n' }
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

/** The client: one worker thread for every open buffer, started on first use. */
export class LiveValidator {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (o: LiveOutcome) => void; reject: (e: Error) => void }>();
  /** the buffers the worker holds a copy of */
  private readonly open = new Set<string>();

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
    if (!this.open.delete(key)) return;
    this.post({ kind: 'close', key });
  }

  closeAll(): void {
    for (const key of [...this.open]) this.close(key);
  }

  validate(key: string, version: number, file: string, options: ValidationOptions, limitBytes: number, expect: { lines: number; length: number; eol: '\n' | '\r\n' }): Promise<LiveOutcome> {
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
    const worker = this.entry.eval ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(this.entry.file)});`, { eval: true }) : new Worker(this.entry.file);
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
