// Every reader of user data opens files through here. A FIFO would block a read forever, a device
// (/dev/zero) never ends, a folder is not data: the file is opened without blocking (O_NONBLOCK, so
// opening a FIFO with no writer returns at once), then fstat'ed — the checked object is the one read,
// whatever the path points to later. Whole-file reads are capped, so a huge file is refused before
// it is allocated.
import { closeSync, constants, createReadStream, fstatSync, openSync, promises as fsp, readSync, ReadStream, Stats } from 'node:fs';
import { InputError } from '../../shared/errors';

/** Unusable input (not a regular file, over a size limit): one line for the user, exit status 2. */
export class InputFileError extends InputError {
  constructor(message: string) {
    super('input-file', message);
  }
}

const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** Caps for files read whole (docs/limits.md). */
export const MAX_CONFIG_BYTES = 16 * 2 ** 20;
export const MAX_TOKENIZER_BYTES = 256 * 2 ** 20;

function kind(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function refuse(path: string, st: Stats): InputFileError {
  return new InputFileError(`${path}: is ${kind(st)}, not a regular file; Preflight reads only regular files`);
}

export function sizeLimitMessage(path: string, size: number, maxBytes: number, what = 'file'): string {
  return `${path}: ${formatBytes(size)} is over the ${formatBytes(maxBytes)} limit for a ${what} read whole (docs/limits.md)`;
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${+(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${+(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${+(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** Opens `path` for reading if it is a regular file; returns the descriptor and its size. */
export function openRegularSync(path: string): { fd: number; size: number } {
  const fd = openSync(path, READ_FLAGS);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw refuse(path, st);
    return { fd, size: st.size };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

export async function openRegular(path: string): Promise<{ handle: fsp.FileHandle; size: number }> {
  const handle = await fsp.open(path, READ_FLAGS);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw refuse(path, st);
    return { handle, size: st.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Throws InputFileError unless `path` is a regular file (for callers that hand the path on). */
export async function assertRegularFile(path: string): Promise<number> {
  const { handle, size } = await openRegular(path);
  await handle.close();
  return size;
}

export interface ReadWholeOptions {
  /** refuse larger files (default MAX_CONFIG_BYTES) */
  maxBytes?: number;
  /** what the file is, for the size message ("tokenizer.json") */
  what?: string;
}

function readAllSync(fd: number, size: number, path: string): Buffer {
  const buffer = Buffer.allocUnsafe(size);
  let done = 0;
  while (done < size) {
    const n = readSync(fd, buffer, done, Math.min(size - done, 1 << 26), done);
    if (n === 0) break;
    done += n;
  }
  if (done !== size) throw new InputFileError(`${path}: changed while being read`);
  return buffer;
}

export function readRegularFileSync(path: string, options: ReadWholeOptions & { encoding: 'utf8' }): string;
export function readRegularFileSync(path: string, options?: ReadWholeOptions): Buffer;
export function readRegularFileSync(path: string, options: ReadWholeOptions & { encoding?: 'utf8' } = {}): string | Buffer {
  const maxBytes = options.maxBytes ?? MAX_CONFIG_BYTES;
  const { fd, size } = openRegularSync(path);
  try {
    if (size > maxBytes) throw new InputFileError(sizeLimitMessage(path, size, maxBytes, options.what));
    const bytes = readAllSync(fd, size, path);
    return options.encoding === 'utf8' ? bytes.toString('utf8') : bytes;
  } finally {
    closeSync(fd);
  }
}

export async function readRegularFile(path: string, options: ReadWholeOptions & { encoding: 'utf8' }): Promise<string>;
export async function readRegularFile(path: string, options?: ReadWholeOptions): Promise<Buffer>;
export async function readRegularFile(path: string, options: ReadWholeOptions & { encoding?: 'utf8' } = {}): Promise<string | Buffer> {
  const maxBytes = options.maxBytes ?? MAX_CONFIG_BYTES;
  const { handle, size } = await openRegular(path);
  try {
    if (size > maxBytes) throw new InputFileError(sizeLimitMessage(path, size, maxBytes, options.what));
    const buffer = Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(buffer, done, Math.min(size - done, 1 << 26), done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    if (done !== size) throw new InputFileError(`${path}: changed while being read`);
    return options.encoding === 'utf8' ? buffer.toString('utf8') : buffer;
  } finally {
    await handle.close();
  }
}

/** JSON read whole from a regular file; a parse failure names the file. */
export function readJsonFileSync<T = unknown>(path: string, options: ReadWholeOptions = {}): T {
  const text = readRegularFileSync(path, { ...options, encoding: 'utf8' });
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new InputFileError(`${path}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

export async function readJsonFile<T = unknown>(path: string, options: ReadWholeOptions = {}): Promise<T> {
  const text = await readRegularFile(path, { ...options, encoding: 'utf8' });
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new InputFileError(`${path}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** A read stream over a regular file (the descriptor is checked before the stream exists). */
export function createRegularReadStream(path: string, options: { highWaterMark?: number; start?: number } = {}): ReadStream {
  const { fd } = openRegularSync(path);
  return createReadStream('', { fd, autoClose: true, highWaterMark: options.highWaterMark, start: options.start });
}
