// The findings contract shared by the validators, the CLI (`preflight validate --json`) and the
// extension's diagnostics. Positions are 1-based; endColumn is exclusive.

export type Severity = 'error' | 'warning' | 'info';

/** A fix the editor may offer; only fixes that are safe without guessing the user's intent. */
export interface SafeFix {
  kind: 'deleteLine';
  /** 1-based line to delete (e.g. the second copy of an exact duplicate) */
  line: number;
  title: string;
}

export interface Finding {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: Severity;
  /** stable machine-readable code, e.g. 'json-malformed', 'duplicate-exact' (documented in docs/validate.md) */
  code: string;
  message: string;
  fix?: SafeFix;
}

export interface ValidationSummary {
  file: string;
  bytes: number;
  records: number;
  /** detected schema, e.g. 'chat', 'sharegpt', 'prompt-completion', 'alpaca', 'text', 'recommendation', 'csv' */
  schema: string | null;
  errors: number;
  warnings: number;
  infos: number;
  /** true when findings were capped at maxFindings (the counts above still count everything) */
  truncated: boolean;
  /** number of findings per code, counting those beyond maxFindings too */
  byCode?: Record<string, number>;
}

export interface ValidationResult {
  findings: Finding[];
  summary: ValidationSummary;
}

export interface ValidationOptions {
  /** cap on findings kept (a summary finding says how many more there were); default 1000 */
  maxFindings?: number;
  /** context limit in tokens for length checks; default 4096 */
  contextLimit?: number;
  /** path to a tokenizer.json for exact token counts; otherwise an estimate is used and said to be one */
  tokenizerPath?: string;
  /** CSV: ordered label scale and the columns that must hold values on it */
  labelLevels?: string[];
  labelColumns?: string[];
  /**
   * JSON Lines files (validateFile only): validate in up to this many worker threads, over byte
   * ranges of the file, with the same findings as one pass. Default 1 (one pass on this thread).
   * Worth it for large files only (the CLI uses it from 64 MB: PARALLEL_MIN_BYTES).
   */
  workers?: number;
}

export interface ValidationProgress {
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  signal?: AbortSignal;
}
