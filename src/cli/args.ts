// The one argument parser of every `mmfd` subcommand. A command declares its options once (name, value
// placeholder, help, default); `command()` turns that into `run(args)`, which prints `--help`, and answers an
// unknown or malformed flag with exit code 2, a message naming the flag (and the nearest valid one) and the
// usage line. Values are read through typed accessors that throw UsageError, so every bad value reads alike.
import { parseArgs } from 'node:util';
import { nearest } from '../config/index.js';

export interface StringOption {
  type: 'string';
  /** The value's placeholder in the usage line, e.g. '<dir>' or 'N'. */
  value: string;
  help: string;
  default?: string;
  /** Shown in the usage line without brackets, and an error when missing. */
  required?: boolean;
}

export interface BooleanOption {
  type: 'boolean';
  help: string;
}

export type OptionSpec = StringOption | BooleanOption;

export interface CommandSpec<K extends string> {
  /** The subcommand's name (`mmfd <name>`). */
  name: string;
  /** Positional arguments in the usage line, e.g. '<slide|folder|list.txt>'; none when absent. */
  positionals?: { usage: string; min: number; max: number };
  options: Record<K, OptionSpec>;
  /** Lines after the option list in --help (examples, notes). */
  notes?: string[];
}

/** A bad command line: the command exits 2 with this message and its usage line. */
export class UsageError extends Error {}

/** The one-line synopsis: `usage: mmfd segment <slide> --out <dir> [--model <m>] ...`. */
export function usageLine<K extends string>(spec: CommandSpec<K>): string {
  const parts = [`usage: mmfd ${spec.name}`];
  if (spec.positionals) parts.push(spec.positionals.usage);
  for (const [name, o] of Object.entries(spec.options) as [string, OptionSpec][]) {
    const text = o.type === 'boolean' ? `--${name}` : `--${name} ${o.value}`;
    parts.push(o.type === 'string' && o.required ? text : `[${text}]`);
  }
  return parts.join(' ');
}

function helpText<K extends string>(spec: CommandSpec<K>): string {
  const rows = (Object.entries(spec.options) as [string, OptionSpec][]).map(([name, o]) => {
    const head = o.type === 'boolean' ? `--${name}` : `--${name} ${o.value}`;
    const def = o.type === 'string' && o.default !== undefined ? ` (default ${o.default})` : '';
    return `  ${head.padEnd(28)}${o.help}${def}`;
  });
  rows.push(`  ${'--help, -h'.padEnd(28)}this text`);
  return [usageLine(spec), '', 'options:', ...rows, ...(spec.notes ? ['', ...spec.notes] : [])].join('\n');
}

/** Typed, validated access to a parsed command line. */
export class Args<K extends string> {
  constructor(
    private readonly spec: CommandSpec<K>,
    private readonly values: Record<string, string | boolean | undefined>,
    readonly positionals: string[],
  ) {}

  /** A string option's value, its default, or undefined. */
  string(name: K): string | undefined {
    const v = this.values[name];
    if (typeof v === 'string') return v;
    const o = this.spec.options[name];
    return o.type === 'string' ? o.default : undefined;
  }

  /** A string option that must be given. */
  required(name: K): string {
    const v = this.string(name);
    if (v === undefined) throw new UsageError(`--${name} is required`);
    return v;
  }

  flag(name: K): boolean {
    return this.values[name] === true;
  }

