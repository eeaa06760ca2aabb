// Runs validations and publishes their findings: open buffers in a worker thread that keeps a copy
// of each buffer in step with its edits (debounced while typing; see core/data/liveValidation.ts),
// large or unopened files through validateFile streamed from disk with a
// cancellable progress notification. One validation per file at a time: a newer one aborts the
// older. Owns the diagnostic collection and the results the tree, status bar and quick fixes read.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { stat } from 'node:fs/promises';
import { LiveOutcome, LiveValidator, SliceSource } from '../../core/data/liveValidation';
import type { TextEdit } from '../../core/data/textMirror';
import type { Finding, ValidationResult, ValidationSummary } from '../../core/data/types';
import { loadCoreEngine, ValidationEngine } from './engine';
import { DATA_FILE_SCHEMES, isDataFile } from './dataFiles';
import { dataFileFormat } from '../../shared/dataFiles';
import { toDiagnostics } from './diagnostics';
import { readValidationSettings } from './settings';
import { log } from '../log';

export interface FileResult {
  uri: vscode.Uri;
  summary: ValidationSummary;
  findings: Finding[];
  /** 'buffer': an open document's text; 'disk': the saved file, streamed */
  source: 'buffer' | 'disk';
  /** the document version the findings' positions refer to (buffer results only) */
  version?: number;
  at: Date;
  durationMs: number;
}

/** What the status bar shows for a file. */
export type FileState =
  | { kind: 'idle' }
  | { kind: 'running' }
  | { kind: 'tooLargeForLive'; bytes: number }
  | { kind: 'done'; result: FileResult }
  | { kind: 'failed'; message: string };

export class ValidationController implements vscode.Disposable {
  readonly diagnostics = vscode.languages.createDiagnosticCollection('preflight');
  readonly results = new Map<string, FileResult>();
  private readonly states = new Map<string, FileState>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly running = new Map<string, AbortController>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri | undefined>();
  /** fires with the file whose result or state changed (undefined: all of them) */
  readonly onDidChange = this.changed.event;
  private engine: Promise<ValidationEngine> | undefined;
  private readonly live: LiveValidator;
  /** buffers the live worker last found over the live-validation size limit */
  private readonly overLimit = new Set<string>();

  constructor(
    private readonly loadEngine: () => Promise<ValidationEngine> = loadCoreEngine,
    live?: LiveValidator,
  ) {
    this.live = live ?? new LiveValidator();
  }

  /** Whether a document is one Preflight validates automatically (by extension; JSON only if it holds an array). */
  isLiveCandidate(document: vscode.TextDocument): boolean {
    if (!DATA_FILE_SCHEMES.has(document.uri.scheme)) return false;
    return isDataFile(document.uri.path, document.getText(new vscode.Range(0, 0, 20, 0)));
  }

  state(uri: vscode.Uri): FileState {
    return this.states.get(uri.toString()) ?? { kind: 'idle' };
  }

  /** On open or save: validate now if live validation applies; large files only on save. */
  async onOpenOrSave(document: vscode.TextDocument, reason: 'open' | 'save'): Promise<void> {
    if (!this.isLiveCandidate(document)) return;
    const settings = readValidationSettings(document.uri);
    // the UTF-16 length is a lower bound of the size in bytes, known without joining the text;
    // under the limit, the worker measures the bytes (and answers 'too large' when they are over)
    const length = textLength(document);
    if (length <= settings.liveLimitBytes) {
      await this.validateBuffer(document);
      if (!this.overLimit.has(document.uri.toString())) return;
    }
    if (reason === 'save' && document.uri.scheme === 'file') {
      await this.validateFromDisk(document.uri);
    } else if (!this.results.has(document.uri.toString()) && this.state(document.uri).kind !== 'tooLargeForLive') {
      this.setState(document.uri, { kind: 'tooLargeForLive', bytes: length });
    }
  }

