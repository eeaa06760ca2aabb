// Inline diagnostics on the rows where the LLM label differs from gold (src/core/annotation/
// errorMarks.ts: conceptual errors as warnings, boundary errors as information), handed to VS Code
// in slices, one slice per turn of the event loop.
//
// Why slices in several collections: DiagnosticCollection.set replaces a file's whole list and VS
// Code serialises all of it to the renderer in that call; it also keeps at most 1,000 per file and
// collection (the rest become one "N more" entry). One set of 5,000 held the extension host 76 ms
// under load, ~45 ms of it VS Code serialising the 1,000 it keeps (docs/responsiveness.md). So
// each slice of SLICE marks goes to a collection of its own ('preflight-annotation',
// 'preflight-annotation-2', ...), set in its own turn.
import * as vscode from 'vscode';
import type { ErrorMark } from '../../core/annotation/errorMarks';

export const DIAGNOSTIC_COLLECTION = 'preflight-annotation';

/** marks per DiagnosticCollection.set: ~5 ms under load at ~45 µs a mark (runs 9-10: the longest set 3.5-5.3 ms) */
export const SLICE = 100;

/** What one marking took: the sets and the longest one (test mode records it). */
export interface MarkingCost {
  sets: number;
  longestSetMs: number;
  totalSetMs: number;
}

export class AnnotationDiagnostics implements vscode.Disposable {
  private readonly collections: vscode.DiagnosticCollection[] = [];
  /** per file: the collections holding its marks now */
  private readonly used = new Map<string, number>();
  /** per file: bumped by every set and delete, so that an older marking stops */
  private readonly generation = new Map<string, number>();

  /**
   * Marks `marks` on `file`, SLICE per collection, one set per turn. Resolves with what it cost, or
   * undefined when a newer set or a delete for the same file overtook it.
   */
  async set(file: vscode.Uri, marks: ErrorMark[], document: vscode.TextDocument | undefined): Promise<MarkingCost | undefined> {
    const key = file.toString();
    const generation = this.bump(key);
    const cost: MarkingCost = { sets: 0, longestSetMs: 0, totalSetMs: 0 };
    const slices = Math.ceil(marks.length / SLICE);
    for (let slice = 0; slice < slices; slice++) {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.generation.get(key) !== generation) return undefined;
      const diagnostics = marks.slice(slice * SLICE, (slice + 1) * SLICE).map((mark) => toDiagnostic(mark, document));
      const started = performance.now();
      this.collection(slice).set(file, diagnostics);
      const ms = performance.now() - started;
      cost.sets++;
      cost.totalSetMs += ms;
      cost.longestSetMs = Math.max(cost.longestSetMs, ms);
    }
    // a previous marking of this file with more slices: clear the rest
    for (let slice = slices; slice < (this.used.get(key) ?? 0); slice++) this.collections[slice].delete(file);
    this.used.set(key, slices);
    return cost;
  }

  delete(file: vscode.Uri): void {
    const key = file.toString();
    this.bump(key);
    for (let slice = 0; slice < (this.used.get(key) ?? 0); slice++) this.collections[slice].delete(file);
    this.used.delete(key);
  }

  dispose(): void {
    for (const collection of this.collections) collection.dispose();
    this.collections.length = 0;
  }

  private bump(key: string): number {
    const next = (this.generation.get(key) ?? 0) + 1;
    this.generation.set(key, next);
    return next;
  }

  private collection(slice: number): vscode.DiagnosticCollection {
    while (this.collections.length <= slice) {
      const n = this.collections.length + 1;
      this.collections.push(vscode.languages.createDiagnosticCollection(n === 1 ? DIAGNOSTIC_COLLECTION : `${DIAGNOSTIC_COLLECTION}-${n}`));
    }
    return this.collections[slice];
  }
}

function toDiagnostic(mark: ErrorMark, document: vscode.TextDocument | undefined): vscode.Diagnostic {
  const range = document && mark.line < document.lineCount ? document.lineAt(mark.line).range : new vscode.Range(mark.line, 0, mark.line, 1000);
  const diagnostic = new vscode.Diagnostic(range, mark.message, mark.conceptual ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information);
  diagnostic.source = 'preflight';
  diagnostic.code = mark.conceptual ? 'annotation-conceptual-error' : 'annotation-boundary-error';
  return diagnostic;
}
