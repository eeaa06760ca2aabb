// The command table. Each feature owns its own file; unbuilt features say so plainly.
import { CliCommand } from '../command';
import { annotateCommand } from './annotate';
import { buildModelCommand } from './buildModel';
import { generateCommand } from './generate';
import { inspectCommand } from './inspect';
import { mdfCommand } from './mdf';
import { validateCommand } from './validate';

export const commands: CliCommand[] = [
  validateCommand,
  annotateCommand,
  buildModelCommand,
  generateCommand,
  inspectCommand,
  mdfCommand,
];
