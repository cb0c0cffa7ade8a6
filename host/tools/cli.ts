#!/usr/bin/env node
// peer-target-name: the command-line face of the codec. A thin layer over ./index.js: it parses the
// command line, hands the values to the API unchanged, and prints what comes back. Every rule about
// what makes a SOCKET_PEER_TARGET_NAME valid lives in the API; this file only decides how to print.
//
// Exit status: 0 success; 1 a value breaks a rule (a PeerTargetNameError; its message, which starts
// with the Winsock name, is stderr's first line); 2 the command line cannot be parsed; 70 an
// unexpected internal error.

import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CommandLineError, parseCommandLine, oneOf, wholeNumber, protocolArgument } from './cli-args.js';

import {
  decodePeerTargetName,
  encodePeerTargetName,
  fromHex,
  inspectPeerTargetName,
  PeerTargetNameError,
  toHex,
  validatePeerTargetName,
  HARD_MAX_TARGET_NAME_LENGTH,
} from '../codec/api.js';
import type {
  CodecOptions,
  DecodedPeer,
  LengthUnit,
  PeerTargetNameInput,
  SocketType,
} from '../codec/types.js';

export const EXIT_OK = 0;
export const EXIT_RULE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70;

const TOOL = 'peer-target-name';

export interface CliWritable {
  write(chunk: string): unknown;
}

export interface CliIO {
  stdout: CliWritable;
  stderr: CliWritable;
  /** Read only for `decode -` / `validate -`. */
  stdin: AsyncIterable<string | Uint8Array>;
}

/** A command line that cannot be parsed: exit 2 with a usage hint. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: CommandName,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

// ---- Help texts -------------------------------------------------------------------------------

const COMMON_OPTIONS = `  --length-unit U        unit of PeerTargetNameStringLen: auto (default; UTF-16 units for
                         default and ipsec, bytes for ipsec2), units, or bytes
  --socket-type T        dgram (default; a peer address and port are required) or stream
  --max-name-length N    longest accepted target name in UTF-16 units (default 1024)`;

const HELP = {
  tool: `${TOOL}: build, read and check SOCKET_PEER_TARGET_NAME buffers for WSASetSocketPeerTargetName

Usage:
  ${TOOL} encode --protocol P --peer ADDR --name SPN [options]
  ${TOOL} decode HEX [options]
  ${TOOL} validate HEX [options]
  ${TOOL} serve [options]
  ${TOOL} bench [--quick] [--json FILE] [--svg FILE]
  ${TOOL} doctor [--json] [--library PATH]
  ${TOOL} conformance build
  ${TOOL} help [COMMAND]

Commands:
  encode     build the buffer and print it as hex, json or an annotated table
  decode     read a buffer back into its fields (json or table)
  validate   check a buffer against the rules and summarise it
  serve      run the main job: a UDP echo server that registers each peer before answering it
             (outside Windows it builds the conformance library first: needs a C compiler)
  bench      measure throughput against the alternatives ('${TOOL} bench --help'); its C
             reference and bridge sections need a C compiler and are skipped, with the reason,
             without one
  doctor     ask the DLL which length unit it reads and what it refuses; on Windows, run it and
             report the result ('${TOOL} doctor --help')
  conformance build
             build the Linux conformance library (a stand-in for Windows' Fwpuclnt.dll, for
             the bridge outside Windows) with the system's C compiler and print its path

Options:
  -h, --help             show this help; '${TOOL} COMMAND --help' shows a command's options
  --version              print the version

Exit status: 0 success; 1 a value breaks a rule (stderr's first line starts with the Winsock
error name, e.g. WSAEINVAL); 2 the command line cannot be parsed; 70 internal error.
`,
  encode: `Usage: ${TOOL} encode --protocol P --peer ADDR --name SPN [options]

Build a SOCKET_PEER_TARGET_NAME buffer (144 + 2n bytes for an n-unit name).

Options:
  --protocol P           default, ipsec, ipsec2, or their numbers 0, 1, 2 (required)
  --peer ADDR            peer address and port: 192.0.2.10:4500, [2001:db8::1]:500,
                         [fe80::1%7]:5000; may be omitted for --socket-type stream
  --name SPN             the peer target name, e.g. host/server.example.com (required)
${COMMON_OPTIONS}
  --format F             hex (default: one line of lowercase hex), json, or table
  -h, --help             show this help
`,
  decode: `Usage: ${TOOL} decode HEX [options]

Read a SOCKET_PEER_TARGET_NAME buffer back into its fields. HEX may contain whitespace, a 0x
prefix, or ':'/'-' separators; '-' reads the hex from stdin. An invalid buffer fails like
'validate' (every problem on stderr, exit 1) unless --lenient is given.

Options:
  --format F             json (default) or table (an annotated field-by-field view)
  --lenient              print whatever could be decoded, with the problems found
                         (still exits 1 if there were any)
${COMMON_OPTIONS}
  -h, --help             show this help
`,
  conformance: `Usage: ${TOOL} conformance build

Build the conformance library: a stand-in for Windows' Fwpuclnt.dll that applies the same rules to
real sockets, so the bridge ('peer-target-name/bridge') can be used outside Windows. Compiles the C
source shipped in the package with $CC, cc or gcc (when the library is missing or out of date) and
prints the library's path on stdout. Use it as:

  openBridge({ library: '<the printed path>' })     or     PEER_TARGET_NAME_LIBRARY=<the printed path>

Not needed on Windows: the real Fwpuclnt.dll is used there.

Exit status: 0 built or up to date; 2 the command line cannot be parsed; 69 no C compiler
(the message says what to install); 70 the compile failed.
`,
  validate: `Usage: ${TOOL} validate HEX [options]

Check a SOCKET_PEER_TARGET_NAME buffer. Prints a one-line summary and exits 0 when it is valid;
otherwise prints every problem on stderr (the first one first) and exits 1. HEX is read as for
'decode' ('-' reads stdin).

Options:
${COMMON_OPTIONS}
  -h, --help             show this help
`,
} as const;

type CommandName = 'encode' | 'decode' | 'validate';
const COMMANDS: readonly CommandName[] = ['encode', 'decode', 'validate'];
/** Every command, for the usage line. */
const ALL_COMMANDS = [...COMMANDS, 'serve', 'bench', 'doctor', 'help', 'conformance'] as const;

