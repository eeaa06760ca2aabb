// AssemblyScript (compiled to WebAssembly with 128-bit SIMD by `npm run build`: dist/jsonScan.wasm).
// The fast path of src/core/data/jsonScan.ts for one JSON Lines record: it scans a valid line
// into the same tape (types, flags, spans, next, weights, normalised text) and hashes, byte for
// byte what the TypeScript scanner and hash.ts give (test/unit/data/wasmScan.test.ts checks it).
// It does not explain errors: on anything it does not accept (a syntax error, invalid UTF-8, a
// tape or nesting deeper than its fixed room) it returns 0 and the caller rescans the line with
// the TypeScript scanner, which reports where and why. All memory is laid out by the caller
// (src/core/data/wasmScan.ts) and passed to init(); nothing is allocated here.

const T_OBJECT: u8 = 1;
const T_ARRAY: u8 = 2;
const T_STRING: u8 = 3;
const T_NUMBER: u8 = 4;
const T_TRUE: u8 = 5;
const T_FALSE: u8 = 6;
const T_NULL: u8 = 7;
const F_ESCAPED: i32 = 1;
const F_NON_ASCII: i32 = 2;

// byte tables (filled by init): PLAIN (printable ASCII but '"' and '\\'), NORM (the normalised
// byte, see jsonScan.ts), HEX, ESCAPES; PACK_LO/PACK_HI: for each 8-bit mask, the indices of its
// set bits (lanes 0-7 / 8-15), packed to the front: the left-pack of the normalised bytes kept.
const TABLES: usize = memory.data(256 * 4 + 256 * 8 * 2, 16);
const PLAIN: usize = TABLES;
const NORM: usize = TABLES + 256;
const HEX: usize = TABLES + 512;
const ESCAPES: usize = TABLES + 768;
const PACK_LO: usize = TABLES + 1024;
const PACK_HI: usize = TABLES + 1024 + 2048;

let tType: usize = 0;
let tFlags: usize = 0;
let tStart: usize = 0;
let tEnd: usize = 0;
let tNext: usize = 0;
let tWeight: usize = 0;
let tNormStart: usize = 0;
let tNormEnd: usize = 0;
let tCap: i32 = 0;
let normBase: usize = 0;
let stackBase: usize = 0;
let stackCap: i32 = 0;

let normPos: usize = 0;
let count: i32 = 0;
let nonAscii: i32 = 0;
let utf16Shrink: i32 = 0;
/**
 * results read by the caller as int32 (memory is cheaper to read than globals): count, nonAscii,
 * utf16Shrink of the last scan, the high word of the last hashNorm; cleanChat's hashes
 */
const RESULTS: usize = memory.data(32, 16);

export function results(): usize {
  return RESULTS;
}

/** The first byte the caller may use (static data ends below it). */
export function heapBase(): usize {
  return __heap_base;
}

export function init(type: usize, flags: usize, start: usize, end: usize, next: usize, weight: usize, normStart: usize, normEnd: usize, cap: i32, norm: usize, stack: usize, stackSize: i32): void {
  tType = type;
  tFlags = flags;
  tStart = start;
  tEnd = end;
  tNext = next;
  tWeight = weight;
  tNormStart = normStart;
  tNormEnd = normEnd;
  tCap = cap;
  normBase = norm;
  stackBase = stack;
  stackCap = stackSize;
  for (let c: i32 = 0; c < 256; c++) {
    store<u8>(PLAIN + c, c >= 0x20 && c < 0x80 && c != 0x22 && c != 0x5c ? 1 : 0);
    let n: i32 = 0;
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || c >= 0x80) n = c;
    else if (c >= 0x41 && c <= 0x5a) n = c | 0x20;
    store<u8>(NORM + c, n);
    const hex = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
    store<u8>(HEX + c, hex ? 1 : 0);
    const esc = c == 0x22 || c == 0x5c || c == 0x2f || c == 0x62 || c == 0x66 || c == 0x6e || c == 0x72 || c == 0x74;
    store<u8>(ESCAPES + c, esc ? 1 : 0);
    let k: i32 = 0;
    for (let bit: i32 = 0; bit < 8; bit++) {
      if (c & (1 << bit)) {
        store<u8>(PACK_LO + c * 8 + k, bit);
        store<u8>(PACK_HI + c * 8 + k, bit + 8);
        k++;
      }
    }
    for (; k < 8; k++) {
      store<u8>(PACK_LO + c * 8 + k, 0);
      store<u8>(PACK_HI + c * 8 + k, 8);
    }
    store<u8>(MASKS + c, (c & 15) < c >> 4 ? 0xff : 0);
  }
}

