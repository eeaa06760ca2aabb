// The command table. Each command owns its own file.
import { CliCommand } from '../command';
import { annotateCommand } from './annotate';
import { annotateLlmCommand } from './annotateLlm';
import { buildModelCommand } from './buildModel';
import { demoCommand } from './demo';
import { generateCommand } from './generate';
import { inspectCommand } from './inspect';
import { mdfCommand } from './mdf';
import { validateCommand } from './validate';

export const commands: CliCommand[] = [
  validateCommand,
  annotateCommand,
  annotateLlmCommand,
  buildModelCommand,
  generateCommand,
  inspectCommand,
  mdfCommand,
  demoCommand,
];
