// The WebAssembly fast path of the JSON Lines scan (assembly/jsonScan.ts, built by `npm run build`
// into dist/jsonScan.wasm): a valid line is scanned into a JsonTape whose arrays are views of the
// module's memory, with the same tokens, weights and normalised text as JsonTape.scanDocument
// gives, and hashed as hash.ts hashes (test/unit/data/wasmScan.test.ts compares them). A line it
// does not accept (broken, invalid UTF-8, longer than LINE_BYTES) is rescanned by the TypeScript
// scanner, which says where and why. Where the module is missing (a source checkout before the
// build), validation uses the TypeScript scanner alone, with the same findings, only slower.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsonTape } from './jsonScan';

/** Lines up to this long are scanned in WebAssembly (its memory is laid out once, never grown). */
export const LINE_BYTES = 1 << 20;
/** Tokens of one line in the module's tape; a line with more is scanned in TypeScript. */
const TAPE_TOKENS = 1 << 16;
const STACK_DEPTH = 4096;
const SLACK = 64;
/** Records batch() reports per call, and the int32 fields of each (assembly/jsonScan.ts, batch). */
export const BATCH_RECORDS = 1024;
export const BATCH_FIELDS = 6;

// The few WebAssembly API parts used (core's lib, ES2022 + node types, does not declare them).
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  heapBase(): number;
  init(
    type: number,
    flags: number,
    start: number,
    end: number,
    next: number,
    weight: number,
    normStart: number,
    normEnd: number,
    cap: number,
    norm: number,
    stack: number,
    stackSize: number,
  ): void;
  scan(s: number, e: number): number;
  hashRaw(s: number, e: number): number;
  hashNorm(s: number, j: number): number;
  results(): number;
  cleanChat(rawStart: number, rawEnd: number): number;
  batch(s: number, e: number, maxLine: number, contextLimit: number, out: number, cap: number): number;
}

export class WasmScanner {
  /** the module's memory: tape offsets, norm offsets and line offsets all index it */
  readonly mem: Buffer;
  /** where push() copies a read chunk, and where a line not in memory is copied */
  readonly chunkAt: number;
  readonly chunkBytes: number;
  private readonly lineAt: number;
  /** the tape of the last accepted line (its buf and norm are `mem`) */
  readonly tape = new JsonTape();
  private readonly x: Exports;
  /** count, nonAscii, utf16Shrink of the last scan; the high word of the last hashNorm; cleanChat's h1, h2, length, raw */
  private readonly results: Int32Array;
  /** batch()'s records, BATCH_FIELDS int32 each: h1, h2, raw hash, tokens, column, end column */
  readonly batchOut: Int32Array;
  private readonly batchAt: number;
  /** where the last batch() stopped: the offset in `mem` of the first line it left */
  batchEnd = 0;

  constructor(module: object) {
    const x = new WebAssemblyApi.Instance(module, {}).exports as unknown as Exports;
    this.x = x;
    let at = (x.heapBase() + 15) & ~15;
    const take = (bytes: number): number => {
      const from = at;
      at = (at + bytes + SLACK + 15) & ~15;
      return from;
    };
    this.chunkBytes = LINE_BYTES;
    this.chunkAt = take(LINE_BYTES);
    this.lineAt = take(LINE_BYTES);
    const norm = take(LINE_BYTES);
    const type = take(TAPE_TOKENS);
    const flags = take(TAPE_TOKENS);
    const i32 = (): number => take(TAPE_TOKENS * 4);
    const start = i32();
    const end = i32();
    const next = i32();
    const weight = i32();
    const normStart = i32();
    const normEnd = i32();
    const stack = take(STACK_DEPTH * 4);
    this.batchAt = take(BATCH_RECORDS * BATCH_FIELDS * 4);
    const pages = Math.ceil(at / 65536) - x.memory.buffer.byteLength / 65536;
    if (pages > 0) x.memory.grow(pages);
    x.init(type, flags, start, end, next, weight, normStart, normEnd, TAPE_TOKENS, norm, stack, STACK_DEPTH);
    const buffer = x.memory.buffer;
    this.mem = Buffer.from(buffer);
    this.results = new Int32Array(buffer, x.results(), 8);
    this.batchOut = new Int32Array(buffer, this.batchAt, BATCH_RECORDS * BATCH_FIELDS);
    const tape = this.tape;
    tape.type = new Uint8Array(buffer, type, TAPE_TOKENS);
    tape.flags = new Uint8Array(buffer, flags, TAPE_TOKENS);
    tape.start = new Int32Array(buffer, start, TAPE_TOKENS);
    tape.end = new Int32Array(buffer, end, TAPE_TOKENS);
    tape.next = new Int32Array(buffer, next, TAPE_TOKENS);
    tape.weight = new Int32Array(buffer, weight, TAPE_TOKENS);
    tape.normStart = new Int32Array(buffer, normStart, TAPE_TOKENS);
    tape.normEnd = new Int32Array(buffer, normEnd, TAPE_TOKENS);
    tape.norm = this.mem;
    tape.buf = this.mem;
    tape.wasm = this;
  }