@inline function isWs(c: u32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0d || c == 0x0a;
}

@inline function skipWs(pos: usize, e: usize): usize {
  while (pos < e && isWs(load<u8>(pos))) pos++;
  return pos;
}

@inline function newToken(pos: usize, type: u8): i32 {
  const tok = count;
  if (tok >= tCap) return -1;
  count = tok + 1;
  store<i32>(tStart + (<usize>tok << 2), <i32>pos);
  store<u8>(tFlags + tok, 0);
  store<u8>(tType + tok, type);
  return tok;
}

@inline function close(tok: i32, pos: usize): void {
  store<i32>(tEnd + (<usize>tok << 2), <i32>pos);
  store<i32>(tNext + (<usize>tok << 2), count);
}

/** Length of the valid UTF-8 sequence at i (a byte >= 0x80), or 0 when it is invalid. */
@inline function utf8Length(i: usize, e: usize): i32 {
  const c = <u32>load<u8>(i);
  let need: i32;
  let lo: u32 = 0x80;
  let hi: u32 = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) need = 1;
  else if (c >= 0xe0 && c <= 0xef) {
    need = 2;
    if (c == 0xe0) lo = 0xa0;
    else if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    need = 3;
    if (c == 0xf0) lo = 0x90;
    else if (c == 0xf4) hi = 0x8f;
  } else return 0;
  if (i + <usize>need >= e) return 0;
  for (let k: i32 = 1; k <= need; k++) {
    const d = <u32>load<u8>(i + k);
    if (d < lo || d > hi) return 0;
    lo = 0x80;
    hi = 0xbf;
  }
  return need + 1;
}

/**
 * A string token at pos ('"'); returns the offset after its closing quote, or 0. Writes its
 * normalised text from normPos (keys: the caller rewinds it).
 */
