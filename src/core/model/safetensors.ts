// Safetensors, read and written by hand: an 8-byte little-endian header length, a JSON header
// ({name: {dtype, shape, data_offsets: [begin, end]}}, offsets relative to the end of the header),
// then the raw little-endian tensor bytes. Tensors are read one at a time at their offsets, so a
// 14B checkpoint never sits in memory whole.
import { promises as fsp } from 'node:fs';
import { openRegular } from '../io/regularFile';
import { InputError } from '../../shared/errors';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';
export const SUPPORTED_SAFETENSORS_DTYPES: SafetensorsDtype[] = ['F32', 'F16', 'BF16'];

export interface TensorEntry {
  name: string;
  file: string;
  dtype: string;
  shape: number[];
  /** absolute byte offset of the data in the file */
  offset: number;
  byteLength: number;
}

export interface SafetensorsHeader {
  /** the header JSON text exactly as stored (hashed into the model manifest) */
  json: string;
  fileSize: number;
  tensors: TensorEntry[];
  metadata: Record<string, string>;
}

/** Bytes per element of the dtypes a header may name (the safetensors spec's list). */
const DTYPE_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

/** Limits checked before anything is allocated (docs/limits.md). */
export const MAX_HEADER_BYTES = 100_000_000;
/** A tensor read whole (norms, fused/transposed projections) may hold at most this many elements;
 *  embeddings and the LM head are streamed in chunks whatever their size. */
export const MAX_WHOLE_TENSOR_ELEMENTS = 2 ** 28;
/** Bytes read per call when streaming a tensor (fs reads must stay under 2 GiB each). */
export const READ_CHUNK_BYTES = 64 * 2 ** 20;

export class SafetensorsError extends InputError {
  constructor(message: string) {
    super('input-file', message);
  }
}

export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  const { handle, size } = await openRegular(file);
  try {
    if (size < 8) throw new SafetensorsError(`${file}: not a safetensors file (too short)`);
    const lengthBytes = Buffer.alloc(8);
    await handle.read(lengthBytes, 0, 8, 0);
    const headerLength = Number(lengthBytes.readBigUInt64LE(0));
    if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES || 8 + headerLength > size) {
      throw new SafetensorsError(
        `${file}: not a safetensors file (header length ${headerLength}${headerLength > MAX_HEADER_BYTES ? `, over the limit of ${MAX_HEADER_BYTES} bytes (docs/limits.md)` : 8 + headerLength > size ? `, past the end of the ${size}-byte file` : ''})`,
      );
    }
    const headerBytes = Buffer.alloc(headerLength);
    await handle.read(headerBytes, 0, headerLength, 8);
    const json = headerBytes.toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (error) {
      throw new SafetensorsError(`${file}: the safetensors header is not valid JSON (${(error as Error).message})`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new SafetensorsError(`${file}: the safetensors header is not a JSON object`);
    const dataBytes = size - 8 - headerLength;
    const tensors: TensorEntry[] = [];
    let metadata: Record<string, string> = {};
    const spans: { name: string; begin: number; end: number }[] = [];
    for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (name === '__metadata__') {
        if (value && typeof value === 'object' && !Array.isArray(value)) metadata = value as Record<string, string>;
        continue;
      }
      const entry = checkEntry(file, name, value, dataBytes);
      spans.push({ name, begin: entry.begin, end: entry.end });
      tensors.push({ name, file, dtype: entry.dtype, shape: entry.shape, offset: 8 + headerLength + entry.begin, byteLength: entry.end - entry.begin });
    }
    // tensors must not share bytes: a header that points two tensors at one range lies about one
    spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
    for (let i = 1; i < spans.length; i++) {
      const prev = spans[i - 1];
      if (spans[i].begin < prev.end && spans[i].end > spans[i].begin) {
        throw new SafetensorsError(`${file}: tensors ${prev.name} and ${spans[i].name} overlap (bytes ${spans[i].begin}-${prev.end}); the file is corrupt`);
      }
    }
    return { json, fileSize: size, tensors, metadata };
  } finally {
    await handle.close();
  }
}

/** One header entry checked against the spec and the file: types, offsets inside the data, and
 *  dtype size × shape = byte length (so a read never runs past what the header promises). */
function checkEntry(file: string, name: string, value: unknown, dataBytes: number): { dtype: string; shape: number[]; begin: number; end: number } {
  const bad = (why: string) => new SafetensorsError(`${file}: tensor ${name}: ${why}`);
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw bad('header entry is not an object');
  const { dtype, shape, data_offsets: offsets } = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) throw bad(`unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw bad(`shape ${JSON.stringify(shape)} is not a list of at most 8 non-negative integers`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0))
    throw bad(`data_offsets ${JSON.stringify(offsets)} are not two non-negative integers`);
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw bad(`data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataBytes) throw bad(`data_offsets [${begin}, ${end}] run past the end of the file (${dataBytes} data bytes); the file is truncated or corrupt`);
  let elements = 1;
  for (const d of shape as number[]) {
    elements *= d;
    if (!Number.isSafeInteger(elements)) throw bad(`shape ${JSON.stringify(shape)} has too many elements`);
  }
  const expected = elements * DTYPE_BYTES[dtype];
  // unsupported dtypes are refused by name later (openCheckpoint) and never read
  if ((SUPPORTED_SAFETENSORS_DTYPES as string[]).includes(dtype) && expected !== end - begin)
    throw bad(`shape ${JSON.stringify(shape)} × ${dtype} is ${expected} bytes, but data_offsets hold ${end - begin}`);
  return { dtype, shape: shape as number[], begin, end };
}

