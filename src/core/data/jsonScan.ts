// A validating JSON scanner over UTF-8 bytes that records a flat "tape" of tokens instead of
// building objects (the idea of simdjson's tape, in plain TypeScript). It accepts exactly what
// JSON.parse accepts (the fuzz test checks this against JSON.parse), reports the byte offset of
// the first syntax error with a readable reason, and never allocates per token, which is what
// lets `preflight validate` read JSONL faster than a JSON.parse-per-line loop.
//
// Tape layout: token i has a type, a [start, end) byte span (strings include their quotes) and
// `next[i]`, the index just after its subtree, so siblings are walked without recursion. Object
// members are stored as key (a string token) then value.

import type { WasmScanner } from './wasmScan';

export const T_OBJECT = 1;
export const T_ARRAY = 2;
export const T_STRING = 3;
export const T_NUMBER = 4;
export const T_TRUE = 5;
export const T_FALSE = 6;
export const T_NULL = 7;

/** string token flags */
export const F_ESCAPED = 1;
export const F_NON_ASCII = 2;

const TYPE_NAMES = ['', 'object', 'array', 'string', 'number', 'boolean', 'boolean', 'null'];
export function typeName(type: number): string {
  return TYPE_NAMES[type] ?? 'value';
}

export class JsonTape {
  type = new Uint8Array(1024);
  flags = new Uint8Array(1024);
  start = new Int32Array(1024);
  end = new Int32Array(1024);
  next = new Int32Array(1024);
  /** strings: a token-count weight, ASCII bytes + 4 per non-ASCII character (see tokens.ts) */
  weight = new Int32Array(1024);
  /**
   * strings: their text normalised for near-duplicate hashing, norm[normStart, normEnd), written
   * while scanning (so the text is read once): ASCII letters folded to lower case, digits and
   * bytes >= 0x80 kept, each run of other bytes (punctuation, whitespace, escapes such as \n;
   * \uXXXX keeps its hex text) one 0 byte, leading separators dropped, one 0 at the end of a
   * string that has any text (keys: nothing, they are not hashed). See NormalizedHasher in hash.ts.
   */
  normStart = new Int32Array(1024);
  normEnd = new Int32Array(1024);
  norm: Uint8Array = new Uint8Array(1 << 16);
  private normPos = 0;
  count = 0;
  /** byte offset of the first syntax error, or -1 */
  errorOffset = -1;
  errorMessage = '';
  /** byte offset of the first invalid UTF-8 sequence inside a string, or -1 */
  utf8ErrorOffset = -1;
  /** whether any byte >= 0x80 was seen (columns then need decoding) */
  nonAscii = false;
  /** UTF-8 bytes minus UTF-16 code units of the valid non-ASCII text seen (columns without decoding) */
  utf16Shrink = 0;
  private stack = new Int32Array(256);
  buf: Uint8Array = new Uint8Array(0);
  /** set on the WebAssembly scanner's tape (its arrays are views of the module's memory), which also hashes */
  wasm: WasmScanner | null = null;

  private grow(): void {
    const size = this.type.length * 2;
    const resize = <T extends Uint8Array | Int32Array>(old: T): T => {
      const bigger = new (old.constructor as { new (n: number): T })(size);
      bigger.set(old);
      return bigger;
    };
    this.type = resize(this.type);
    this.flags = resize(this.flags);
    this.start = resize(this.start);
    this.end = resize(this.end);
    this.next = resize(this.next);
    this.weight = resize(this.weight);
    this.normStart = resize(this.normStart);
    this.normEnd = resize(this.normEnd);
  }

  private growNorm(used: number): Uint8Array {
    const bigger = new Uint8Array(Math.max(this.norm.length * 2, used + (1 << 16)));
    bigger.set(this.norm.subarray(0, used));
    this.norm = bigger;
    return bigger;
  }

  private fail(offset: number, message: string): number {
    if (this.errorOffset < 0) {
      this.errorOffset = offset;
      this.errorMessage = message;
    }
    return -1;
  }

