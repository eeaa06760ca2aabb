// A copy of an editor buffer kept in step by the editor's edits (line/character ranges, applied in
// order, as VS Code's own extension-host mirror applies them), so that a worker thread can
// validate the buffer without the editor thread sending or joining its whole text on each pause in
// typing. The caller checks the copy against the editor's line count and length before trusting it.

export interface TextEdit {
  /** 0-based line and UTF-16 character of the replaced range's start and end, before this edit */
  startLine: number;
  startCharacter: number;
  endLine: number;
  endCharacter: number;
  text: string;
}

const LINE_BREAK = /\r\n|\r|\n/;

export class TextMirror {
  private lines: string[];
  /** UTF-16 length of the lines, line breaks not counted */
  private chars = 0;

  constructor(
    text: string,
    public version: number,
    public eol: '\n' | '\r\n',
  ) {
    this.lines = text.split(LINE_BREAK);
    for (const line of this.lines) this.chars += line.length;
  }

  get lineCount(): number {
    return this.lines.length;
  }

  /** UTF-16 length of the whole text, line breaks included (what document.offsetAt(end) gives) */
  get length(): number {
    return this.chars + (this.lines.length - 1) * this.eol.length;
  }

  apply(edits: readonly TextEdit[], version: number): void {
    for (const edit of edits) this.applyOne(edit);
    this.version = version;
  }

  text(): string {
    return this.lines.join(this.eol);
  }

  private applyOne(edit: TextEdit): void {
    const { lines } = this;
    if (edit.startLine < 0 || edit.endLine >= lines.length || edit.startLine > edit.endLine)
      throw new RangeError(`edit outside the text (lines ${edit.startLine}-${edit.endLine} of ${lines.length})`);
    const first = lines[edit.startLine];
    const last = lines[edit.endLine];
    const replaced = edit.startLine === edit.endLine ? [first] : lines.slice(edit.startLine, edit.endLine + 1);
    for (const line of replaced) this.chars -= line.length;
    const inserted = (first.slice(0, edit.startCharacter) + edit.text + last.slice(edit.endCharacter)).split(LINE_BREAK);
    for (const line of inserted) this.chars += line.length;
    if (inserted.length === 1 && replaced.length === 1) lines[edit.startLine] = inserted[0];
    else if (inserted.length < 10000) lines.splice(edit.startLine, replaced.length, ...inserted);
    else this.lines = lines.slice(0, edit.startLine).concat(inserted, lines.slice(edit.endLine + 1)); // a big paste: no huge argument list
  }
}
