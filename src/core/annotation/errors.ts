import { InputError } from '../../shared/errors';

/** Unusable annotation input (missing column, no rows on the scale...): the CLI prints it on one line and exits 2. */
export class AnnotationInputError extends InputError {
  constructor(message: string, code: 'annotation' | 'missing-column' = 'annotation') {
    super(code, message);
  }
}