  /** A number option, checked against its range; undefined when absent with no default. */
  number(name: K, range: { min?: number; max?: number; above?: number; integer?: boolean } = {}): number | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    const v = Number(text);
    const what = [
      range.integer ? 'an integer' : 'a number',
      range.above !== undefined ? `above ${range.above}` : '',
      range.min !== undefined && range.max !== undefined ? `in ${range.min}-${range.max}` : '',
      range.min !== undefined && range.max === undefined ? `>= ${range.min}` : '',
      range.max !== undefined && range.min === undefined ? `<= ${range.max}` : '',
    ]
      .filter((s) => s !== '')
      .join(' ');
    const ok =
      text.trim() !== '' &&
      Number.isFinite(v) &&
      (!range.integer || Number.isInteger(v)) &&
      (range.above === undefined || v > range.above) &&
      (range.min === undefined || v >= range.min) &&
      (range.max === undefined || v <= range.max);
    if (!ok) throw new UsageError(`--${name} needs ${what} (got '${text}')`);
    return v;
  }

  /** A comma-separated list of numbers, each checked as `number` checks one; undefined when absent with no default. */
  numberList(name: K, range: Parameters<Args<K>['number']>[1] = {}): number[] | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    return text.split(',').map((part) => new Args(this.spec, { [name]: part }, []).number(name, range) as number);
  }

  /** A number option that must be given. */
  requiredNumber(name: K, range: Parameters<Args<K>['number']>[1] = {}): number {
    this.required(name);
    return this.number(name, range) as number;
  }

  /** A string option restricted to `choices`. */
  choice<T extends string>(name: K, choices: readonly T[]): T {
    const v = this.required(name);
    if (!(choices as readonly string[]).includes(v)) throw new UsageError(`--${name} is one of ${choices.join(', ')} (got '${v}')`);
    return v as T;
  }
}

/** Parses `args` for `spec`; throws UsageError for an unknown flag, a missing value or a wrong positional count. */
export function parseCommand<K extends string>(spec: CommandSpec<K>, args: string[]): Args<K> | 'help' {
  if (args.includes('--help') || args.includes('-h')) return 'help';
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const [name, o] of Object.entries(spec.options) as [string, OptionSpec][]) options[name] = { type: o.type };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: spec.positionals !== undefined, strict: true });
  } catch (err) {
    throw new UsageError(explainParseError(err as Error & { code?: string }, Object.keys(spec.options)));
  }
  const positionals = parsed.positionals;
  const p = spec.positionals;
  if (p && (positionals.length < p.min || positionals.length > p.max)) {
    const count = p.min === p.max ? `${p.min}` : `${p.min}-${p.max}`;
    throw new UsageError(`expected ${count} positional argument(s) ${p.usage}, got ${positionals.length}`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  for (const [name, o] of Object.entries(spec.options) as [string, OptionSpec][]) {
    if (o.type === 'string' && o.required && values[name] === undefined) throw new UsageError(`--${name} is required`);
  }
  return new Args(spec, values, positionals);
}

/** node:util's parse errors, reworded: the flag, what is wrong, and the nearest valid flag. */
function explainParseError(err: Error & { code?: string }, known: string[]): string {
  const flag = /'(-{1,2}[^' ]+)/.exec(err.message)?.[1];
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag !== undefined) {
    const name = flag.replace(/^-+/, '').split('=')[0] as string;
    const hint = nearest(name, known);
    return `unknown option ${flag}${hint === undefined ? '' : ` (did you mean --${hint}?)`}`;
  }
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag !== undefined) {
    return /argument missing/.test(err.message) ? `${flag} needs a value` : `${flag} takes no value`;
  }
  if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const arg = /'([^']*)'/.exec(err.message)?.[1];
    return `unexpected argument${arg === undefined ? '' : ` '${arg}'`}: this command takes only options`;
  }
  return err.message;
}

/**
 * The subcommand's `run(args)`: --help prints the help text (exit 0); a UsageError prints `mmfd <name>: <message>`
 * and the usage line (exit 2); any other error propagates (main prints it, exit 1).
 */
export function command<K extends string>(
  spec: CommandSpec<K>,
  body: (args: Args<K>) => Promise<number>,
): { spec: CommandSpec<K>; run(args: string[]): Promise<number> } {
  return {
    spec,
    async run(argv) {
      try {
        const args = parseCommand(spec, argv);
        if (args === 'help') {
          console.log(helpText(spec));
          return 0;
        }
        return await body(args);
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        console.error(`mmfd ${spec.name}: ${err.message}\n${usageLine(spec)}`);
        return 2;
      }
    },
  };
}