function scanString(pos: usize, e: usize, tok: i32): usize {
  const open = pos;
  let i = open + 1;
  let flags: i32 = 0;
  let nonAsciiBytes: i32 = 0;
  let chars: i32 = 0;
  let nj = normPos;
  let prev: u32 = 0;
  store<i32>(tNormStart + (<usize>tok << 2), <i32>nj);
  for (;;) {
    // 16 bytes at a time while they are plain: normalised with SIMD, the bytes kept (a letter
    // or digit, or the first separator of a run) left-packed with two 8-lane swizzles
    while (i + 16 <= e) {
      const v = v128.load(i);
      // control characters and bytes >= 0x80 (negative as signed bytes), '"' and '\\'
      const bad = v128.or(v128.or(i8x16.lt_s(v, i8x16.splat(0x20)), i8x16.eq(v, i8x16.splat(0x22))), i8x16.eq(v, i8x16.splat(0x5c)));
      const badBits = i8x16.bitmask(bad);
      // letters ((v | 0x20) - 'a' < 26 unsigned) lower-cased, digits kept, the rest 0
      const letter = i8x16.lt_u(i8x16.sub(v128.or(v, i8x16.splat(0x20)), i8x16.splat(0x61)), i8x16.splat(26));
      const digit = i8x16.lt_u(i8x16.sub(v, i8x16.splat(0x30)), i8x16.splat(10));
      const kept = v128.or(letter, digit);
      const n = v128.and(v128.or(v, v128.and(letter, i8x16.splat(0x20))), kept);
      // a byte is written when it or the byte before it (prev, for the first) is a letter or digit
      const keptBits = i8x16.bitmask(kept);
      let keep = (keptBits | (keptBits << 1) | <i32>(prev != 0)) & 0xffff;
      let lanes: i32 = 16;
      if (badBits != 0) {
        lanes = ctz<i32>(badBits);
        if (lanes == 0) break;
        keep &= (1 << lanes) - 1;
      }
      const lo = keep & 0xff;
      const hi = keep >>> 8;
      v128.store64_lane(nj, i8x16.swizzle(n, v128.load64_zero(PACK_LO + (<usize>lo << 3))), 0);
      nj += popcnt<i32>(lo);
      v128.store64_lane(nj, i8x16.swizzle(n, v128.load64_zero(PACK_HI + (<usize>hi << 3))), 0);
      nj += popcnt<i32>(hi);
      i += lanes;
      prev = load<u8>(NORM + load<u8>(i - 1));
      if (lanes < 16) break;
    }
    if (i >= e) return 0;
    const c = <u32>load<u8>(i);
    if (load<u8>(PLAIN + c)) {
      const n = <u32>load<u8>(NORM + c);
      store<u8>(nj, n);
      nj += (n | prev) != 0;
      prev = n;
      i++;
      continue;
    }
    if (c == 0x22) break;
    if (c == 0x5c) {
      flags |= F_ESCAPED;
      if (i + 1 >= e) return 0;
      const n = <u32>load<u8>(i + 1);
      // an escape is a separator; \uXXXX then keeps its hex text
      store<u8>(nj, 0);
      nj += prev != 0;
      prev = 0;
      if (n == 0x75) {
        if (i + 6 > e) return 0;
        for (let k = 2; k < 6; k++) if (!load<u8>(HEX + load<u8>(i + k))) return 0;
        for (let k = 1; k < 6; k++) {
          const m = <u32>load<u8>(NORM + load<u8>(i + k));
          store<u8>(nj, m);
          nj += (m | prev) != 0;
          prev = m;
        }
        i += 6;
      } else if (load<u8>(ESCAPES + n)) i += 2;
      else return 0;
      continue;
    }
    if (c < 0x20) return 0;
    // non-ASCII: one valid UTF-8 sequence, kept as it is (invalid: the TypeScript scanner reports it)
    const len = utf8Length(i, e);
    if (len == 0) return 0;
    flags |= F_NON_ASCII;
    chars++;
    utf16Shrink += len == 4 ? 2 : len - 1;
    for (let k = 0; k < len; k++) store<u8>(nj + k, load<u8>(i + k));
    nj += len;
    prev = 0x80;
    i += len;
    nonAsciiBytes += len;
  }
  // a string with text ends with one separator
  store<u8>(nj, 0);
  nj += prev != 0;
  const t = <usize>tok << 2;
  store<i32>(tNormEnd + t, <i32>nj);
  normPos = nj;
  i++;
  store<i32>(tEnd + t, <i32>i);
  store<i32>(tNext + t, tok + 1);
  store<u8>(tFlags + tok, flags);
  if (flags & F_NON_ASCII) nonAscii = 1;
  store<i32>(tWeight + t, <i32>(i - open - 2) - nonAsciiBytes + 4 * chars);
  return i;
}

/** A property name and its ':' at pos; returns the offset of the value, or 0. */
function scanKey(pos: usize, e: usize): usize {
  if (pos >= e || load<u8>(pos) != 0x22) return 0;
  const tok = newToken(pos, T_STRING);
  if (tok < 0) return 0;
  let i = pos + 1;
  while (i < e && load<u8>(PLAIN + load<u8>(i))) i++;
  const t = <usize>tok << 2;
  if (i < e && load<u8>(i) == 0x22) {
    // the usual key, plain ASCII: no normalised text (keys are not hashed)
    i++;
    store<i32>(tEnd + t, <i32>i);
    store<i32>(tNext + t, tok + 1);
    store<i32>(tWeight + t, <i32>(i - pos - 2));
    store<i32>(tNormStart + t, <i32>normPos);
    store<i32>(tNormEnd + t, <i32>normPos);
    pos = i;
  } else {
    pos = scanString(pos, e, tok);
    if (pos == 0) return 0;
    normPos = <usize>load<i32>(tNormStart + t);
    store<i32>(tNormEnd + t, <i32>normPos);
  }
  pos = skipWs(pos, e);
  if (pos >= e || load<u8>(pos) != 0x3a) return 0;
  return skipWs(pos + 1, e);
}

@inline function isDigit(c: u32): bool {
  return c - 0x30 < 10;
}

/** The offset after a JSON number at pos, or 0. */
function scanNumber(pos: usize, e: usize): usize {
  let i = pos;
  if (load<u8>(i) == 0x2d) i++;
  if (i >= e) return 0;
  const first = <u32>load<u8>(i);
  if (first == 0x30) i++;
  else if (first >= 0x31 && first <= 0x39) {
    while (i < e && isDigit(load<u8>(i))) i++;
  } else return 0;
  if (i < e && load<u8>(i) == 0x2e) {
    i++;
    if (i >= e || !isDigit(load<u8>(i))) return 0;
    while (i < e && isDigit(load<u8>(i))) i++;
  }
  if (i < e && (load<u8>(i) | 0x20) == 0x65) {
    i++;
    if (i < e && (load<u8>(i) == 0x2b || load<u8>(i) == 0x2d)) i++;
    if (i >= e || !isDigit(load<u8>(i))) return 0;
    while (i < e && isDigit(load<u8>(i))) i++;
  }
  return i;
}