  /**
   * On an edit: the worker's copy of the buffer takes the edit now; validate after the debounce
   * delay (small files only: see onOpenOrSave).
   */
  schedule(document: vscode.TextDocument, changes: readonly vscode.TextDocumentContentChangeEvent[] = []): void {
    const key = document.uri.toString();
    const settings = readValidationSettings(document.uri);
    if (this.live.holds(key)) {
      this.live.edit(key, document.version, changes.map(toEdit));
    } else {
      if (!this.isLiveCandidate(document)) return;
      if (textLength(document) > settings.liveLimitBytes) return;
    }
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.validateBuffer(document);
      }, settings.debounceMs),
    );
  }

  /**
   * When a buffer closes, its findings described text that may differ from the file (unsaved
   * edits, discarded): the file on disk is validated again, quietly, so that the sidebar keeps
   * listing it with findings that match the file. A file that is gone is forgotten.
   */
  onClose(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.live.close(key);
    if (this.results.get(key)?.source !== 'buffer') return;
    if (document.uri.scheme !== 'file') {
      this.forget(document.uri);
      return;
    }
    stat(document.uri.fsPath).then(
      () => void this.validateFromDisk(document.uri, { quiet: true }),
      () => this.forget(document.uri),
    );
  }

  forget(uri: vscode.Uri): void {
    const key = uri.toString();
    this.running.get(key)?.abort();
    this.running.delete(key);
    this.live.close(key);
    this.results.delete(key);
    this.states.delete(key);
    this.diagnostics.delete(uri);
    this.changed.fire(uri);
  }

  clearAll(): void {
    for (const abort of this.running.values()) abort.abort();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.live.closeAll();
    this.running.clear();
    this.timers.clear();
    this.results.clear();
    this.states.clear();
    this.diagnostics.clear();
    this.changed.fire(undefined);
  }

  /**
   * Validates an open document's current text in the live-validation worker (sent whole the first
   * time, then kept in step by its edits). Returns undefined when superseded or too large.
   */
  async validateBuffer(document: vscode.TextDocument): Promise<FileResult | undefined> {
    const settings = readValidationSettings(document.uri);
    const version = document.version;
    const key = document.uri.toString();
    const abort = this.begin(document.uri);
    const started = Date.now();
    try {
      // An unmodified local file is read by the worker itself (no 20 MB join and copy on this
      // thread); any other buffer is sent in slices of lines, a turn of the event loop each. The
      // version is checked before each slice and the request, and the worker compares its copy
      // with the editor's line count and length: a copy that differs is sent again.
      const validate = async (sendText: boolean): Promise<LiveOutcome | undefined> => {
        if (!this.live.holds(key)) {
          // (at most 3 UTF-8 bytes a UTF-16 unit, and a BOM: a larger file is not this buffer)
          if (!sendText && !document.isDirty && document.uri.scheme === 'file')
            this.live.openFile(key, document.version, document.uri.fsPath, eolOf(document), 3 * textLength(document) + 3);
          else if (!(await this.live.openBufferInSlices(key, sliceSource(document), eolOf(document), abort.signal))) return undefined;
        }
        if (abort.signal.aborted || document.version !== version) return undefined;
        return this.live.validate(key, document.version, document.uri.fsPath, settings.options, settings.liveLimitBytes, {
          lines: document.lineCount,
          length: textLength(document),
          eol: eolOf(document),
        });
      };
      let outcome = await validate(false);
      if (outcome?.kind === 'unsynced' && !abort.signal.aborted && document.version === version) {
        log().info(`live validation: the copy of ${document.uri.fsPath} was out of step; sent again`);
        this.live.close(key);
        outcome = await validate(true);
      }
      if (!outcome || abort.signal.aborted || document.version !== version || outcome.kind === 'unsynced') return undefined;
      if (outcome.kind === 'too-large') {
        this.live.close(key);
        this.overLimit.add(key);
        if (!this.results.has(key)) this.setState(document.uri, { kind: 'tooLargeForLive', bytes: outcome.bytes });
        return undefined;
      }
      const result = outcome.result;
      this.overLimit.delete(key);
      return this.publish(document.uri, result, 'buffer', started, version, (line) =>
        line < document.lineCount ? document.lineAt(line).text.length : undefined,
      );
    } catch (error) {
      if (!abort.signal.aborted) this.fail(document.uri, error);
      return undefined;
    } finally {
      this.end(document.uri, abort);
    }
  }

  /**
   * Streams a file from disk through the validators with a cancellable progress notification
   * (or, quiet, a status-bar spinner). Returns undefined when cancelled or superseded.
   */
  async validateFromDisk(uri: vscode.Uri, { quiet = false } = {}): Promise<FileResult | undefined> {
    const settings = readValidationSettings(uri);
    const abort = this.begin(uri);
    const started = Date.now();
    const name = basename(uri.fsPath);
    try {
      const engine = await this.getEngine();
      const total = (await stat(uri.fsPath)).size;
      const result = await vscode.window.withProgress(
        // quiet (a re-check after a buffer closed): a status-bar spinner, not a notification
        {
          location: quiet ? vscode.ProgressLocation.Window : vscode.ProgressLocation.Notification,
          title: `Preflight: validating ${name}`,
          cancellable: !quiet,
        },
        async (progress, token) => {
          token.onCancellationRequested(() => abort.abort());
          let reported = 0;
          return engine.validateFile(uri.fsPath, settings.options, {
            signal: abort.signal,
            onProgress: (read, of) => {
              const size = of || total || 1;
              const percent = Math.min(100, (100 * read) / size);
              if (percent - reported < 1 && read < size) return;
              progress.report({ increment: percent - reported, message: `${megabytes(read)} of ${megabytes(size)} MB` });
              reported = percent;
            },
          });
        },
      );
      if (abort.signal.aborted) return undefined;
      return this.publish(uri, result, 'disk', started);
    } catch (error) {
      if (abort.signal.aborted) {
        log().info(`validation of ${uri.fsPath} cancelled`);
      } else {
        this.fail(uri, error);
      }
      return undefined;
    } finally {
      this.end(uri, abort);
    }
  }

  /** When the file's findings were last produced (the report registry asks). */
  lastReport(file: vscode.Uri): Date | undefined {
    return this.results.get(file.toString())?.at;
  }

  dispose(): void {
    this.clearAll();
    this.live.dispose();
    this.changed.dispose();
    this.diagnostics.dispose();
  }

  private getEngine(): Promise<ValidationEngine> {
    this.engine ??= this.loadEngine().catch((error) => {
      this.engine = undefined; // try again next time
      throw error;
    });
    return this.engine;
  }

  private begin(uri: vscode.Uri): AbortController {
    const key = uri.toString();
    this.running.get(key)?.abort();
    const abort = new AbortController();
    this.running.set(key, abort);
    this.setState(uri, { kind: 'running' });
    return abort;
  }

  private end(uri: vscode.Uri, abort: AbortController): void {
    const key = uri.toString();
    if (this.running.get(key) !== abort) return; // a newer validation owns the state
    this.running.delete(key);
    if (this.states.get(key)?.kind === 'running') {
      const result = this.results.get(key);
      this.setState(uri, result ? { kind: 'done', result } : { kind: 'idle' });
    }
  }

  private publish(
    uri: vscode.Uri,
    result: ValidationResult,
    source: FileResult['source'],
    started: number,
    version?: number,
    lineLength?: (line: number) => number | undefined,
  ): FileResult {
    const settings = readValidationSettings(uri);
    const fileResult: FileResult = {
      uri,
      summary: result.summary,
      findings: result.findings,
      source,
      version,
      at: new Date(),
      durationMs: Date.now() - started,
    };
    this.results.set(uri.toString(), fileResult);
    this.diagnostics.set(uri, toDiagnostics(result.findings, result.summary, settings.maxFindings, lineLength ?? this.openLineLength(uri)));
    this.setState(uri, { kind: 'done', result: fileResult });
    log().info(
      `validated ${uri.fsPath} (${source}, ${fileResult.durationMs} ms): ${result.summary.records} records, ${result.summary.errors} errors, ${result.summary.warnings} warnings, ${result.summary.infos} infos`,
    );
    return fileResult;
  }

  /** line lengths of the file's open, unmodified document, if any (disk results) */
  private openLineLength(uri: vscode.Uri): ((line: number) => number | undefined) | undefined {
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (!document || document.isDirty) return undefined;
    return (line) => (line < document.lineCount ? document.lineAt(line).text.length : undefined);
  }

  private fail(uri: vscode.Uri, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    log().error(`validating ${uri.fsPath} failed: ${error instanceof Error ? (error.stack ?? message) : message}`);
    this.setState(uri, { kind: 'failed', message });
  }

  private setState(uri: vscode.Uri, state: FileState): void {
    this.states.set(uri.toString(), state);
    this.changed.fire(uri);
  }
}

