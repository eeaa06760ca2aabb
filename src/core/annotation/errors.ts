/** Unusable annotation input (missing column, no rows on the scale...): the CLI prints it on one line and exits 2. */
export class AnnotationInputError extends Error {}