const SYNOPSIS: Record<CommandName, string> = {
  encode: `${TOOL} encode --protocol P --peer ADDR --name SPN [--length-unit U] [--socket-type T] [--max-name-length N] [--format hex|json|table]`,
  decode: `${TOOL} decode HEX [--format json|table] [--lenient] [--length-unit U] [--socket-type T] [--max-name-length N]`,
  validate: `${TOOL} validate HEX [--socket-type T] [--length-unit U] [--max-name-length N]`,
};

// ---- Option tables for parseArgs -------------------------------------------------------------

const CODEC_OPTIONS = {
  'length-unit': { type: 'string' },
  'socket-type': { type: 'string' },
  'max-name-length': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const ENCODE_OPTIONS = {
  ...CODEC_OPTIONS,
  protocol: { type: 'string' },
  peer: { type: 'string' },
  name: { type: 'string' },
  format: { type: 'string' },
} as const;

const DECODE_OPTIONS = {
  ...CODEC_OPTIONS,
  format: { type: 'string' },
  lenient: { type: 'boolean' },
} as const;

const VALIDATE_OPTIONS = CODEC_OPTIONS;

interface CodecValues {
  'length-unit'?: string | undefined;
  'socket-type'?: string | undefined;
  'max-name-length'?: string | undefined;
}

// ---- Entry point ------------------------------------------------------------------------------

/**
 * Runs the CLI on `argv` (the arguments after the script name) and resolves to the exit status.
 * Never throws and never calls process.exit, so tests can call it in-process.
 */
export async function main(argv: string[], io?: Partial<CliIO>): Promise<number> {
  const out = io?.stdout ?? process.stdout;
  const err = io?.stderr ?? process.stderr;
  const stdin = io?.stdin ?? process.stdin;
  const ctx: Context = { out, err, stdin };
  try {
    return await dispatch(argv, ctx);
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`${TOOL}: ${e.message}\n`);
      if (e.command) {
        err.write(`Usage: ${SYNOPSIS[e.command]}\n`);
        err.write(`Try '${TOOL} ${e.command} --help' for more information.\n`);
      } else {
        err.write(`Usage: ${TOOL} ${ALL_COMMANDS.join('|')} ... (see '${TOOL} --help')\n`);
      }
      return EXIT_USAGE;
    }
    if (isPeerTargetNameError(e)) {
      err.write(`${e.message}\n`);
      return EXIT_RULE;
    }
    const message = e instanceof Error ? e.message : String(e);
    err.write(`internal error: ${message}\n`);
    if (process.env.PEER_TARGET_NAME_DEBUG && e instanceof Error && e.stack) {
      err.write(`${e.stack}\n`);
    }
    return EXIT_INTERNAL;
  }
}

