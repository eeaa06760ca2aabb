// The validators live in src/core/data (pure TypeScript, shared with the CLI). The extension
// reaches them through this one interface so that tests can stand in a fake. They are bundled
// apart (dist/validation.js, see scripts/build.mjs) and required on first use, so that
// activation stays cheap.
import { join } from 'node:path';
import type { ValidationOptions, ValidationProgress, ValidationResult } from '../../core/data/types';

export interface ValidationEngine {
  /** validates an open buffer; `file` names it in findings and picks the format by extension */
  validateText(text: string, file: string, options?: ValidationOptions): ValidationResult | Promise<ValidationResult>;
  /** streams a file from disk; honours progress.signal (rejects when aborted) */
  validateFile(path: string, options?: ValidationOptions, progress?: ValidationProgress): Promise<ValidationResult>;
}

export async function loadCoreEngine(): Promise<ValidationEngine> {
  // __dirname is dist/ in the bundled extension
  const core = require(join(__dirname, 'validation.js')) as typeof import('../../core/data');
  return { validateText: core.validateText, validateFile: core.validateFile };
}