/**
 * Scans the JSON document in memory [s, e) (whitespace allowed around it) into the tape from
 * token 0 and the normalised text from its start. 1: a valid document, scanned; 0: not
 * accepted here (rescan with the TypeScript scanner).
 */
export function scan(s: usize, e: usize): i32 {
  const ok = scanValue(s, e);
  store<i32>(RESULTS, count);
  store<i32>(RESULTS + 4, nonAscii);
  store<i32>(RESULTS + 8, utf16Shrink);
  return ok;
}

function scanValue(s: usize, e: usize): i32 {
  count = 0;
  nonAscii = 0;
  utf16Shrink = 0;
  normPos = normBase;
  let pos = skipWs(s, e);
  let depth: i32 = 0;
  for (;;) {
    // ---- expect a value at pos
    if (pos >= e) return 0;
    const c = <u32>load<u8>(pos);
    if (c == 0x7b || c == 0x5b) {
      const tok = newToken(pos, c == 0x7b ? T_OBJECT : T_ARRAY);
      if (tok < 0 || depth >= stackCap) return 0;
      store<i32>(stackBase + (<usize>depth << 2), tok);
      depth++;
      pos = skipWs(pos + 1, e);
      if (c == 0x7b) {
        if (pos < e && load<u8>(pos) == 0x7d) {
          pos++;
          depth--;
          close(tok, pos);
        } else {
          pos = scanKey(pos, e);
          if (pos == 0) return 0;
          continue;
        }
      } else {
        if (pos < e && load<u8>(pos) == 0x5d) {
          pos++;
          depth--;
          close(tok, pos);
        } else continue;
      }
    } else if (c == 0x22) {
      const tok = newToken(pos, T_STRING);
      if (tok < 0) return 0;
      pos = scanString(pos, e, tok);
      if (pos == 0) return 0;
    } else {
      let type: u8 = 0;
      let after: usize = 0;
      if (c == 0x2d || isDigit(c)) {
        type = T_NUMBER;
        after = scanNumber(pos, e);
      } else if (c == 0x74) {
        type = T_TRUE;
        if (pos + 4 <= e && load<u32>(pos) == 0x65757274) after = pos + 4;
      } else if (c == 0x66) {
        type = T_FALSE;
        if (pos + 5 <= e && load<u32>(pos + 1) == 0x65736c61) after = pos + 5;
      } else if (c == 0x6e) {
        type = T_NULL;
        if (pos + 4 <= e && load<u32>(pos) == 0x6c6c756e) after = pos + 4;
      }
      if (after == 0) return 0;
      const tok = newToken(pos, type);
      if (tok < 0) return 0;
      pos = after;
      store<i32>(tEnd + (<usize>tok << 2), <i32>pos);
      store<i32>(tNext + (<usize>tok << 2), tok + 1);
    }
    // ---- after a value: close containers or move to the next member
    for (;;) {
      if (depth == 0) {
        pos = skipWs(pos, e);
        return pos == e ? 1 : 0;
      }
      pos = skipWs(pos, e);
      if (pos >= e) return 0;
      const container = load<i32>(stackBase + (<usize>(depth - 1) << 2));
      const isObject = load<u8>(tType + container) == T_OBJECT;
      const d = <u32>load<u8>(pos);
      if (d == 0x2c) {
        pos = skipWs(pos + 1, e);
        if (isObject) {
          pos = scanKey(pos, e);
          if (pos == 0) return 0;
        }
        break;
      }
      if ((isObject && d == 0x7d) || (!isObject && d == 0x5d)) {
        pos++;
        depth--;
        close(container, pos);
        continue;
      }
      return 0;
    }
  }
  return 0; // (not reached)
}

// ---- the per-record checks of the common clean chat record (src/core/data/records.ts)