interface Context {
  out: CliWritable;
  err: CliWritable;
  stdin: AsyncIterable<string | Uint8Array>;
}

async function dispatch(argv: string[], ctx: Context): Promise<number> {
  const first = argv[0];
  if (first === undefined) {
    throw new UsageError('missing command');
  }
  if (first === '--help' || first === '-h') {
    if (argv.length > 1) throw new UsageError(`unexpected argument '${argv[1]}' after ${first}`);
    ctx.out.write(HELP.tool);
    return EXIT_OK;
  }
  if (first === '--version') {
    if (argv.length > 1) throw new UsageError(`unexpected argument '${argv[1]}' after --version`);
    ctx.out.write(`${readVersion()}\n`);
    return EXIT_OK;
  }
  if (first === 'help') {
    const topic = argv[1];
    if (argv.length > 2) throw new UsageError(`unexpected argument '${argv[2]}' after help ${topic}`);
    if (topic === undefined) {
      ctx.out.write(HELP.tool);
      return EXIT_OK;
    }
    if (topic === 'conformance') {
      ctx.out.write(HELP.conformance);
      return EXIT_OK;
    }
    if (!isCommand(topic)) throw new UsageError(`unknown command '${topic}'`);
    ctx.out.write(HELP[topic]);
    return EXIT_OK;
  }
  if (first === 'bench') {
    // Loaded only for this command: the harness brings koffi and a C compiler into play.
    const { runBench } = await import('./bench/index.js');
    return runBench(argv.slice(1), { stdout: ctx.out, stderr: ctx.err });
  }
  if (first.startsWith('-')) {
    throw new UsageError(`unknown option '${first}' (options follow the command)`);
  }
  if (first === 'doctor') {
    const { doctorCommand } = await import('./doctor-command.js');
    return doctorCommand(argv.slice(1), { stdout: ctx.out, stderr: ctx.err });
  }
  if (first === 'serve') {
    // The main job (host/tools/main-job.ts), loaded only when asked for.
    const { serveCommand } = await import('./main-job.js');
    return serveCommand(argv.slice(1), { stdout: ctx.out, stderr: ctx.err });
  }
  if (first === 'conformance') {
    return runConformance(argv.slice(1), ctx);
  }
  if (!isCommand(first)) {
    throw new UsageError(`unknown command '${first}'`);
  }
  const args = argv.slice(1);
  switch (first) {
    case 'encode':
      return runEncode(args, ctx);
    case 'decode':
      return runDecode(args, ctx);
    case 'validate':
      return runValidate(args, ctx);
  }
}

/** The exit status when no C compiler exists (EX_UNAVAILABLE, as `serve` uses it). */
const EXIT_UNAVAILABLE = 69;