  /** Scans one whole JSON document in buf[s, e) (whitespace allowed around it). */
  scanDocument(buf: Uint8Array, s: number, e: number): boolean {
    this.reset(buf);
    let pos = skipWs(buf, s, e);
    if (pos >= e) return this.fail(pos, 'expected a JSON value, found the end of the line') >= 0;
    pos = this.scanValue(buf, pos, e);
    if (pos < 0) return false;
    pos = skipWs(buf, pos, e);
    if (pos < e) {
      this.fail(pos, `unexpected ${describe(buf, pos, e)} after the end of the JSON value`);
      return false;
    }
    return true;
  }

  reset(buf: Uint8Array): void {
    this.buf = buf;
    this.count = 0;
    this.errorOffset = -1;
    this.errorMessage = '';
    this.utf8ErrorOffset = -1;
    this.nonAscii = false;
    this.utf16Shrink = 0;
    this.normPos = 0;
  }

  /**
   * Scans one JSON value starting at buf[pos] (no leading whitespace) and returns the offset just
   * after it, or -1 with errorOffset/errorMessage set. Appends to the tape (call reset() first).
   */
  scanValue(buf: Uint8Array, pos: number, e: number): number {
    let depth = 0;
    const stack = this.stack;
    // state: 0 = expect value; 1 = after a value
    for (;;) {
      // ---- expect a value at pos
      if (pos >= e) return this.fail(pos, 'unexpected end of line: the JSON value is incomplete');
      const c = buf[pos];
      const tok = this.count;
      if (tok >= this.type.length) this.grow();
      this.count = tok + 1;
      this.start[tok] = pos;
      this.flags[tok] = 0;
      if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        this.type[tok] = c === 0x7b ? T_OBJECT : T_ARRAY;
        if (depth >= stack.length) {
          const bigger = new Int32Array(stack.length * 2);
          bigger.set(stack);
          this.stack = bigger;
          return this.scanValueResume(buf, pos, e, depth, tok);
        }
        stack[depth++] = tok;
        pos = skipWs(buf, pos + 1, e);
        if (c === 0x7b) {
          if (pos < e && buf[pos] === 0x7d) {
            pos++;
            depth--;
            this.end[tok] = pos;
            this.next[tok] = this.count;
          } else {
            pos = this.scanKey(buf, pos, e);
            if (pos < 0) return -1;
            continue;
          }
        } else {
          if (pos < e && buf[pos] === 0x5d) {
            pos++;
            depth--;
            this.end[tok] = pos;
            this.next[tok] = this.count;
          } else continue;
        }
      } else if (c === 0x22) {
        this.type[tok] = T_STRING;
        pos = this.scanString(buf, pos, e, tok);
        if (pos < 0) return -1;
      } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        this.type[tok] = T_NUMBER;
        pos = scanNumber(buf, pos, e);
        if (pos < 0) return this.fail(-pos - 1, 'invalid number');
        this.end[tok] = pos;
        this.next[tok] = tok + 1;
      } else if (c === 0x74 && matchLiteral(buf, pos, e, LIT_TRUE)) {
        this.type[tok] = T_TRUE;
        pos += 4;
        this.end[tok] = pos;
        this.next[tok] = tok + 1;
      } else if (c === 0x66 && matchLiteral(buf, pos, e, LIT_FALSE)) {
        this.type[tok] = T_FALSE;
        pos += 5;
        this.end[tok] = pos;
        this.next[tok] = tok + 1;
      } else if (c === 0x6e && matchLiteral(buf, pos, e, LIT_NULL)) {
        this.type[tok] = T_NULL;
        pos += 4;
        this.end[tok] = pos;
        this.next[tok] = tok + 1;
      } else {
        this.count = tok;
        if (c === 0x5d || c === 0x7d) return this.fail(pos, `unexpected '${String.fromCharCode(c)}': a value is missing (trailing comma?)`);
        if (c === 0x27) return this.fail(pos, 'unexpected "\'": JSON strings need double quotes');
        return this.fail(pos, `unexpected ${describe(buf, pos, e)}: expected a JSON value`);
      }
      // ---- after a value: close containers or move to the next member
      for (;;) {
        if (depth === 0) return pos;
        pos = skipWs(buf, pos, e);
        const container = stack[depth - 1];
        const isObject = this.type[container] === T_OBJECT;
        if (pos >= e) return this.fail(pos, `unexpected end of line: ${isObject ? "'}'" : "']'"} is missing`);
        const d = buf[pos];
        if (d === 0x2c /* , */) {
          pos = skipWs(buf, pos + 1, e);
          if (isObject) {
            pos = this.scanKey(buf, pos, e);
            if (pos < 0) return -1;
          }
          break;
        }
        if ((isObject && d === 0x7d) || (!isObject && d === 0x5d)) {
          pos++;
          depth--;
          this.end[container] = pos;
          this.next[container] = this.count;
          continue;
        }
        return this.fail(pos, `unexpected ${describe(buf, pos, e)}: expected ',' or ${isObject ? "'}'" : "']'"}`);
      }
    }
  }

  // Very deep nesting (beyond the stack) is rare: the stack has just been doubled, so rescan the
  // outermost value (stack[0] is the value this scanValue call started with).
  private scanValueResume(buf: Uint8Array, _pos: number, e: number, _depth: number, _tok: number): number {
    const root = this.stack[0];
    this.count = root;
    return this.scanValue(buf, this.start[root], e);
  }

  private scanKey(buf: Uint8Array, pos: number, e: number): number {
    if (pos >= e) return this.fail(pos, "unexpected end of line: expected a property name or '}'");
    if (buf[pos] !== 0x22) {
      if (buf[pos] === 0x7d) return this.fail(pos, "unexpected '}' after ',': trailing comma");
      return this.fail(pos, `unexpected ${describe(buf, pos, e)}: property names must be double-quoted strings`);
    }
    const tok = this.count;
    if (tok >= this.type.length) this.grow();
    this.count = tok + 1;
    this.type[tok] = T_STRING;
    this.start[tok] = pos;
    this.flags[tok] = 0;
    // keys are not hashed: they leave no normalised text, so that a record's values lie side by side
    let i = pos + 1;
    while (i < e && PLAIN[buf[i]] === 1) i++;
    if (i < e && buf[i] === 0x22) {
      // the usual key, plain ASCII: what scanString records, without the normalised text
      i++;
      this.end[tok] = i;
      this.next[tok] = tok + 1;
      this.weight[tok] = i - pos - 2;
      this.normStart[tok] = this.normEnd[tok] = this.normPos;
      pos = i;
    } else {
      pos = this.scanString(buf, pos, e, tok);
      if (pos < 0) return -1;
      this.normPos = this.normEnd[tok] = this.normStart[tok];
    }
    pos = skipWs(buf, pos, e);
    if (pos >= e || buf[pos] !== 0x3a)
      return this.fail(pos, `expected ':' after the property name, found ${pos >= e ? 'the end of the line' : describe(buf, pos, e)}`);
    return skipWs(buf, pos + 1, e);
  }

  private scanString(buf: Uint8Array, pos: number, e: number, tok: number): number {
    const open = pos;
    let i = pos + 1;
    let flags = 0;
    let nonAsciiBytes = 0;
    let chars = 0;
    // normalised text (see `norm`): `prev` is the last byte written (0: a separator, or nothing yet)
    let nb = this.norm;
    let nj = this.normPos;
    let prev = 0;
    this.normStart[tok] = nj;
    for (;;) {
      // room for the bytes up to `lim`, plus 8 for an escape or a UTF-8 sequence and the end
      if (nb.length - nj < 16) nb = this.growNorm(nj);
      const lim = Math.min(e, i + nb.length - nj - 8);
      // the common case first: printable ASCII other than '"' and '\\' (one table lookup a byte),
      // written normalised without branches (the write position stays on a repeated separator)
      while (i < lim) {
        const c = buf[i];
        if (PLAIN[c] !== 1) break;
        const n = NORM[c];
        nb[nj] = n;
        nj += ((n | prev) + 255) >> 8;
        prev = n;
        i++;
      }
      if (i >= e) return this.fail(open, "unterminated string: the closing '\"' is missing");
      if (i >= lim) {
        nb = this.growNorm(nj);
        continue;
      }
      const c = buf[i];
      if (c === 0x22) break;
      if (c === 0x5c) {
        flags |= F_ESCAPED;
        const n = i + 1 < e ? buf[i + 1] : -1;
        // an escape is a separator; \uXXXX then keeps its hex text
        nb[nj] = 0;
        nj += (prev + 255) >> 8;
        prev = 0;
        if (n === 0x75) {
          for (let k = 2; k < 6; k++) {
            if (i + k >= e || HEX[buf[i + k]] !== 1) return this.fail(i, 'invalid \\u escape: expected four hex digits');
          }
          for (let k = 1; k < 6; k++) {
            const m = NORM[buf[i + k]];
            nb[nj] = m;
            nj += ((m | prev) + 255) >> 8;
            prev = m;
          }
          i += 6;
        } else if (n >= 0 && ESCAPES[n] === 1) {
          i += 2;
        } else {
          if (n < 0) return this.fail(open, "unterminated string: the closing '\"' is missing");
          return this.fail(i, `invalid escape '\\${String.fromCharCode(n)}' in string`);
        }
        continue;
      }
      if (c < 0x20) return this.fail(i, 'control character in string: it must be escaped (e.g. \\n, \\t)');
      // non-ASCII: validate one UTF-8 sequence (RFC 3629), never consuming an ASCII byte; its
      // bytes (all >= 0x80, valid or not) are kept in the normalised text
      flags |= F_NON_ASCII;
      let len = utf8SequenceLength(buf, i, e);
      chars++;
      if (len < 0) {
        if (this.utf8ErrorOffset < 0) this.utf8ErrorOffset = i;
        len = -len;
      } else this.utf16Shrink += len === 4 ? 2 : len - 1;
      for (let k = 0; k < len; k++) nb[nj++] = buf[i + k];
      prev = 0x80;
      i += len;
      nonAsciiBytes += len;
    }
    // a string with text ends with one separator
    nb[nj] = 0;
    nj += (prev + 255) >> 8;
    this.normEnd[tok] = nj;
    this.normPos = nj;
    i++;
    this.end[tok] = i;
    this.next[tok] = tok + 1;
    this.flags[tok] = flags;
    if (flags & F_NON_ASCII) this.nonAscii = true;
    // weight: ASCII bytes (~4 per token) plus 4 per non-ASCII character (~1 token each)
    this.weight[tok] = i - open - 2 - nonAsciiBytes + 4 * chars;
    return i;
  }
}