// names compared with a string token's raw bytes
const N_MESSAGES = memory.data<u8>([0x6d, 0x65, 0x73, 0x73, 0x61, 0x67, 0x65, 0x73]); // messages
const N_ROLE = memory.data<u8>([0x72, 0x6f, 0x6c, 0x65]); // role
const N_CONTENT = memory.data<u8>([0x63, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74]); // content
const N_NAME = memory.data<u8>([0x6e, 0x61, 0x6d, 0x65]); // name
const N_TOOL_CALL_ID = memory.data<u8>([0x74, 0x6f, 0x6f, 0x6c, 0x5f, 0x63, 0x61, 0x6c, 0x6c, 0x5f, 0x69, 0x64]); // tool_call_id
const N_REFUSAL = memory.data<u8>([0x72, 0x65, 0x66, 0x75, 0x73, 0x61, 0x6c]); // refusal
const N_SYSTEM = memory.data<u8>([0x73, 0x79, 0x73, 0x74, 0x65, 0x6d]); // system
const N_DEVELOPER = memory.data<u8>([0x64, 0x65, 0x76, 0x65, 0x6c, 0x6f, 0x70, 0x65, 0x72]); // developer
const N_USER = memory.data<u8>([0x75, 0x73, 0x65, 0x72]); // user
const N_ASSISTANT = memory.data<u8>([0x61, 0x73, 0x73, 0x69, 0x73, 0x74, 0x61, 0x6e, 0x74]); // assistant

@inline function i32At(base: usize, tok: i32): i32 {
  return load<i32>(base + (<usize>tok << 2));
}

/** Whether string token `tok` (unescaped) is the name at `name` of `len` bytes (4 to 16). */
@inline function is(tok: i32, name: usize, len: i32): bool {
  const s = <usize>i32At(tStart, tok) + 1;
  if (i32At(tEnd, tok) - <i32>s - 1 != len) return false;
  // two words that overlap where len is not a multiple of their size: no byte loop
  const tail = <usize>len;
  if (len >= 8) return load<u64>(s) == load<u64>(name) && load<u64>(s + tail - 8) == load<u64>(name + tail - 8);
  return load<u32>(s) == load<u32>(name) && load<u32>(s + tail - 4) == load<u32>(name + tail - 4);
}

const R_SYSTEM = 0;
const R_USER = 1;
const R_ASSISTANT = 2;

/**
 * The record just scanned (token 0), if it is a chat record on which RecordChecker reports
 * nothing: "messages" a non-empty list of {role, content} (plus name, tool_call_id or refusal)
 * with roles system/developer, user and assistant in an order it accepts, every content a
 * non-blank string, the last turn the assistant's; its role and content strings lying side by
 * side in the normalised text. Returns the estimated token count (as RecordChecker computes it)
 * and leaves in RESULTS[4..7] the normalised-text hash (h1, h2), its length and the hash of the
 * raw bytes [rawStart, rawEnd); -1 for any other record (RecordChecker then checks it, and says
 * what is wrong). Conservative: a record it is not sure of is -1.
 */