/** `conformance build`: builds the Linux conformance library with the package's own script, prints its path. */
async function runConformance(args: string[], ctx: Context): Promise<number> {
  const usage = `Usage: ${TOOL} conformance build`;
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
    ctx.out.write(HELP.conformance);
    return EXIT_OK;
  }
  if (args[0] !== 'build' || args.length > 2 || (args.length === 2 && args[1] !== '--help' && args[1] !== '-h')) {
    const what = args[0] === undefined ? 'missing subcommand' : args[0] !== 'build' ? `unknown subcommand '${args[0]}'` : `unexpected argument '${args[1]}'`;
    ctx.err.write(`${TOOL}: conformance: ${what}\n${usage}\nTry '${TOOL} conformance --help' for more information.\n`);
    return EXIT_USAGE;
  }
  if (args.length === 2) {
    ctx.out.write(HELP.conformance);
    return EXIT_OK;
  }
  if (process.platform === 'win32') {
    ctx.err.write(`${TOOL}: conformance: not needed on Windows: the real Fwpuclnt.dll is used there; nothing built.\n`);
    return EXIT_OK;
  }
  const { packageRoot } = await import('./main-job/backend.js');
  const { join } = await import('node:path');
  const { pathToFileURL } = await import('node:url');
  const script = join(packageRoot(), 'build', 'conformance.mjs');
  const builder = (await import(pathToFileURL(script).href)) as { buildConformanceLibrary(): { path: string } };
  try {
    ctx.out.write(`${builder.buildConformanceLibrary().path}\n`);
    return EXIT_OK;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    ctx.err.write(`${TOOL}: conformance: ${message}\n`);
    return /^No C compiler/.test(message) ? EXIT_UNAVAILABLE : EXIT_INTERNAL;
  }
}

function isCommand(name: string): name is CommandName {
  return (COMMANDS as readonly string[]).includes(name);
}

/** parseArgs in strict mode, with its errors turned into usage errors for `command`. */
function parse<O extends Record<string, { type: 'string' | 'boolean'; short?: string }>>(
  command: CommandName,
  args: string[],
  options: O,
  allowPositionals: boolean,
) {
  return asUsage(command, () => parseCommandLine(args, options, allowPositionals));
}

/** Runs `check`, turning the shared command-line errors into this command's usage errors. */
function asUsage<T>(command: CommandName, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof CommandLineError) throw new UsageError(e.message, command);
    throw e;
  }
}

// ---- encode -----------------------------------------------------------------------------------

async function runEncode(args: string[], ctx: Context): Promise<number> {
  const { values } = parse('encode', args, ENCODE_OPTIONS, false);
  if (values.help) {
    ctx.out.write(HELP.encode);
    return EXIT_OK;
  }
  const format = pickFormat('encode', values.format, ['hex', 'json', 'table'], 'hex');
  if (values.protocol === undefined) throw new UsageError('missing required option --protocol', 'encode');
  if (values.name === undefined) throw new UsageError('missing required option --name', 'encode');

  const options = codecOptions('encode', values);
  const input: PeerTargetNameInput = {
    protocol: asUsage('encode', () => protocolArgument('protocol', values.protocol))!,
    targetName: values.name,
  };
  if (values.peer !== undefined) input.peer = values.peer;

  const bytes = encodePeerTargetName(input, options);
  switch (format) {
    case 'hex':
      ctx.out.write(`${toHex(bytes)}\n`);
      break;
    case 'json': {
      const decoded = decodePeerTargetName(bytes, options);
      ctx.out.write(`${JSON.stringify({ hex: toHex(bytes), ...decoded }, null, 2)}\n`);
      break;
    }
    case 'table':
      writeTable(ctx, bytes, options);
      break;
  }
  return EXIT_OK;
}

// ---- decode -----------------------------------------------------------------------------------

async function runDecode(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parse('decode', args, DECODE_OPTIONS, true);
  if (values.help) {
    ctx.out.write(HELP.decode);
    return EXIT_OK;
  }
  const format = pickFormat('decode', values.format, ['json', 'table'], 'json');
  const options = codecOptions('decode', values);
  const bytes = await readHexArgument('decode', positionals, ctx);

  if (values.lenient) {
    const report = inspectPeerTargetName(bytes, options);
    if (format === 'json') {
      const problems = report.problems.map((p) => ({
        code: p.code,
        errno: p.errno,
        field: p.field,
        message: p.message,
        offset: p.offset ?? null,
        length: p.length ?? null,
      }));
      ctx.out.write(`${JSON.stringify({ value: report.value, problems }, null, 2)}\n`);
    } else {
      writeTable(ctx, bytes, options, report);
    }
    for (const problem of report.problems) ctx.err.write(`${problem.message}\n`);
    return report.problems.length > 0 ? EXIT_RULE : EXIT_OK;
  }

  if (!checkValid(bytes, options, ctx)) return EXIT_RULE;
  if (format === 'json') {
    const decoded = decodePeerTargetName(bytes, options);
    ctx.out.write(`${JSON.stringify(decoded, null, 2)}\n`);
  } else {
    writeTable(ctx, bytes, options);
  }
  return EXIT_OK;
}

