// Safetensors, read and written by hand: an 8-byte little-endian header length, a JSON header
// ({name: {dtype, shape, data_offsets: [begin, end]}}, offsets relative to the end of the header),
// then the raw little-endian tensor bytes. Tensors are read one at a time at their offsets, so a
// 14B checkpoint never sits in memory whole.
import { promises as fsp } from 'node:fs';

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

export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  const handle = await fsp.open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size < 8) throw new Error(`${file}: not a safetensors file (too short)`);
    const lengthBytes = Buffer.alloc(8);
    await handle.read(lengthBytes, 0, 8, 0);
    const headerLength = Number(lengthBytes.readBigUInt64LE(0));
    if (headerLength <= 0 || headerLength > 100_000_000 || 8 + headerLength > size) {
      throw new Error(`${file}: not a safetensors file (header length ${headerLength})`);
    }
    const headerBytes = Buffer.alloc(headerLength);
    await handle.read(headerBytes, 0, headerLength, 8);
    const json = headerBytes.toString('utf8');
    const parsed = JSON.parse(json) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
    const tensors: TensorEntry[] = [];
    let metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(parsed)) {
      if (name === '__metadata__') {
        metadata = value as Record<string, string>;
        continue;
      }
      const entry = value as { dtype: string; shape: number[]; data_offsets: [number, number] };
      const [begin, end] = entry.data_offsets;
      tensors.push({ name, file, dtype: entry.dtype, shape: entry.shape, offset: 8 + headerLength + begin, byteLength: end - begin });
    }
    return { json, fileSize: size, tensors, metadata };
  } finally {
    await handle.close();
  }
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

export async function readTensorFloat32(entry: TensorEntry): Promise<Float32Array> {
  const handle = await fsp.open(entry.file, 'r');
  try {
    const bytes = Buffer.alloc(entry.byteLength);
    let done = 0;
    while (done < entry.byteLength) {
      const { bytesRead } = await handle.read(bytes, done, entry.byteLength - done, entry.offset + done);
      if (bytesRead === 0) throw new Error(`${entry.file}: truncated tensor ${entry.name}`);
      done += bytesRead;
    }
    return decodeToFloat32(bytes, entry.dtype);
  } finally {
    await handle.close();
  }
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
