// `preflight` — the headless twin of the extension. One file per command under ./commands.
import { CliCommand, CliIO, EXIT_USAGE, runCommand } from './command';
import { commands } from './commands';
import { escapeControl } from './output';

// one printer for every command: control characters from data never reach the terminal raw
const io: CliIO = {
  stdout: (text) => process.stdout.write(escapeControl(text)),
  stderr: (text) => process.stderr.write(escapeControl(text)),
};

// `preflight inspect ... | head`: the reader went away; stop quietly, as Unix tools do
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: preflight <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'preflight <command> --help' for a command's options.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(help());
    return name ? 0 : EXIT_USAGE;
  }
  if (name === '--version') {
    io.stdout(`${process.env.PREFLIGHT_VERSION ?? '0.1.0'}\n`);
    return 0;
  }
  const command: CliCommand | undefined = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr(`preflight: unknown command '${name}'. Run 'preflight --help' for the list.\n`);
    return EXIT_USAGE;
  }
  return runCommand(command, rest, io);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    io.stderr(`preflight: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = EXIT_USAGE;
  },
);