export function cleanChat(rawStart: usize, rawEnd: usize): i32 {
  if (count == 0 || load<u8>(tType) != T_OBJECT) return -1;
  const rootEnd = i32At(tNext, 0);
  let list: i32 = -1;
  for (let k: i32 = 1; k < rootEnd; k = i32At(tNext, k + 1)) {
    // an escaped key may decode to one of the names: leave it to RecordChecker
    if (load<u8>(tFlags + k) & F_ESCAPED) return -1;
    if (list < 0 && is(k, N_MESSAGES, 8)) list = k + 1;
  }
  if (list < 0 || load<u8>(tType + list) != T_ARRAY) return -1;
  const listEnd = i32At(tNext, list);
  if (list + 1 == listEnd) return -1;
  let weight: i32 = 0;
  let messages: i32 = 0;
  let assistantTurns: i32 = 0;
  let previousRole: i32 = -1;
  let lastRole: i32 = -1;
  let seenNonSystem = false;
  let normStart: i32 = -1;
  let normEnd: i32 = -1;
  for (let m = list + 1; m < listEnd; m = i32At(tNext, m)) {
    messages++;
    if (load<u8>(tType + m) != T_OBJECT) return -1;
    const mEnd = i32At(tNext, m);
    let roleTok: i32 = -1;
    let contentTok: i32 = -1;
    for (let k = m + 1; k < mEnd; k = i32At(tNext, k + 1)) {
      if (load<u8>(tFlags + k) & F_ESCAPED) return -1;
      if (is(k, N_ROLE, 4)) roleTok = k + 1;
      else if (is(k, N_CONTENT, 7)) contentTok = k + 1;
      else if (!is(k, N_NAME, 4) && !is(k, N_TOOL_CALL_ID, 12) && !is(k, N_REFUSAL, 7)) return -1;
    }
    if (roleTok < 0 || contentTok < 0) return -1;
    if (load<u8>(tType + roleTok) != T_STRING || load<u8>(tType + contentTok) != T_STRING) return -1;
    if (load<u8>(tFlags + roleTok) & F_ESCAPED) return -1;
    let role: i32;
    if (is(roleTok, N_USER, 4)) role = R_USER;
    else if (is(roleTok, N_ASSISTANT, 9)) role = R_ASSISTANT;
    else if (is(roleTok, N_SYSTEM, 6) || is(roleTok, N_DEVELOPER, 9)) role = R_SYSTEM;
    else return -1;
    // not blank (isBlankString): the first byte that is not a space, a tab or \n \t \r
    let c = <usize>i32At(tStart, contentTok) + 1;
    const cEnd = <usize>i32At(tEnd, contentTok) - 1;
    for (;;) {
      if (c >= cEnd) return -1;
      const b = load<u8>(c);
      if (b == 0x20 || b == 0x09) c++;
      else if (b == 0x5c) {
        const n = load<u8>(c + 1);
        if (n != 0x6e && n != 0x74 && n != 0x72) return -1;
        c += 2;
      } else break;
    }
    // the hashed strings, role then content, side by side in the normalised text
    const t0 = i32At(tNormStart, roleTok);
    if (normStart < 0) normStart = t0;
    else if (t0 != normEnd) return -1;
    if (i32At(tNormStart, contentTok) != i32At(tNormEnd, roleTok)) return -1;
    normEnd = i32At(tNormEnd, contentTok);
    weight += i32At(tWeight, contentTok);
    // turn order: system only first; user and assistant alternate, the user first
    if (role == R_SYSTEM) {
      if (seenNonSystem) return -1;
    } else {
      if (role == previousRole) return -1;
      if (!seenNonSystem && role == R_ASSISTANT) return -1;
      seenNonSystem = true;
    }
    if (role == R_ASSISTANT) assistantTurns++;
    previousRole = role;
    lastRole = role;
  }
  if (assistantTurns == 0 || lastRole != R_ASSISTANT) return -1;
  let j = <u32>(normEnd - normStart);
  if (j > 0 && load<u8>(<usize>normEnd - 1) == 0) j--;
  store<i32>(RESULTS + 16, hashNorm(<usize>normStart, j));
  store<i32>(RESULTS + 20, load<i32>(RESULTS + 12));
  store<i32>(RESULTS + 24, <i32>j);
  store<i32>(RESULTS + 28, hashRaw(rawStart, rawEnd));
  // RecordChecker's estimate: text weight / 4, plus 3 a message and 3 for the reply
  return ((weight + 3) >> 2) + 3 * messages + 3;
}

// ---- whole chunks of lines (src/core/data/jsonl.ts JsonlValidator.push): the common clean chat
// records never leave the module one by one

/** Fields of a record in batch()'s output, as int32: see batch. */
const OUT_FIELDS = 6;

/** The first '\n' in memory [s, e), 16 bytes a step; e when there is none. */
@inline function newline(s: usize, e: usize): usize {
  let i = s;
  const nl = i8x16.splat(0x0a);
  while (i + 16 <= e) {
    const bits = i8x16.bitmask(i8x16.eq(v128.load(i), nl));
    if (bits != 0) return i + ctz<i32>(bits);
    i += 16;
  }
  while (i < e && load<u8>(i) != 0x0a) i++;
  return i;
}

/**
 * The complete lines from s on (each ending in '\n' before e) that are clean chat records
 * (cleanChat) within the context limit, the lines JsonlValidator would hand to that check one
 * by one: for each, OUT_FIELDS int32 at out: h1, h2, the raw hash, the estimated tokens, the
 * column of the record's first byte and the UTF-16 column after its last (trailing spaces and
 * tabs, and a CR before the newline, left out as JsonlValidator leaves them out). Stops before
 * the first line that is anything else (blank, broken, longer than maxLine bytes, another
 * record, over the limit), before a line with no newline, or after cap records; returns how many
 * records it wrote and leaves in RESULTS[0] the offset where it stopped (the start of a line).
 */
