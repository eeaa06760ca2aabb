// Steering vectors are added to the residual stream in float32: 1e308 becomes Infinity there and
// every logit NaN, and a forecast built on NaN logits is silently wrong. Values are bounded before
// a forward pass, and logits are checked after one.
import { InputError } from '../../shared/errors';

/** Largest |value| of a steering vector entry (after alpha); residual norms of real models are < 1e4. */
export const MAX_STEERING_ABS = 1e6;

/** Throws a one-line error naming the first value that is not finite or over MAX_STEERING_ABS. */
export function checkSteeringValues(values: ArrayLike<number>, what = 'steering value'): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v) || Math.abs(v) > MAX_STEERING_ABS) {
      throw new InputError(
        'out-of-range',
        `${what} #${i} is ${v}: steering values must be finite and at most ${MAX_STEERING_ABS.toExponential()} in size (docs/limits.md)`,
      );
    }
  }
}

/** Index of the first NaN/±Infinity, or -1. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

export function assertFiniteLogits(logits: ArrayLike<number>, context: string): void {
  const at = firstNonFinite(logits);
  if (at >= 0) {
    throw new InputError(
      'out-of-range',
      `${context}: the model produced a non-finite logit (${logits[at]} at token ${at}); the input or the steering vector is out of range`,
    );
  }
}