export function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Round-to-nearest-even float32 -> IEEE half. */
export function floatToHalf(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >> 13);
  const remainder = mantissa & 0x1fff;
  if (remainder > 0x1000 || (remainder === 0x1000 && half & 1)) half++;
  e = half >> 10;
  return sign | half;
}

/** Decodes raw little-endian bytes of a supported dtype into float32. */
export function decodeToFloat32(bytes: Uint8Array, dtype: string): Float32Array {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  switch (dtype) {
    case 'F32':
      return new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4).slice();
    case 'F16': {
      const src = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2);
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = halfToFloat(src[i]);
      return out;
    }
    case 'BF16': {
      const src = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2);
      const out = new Float32Array(src.length);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
      return out;
    }
    default:
      throw new Error(`unsupported tensor dtype ${dtype}; supported: ${SUPPORTED_SAFETENSORS_DTYPES.join(', ')}`);
  }
}

/**
 * The tensor as float32, in pieces of at most `chunkElements` elements (whole elements, in order):
 * memory and each read stay bounded whatever the tensor's size.
 */
export async function* streamTensorFloat32(entry: TensorEntry, chunkBytes = READ_CHUNK_BYTES): AsyncGenerator<Float32Array> {
  const width = bytesPerElement(entry.dtype);
  const step = Math.max(width, chunkBytes - (chunkBytes % width));
  const { handle, size } = await openRegular(entry.file);
  try {
    if (entry.offset + entry.byteLength > size)
      throw new SafetensorsError(`${entry.file}: tensor ${entry.name} runs past the end of the file (it changed since its header was read?)`);
    const buffer = Buffer.allocUnsafe(Math.min(step, Math.max(entry.byteLength, width)));
    for (let at = 0; at < entry.byteLength; at += step) {
      const length = Math.min(step, entry.byteLength - at);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buffer, done, length - done, entry.offset + at + done);
        if (bytesRead === 0) throw new SafetensorsError(`${entry.file}: truncated tensor ${entry.name}`);
        done += bytesRead;
      }
      yield decodeToFloat32(buffer.subarray(0, length), entry.dtype);
    }
  } finally {
    await handle.close();
  }
}

function bytesPerElement(dtype: string): number {
  if (!(SUPPORTED_SAFETENSORS_DTYPES as string[]).includes(dtype)) {
    throw new SafetensorsError(`unsupported tensor dtype ${dtype}; supported: ${SUPPORTED_SAFETENSORS_DTYPES.join(', ')}`);
  }
  return DTYPE_BYTES[dtype];
}

/** The whole tensor as float32 (at most MAX_WHOLE_TENSOR_ELEMENTS elements). */
export async function readTensorFloat32(entry: TensorEntry): Promise<Float32Array> {
  const elements = entry.byteLength / bytesPerElement(entry.dtype);
  if (elements > MAX_WHOLE_TENSOR_ELEMENTS) {
    throw new SafetensorsError(
      `${entry.file}: tensor ${entry.name} has ${elements.toLocaleString('en-US')} elements, over the limit of ${MAX_WHOLE_TENSOR_ELEMENTS.toLocaleString('en-US')} for a tensor read whole (docs/limits.md)`,
    );
  }
  const out = new Float32Array(elements);
  let at = 0;
  for await (const chunk of streamTensorFloat32(entry)) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Writes a safetensors file (F32, or F16/BF16 converted from the float32 data given). */
export async function writeSafetensors(
  file: string,
  tensors: { name: string; shape: number[]; data: Float32Array }[],
  dtype: SafetensorsDtype = 'F32',
  metadata: Record<string, string> = { format: 'pt' },
): Promise<void> {
  const bytesPer = dtype === 'F32' ? 4 : 2;
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const length = t.data.length * bytesPer;
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + length] };
    offset += length;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const headerBytes = Buffer.from(json, 'utf8');
  const handle = await fsp.open(file, 'w');
  try {
    const lengthBytes = Buffer.alloc(8);
    lengthBytes.writeBigUInt64LE(BigInt(headerBytes.length));
    await handle.write(lengthBytes);
    await handle.write(headerBytes);
    for (const t of tensors) {
      if (elementCount(t.shape) !== t.data.length) throw new Error(`tensor ${t.name}: shape ${t.shape} does not match ${t.data.length} values`);
      let out: Uint8Array;
      if (dtype === 'F32') {
        out = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      } else if (dtype === 'F16') {
        const half = new Uint16Array(t.data.length);
        for (let i = 0; i < half.length; i++) half[i] = floatToHalf(t.data[i]);
        out = new Uint8Array(half.buffer);
      } else {
        const bits = new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length);
        const half = new Uint16Array(t.data.length);
        for (let i = 0; i < half.length; i++) half[i] = (bits[i] + 0x7fff + ((bits[i] >>> 16) & 1)) >>> 16;
        out = new Uint8Array(half.buffer);
      }
      await handle.write(out);
    }
  } finally {
    await handle.close();
  }
}