/** Is this path one the validators understand (by extension)? */
export function isValidatablePath(path: string): boolean {
  return dataFileFormat(path) !== undefined;
}

function toEdit(change: vscode.TextDocumentContentChangeEvent): TextEdit {
  const { start, end } = change.range;
  return { startLine: start.line, startCharacter: start.character, endLine: end.line, endCharacter: end.character, text: change.text };
}

function eolOf(document: vscode.TextDocument): '\n' | '\r\n' {
  return document.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
}

/** The document as openBufferInSlices reads it: lines by offset from VS Code's line index. */
function sliceSource(document: vscode.TextDocument): SliceSource {
  return {
    get version() {
      return document.version;
    },
    get lineCount() {
      return document.lineCount;
    },
    lineAt: (offset) => document.positionAt(offset).line,
    offsetOf: (line) => document.offsetAt(new vscode.Position(line, 0)),
    text: (start, end) =>
      document.getText(
        end < document.lineCount ? new vscode.Range(start, 0, end, 0) : new vscode.Range(start, 0, end - 1, document.lineAt(end - 1).text.length),
      ),
  };
}

/** UTF-16 length of the document, from the line index (no text is joined) */
function textLength(document: vscode.TextDocument): number {
  return document.offsetAt(document.lineAt(document.lineCount - 1).range.end);
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
