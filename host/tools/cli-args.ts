// The command line's own rules, shared by every command (encode/decode/validate, serve, bench,
// doctor): exit status 2 for anything that cannot be parsed, which includes an option value the CLI
// does not accept, with messages that name the flag and quote what was typed.
import { parseArgs } from 'node:util';

/** The command line cannot be parsed (exit status 2). */
export class CommandLineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandLineError';
  }
}

type OptionTable = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/**
 * parseArgs, strict, with messages of our own: an unknown option, a missing value, an unexpected
 * argument and a repeated single-value option (parseArgs would silently keep the last) are all
 * CommandLineErrors.
 */
type Parsed<O extends OptionTable> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: boolean; tokens: true }>>;

export function parseCommandLine<O extends OptionTable>(args: string[], options: O, allowPositionals: boolean): Parsed<O> {
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals, tokens: true }) as Parsed<O>;
  } catch (e) {
    throw new CommandLineError(parseArgsMessage(e as Error & { code?: string }, allowPositionals));
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option' || options[token.name]?.multiple) continue;
    if (seen.has(token.name)) throw new CommandLineError(`--${token.name} was given more than once: give it once`);
    seen.add(token.name);
  }
  return parsed;
}

function parseArgsMessage(e: Error & { code?: string }, allowPositionals: boolean): string {
  const quoted = /'([^']*)'/.exec(e.message)?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return allowPositionals
        ? `unknown option '${quoted}' (an argument that starts with '-' goes after '--': -- ${quoted})`
        : `unknown option '${quoted}'`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      // "Option '--format <value>' argument missing", or a value given to a boolean flag.
      return /argument missing/.test(e.message)
        ? `${quoted?.split(' ')[0]} needs a value`
        : e.message.replace(/\.$/, '');
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument '${quoted}': this command takes options only`;
    default:
      throw e;
  }
}

/** Where a subcommand writes its help and its usage errors. */
export interface CommandLineIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * A subcommand's options (serve, bench, doctor), parsed and passed through `check` (rules between
 * options: it throws CommandLineError); or, when that is all there is to do, the exit status: 2
 * after a usage message for either kind of error, 0 after the help.
 */
export function subcommandLine<O extends OptionTable & { help: { type: 'boolean' } }>(command: string, argv: string[], options: O,
  help: string, io: CommandLineIO, check?: (values: Parsed<O>['values']) => void): Parsed<O>['values'] | number {
  let values: Parsed<O>['values'];
  try {
    ({ values } = parseCommandLine(argv, options, false));
    check?.(values);
  } catch (e) {
    if (!(e instanceof CommandLineError)) throw e;
    io.stderr.write(usageMessage(command, e.message));
    return 2;
  }
  if ((values as { help?: boolean }).help) {
    io.stdout.write(help);
    return 0;
  }
  return values;
}

/** What a subcommand prints for a CommandLineError: the problem, then where to read the options. */
export function usageMessage(command: string, message: string): string {
  return `peer-target-name ${command}: ${message}\nTry 'peer-target-name ${command} --help'.\n`;
}

/** The value of `--flag`, which must be one of `allowed`. */
export function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new CommandLineError(`invalid value '${value}' for --${flag} (expected ${allowed.join(', ')})`);
}

/** The value of `--flag` as a whole number from min to max, as typed (no '', no ' 12 ', no 1e3). */
export function wholeNumber(flag: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `a whole number of at least ${min}` : `a whole number from ${min} to ${max}`;
    throw new CommandLineError(`invalid value '${value}' for --${flag} (expected ${range})`);
  }
  return n;
}

/** A SOCKET_SECURITY_PROTOCOL as the CLI takes it: a name, or its number. */
export const PROTOCOL_ARGUMENTS = ['default', 'ipsec', 'ipsec2', '0', '1', '2'] as const;

export function protocolArgument(flag: string, value: string | undefined): 'default' | 'ipsec' | 'ipsec2' | 0 | 1 | 2 | undefined {
  const given = oneOf(flag, value, PROTOCOL_ARGUMENTS);
  if (given === undefined) return undefined;
  return /^\d$/.test(given) ? (Number(given) as 0 | 1 | 2) : (given as 'default' | 'ipsec' | 'ipsec2');
}

/** Options that only mean something with another one (`--rounds` without `--bench`). */
export function requireWith(values: Record<string, unknown>, needs: string, flags: readonly string[]): void {
  if (values[needs]) return;
  const stray = flags.find((f) => values[f] !== undefined);
  if (stray) throw new CommandLineError(`--${stray} only applies with --${needs}`);
}
