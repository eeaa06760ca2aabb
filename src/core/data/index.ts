// Public API of Preflight's data validation (used by the CLI and the extension).
export type { Finding, SafeFix, Severity, ValidationOptions, ValidationProgress, ValidationResult, ValidationSummary } from './types';
export { validateFile, validateText, formatOf, isDataFileOnDisk, DEFAULT_CONTEXT_LIMIT, DEFAULT_MAX_FINDINGS, MAX_JSON_DOCUMENT_BYTES } from './validate';
export type { FileFormat } from './validate';
export type { SchemaId } from './records';
export { FINDING_CODES } from './codes';
export { PARALLEL_MIN_BYTES } from './parallel';
export type { FindingCode } from './codes';