  /** Copies a read chunk (at most chunkBytes) into the module's memory and returns it there. */
  load(chunk: Buffer): Buffer {
    this.mem.set(chunk, this.chunkAt);
    return this.mem.subarray(this.chunkAt, this.chunkAt + chunk.length);
  }

  /**
   * The offset in `mem` of buf[s] for a line buf[s, e): where it lies when buf is a view of
   * `mem`, else where it was copied to; -1 when it is too long.
   */
  locate(buf: Uint8Array, s: number, e: number): number {
    if (buf.buffer === this.mem.buffer) return buf.byteOffset + s;
    if (e - s > LINE_BYTES) return -1;
    this.mem.set(buf.subarray(s, e), this.lineAt);
    return this.lineAt;
  }

  /** Scans the JSON document mem[s, e) into `tape`; false: rescan it with JsonTape.scanDocument. */
  scan(s: number, e: number): boolean {
    const x = this.x;
    if (!x.scan(s, e)) return false;
    const tape = this.tape;
    const results = this.results;
    tape.count = results[0];
    tape.nonAscii = results[1] !== 0;
    tape.utf16Shrink = results[2];
    tape.errorOffset = -1;
    tape.utf8ErrorOffset = -1;
    return true;
  }

  /**
   * Whether the record just scanned is a chat record on which RecordChecker reports nothing,
   * checked in the module (assembly/jsonScan.ts, cleanChat): its estimated token count, with its
   * hashes in `out` (raw: hashBytes(mem, rawStart, rawEnd)); -1 for any other record.
   */
  cleanChat(rawStart: number, rawEnd: number, out: { h1: number; h2: number; length: number; raw: number }): number {
    const tokens = this.x.cleanChat(rawStart, rawEnd);
    if (tokens < 0) return -1;
    const results = this.results;
    out.h1 = results[4];
    out.h2 = results[5];
    out.length = results[6];
    out.raw = results[7];
    return tokens;
  }

  /**
   * The clean chat records within `contextLimit` tokens on the complete lines of mem[s, e), from
   * s on, up to the first line that is anything else (see assembly/jsonScan.ts, batch): their
   * number; each one's fields in batchOut, and in batchEnd the start of the first line left.
   */
  batch(s: number, e: number, maxLine: number, contextLimit: number): number {
    const n = this.x.batch(s, e, maxLine, contextLimit, this.batchAt, BATCH_RECORDS);
    this.batchEnd = this.results[0];
    return n;
  }

  /** hashBytes(mem, s, e) */
  hashRaw(s: number, e: number): number {
    return this.x.hashRaw(s, e);
  }

  /** NormalizedHasher.hashRange(mem, s, e): [h1, h2] into out, returns the length hashed */
  hashNorm(s: number, e: number, out: { h1: number; h2: number; length: number }): void {
    let j = e - s;
    if (j > 0 && this.mem[e - 1] === 0) j--;
    out.length = j;
    out.h1 = this.x.hashNorm(s, j);
    out.h2 = this.results[3];
  }
}

let loaded: WasmScanner | null | undefined;

/**
 * This thread's scanner (one per thread: a JsonlValidator uses it between two calls only), or
 * null when dist/jsonScan.wasm is not there, WebAssembly SIMD is not available, or
 * PREFLIGHT_WASM_SCAN is 0.
 */
export function wasmScanner(): WasmScanner | null {
  // PREFLIGHT_WASM_SCAN=0: the TypeScript scanner alone (the tests and bench/validate compare the two)
  if (process.env.PREFLIGHT_WASM_SCAN === '0') return null;
  if (loaded !== undefined) return loaded;
  loaded = null;
  // bundled: dist/jsonScan.wasm beside dist/cli.js (validation.js, the workers); from source:
  // the build's copy
  for (const file of [join(__dirname, 'jsonScan.wasm'), join(__dirname, '..', '..', '..', 'dist', 'jsonScan.wasm')]) {
    if (!existsSync(file)) continue;
    try {
      loaded = new WasmScanner(new WebAssemblyApi.Module(readFileSync(file)));
    } catch {
      loaded = null; // an engine without SIMD: the TypeScript scanner does it all
    }
    break;
  }
  return loaded;
}
