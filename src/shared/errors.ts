// The error types every layer throws and matches by type, never by message text: a cancellation,
// and input the user can fix (one line for them; the CLI exits 2). They also cross the worker
// boundary (toWire / fromWire), where only plain data survives.

/** The part of an AbortSignal these helpers read (the shared layer has neither DOM nor node types). */
export interface CancelSignal {
  readonly aborted: boolean;
}

/** The caller cancelled the operation (its AbortSignal fired). */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** Throws CancelledError once `signal` has fired. */
export function throwIfCancelled(signal: CancelSignal | undefined, message?: string): void {
  if (signal?.aborted) throw new CancelledError(message);
}

/**
 * What was wrong with the input, for callers that react to one kind (the extension asks for the
 * columns on 'missing-column'):
 * - input-file: not a regular file, over a size limit, not valid JSON, not a safetensors file...
 * - tokenizer: a tokenizer file that cannot be loaded
 * - annotation: labels or human-test files that cannot be analysed as asked
 * - missing-column: a named column is absent, or no column could be recognised
 * - probe-suite: an invalid MDF probe suite
 * - model-source: no usable model at the path given
 * - out-of-range: a value (steering vector, logits) outside what the engine accepts
 */
export type InputErrorCode = 'input-file' | 'tokenizer' | 'annotation' | 'missing-column' | 'probe-suite' | 'model-source' | 'out-of-range';

/** Unusable input, not a bug: reported as one line, the CLI exits 2. */
export class InputError extends Error {
  constructor(
    readonly code: InputErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

/** An error as it crosses a thread boundary: `code` is the InputError's code, or a system
 *  error's (ENOENT...), which callers also read. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
}

const INPUT_ERROR_CODES: ReadonlySet<string> = new Set<InputErrorCode>([
  'input-file',
  'tokenizer',
  'annotation',
  'missing-column',
  'probe-suite',
  'model-source',
  'out-of-range',
]);

export function toWire(error: unknown): WireError {
  if (error instanceof InputError) return { name: 'InputError', message: error.message, code: error.code };
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? { name: error.name, message: error.message, code } : { name: error.name, message: error.message };
}

/** Rebuilds the error types on the receiving side, so callers match them by type there too. */
export function fromWire(wire: WireError): Error {
  if (wire.name === 'CancelledError') return new CancelledError(wire.message);
  if (wire.name === 'InputError' && wire.code !== undefined && INPUT_ERROR_CODES.has(wire.code))
    return new InputError(wire.code as InputErrorCode, wire.message);
  const error = Object.assign(new Error(wire.message), { name: wire.name });
  return wire.code === undefined ? error : Object.assign(error, { code: wire.code });
}