/**
 * Length of the valid UTF-8 sequence at buf[i] (a byte >= 0x80), or minus the number of bytes
 * to skip when it is invalid (the maximal subpart, as TextDecoder replaces it).
 */
export function utf8SequenceLength(buf: Uint8Array, i: number, e: number): number {
  const c = buf[i];
  let need: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) need = 1;
  else if (c >= 0xe0 && c <= 0xef) {
    need = 2;
    if (c === 0xe0) lo = 0xa0;
    else if (c === 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    need = 3;
    if (c === 0xf0) lo = 0x90;
    else if (c === 0xf4) hi = 0x8f;
  } else return -1;
  for (let k = 1; k <= need; k++) {
    if (i + k >= e) return -k;
    const d = buf[i + k];
    if (d < lo || d > hi) return -k;
    lo = 0x80;
    hi = 0xbf;
  }
  return need + 1;
}

export function skipWs(buf: Uint8Array, pos: number, e: number): number {
  while (pos < e) {
    const c = buf[pos];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) break;
    pos++;
  }
  return pos;
}

/** Returns the offset after a JSON number at pos, or -(offset of the bad byte) - 1. */
function scanNumber(buf: Uint8Array, pos: number, e: number): number {
  let i = pos;
  if (buf[i] === 0x2d) i++;
  if (i >= e) return -i - 1;
  if (buf[i] === 0x30) i++;
  else if (buf[i] >= 0x31 && buf[i] <= 0x39) {
    while (i < e && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
  } else return -i - 1;
  if (i < e && buf[i] === 0x2e) {
    i++;
    if (i >= e || buf[i] < 0x30 || buf[i] > 0x39) return -i - 1;
    while (i < e && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
  }
  if (i < e && (buf[i] === 0x65 || buf[i] === 0x45)) {
    i++;
    if (i < e && (buf[i] === 0x2b || buf[i] === 0x2d)) i++;
    if (i >= e || buf[i] < 0x30 || buf[i] > 0x39) return -i - 1;
    while (i < e && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
  }
  return i;
}

const LIT_TRUE = [0x74, 0x72, 0x75, 0x65];
const LIT_FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const LIT_NULL = [0x6e, 0x75, 0x6c, 0x6c];
function matchLiteral(buf: Uint8Array, pos: number, e: number, lit: number[]): boolean {
  if (pos + lit.length > e) return false;
  for (let k = 0; k < lit.length; k++) if (buf[pos + k] !== lit[k]) return false;
  return true;
}

// Bytes that may appear in a JSON string as they are and need no further look: printable ASCII
// except '"' and '\\'.
const PLAIN = new Uint8Array(256);
for (let c = 0x20; c < 0x80; c++) PLAIN[c] = c === 0x22 || c === 0x5c ? 0 : 1;
// Normalised byte for near-duplicate hashing: ASCII letters folded to lower case; digits and
// bytes >= 0x80 (UTF-8 of non-ASCII text; no Unicode case folding) kept; 0 = whitespace or
// punctuation (a separator).
const NORM = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || c >= 0x80) NORM[c] = c;
  else if (c >= 0x41 && c <= 0x5a) NORM[c] = c | 0x20;
}
const HEX = new Uint8Array(256);
for (const ch of '0123456789abcdefABCDEF') HEX[ch.charCodeAt(0)] = 1;
const ESCAPES = new Uint8Array(256);
for (const ch of '"\\/bfnrt') ESCAPES[ch.charCodeAt(0)] = 1;

function describe(buf: Uint8Array, pos: number, e: number): string {
  if (pos >= e) return 'end of line';
  const c = buf[pos];
  if (c >= 0x20 && c < 0x7f) return `'${String.fromCharCode(c)}'`;
  return `byte 0x${c.toString(16).padStart(2, '0')}`;
}

// ---- reading tokens back (off the hot path: only for messages and exact token counts)

const utf8 = new TextDecoder('utf-8');

/** The decoded value of a string token. */
export function stringValue(tape: JsonTape, tok: number): string {
  const buf = tape.buf;
  const s = tape.start[tok] + 1;
  const e = tape.end[tok] - 1;
  const raw = utf8.decode(buf.subarray(s, e));
  if (!(tape.flags[tok] & F_ESCAPED)) return raw;
  return JSON.parse(`"${raw}"`) as string;
}

/** Whether a string token is empty or whitespace only (escapes like \n count as whitespace). */
export function isBlankString(tape: JsonTape, tok: number): boolean {
  const buf = tape.buf;
  const e = tape.end[tok] - 1;
  for (let i = tape.start[tok] + 1; i < e; i++) {
    const c = buf[i];
    if (c === 0x20 || c === 0x09) continue;
    if (c !== 0x5c) return false;
    const n = buf[i + 1];
    if (n === 0x6e || n === 0x74 || n === 0x72) {
      i++;
      continue;
    }
    return stringValue(tape, tok).trim() === '';
  }
  return true;
}

/** Whether a string token's raw bytes equal an ASCII name (keys and role values). */
export function stringIs(tape: JsonTape, tok: number, name: string): boolean {
  const s = tape.start[tok] + 1;
  const len = tape.end[tok] - 1 - s;
  if (tape.flags[tok] & F_ESCAPED) return stringValue(tape, tok) === name;
  if (len !== name.length) return false;
  const buf = tape.buf;
  for (let k = 0; k < len; k++) if (buf[s + k] !== name.charCodeAt(k)) return false;
  return true;
}

/** Index in `names` of the string token's value, or -1. `names` are ASCII. */
export function matchName(tape: JsonTape, tok: number, names: readonly string[]): number {
  for (let n = 0; n < names.length; n++) if (stringIs(tape, tok, names[n])) return n;
  return -1;
}
