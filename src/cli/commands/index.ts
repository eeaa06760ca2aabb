// The command table. Each feature owns its own file; unbuilt features say so plainly.
import { CliCommand } from '../command';
import { notBuilt } from '../notBuilt';
import { annotateCommand } from './annotate';
import { buildModelCommand } from './buildModel';
import { generateCommand } from './generate';
import { inspectCommand } from './inspect';
import { validateCommand } from './validate';

export const commands: CliCommand[] = [
  validateCommand,
  annotateCommand,
  buildModelCommand,
  generateCommand,
  inspectCommand,
  notBuilt('mdf', 'Forecast the behaviour shift fine-tuning on a file would cause (MDF)', 'preflight mdf <train.jsonl> --model <dir> [--probes NAME|FILE ...] [--alphas ...] [--samples N] [--json] [--out report.json] [--fail-on LEVEL]'),
];