// ---- validate ---------------------------------------------------------------------------------

async function runValidate(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parse('validate', args, VALIDATE_OPTIONS, true);
  if (values.help) {
    ctx.out.write(HELP.validate);
    return EXIT_OK;
  }
  const options = codecOptions('validate', values);
  const bytes = await readHexArgument('validate', positionals, ctx);
  if (!checkValid(bytes, options, ctx)) return EXIT_RULE;
  const decoded = decodePeerTargetName(bytes, options);
  const peer = decoded.peer ? formatPeer(decoded.peer) : 'no peer';
  ctx.out.write(
    `valid: ${decoded.totalLength} bytes, ${decoded.protocol}, ${peer}, target name ${JSON.stringify(decoded.targetName)}\n`,
  );
  return EXIT_OK;
}

/** Prints every problem on stderr, the first one first; true when there were none. */
function checkValid(bytes: Uint8Array, options: CodecOptions, ctx: Context): boolean {
  const result = validatePeerTargetName(bytes, options);
  if (result.ok) return true;
  const errors = result.errors.length > 0 ? result.errors : [result.error];
  // validate promises `error` is the first problem; print it first even if `errors` disagrees.
  const ordered = [result.error, ...errors.filter((e) => e !== result.error)];
  for (const error of ordered) ctx.err.write(`${error.message}\n`);
  return false;
}

function formatPeer(peer: DecodedPeer): string {
  if (peer.family === 'ipv4') return `${peer.address}:${peer.port}`;
  const zone = peer.scopeId !== 0 ? `%${peer.scopeId}` : '';
  const flow = peer.flowInfo !== 0 ? ` (flowinfo ${peer.flowInfo})` : '';
  return `[${peer.address}${zone}]:${peer.port}${flow}`;
}

// ---- Shared pieces ----------------------------------------------------------------------------

/** The codec options as typed: a value the CLI does not accept is a usage error naming the flag. */
function codecOptions(command: CommandName, values: CodecValues): CodecOptions {
  return asUsage(command, () => {
    const options: CodecOptions = {};
    const lengthUnit = oneOf<LengthUnit>('length-unit', values['length-unit'], ['auto', 'units', 'bytes']);
    const socketType = oneOf<SocketType>('socket-type', values['socket-type'], ['dgram', 'stream']);
    const max = wholeNumber('max-name-length', values['max-name-length'], 1, HARD_MAX_TARGET_NAME_LENGTH);
    if (lengthUnit !== undefined) options.lengthUnit = lengthUnit;
    if (socketType !== undefined) options.socketType = socketType;
    if (max !== undefined) options.maxTargetNameLength = max;
    return options;
  });
}

function pickFormat<F extends string>(
  command: CommandName,
  given: string | undefined,
  allowed: readonly F[],
  fallback: F,
): F {
  if (given === undefined) return fallback;
  if ((allowed as readonly string[]).includes(given)) return given as F;
  throw new UsageError(
    `invalid value '${given}' for --format (expected ${allowed.join(', ')})`,
    command,
  );
}

async function readHexArgument(
  command: CommandName,
  positionals: string[],
  ctx: Context,
): Promise<Uint8Array> {
  if (positionals.length === 0) throw new UsageError('missing HEX argument', command);
  let text: string;
  if (positionals.length === 1 && positionals[0] === '-') {
    text = await readAll(ctx.stdin);
  } else if (positionals.includes('-')) {
    throw new UsageError("'-' (read stdin) must be the only HEX argument", command);
  } else {
    // `decode 02 00 00 00 ...` (an unquoted hex dump) is read as one buffer.
    text = positionals.join(' ');
  }
  return fromHex(text);
}