export function batch(s: usize, e: usize, maxLine: i32, contextLimit: i32, out: usize, cap: i32): i32 {
  let n: i32 = 0;
  while (n < cap) {
    const nl = newline(s, e);
    if (nl >= e || <i32>(nl - s) > maxLine) break;
    let le = nl;
    if (le > s && load<u8>(le - 1) == 0x0d) le--;
    const first = skipWs(s, le);
    if (first == le || !scanValue(first, le)) break;
    let rawEnd = le;
    while (rawEnd > first && (load<u8>(rawEnd - 1) == 0x20 || load<u8>(rawEnd - 1) == 0x09)) rawEnd--;
    const tokens = cleanChat(first, rawEnd);
    if (tokens < 0 || tokens > contextLimit || load<i32>(RESULTS + 24) == 0) break;
    const o = out + (<usize>n * OUT_FIELDS << 2);
    store<i32>(o, load<i32>(RESULTS + 16));
    store<i32>(o + 4, load<i32>(RESULTS + 20));
    store<i32>(o + 8, load<i32>(RESULTS + 28));
    store<i32>(o + 12, tokens);
    store<i32>(o + 16, <i32>(first - s) + 1);
    store<i32>(o + 20, <i32>(rawEnd - s) - utf16Shrink + 1);
    n++;
    s = nl + 1;
  }
  store<i32>(RESULTS, <i32>s);
  return n;
}

// ---- hashes, the same as hash.ts computes them (i32 arithmetic wraps as Math.imul does)

@inline function fmix(h: u32): u32 {
  h ^= h >>> 16;
  h *= 0x85ebca6b;
  h ^= h >>> 13;
  h *= 0xc2b2ae35;
  return h ^ (h >>> 16);
}

// hash.ts hashLanes: eight 32-bit lanes, two vectors of four, over 32 bytes a step
/** 16 masks of 16 bytes, the k-th keeping the first k bytes (filled by init) */
const MASKS: usize = memory.data(256, 16);
const LANES: usize = memory.data(32, 16);

@inline function laneStep(h: v128, w: v128, r: i32, c: v128): v128 {
  return i32x4.mul(v128.xor(v128.or(i32x4.shl(h, r), i32x4.shr_u(h, 32 - r)), w), c);
}

/** The eight lanes over memory [s, s + n) into LANES (see hash.ts hashLanes). */
function lanes(s: usize, n: u32): void {
  const len = i32x4.splat(<i32>n);
  let a = v128.xor(i32x4(0x9747b28c, 0x2545f491, 0x6a09e667, 0xbb67ae85), len);
  let b = v128.xor(i32x4(0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c), len);
  const c1 = i32x4.splat(0x9e3779b1);
  const c2 = i32x4.splat(0x85ebca77);
  const e = s + n;
  let i = s;
  for (; i + 32 <= e; i += 32) {
    a = laneStep(a, v128.load(i), 5, c1);
    b = laneStep(b, v128.load(i + 16), 7, c2);
  }
  if (i + 16 <= e) {
    a = laneStep(a, v128.load(i), 5, c1);
    i += 16;
  }
  // the last bytes, zero-padded (the bytes read past the end lie in the caller's slack)
  if (i < e) b = laneStep(b, v128.and(v128.load(i), v128.load(MASKS + ((e - i) << 4))), 7, c2);
  v128.store(LANES, a);
  v128.store(LANES + 16, b);
}

@inline function combine(seed: u32, r: u32, c: u32): u32 {
  let h = seed;
  for (let k: usize = 0; k < 8; k++) h = (rotl<u32>(h, r) ^ load<u32>(LANES + (k << 2))) * c;
  return fmix(h);
}

/** hashBytes of hash.ts over memory [s, e). */
export function hashRaw(s: usize, e: usize): i32 {
  lanes(s, <u32>(e - s));
  return <i32>combine(0x1b873593, 13, 0xcc9e2d51);
}

/**
 * NormalizedHasher.hashRange of hash.ts over memory [s, s + j) (j: the length, its trailing
 * separator already dropped): returns h1, leaves h2 in RESULTS[3].
 */
export function hashNorm(s: usize, j: u32): i32 {
  lanes(s, j);
  store<i32>(RESULTS + 12, <i32>combine(0x6a09e667, 11, 0x85ebca77));
  return <i32>combine(0x2545f491, 13, 0x9e3779b1);
}
