// The peer-target-name CLI: the built bin as a real subprocess for a representative set, and
// main() in-process for the rest. Run after `npm run build` (the subprocess tests need dist/).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { main } from '../host/tools/cli.js';
import {
  decodePeerTargetName,
  encodePeerTargetName,
  inspectPeerTargetName,
  toHex,
  validatePeerTargetName,
} from '../host/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist', 'host', 'tools', 'cli.js');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The built bin, as a user runs it. */
function bin(args: string[], input?: string): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    input: input ?? '',
    timeout: 30_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** main() in-process, with captured output and an optional stdin. */
async function run(args: string[], stdin = ''): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const status = await main(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from([Buffer.from(stdin)]),
  });
  return { status, stdout, stderr };
}

const firstLine = (text: string) => text.split('\n')[0];

/** Exit 1, nothing on stdout, stderr's first line starts with the expected prefix, no stack. */
function expectRuleError(r: Run, prefix: string) {
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  expect(firstLine(r.stderr).startsWith(prefix), `stderr was: ${r.stderr}`).toBe(true);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toContain('internal error');
}

/** Exit 2, nothing on stdout, a usage hint on stderr. */
function expectUsageError(r: Run, mention: RegExp) {
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(mention);
  expect(r.stderr).toMatch(/Usage: peer-target-name/);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

const NAME = 'host/server.example.com';
const V4 = ['--protocol', 'ipsec', '--peer', '192.0.2.10:4500', '--name', NAME];
const V6 = ['--protocol', 'ipsec2', '--peer', '[2001:db8::1]:500', '--name', NAME];

const u16le = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const u16be = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const u32le = (b: Uint8Array, o: number) =>
  (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
/** Independent of the API's fromHex. */
const bytesOf = (hex: string) => new Uint8Array(Buffer.from(hex.trim(), 'hex'));

/** A valid IPv4/ipsec buffer to break in the decode tests. */
function validBuffer(): Uint8Array {
  return encodePeerTargetName({ protocol: 'ipsec', peer: '192.0.2.10:4500', targetName: NAME });
}

describe('the built bin', () => {
  it('exists (run `npm run build` first)', () => {
    expect(existsSync(BIN)).toBe(true);
    expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('encode: an IPv4 peer as one line of lowercase hex', () => {
    const r = bin(['encode', ...V4]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const expected = toHex(
      encodePeerTargetName({ protocol: 'ipsec', peer: '192.0.2.10:4500', targetName: NAME }),
    );
    expect(r.stdout).toBe(`${expected}\n`);
    const hex = r.stdout.slice(0, -1);
    expect(hex).toMatch(/^[0-9a-f]+$/);
    const n = NAME.length;
    expect(hex.length).toBe(2 * (144 + 2 * n));

    const b = bytesOf(hex);
    expect(u32le(b, 0)).toBe(1); // SecurityProtocol = IPSEC
    expect([...b.subarray(4, 8)]).toEqual([0, 0, 0, 0]); // padding
    expect(u16le(b, 8)).toBe(2); // sin_family AF_INET, little-endian
    expect([b[10], b[11]]).toEqual([0x11, 0x94]); // port 4500, big-endian
    expect([...b.subarray(12, 16)]).toEqual([192, 0, 2, 10]);
    expect(b.subarray(16, 136).every((x) => x === 0)).toBe(true); // sin_zero + storage slack
    expect(u32le(b, 136)).toBe(n); // auto: UTF-16 units for ipsec
    expect(Buffer.from(b.subarray(140, 140 + 2 * n)).toString('utf16le')).toBe(NAME);
    expect([...b.subarray(140 + 2 * n)]).toEqual([0, 0, 0, 0]); // tail
  });

  it('encode: an IPv6 peer (family 23, big-endian port, bytes for ipsec2)', () => {
    const r = bin(['encode', ...V6]);
    expect(r.status).toBe(0);
    const expected = toHex(
      encodePeerTargetName({ protocol: 'ipsec2', peer: '[2001:db8::1]:500', targetName: NAME }),
    );
    expect(r.stdout).toBe(`${expected}\n`);
    const hex = r.stdout.trim();
    const n = NAME.length;
    expect(hex.length).toBe(2 * (144 + 2 * n));
    const b = bytesOf(hex);
    expect(u32le(b, 0)).toBe(2);
    expect([b[8], b[9]]).toEqual([23, 0]); // Windows AF_INET6
    expect(u16be(b, 10)).toBe(500);
    expect([b[10], b[11]]).toEqual([0x01, 0xf4]);
    expect(u32le(b, 12)).toBe(0); // flowinfo
    expect(Buffer.from(b.subarray(16, 32)).toString('hex')).toBe('20010db8000000000000000000000001');
    expect(u32le(b, 32)).toBe(0); // scope_id
    expect(u32le(b, 136)).toBe(2 * n); // auto: bytes for ipsec2
  });

  it('encode --format table: every field, the length-unit policy and the total', () => {
    const r = bin(['encode', ...V4, '--format', 'table']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^\s*offset\s+size\s+field\s+value\s+bytes$/);
    for (const field of [
      'SecurityProtocol',
      'padding',
      'PeerAddress.sin_family',
      'PeerAddress.sin_port',
      'PeerAddress.sin_addr',
      'PeerTargetNameStringLen',
      'AllStrings',
      'tail',
    ]) {
      expect(r.stdout).toContain(field);
    }
    expect(r.stdout).toContain('length unit: units (auto: UTF-16 units for ipsec)');
    expect(r.stdout).toContain(`total length: ${144 + 2 * NAME.length} bytes`);
    // Columns are aligned: the field column starts where its header does, on every row.
    const fieldColumn = lines[0]!.indexOf('field');
    const rows = lines.slice(1, lines.indexOf(''));
    expect(rows.length).toBe(inspectPeerTargetName(validBuffer()).fields.length);
    for (const row of rows) {
      expect(row[fieldColumn - 1]).toBe(' ');
      expect(row[fieldColumn]).not.toBe(' ');
    }
    // The rows are the API's fields, in order.
    const fields = inspectPeerTargetName(validBuffer()).fields;
    rows.forEach((row, i) => {
      expect(row.slice(fieldColumn).startsWith(fields[i]!.field)).toBe(true);
      const bytesCell = fields[i]!.size > 16 && /^0+$/.test(fields[i]!.hex) ? `00 × ${fields[i]!.size}` : fields[i]!.hex;
      expect(row.endsWith(`  ${bytesCell}`), row).toBe(true);
    });
    // The 112 zero bytes after sockaddr_in are counted, not spelled out.
    expect(r.stdout).toMatch(/^\s+24\s+112\s+PeerAddress.*  00 × 112$/m);
  });

  it('decode - reads hex from stdin', () => {
    const hex = toHex(validBuffer());
    const r = bin(['decode', '-'], `${hex}\n`);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(decodePeerTargetName(validBuffer()));
  });

  it('validate: a broken buffer exits 1 with the first problem first', () => {
    const b = validBuffer();
    b[8] = 5; // family 5
    const r = bin(['validate', toHex(b)]);
    expectRuleError(r, 'WSAEAFNOSUPPORT: peer.family: ');
  });

  it('exit 1 for a rule (port 0), message first, no stack trace', () => {
    const r = bin(['encode', '--protocol', 'ipsec', '--peer', '192.0.2.10:0', '--name', NAME]);
    expectRuleError(r, 'WSAEINVAL: peer.port: ');
  });

  it('exit 2 for an unknown option, with a usage hint', () => {
    expectUsageError(bin(['encode', ...V4, '--bogus']), /--bogus/);
  });

  it('--help and --version', () => {
    const help = bin(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/encode/);
    expect(help.stdout).toMatch(/decode/);
    expect(help.stdout).toMatch(/validate/);
    const encodeHelp = bin(['encode', '--help']);
    expect(encodeHelp.status).toBe(0);
    expect(encodeHelp.stdout).toMatch(/--protocol/);
    const version = bin(['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout).toBe(`${PKG.version}\n`);
  });

  it('runs through a symlink, as an npm bin link does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ptn-cli-'));
    try {
      const link = join(dir, 'peer-target-name');
      symlinkSync(BIN, link);
      const r = spawnSync(process.execPath, [link, '--version'], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${PKG.version}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('encode', () => {
  it('json: { hex, ...decoded } with two-space indent', async () => {
    const r = await run(['encode', ...V4, '--format', 'json']);
    expect(r.status).toBe(0);
    expect(r.stdout.startsWith('{\n  "hex": "')).toBe(true);
    const bytes = validBuffer();
    const json = JSON.parse(r.stdout);
    expect(json).toEqual({ hex: toHex(bytes), ...decodePeerTargetName(bytes) });
    expect(json.protocol).toBe('ipsec');
    expect(json.peer).toMatchObject({ family: 'ipv4', address: '192.0.2.10', port: 4500 });
    expect(json.targetName).toBe(NAME);
    expect(json.stringLength).toBe(NAME.length);
    expect(json.lengthUnit).toBe('units');
    expect(json.totalLength).toBe(144 + 2 * NAME.length);
  });

  it('passes --length-unit, --socket-type and a numeric --protocol to the API', async () => {
    const r = await run([
      'encode',
      '--protocol',
      '0',
      '--socket-type',
      'stream',
      '--name',
      'x/y',
      '--length-unit',
      'bytes',
      '--format',
      'json',
    ]);
    expect(r.status).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.protocol).toBe('default');
    expect(json.peer).toBeNull();
    expect(json.stringLength).toBe(6);
    expect(json.lengthUnit).toBe('bytes');
    expect(json.hex).toBe(
      toHex(
        encodePeerTargetName(
          { protocol: 0, targetName: 'x/y' },
          { socketType: 'stream', lengthUnit: 'bytes' },
        ),
      ),
    );
  });

  it('table: names the forced unit policy', async () => {
    const r = await run(['encode', ...V6, '--format', 'table', '--length-unit', 'units']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('length unit: units (forced by --length-unit units)');
    expect(r.stdout).toMatch(/PeerAddress\.sin6_/);
    const auto = await run(['encode', ...V6, '--format', 'table']);
    expect(auto.stdout).toContain('length unit: bytes (auto: bytes for ipsec2)');
    expect(auto.stdout).toContain(`total length: ${144 + 2 * NAME.length} bytes`);
  });

  it('encodes a scope id from [fe80::1%7]', async () => {
    const r = await run(['encode', '--protocol', 'ipsec', '--peer', '[fe80::1%7]:5000', '--name', NAME]);
    expect(r.status).toBe(0);
    const b = bytesOf(r.stdout);
    expect(u16le(b, 8)).toBe(23);
    expect(u16be(b, 10)).toBe(5000);
    expect(u32le(b, 32)).toBe(7);
  });
});

describe('decode', () => {
  it('round-trips encode hex, in any of the accepted spellings', async () => {
    const enc = await run(['encode', ...V6]);
    const hex = enc.stdout.trim();
    const expected = decodePeerTargetName(bytesOf(hex));
    expect(expected.peer?.address).toBe('2001:db8::1');
    const spellings = [
      hex,
      `0x${hex.toUpperCase()}`,
      hex.match(/../g)!.join(':'),
      hex.match(/../g)!.join('-'),
      `  ${hex.match(/.{1,32}/g)!.join('\n')}\n`,
    ];
    for (const spelling of spellings) {
      const r = await run(['decode', spelling]);
      expect(r.status, spelling).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(expected);
    }
    // An unquoted hex dump (several arguments) is one buffer.
    const split = await run(['decode', ...hex.match(/.{1,16}/g)!]);
    expect(JSON.parse(split.stdout)).toEqual(expected);
  });

  it('table format for a valid buffer', async () => {
    const r = await run(['decode', toHex(validBuffer()), '--format', 'table']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('PeerTargetNameStringLen');
    expect(r.stdout).toContain('length unit: units (auto: UTF-16 units for ipsec)');
    expect(r.stdout).not.toContain('problems');
  });

  it('an invalid buffer fails like validate: every problem on stderr', async () => {
    const b = validBuffer();
    b[0] = 3; // protocol 3
    b[4] = 1; // nonzero padding
    const result = validatePeerTargetName(b);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const r = await run(['decode', toHex(b)]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(result.error.message);
    expect(lines[0]).toMatch(/^WSAEINVAL: protocol: /);
    expect(lines).toEqual(result.errors.map((e) => e.message));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const v = await run(['validate', toHex(b)]);
    expect(v).toEqual(r);
  });

  it('--lenient lists the problems as json and exits 1', async () => {
    const b = validBuffer();
    b[0] = 3;
    b[10] = 0; // port 0
    b[11] = 0;
    // With protocol 3 the auto unit policy has nothing to go on: force one so the name decodes.
    const r = await run(['decode', '--lenient', '--length-unit', 'units', toHex(b)]);
    expect(r.status).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(Object.keys(json).sort()).toEqual(['problems', 'value']);
    expect(json.value.targetName).toBe(NAME);
    const fields = json.problems.map((p: { field: string }) => p.field);
    expect(fields).toContain('protocol');
    expect(fields).toContain('peer.port');
    for (const p of json.problems) {
      expect(Object.keys(p).sort()).toEqual(['code', 'errno', 'field', 'length', 'message', 'offset']);
      expect(p.message.startsWith(`${p.code}: ${p.field}: `)).toBe(true);
    }
    expect(json.problems[0]).toMatchObject({ code: 'WSAEINVAL', errno: 10022 });
    expect(firstLine(r.stderr)).toBe(json.problems[0].message);
  });

  it('--lenient table marks the rows with problems', async () => {
    const b = validBuffer();
    b[8] = 5; // family 5
    const r = await run(['decode', '--lenient', '--format', 'table', toHex(b)]);
    expect(r.status).toBe(1);
    const marked = r.stdout.split('\n').filter((line) => line.includes('!!'));
    expect(marked.length).toBeGreaterThanOrEqual(1);
    expect(marked.some((line) => line.includes('WSAEAFNOSUPPORT'))).toBe(true);
    expect(r.stdout).toMatch(/problems \(\d+\):\n {2}WSAEAFNOSUPPORT: peer\.family: /);
  });

  it('--lenient on a valid buffer exits 0 with no problems', async () => {
    const r = await run(['decode', '--lenient', toHex(validBuffer())]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).problems).toEqual([]);
    expect(r.stderr).toBe('');
  });
});

describe('validate', () => {
  it('summarises a valid buffer', async () => {
    const r = await run(['validate', toHex(validBuffer())]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      `valid: ${144 + 2 * NAME.length} bytes, ipsec, 192.0.2.10:4500, target name "${NAME}"\n`,
    );
  });

  it('says "no peer" for a stream buffer, which needs --socket-type stream', async () => {
    const b = encodePeerTargetName({ protocol: 'default', targetName: 'x' }, { socketType: 'stream' });
    const r = await run(['validate', toHex(b), '--socket-type', 'stream']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('valid: 146 bytes, default, no peer, target name "x"\n');
    const dgram = await run(['validate', toHex(b)]);
    expectRuleError(dgram, 'WSAEINVAL: peer: ');
  });

  it('shows an IPv6 peer in brackets with its zone', async () => {
    const b = encodePeerTargetName({ protocol: 'ipsec', peer: '[fe80::1%7]:5000', targetName: 'x' });
    const r = await run(['validate', toHex(b)]);
    expect(r.stdout).toBe('valid: 146 bytes, ipsec, [fe80::1%7]:5000, target name "x"\n');
  });
});

describe('exit 1: a value breaks a rule', () => {
  it('protocol 3 in a decoded buffer', async () => {
    const bytes = validBuffer();
    bytes[0] = 3;
    expectRuleError(await run(['decode', toHex(bytes)]), 'WSAEINVAL: protocol: ');
  });

  it('empty target name', async () => {
    expectRuleError(
      await run(['encode', '--protocol', 'ipsec', '--peer', '192.0.2.10:4500', '--name', '']),
      'WSAEINVAL: targetName: ',
    );
  });

  it('no peer on a dgram socket', async () => {
    expectRuleError(await run(['encode', '--protocol', 'ipsec', '--name', NAME]), 'WSAEINVAL: peer: ');
  });

  it('port 0', async () => {
    expectRuleError(
      await run(['encode', '--protocol', 'ipsec', '--peer', '192.0.2.10:0', '--name', NAME]),
      'WSAEINVAL: peer.port: ',
    );
  });

  it('unspecified address 0.0.0.0', async () => {
    expectRuleError(
      await run(['encode', '--protocol', 'ipsec', '--peer', '0.0.0.0:4500', '--name', NAME]),
      'WSAEINVAL: peer.address: ',
    );
  });

  it('a name longer than --max-name-length', async () => {
    expectRuleError(
      await run(['encode', ...V4, '--max-name-length', '4']),
      'WSAEINVAL: targetName: ',
    );
  });

  it('a short buffer', async () => {
    expectRuleError(await run(['decode', '00'.repeat(100)]), 'WSAEMSGSIZE: ');
    expectRuleError(await run(['validate', '00'.repeat(143)]), 'WSAEMSGSIZE: ');
  });

  it('a bad family in a decoded buffer', async () => {
    const b = validBuffer();
    b[8] = 10; // Linux's AF_INET6 is not Windows'
    expectRuleError(await run(['decode', toHex(b)]), 'WSAEAFNOSUPPORT: peer.family: ');
  });

  it('a string length beyond the buffer', async () => {
    const b = validBuffer();
    new DataView(b.buffer, b.byteOffset).setUint32(136, 1000, true);
    expectRuleError(await run(['decode', toHex(b)]), 'WSAEMSGSIZE: stringLength: ');
    expectRuleError(await run(['validate', toHex(b)]), 'WSAEMSGSIZE: stringLength: ');
  });

  it('text that is not hex', async () => {
    expectRuleError(await run(['decode', 'zz']), 'WSAEINVAL: hex: ');
  });
});

describe('exit 2: the command line cannot be parsed', () => {
  it('no command, unknown command', async () => {
    expectUsageError(await run([]), /missing command/);
    expectUsageError(await run(['frobnicate']), /unknown command 'frobnicate'/);
  });

  it('an option value the CLI does not take is a usage error naming the flag and quoting what was typed', async () => {
    const P = ['--peer', '192.0.2.10:4500', '--name', NAME];
    for (const [args, message] of [
      [['encode', ...V4, '--length-unit', 'chars'], "invalid value 'chars' for --length-unit (expected auto, units, bytes)"],
      [['encode', ...V4, '--socket-type', 'raw'], "invalid value 'raw' for --socket-type (expected dgram, stream)"],
      [['encode', ...V4, '--max-name-length', 'abc'], "invalid value 'abc' for --max-name-length (expected a whole number from 1 to 32767)"],
      [['encode', ...V4, '--max-name-length', ' 12 '], "invalid value ' 12 ' for --max-name-length"],
      [['encode', ...V4, '--format', 'xml'], "invalid value 'xml' for --format (expected hex, json, table)"],
      [['encode', '--protocol', 'kerberos', ...P], "invalid value 'kerberos' for --protocol (expected default, ipsec, ipsec2, 0, 1, 2)"],
      [['encode', '--protocol', '3', ...P], "invalid value '3' for --protocol"],
      [['decode', '00', '--length-unit', 'chars'], "invalid value 'chars' for --length-unit"],
      [['validate', '00', '--socket-type', 'raw'], "invalid value 'raw' for --socket-type"],
      [['encode', ...V4, '--protocol', 'default'], '--protocol was given more than once'],
    ] as const) {
      const r = await run([...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toContain('NaN');
    }
  });

  it('serve, bench and doctor follow the same rules (exit 2, the flag named, what was typed quoted)', async () => {
    for (const [args, message] of [
      [['serve', '--protocol', 'kerberos'], "invalid value 'kerberos' for --protocol"],
      [['serve', '--family', 'ipx'], "invalid value 'ipx' for --family (expected both, ipv4, ipv6)"],
      [['serve', '--peers', 'abc'], "invalid value 'abc' for --peers"],
      [['serve', '--peers', '3', '--peers', '4'], '--peers was given more than once'],
      [['serve', '--rounds', '3'], '--rounds only applies with --bench'],
      [['serve', '--round-ms', '300'], '--round-ms only applies with --bench'],
      [['serve', '--duration', '3x'], "invalid value '3x' for --duration"],
      [['bench', '--progress', '--no-progress'], '--progress and --no-progress contradict each other'],
      [['bench', '--json'], '--json needs a value'],
      [['bench', '--quick', '--smoke'], '--quick and --smoke are two sizes: give one'],
      [['doctor', '--library', 'a', '--library', 'b'], '--library was given more than once'],
    ] as const) {
      const r = await run([...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain(`Try 'peer-target-name ${args[0]} --help'.`);
    }
  });

  it('--protocol takes a number as encode and serve both document: 0, 1, 2', async () => {
    const r = await run(['encode', '--protocol', '2', '--peer', '192.0.2.10:4500', '--name', NAME]);
    expect(r.status).toBe(0);
    expect(r.stdout.slice(0, 8)).toBe('02000000');
  });

  it('the usage line after an unknown command lists every command; parseArgs messages come whole and honest', async () => {
    const r = await run(['frobnicate']);
    expect(r.stderr).toContain('encode|decode|validate|serve|bench|doctor|help');
    const unknown = await run(['encode', ...V4, '--jsn']);
    expect(unknown.stderr).toContain("unknown option '--jsn'\n");
    expect(unknown.stderr).not.toMatch(/place it at the end/); // encode takes no positionals: no advice about them
    const decode = await run(['decode', '--jsn']);
    expect(decode.stderr).toContain("unknown option '--jsn' (an argument that starts with '-' goes after '--': -- --jsn)");
    const missing = await run(['encode', ...V4, '--format']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--format needs a value');
  });

  it('unknown option', async () => {
    expectUsageError(await run(['decode', '00', '--bogus']), /--bogus/);
    expectUsageError(await run(['--bogus']), /--bogus/);
  });

  it('--peer without its value', async () => {
    expectUsageError(await run(['encode', '--protocol', 'ipsec', '--name', NAME, '--peer']), /--peer/);
    expectUsageError(await run(['encode', '--protocol', 'ipsec', '--peer', '--name', NAME]), /--peer/);
  });

  it('missing required option', async () => {
    expectUsageError(await run(['encode', '--peer', '192.0.2.10:4500', '--name', NAME]), /--protocol/);
    expectUsageError(await run(['encode', '--protocol', 'ipsec', '--peer', '192.0.2.10:4500']), /--name/);
  });

  it('decode or validate without HEX', async () => {
    expectUsageError(await run(['decode']), /missing HEX/);
    expectUsageError(await run(['validate', '--socket-type', 'stream']), /missing HEX/);
  });

  it('a positional argument to encode, an unknown --format', async () => {
    expectUsageError(await run(['encode', ...V4, 'extra']), /extra/);
    expectUsageError(await run(['encode', ...V4, '--format', 'xml']), /--format/);
    expectUsageError(await run(['decode', '00', '--format', 'hex']), /--format/);
  });
});

describe('help', () => {
  it('each command has --help that names its options', async () => {
    const expectations: Record<string, string[]> = {
      encode: ['--protocol', '--peer', '--name', '--length-unit', '--socket-type', '--max-name-length', '--format'],
      decode: ['HEX', '--format', '--lenient', '--length-unit', '--socket-type', '--max-name-length'],
      validate: ['HEX', '--socket-type', '--length-unit', '--max-name-length'],
      serve: ['--peers', '--security', '--bench'],
      bench: ['--quick', '--smoke', '--json', '--svg', '--strict'],
      doctor: ['--json', '--library'],
    };
    for (const [command, options] of Object.entries(expectations)) {
      for (const flag of ['--help', '-h']) {
        const r = await run([command, flag]);
        expect(r.status).toBe(0);
        expect(r.stderr).toBe('');
        expect(r.stdout.startsWith(`Usage: peer-target-name ${command}`)).toBe(true);
        for (const option of options) expect(r.stdout, `${command} ${option}`).toContain(option);
      }
    }
    const decodeHelp = await run(['decode', '--help']);
    expect(decodeHelp.stdout).not.toContain('--protocol');
    const tool = await run(['-h']);
    expect(tool.status).toBe(0);
    expect(tool.stdout).toContain('--version');
    const helpEncode = await run(['help', 'encode']);
    expect(helpEncode.stdout).toBe((await run(['encode', '--help'])).stdout);
  });
});

describe('internal errors', () => {
  it('print "internal error: ..." and exit 70', async () => {
    let stderr = '';
    const status = await main(['encode', ...V4], {
      stdout: {
        write: () => {
          throw new Error('disk on fire');
        },
      },
      stderr: { write: (s: string) => (stderr += s) },
    });
    expect(status).toBe(70);
    expect(stderr).toBe('internal error: disk on fire\n');
  });
});
