// The contract every `preflight <command>` implements.
// Exit codes shared by all commands: 0 = ok, 1 = findings at or above the failure level, 2 = bad usage or unreadable input.

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
