import { CliCommand, EXIT_USAGE } from './command';

/** A command whose feature is not built yet: it says so plainly instead of printing fake output. */
export function notBuilt(name: string, summary: string, usage: string): CliCommand {
  return {
    name,
    summary: `${summary} (not built yet)`,
    usage,
    async run(_args, io) {
      io.stderr(`preflight ${name}: not built yet in this version of Preflight.\n`);
      return EXIT_USAGE;
    },
  };
}
