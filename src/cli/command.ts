// The contract every `preflight <command>` implements, and runCommand: the conventions shared by
// all commands (`--help`, one-line usage errors, exit codes), applied in one place.
// Exit codes shared by all commands: 0 = ok, 1 = findings at or above the failure level, 2 = bad usage or unreadable input.

import { InputError } from '../shared/errors';

export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], io: CliIO): Promise<number>;
}

/** Thrown for bad usage or unreadable input; the CLI prints the message on one line and exits 2. */
export class UsageError extends Error {}

/** Errors that describe unusable input, not a bug: printed on one line, exit 2. */
function inputErrorMessage(error: unknown): string | undefined {
  if (error instanceof UsageError || error instanceof InputError) return error.message;
  if (!(error instanceof Error)) return undefined;
  const code = (error as NodeJS.ErrnoException).code;
  if (code && ['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'ELOOP', 'EPERM', 'ENAMETOOLONG'].includes(code)) return error.message;
  return undefined;
}

/** `--help` or `-h` anywhere before a lone `--`. */
export function wantsHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/**
 * Runs one command with the CLI's conventions: `--help`/`-h` prints its usage (exit 0); bad usage
 * and unreadable input print `preflight <name>: <reason>` on one line (exit 2); anything else is a
 * bug and propagates.
 */
export async function runCommand(command: CliCommand, args: string[], io: CliIO): Promise<number> {
  if (wantsHelp(args)) {
    io.stdout(`${command.usage}\n`);
    return EXIT_OK;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    const message = inputErrorMessage(error);
    if (message === undefined) throw error;
    io.stderr(`preflight ${command.name}: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    return EXIT_USAGE;
  }
}