async function readAll(stream: AsyncIterable<string | Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of stream) {
    text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

// ---- The annotated table ----------------------------------------------------------------------

type InspectReport = ReturnType<typeof inspectPeerTargetName>;

function writeTable(
  ctx: Context,
  bytes: Uint8Array,
  options: CodecOptions,
  report: InspectReport = inspectPeerTargetName(bytes, options),
): void {
  const withProblems = report.fields.some((row) => row.problems.length > 0);
  const header = ['offset', 'size', 'field', 'value', ...(withProblems ? ['problems'] : []), 'bytes'];
  const rows = report.fields.map((row) => [
    String(row.offset),
    String(row.size),
    row.field,
    row.value,
    ...(withProblems ? [row.problems.length > 0 ? `!! ${row.problems.join(', ')}` : ''] : []),
    bytesCell(row.hex),
  ]);
  const rightAligned = new Set([0, 1]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((cells) => (cells[i] ?? '').length)),
  );
  const render = (cells: string[]) =>
    cells
      .map((cell, i) => {
        if (i === cells.length - 1) return cell; // last column: no trailing padding
        const width = widths[i] ?? cell.length;
        return rightAligned.has(i) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  ctx.out.write(`${render(header)}\n`);
  for (const cells of rows) ctx.out.write(`${render(cells)}\n`);
  ctx.out.write(`\n${lengthUnitLine(options, report.value)}\n`);
  ctx.out.write(`total length: ${bytes.length} bytes\n`);
  if (report.problems.length > 0) {
    ctx.out.write(`problems (${report.problems.length}):\n`);
    for (const problem of report.problems) ctx.out.write(`  ${problem.message}\n`);
  }
}

/** A long run of zero bytes (the rest of SOCKADDR_STORAGE) reads better counted than spelled out. */
function bytesCell(hex: string): string {
  const size = hex.length / 2;
  return size > 16 && /^0+$/.test(hex) ? `00 × ${size}` : hex;
}

/** The length-unit policy in force, as the API applied it (docs/reference.md §2). */
function lengthUnitLine(
  options: CodecOptions,
  value: { lengthUnit?: 'units' | 'bytes' | undefined; protocol?: string | number | undefined },
): string {
  const policy = options.lengthUnit ?? 'auto';
  const unit = value.lengthUnit;
  const describe = (u: 'units' | 'bytes') => (u === 'units' ? 'UTF-16 units' : 'bytes');
  if (policy === 'auto') {
    if (unit === undefined) return 'length unit: auto (protocol unknown, unit not determined)';
    const protocol =
      value.protocol === undefined
        ? 'this protocol'
        : typeof value.protocol === 'number'
          ? `protocol ${value.protocol}`
          : value.protocol;
    return `length unit: ${unit} (auto: ${describe(unit)} for ${protocol})`;
  }
  return `length unit: ${unit ?? policy} (forced by --length-unit ${policy})`;
}

// ---- Helpers ----------------------------------------------------------------------------------

function isPeerTargetNameError(e: unknown): e is PeerTargetNameError {
  if (e instanceof PeerTargetNameError) return true;
  // A second copy of the module (e.g. two installs) makes instanceof fail; accept the shape too.
  return (
    e instanceof Error &&
    e.name === 'PeerTargetNameError' &&
    typeof (e as { code?: unknown }).code === 'string' &&
    typeof (e as { errno?: unknown }).errno === 'number'
  );
}

let cachedVersion: string | undefined;

function readVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  // host/tools/cli.ts or dist/host/tools/cli.js: walk up to this package's package.json.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === TOOL && typeof pkg.version === 'string') {
        cachedVersion = pkg.version;
        return pkg.version;
      }
    } catch {
      // no package.json here; keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error('cannot find the package.json of peer-target-name');
}

// ---- Run as a script --------------------------------------------------------------------------

function isMainModule(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    const self = realpathSync(fileURLToPath(import.meta.url));
    return pathToFileURL(realpathSync(script)).href === pathToFileURL(self).href;
  } catch {
    return false;
  }
}

if (isMainModule()) {
  // `peer-target-name ... | head` closes the pipe early: that is not an error worth a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`internal error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = EXIT_INTERNAL;
    },
  );
}
