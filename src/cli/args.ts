// The one argument parser of every `preflight` command: node:util parseArgs (strict), with the
// CLI's conventions in one place so that no command drifts from them:
// - `--flag V` and `--flag=V`; a negative number may follow its flag (`--seed -3`);
// - an unknown flag, a missing value or a stray argument is a UsageError: one line, exit 2;
// - numbers are checked by one rule (intFlag / numberFlag) and refused with the same sentence;
// - lists are comma-separated (and repeatable where a flag says so); choices name every choice.
// `--help`/`-h` is answered by runCommand (command.ts) before a command parses anything.
import { parseArgs } from 'node:util';
import { UsageError } from './command';

export type FlagSpec = { type: 'string'; multiple?: boolean } | { type: 'boolean' };
export type FlagSpecs = Record<string, FlagSpec>;

type FlagValue<S extends FlagSpec> = S extends { type: 'boolean' } ? boolean : S extends { multiple: true } ? string[] : string;
export type FlagValues<T extends FlagSpecs> = { [K in keyof T]?: FlagValue<T[K]> };

export interface ParsedArgs<T extends FlagSpecs> {
  values: FlagValues<T>;
  positionals: string[];
}

const NEGATIVE_NUMBER = /^-(\d|\.\d)/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses `args` against `flags` (long names without the dashes). `positionals: false` refuses any
 * argument that is not a flag.
 */
export function parseFlags<T extends FlagSpecs>(args: string[], flags: T, options: { positionals?: boolean } = {}): ParsedArgs<T> {
  // `--seed -3`: parseArgs would read -3 as an option; joined as --seed=-3 it is the value
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    if (name !== undefined && flags[name]?.type === 'string' && i + 1 < args.length && NEGATIVE_NUMBER.test(args[i + 1])) {
      joined.push(`${arg}=${args[++i]}`);
    } else joined.push(arg);
  }
  try {
    const { values, positionals } = parseArgs({ args: joined, options: flags, allowPositionals: options.positionals ?? false, strict: true });
    return { values: values as FlagValues<T>, positionals };
  } catch (error) {
    throw new UsageError(usageMessage(error));
  }
}

/** parseArgs' messages are several sentences long; the CLI prints one short line. */
function usageMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const quoted = /'([^']*)'/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && quoted) return `unknown option '${quoted}' (see --help)`;
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' && quoted) return `unexpected argument '${quoted}' (see --help)`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && quoted) {
    const flag = quoted.split(/[ ,]/).find((part) => part.startsWith('--')) ?? quoted;
    if (/argument missing|ambiguous/.test(message)) return `${flag} needs a value (write ${flag}=VALUE for a value that starts with '-')`;
    if (/does not take an argument/.test(message)) return `${flag} takes no value`;
  }
  return message.split('\n')[0];
}

interface Range {
  min?: number;
  max?: number;
  /** min is excluded (x > min) */
  minExclusive?: boolean;
  /** max is excluded (x < max) */
  maxExclusive?: boolean;
}

function describe(kind: 'integer' | 'number', r: Range): string {
  const a = kind === 'integer' ? 'an integer' : 'a number';
  if (r.min !== undefined && r.max !== undefined) {
    if (!r.minExclusive && !r.maxExclusive) return `${a} from ${r.min} to ${r.max}`;
    return `${a} ${r.minExclusive ? '>' : '>='} ${r.min} and ${r.maxExclusive ? '<' : '<='} ${r.max}`;
  }
  if (kind === 'integer' && r.min === 1 && r.max === undefined) return 'a positive integer';
  if (r.min !== undefined) return `${a} ${r.minExclusive ? '>' : '>='} ${r.min}`;
  if (r.max !== undefined) return `${a} ${r.maxExclusive ? '<' : '<='} ${r.max}`;
  return a;
}

function inRange(n: number, r: Range): boolean {
  if (r.min !== undefined && (r.minExclusive ? n <= r.min : n < r.min)) return false;
  if (r.max !== undefined && (r.maxExclusive ? n >= r.max : n > r.max)) return false;
  return true;
}

function parseNumber(value: string, name: string, kind: 'integer' | 'number', range: Range): number {
  // Number('') is 0, Number(' 1') is 1 and Number('0x10') is 16: a value must be written as a decimal number
  const n = DECIMAL.test(value) ? Number(value) : NaN;
  const ok = Number.isFinite(n) && (kind === 'number' || Number.isInteger(n)) && inRange(n, range);
  if (!ok) throw new UsageError(`--${name} must be ${describe(kind, range)} (got '${value}')`);
  return n;
}

/** An integer flag: `fallback` when absent, else a UsageError unless an integer within the range. */
export function intFlag(value: string | undefined, name: string, fallback: number, range?: Range): number;
export function intFlag(value: string | undefined, name: string, fallback?: undefined, range?: Range): number | undefined;
export function intFlag(value: string | undefined, name: string, fallback?: number, range: Range = {}): number | undefined {
  return value === undefined ? fallback : parseNumber(value, name, 'integer', range);
}

/** A real-number flag: `fallback` when absent, else a UsageError unless finite and within the range. */
export function numberFlag(value: string | undefined, name: string, fallback: number, range?: Range): number;
export function numberFlag(value: string | undefined, name: string, fallback?: undefined, range?: Range): number | undefined;
export function numberFlag(value: string | undefined, name: string, fallback?: number, range: Range = {}): number | undefined {
  return value === undefined ? fallback : parseNumber(value, name, 'number', range);
}

/** Seeds are 32-bit everywhere (the generators take seed >>> 0): one range for every --seed. */
export const SEED_RANGE: Range = { min: -(2 ** 31), max: 2 ** 32 - 1 };

/** `--seed S` with the one seed rule. */
export function seedFlag(value: string | undefined, fallback: number): number {
  return intFlag(value, 'seed', fallback, SEED_RANGE);
}

/** ONNX Runtime CPU threads: 0 lets ONNX Runtime decide. */
export function threadsFlag(value: string | undefined, fallback = 0): number {
  return intFlag(value, 'threads', fallback, { min: 0, max: 1024 });
}

/** A comma-separated list (each value of a repeatable flag may itself be a list); blanks dropped. */
export function listFlag(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : [value])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** One of `choices`: `fallback` when absent, else a UsageError naming every choice. */
export function choiceFlag<C extends string>(value: string | undefined, name: string, choices: readonly C[], fallback: C): C;
export function choiceFlag<C extends string>(value: string | undefined, name: string, choices: readonly C[], fallback?: undefined): C | undefined;
export function choiceFlag<C extends string>(value: string | undefined, name: string, choices: readonly C[], fallback?: C): C | undefined {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`--${name} must be ${orList(choices)} (got '${value}')`);
  return value as C;
}

/** "a, b or c" */
export function orList(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** A required flag: its value, else a UsageError saying what it is for (an empty value is absent unless allowed). */
export function required(value: string | undefined, usage: string, options: { allowEmpty?: boolean } = {}): string {
  if (value === undefined || (value === '' && !options.allowEmpty)) throw new UsageError(`${usage} is required`);
  return value;
}
