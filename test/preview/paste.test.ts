// The preview's new pure parts, in Node (issue 15): the paste formats, the link's exact escaping,
// the address box's split, every form error at once, Inspect mode's notes, and the aligned C
// initialiser with its sample call, compiled for Linux and, against the real headers, for Windows.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { encodePeerTargetName, inspectPeerTargetName, PeerTargetNameError, toHex } from '../../host/index.js';
import { cInitialiser } from '../../host/tools/preview/cinit.js';
import { encodeAll, formFromDecoded, inputFromState, optionsFromState, splitAddress, withSplitAddress } from '../../host/tools/preview/form.js';
import { lengthNote, presentFields, unitMismatch } from '../../host/tools/preview/notes.js';
import { detectFormat, readPaste, type PasteFormat } from '../../host/tools/preview/paste.js';
import { DEFAULT_STATE, escapeComponent, readHash, serializeState, unescapeComponent, type PageState } from '../../host/tools/preview/state.js';
import { goldenCases } from '../golden/cases.js';
import { base64, hexdumpC, windbgDb, windbgDq, wireshark, xxd } from './dumps.js';

const GOOD = encodePeerTargetName({ protocol: 'ipsec', peer: '192.0.2.10:4500', targetName: 'host/server.example.com' });
const state = (change: Partial<PageState>): PageState => ({ ...DEFAULT_STATE, ...change });
const isCodecError = (e: unknown): e is PeerTargetNameError => e instanceof PeerTargetNameError;

function read(text: string): { format: PasteFormat; hex: string } {
  const r = readPaste(text);
  if (!r.ok) throw r.error;
  return { format: r.format, hex: toHex(r.bytes) };
}

/** The real program's output for `bytes`, or a clear error saying what to install. */
function tool(command: string, args: string[], bytes: Uint8Array, apt: string): string {
  const r = spawnSync(command, args, { input: bytes, encoding: 'utf8' });
  if (r.error) throw new Error(`${command} is needed to check the paste fixtures: apt-get install -y ${apt}`);
  return r.stdout;
}

describe('paste formats', () => {
  it('the test writers print exactly what xxd, xxd -a, hexdump -C and base64 print', () => {
    for (const bytes of [GOOD, GOOD.subarray(0, 1), GOOD.subarray(0, 17), new Uint8Array(64), encodePeerTargetName({ protocol: 'ipsec', peer: '[2001:db8::1]:500', targetName: 'host/\u{1F600}.example' })]) {
      expect(xxd(bytes)).toBe(tool('xxd', [], bytes, 'xxd'));
      expect(xxd(bytes, true)).toBe(tool('xxd', ['-a'], bytes, 'xxd'));
      expect(hexdumpC(bytes)).toBe(tool('hexdump', ['-C'], bytes, 'bsdextrautils'));
      expect(base64(bytes)).toBe(tool('base64', [], bytes, 'coreutils'));
    }
  });

  it('reads every golden buffer in every format, and says which', () => {
    for (const c of goldenCases) {
      const bytes = encodePeerTargetName(c.input, c.options);
      const hex = toHex(bytes);
      const padded = toHex(new Uint8Array([...bytes, ...new Uint8Array((8 - (bytes.length % 8)) % 8)]));
      const cases: [string, PasteFormat, string][] = [
        [hex, 'hex', hex],
        [xxd(bytes), 'xxd', hex],
        [xxd(bytes, true), 'xxd', hex],
        [tool('xxd', ['-g1', '-c8'], bytes, 'xxd'), 'xxd', hex],
        [tool('xxd', ['-p'], bytes, 'xxd'), 'hex', hex],
        [hexdumpC(bytes), 'hexdump -C', hex],
        [windbgDb(bytes), 'WinDbg db', hex],
        [windbgDq(bytes), 'WinDbg dq', padded],
        [wireshark(bytes), 'Wireshark hex dump', hex],
        [wireshark(bytes, true), 'Wireshark hex dump', hex],
        [base64(bytes), 'base64', hex],
        [Buffer.from(bytes).toString('base64url'), 'base64', hex],
        [`data:application/octet-stream;base64,${Buffer.from(bytes).toString('base64')}`, 'base64', hex],
        [cInitialiser(bytes, inspectPeerTargetName(bytes, c.options).fields, 'summary'), 'C initialiser', hex],
      ];
      for (const [text, format, expected] of cases) expect(read(text), `${c.name} as ${format}`).toEqual({ format, hex: expected });
    }
  });

  it('reads WinDbg dw and dd (little-endian values), a 32-bit address, and dc with its text column', () => {
    const dd = '0:000> dd 0014f8a0 L4\n0014f8a0  00000001 00000000 94110002 0a0200c0\n';
    expect(read(dd)).toEqual({ format: 'WinDbg dd', hex: '010000000000000002001194c000020a' });
    // Without the prompt: two lines 16 bytes apart say it is a dump (one line alone could be plain hex).
    const dc = '0014f8a0  00000001 00000000 94110002 0a0200c0  ................\n0014f8b0  00000000 00000000 00000000 00000000  ................\n';
    expect(read(dc)).toEqual({ format: 'WinDbg dd', hex: '010000000000000002001194c000020a' + '00'.repeat(16) });
    const dw = '00000000`0014f8a0  0001 0000 0000 0000 0002 9411 00c0 0a02\n';
    expect(read(dw)).toEqual({ format: 'WinDbg dw', hex: '010000000000000002001194c000020a' });
  });

  it('reads C initialisers as C does: decimal, octal, characters, and a sized array\'s zero fill', () => {
    expect(read("{ 1, 010, 0x10, 'a', '\\x7f', '\\0', 255u, }")).toEqual({ format: 'C initialiser', hex: '010810617f00ff' });
    expect(read('unsigned char x[6] = { 0x01, 2 };')).toEqual({ format: 'C initialiser', hex: '010200000000' });
    expect(read('/* {not this} */ // nor { this }\nconst BYTE b[] = {0xAB};')).toEqual({ format: 'C initialiser', hex: 'ab' });
    const r = readPaste('unsigned char x[6] = { 0x01, 2 };');
    expect(r.ok && r.detail).toBe('[6]: 2 elements, the other 4 zero as C fills them');
  });

  it('tells hex, base64 and dumps apart', () => {
    expect(detectFormat('0x01, 0x02, 0xab')).toBe('hex');
    expect(detectFormat('01:00:00:00')).toBe('hex');
    expect(detectFormat('01000000 00000000 0200 1194')).toBe('hex');
    expect(detectFormat('01 02 zz')).toBe('hex'); // an error, reported as hex, not read as base64
    expect(detectFormat('AQAAAAAAAAACABGU')).toBe('base64');
    expect(detectFormat('0000   01 02')).toBe('Wireshark hex dump');
    expect(detectFormat('00000000: 0102')).toBe('xxd');
  });

  it('names each error\'s line and column in the text as pasted', () => {
    const cases: [string, string, number, number][] = [
      ['01 02 zz', '"z" is not a hex digit', 1, 7],
      ['01 2 03', '"2" is 1 hex digit', 1, 4],
      ['0a0b0', '5 hex digits is an odd count', 1, 5],
      [xxd(GOOD).replace('00000030:', '00000040:'), 'offset 00000040 does not follow on', 4, 1],
      [hexdumpC(GOOD).replace('|....', '|....').replace(/^(00000080 {2}00) 00/m, '$1 0g'), '"g" is not a hex digit', 4, 15],
      [windbgDb(GOOD).replace('00000000`0014f8b0  00', '00000000`0014f8b0  0?'), '"?" is not a hex digit', 3, 21],
      [wireshark(GOOD).replace(/^0010 {3}00/m, '0010   0x'), '"x" is not a hex digit', 2, 9],
      ['AQAAAAAAAAAC\nABG!', '"!" is not a base64 character', 2, 4],
      ['{ 0x01,\n  0x100 }', '0x100 is 256, which does not fit in an unsigned char', 2, 3],
      ['{ 0x01,\n  nope }', '"nope" is not a byte value', 2, 3],
      ['unsigned char x[1] = { 1, 2 };', 'declared [1] but has 2 elements', 1, 17],
      ['{ 1, 2', 'never closed', 1, 1],
    ];
    for (const [text, message, line, column] of cases) {
      const r = readPaste(text);
      expect(r.ok, message).toBe(false);
      if (r.ok) continue;
      expect(r.error.message, message).toContain(message);
      expect(r.error.message, message).toContain(`(line ${line}, column ${column}, read as`);
      expect([r.at?.line, r.at?.column], message).toEqual([line, column]);
      expect(r.error.code).toBe('WSAEINVAL');
    }
  });
});

describe('the link', () => {
  it('escapes every UTF-16 string exactly, lone surrogates included, and reads it back', () => {
    const units = fc.array(fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xd800, max: 0xdfff })), { maxLength: 40 });
    fc.assert(fc.property(units, (codes) => {
      const text = String.fromCharCode(...codes);
      const escaped = escapeComponent(text);
      expect(escaped).toMatch(/^[A-Za-z0-9\-_.!~*'()%]*$/);
      expect(unescapeComponent(escaped)).toEqual({ text, broken: [] });
    }), { numRuns: 500 });
    expect(escapeComponent('a\uD800b\uDC00')).toBe('a%ED%A0%80b%ED%B0%80');
    expect(escapeComponent('\u{1F600}')).toBe('%F0%9F%98%80');
  });

  it('reports broken escapes, keeping them as written, and says what it ignored', () => {
    const hash = '#mode=inspect&name=a%E4%B8b&port=4%2&zone=%FF&hex=01%2002&protocol=4&x=1';
    const at = (s: string) => hash.indexOf(s) + 1; // 1-based, the '#' first
    const { state: s, problems } = readHash(hash);
    expect(s.name).toBe('a%E4%B8b');
    expect(s.port).toBe('4%2');
    expect(s.zone).toBe('%FF');
    expect(s.hex).toBe('01 02');
    expect(s.protocol).toBe('ipsec');
    expect(problems).toEqual([
      `name: "%E4%B8" is an incomplete UTF-8 sequence, at character ${at('%E4')} of the link's #…; kept as written, not decoded`,
      `port: "%2" is not an escape: % must be followed by two hex digits, at character ${at('%2&')} of the link's #…; kept as written, not decoded`,
      `zone: "%FF" is not UTF-8 (%FF cannot start a character), at character ${at('%FF')} of the link's #…; kept as written, not decoded`,
      'x: not something this page keeps in a link; ignored',
      'protocol="4" is not one of default, ipsec, ipsec2; using ipsec',
    ]);
    // Older links wrote spaces as '+' (URLSearchParams): still read so.
    expect(readHash('#mode=build&name=a+b%2Bc').state.name).toBe('a b+c');
    expect(readHash(serializeState(DEFAULT_STATE)).problems).toEqual([]);
  });

  it('keeps both modes\' fields, whichever mode is shown', () => {
    const both = state({ mode: 'inspect', protocol: 'ipsec2', address: 'fe80::1', zone: '7', port: '', name: 'x\uDBFF', hex: xxd(GOOD), unit: 'bytes' });
    expect(readHash(serializeState(both))).toEqual({ state: both, problems: [] });
    expect(readHash(serializeState({ ...both, mode: 'build' })).state).toEqual({ ...both, mode: 'build' });
  });
});

describe('the address box', () => {
  it('splits peer text as the API reads it', () => {
    const cases: [string, ReturnType<typeof splitAddress>][] = [
      ['192.0.2.10:4500', { address: '192.0.2.10', port: '4500' }],
      ['[fe80::1%7]:5000', { address: 'fe80::1', zone: '7', port: '5000' }],
      ['[2001:db8::1]:500', { address: '2001:db8::1', port: '500' }],
      ['[fe80::1%7]', { address: 'fe80::1', zone: '7' }],
      ['fe80::1%7', { address: 'fe80::1', zone: '7' }],
      [' 192.0.2.10:1 ', { address: '192.0.2.10', port: '1' }],
      ['192.0.2.10', undefined],
      ['2001:db8::1', undefined],
      ['server.example.com:80', undefined],
    ];
    for (const [text, split] of cases) expect(splitAddress(text), text).toEqual(split);
    // The split fields encode to the very bytes the API makes of the peer text.
    for (const peer of ['192.0.2.10:4500', '[fe80::1%7]:5000', '[2001:db8::1]:500', '[::ffff:192.0.2.1]:65535']) {
      const s = state({ address: peer, port: '', zone: '' });
      const api = toHex(encodePeerTargetName({ protocol: 'ipsec', peer, targetName: DEFAULT_STATE.name }));
      expect(toHex(encodePeerTargetName(inputFromState(s), optionsFromState(s))), peer).toBe(api);
      const split = withSplitAddress(s);
      expect(split.address).not.toContain(']');
      expect(toHex(encodePeerTargetName(inputFromState(split), optionsFromState(split))), peer).toBe(api);
    }
  });
});

describe('every form error at once', () => {
  it('finds each refused field, in the form\'s order, and no error that is only a consequence', () => {
    const r = encodeAll(state({ address: 'server.example.com', port: '70000', flow: 'x', name: '' }), encodePeerTargetName, isCodecError);
    expect(r.bytes).toBeNull();
    expect(r.errors.map((e) => [e.slot, e.error.field])).toEqual([
      ['address', 'peer.address'], ['port', 'peer.port'], ['flow', 'peer.flowInfo'], ['name', 'targetName'],
    ]);
    // "Needs a peer" is one problem, not also "port 0".
    const none = encodeAll(state({ address: '', port: '' }), encodePeerTargetName, isCodecError);
    expect(none.errors.map((e) => e.error.field)).toEqual(['peer']);
    // A zone on an invalid IPv6 address is judged against an IPv6 stand-in, not refused as "IPv4 has no zone".
    const zoned = encodeAll(state({ address: 'fe80::zz', zone: '7' }), encodePeerTargetName, isCodecError);
    expect(zoned.errors.map((e) => e.slot)).toEqual(['address']);
    // One error: exactly the codec's.
    const one = encodeAll(state({ port: '0' }), encodePeerTargetName, isCodecError);
    expect(one.errors).toHaveLength(1);
    expect(() => encodePeerTargetName(inputFromState(state({ port: '0' })))).toThrow(one.errors[0].error.message);
    // Valid: the bytes.
    expect(toHex(encodeAll(DEFAULT_STATE, encodePeerTargetName, isCodecError).bytes!)).toBe(toHex(GOOD));
  });

  it('turns an inspected buffer back into the form', () => {
    for (const c of goldenCases) {
      const bytes = encodePeerTargetName(c.input, c.options);
      const options = { lengthUnit: c.options?.lengthUnit ?? 'auto', socketType: c.options?.socketType ?? 'dgram' } as const;
      const form = formFromDecoded(inspectPeerTargetName(bytes, options).value, state({ mode: 'inspect', unit: options.lengthUnit, socket: options.socketType }));
      expect(form, c.name).toBeDefined();
      expect(form!.mode).toBe('build');
      expect(toHex(encodePeerTargetName(inputFromState(form!), optionsFromState(form!))), c.name).toBe(toHex(bytes));
    }
    expect(formFromDecoded(inspectPeerTargetName(GOOD.subarray(0, 100)).value, DEFAULT_STATE)).toBeUndefined();
  });
});

describe('Inspect mode\'s notes', () => {
  const concat = (a: Uint8Array, n: number, fill = 0) => Uint8Array.from([...a, ...new Uint8Array(n).fill(fill)]);

  it('names the difference from 144 + 2n, whatever the validator says', () => {
    const note = (b: Uint8Array) => lengthNote(b, inspectPeerTargetName(b));
    expect(note(GOOD)).toBeUndefined();
    expect(note(concat(GOOD, 2, 7))).toBe('192 bytes is 2 bytes more than the struct needs (144 + 2 × 23 = 190): bytes 190–191 are not all ' +
      'zero and lie beyond it. An encoder writes 190 and passes PeerTargetNameLen = 190.');
    expect(note(GOOD.subarray(0, 188))).toBe('188 bytes is 2 bytes short of 144 + 2 × 23 = 190: it is cut before the tail padding (bytes 188–189). ' +
      'The validator accepts it, but an encoder writes 190 bytes.');
    expect(note(GOOD.subarray(0, 150))).toMatch(/^150 bytes is 40 bytes short of 144 \+ 2 × 23 = 190: it is cut before bytes 150–185 of the name, the NUL terminator \(bytes 186–187\) and the tail padding \(bytes 188–189\)\. An encoder/);
    expect(note(GOOD.subarray(0, 100))).toMatch(/^100 bytes: cut short before PeerTargetNameStringLen \(offset 136\)/);
  });

  it('shows the fields a cut buffer still holds', () => {
    for (const len of [10, 12, 16, 23, 24, 36, 100, 135]) {
      const cut = GOOD.subarray(0, len);
      const report = presentFields(cut, inspectPeerTargetName(cut), inspectPeerTargetName, {});
      const whole = inspectPeerTargetName(GOOD).fields.filter((f) => f.offset + f.size <= len);
      for (const f of whole) expect(report.fields.find((r) => r.offset === f.offset), `${len}: ${f.field}`).toMatchObject({ field: f.field, value: f.value, size: f.size });
      expect(report.fields.every((f) => f.offset + f.size <= len)).toBe(true);
      expect(report.problems).toEqual(inspectPeerTargetName(cut).problems);
    }
    const v6 = encodePeerTargetName({ protocol: 'ipsec', peer: '[fe80::1%7]:5000', targetName: 'h' }).subarray(0, 60);
    const r = presentFields(v6, inspectPeerTargetName(v6), inspectPeerTargetName, {});
    expect(r.value.peer).toMatchObject({ address: 'fe80::1', port: 5000, scopeId: 7 });
    expect(r.fields.map((f) => f.field)).toContain('PeerAddress.sin6_scope_id');
  });

  it('explains a length in the other unit, with the fixed bytes', () => {
    const units = encodePeerTargetName({ protocol: 'ipsec2', peer: '192.0.2.10:4500', targetName: 'host/server.example.com' }, { lengthUnit: 'units' });
    const m = unitMismatch(units, inspectPeerTargetName(units), inspectPeerTargetName, {});
    expect(m).toMatchObject({ stored: 23, readAs: 'bytes', writtenIn: 'units', fixed: 46, name: 'host/server.example.com' });
    expect(toHex(m!.fixedBytes)).toBe(toHex(encodePeerTargetName({ protocol: 'ipsec2', peer: '192.0.2.10:4500', targetName: 'host/server.example.com' })));
    // And the other way round: an ipsec buffer written in bytes.
    const bytes = encodePeerTargetName({ protocol: 'ipsec', peer: '192.0.2.10:4500', targetName: 'host/x' }, { lengthUnit: 'bytes' });
    expect(unitMismatch(bytes, inspectPeerTargetName(bytes), inspectPeerTargetName, {})).toMatchObject({ stored: 12, readAs: 'units', writtenIn: 'bytes', fixed: 6 });
    // Not for a buffer that is broken some other way.
    const bad = GOOD.slice();
    bad[5] = 1;
    expect(unitMismatch(bad, inspectPeerTargetName(bad), inspectPeerTargetName, {})).toBeUndefined();
  });
});

describe('the C initialiser, aligned, with a sample call', () => {
  const bytes = encodePeerTargetName({ protocol: 'ipsec2', peer: '[fe80::1%7]:5000', targetName: 'host/\u670d' });
  const text = cInitialiser(bytes, inspectPeerTargetName(bytes).fields, 'summary');

  function compile(compiler: string, args: string[], source: string, suffix = '.c', libs: string[] = []) {
    const dir = mkdtempSync(join(tmpdir(), 'ptn-cinit-win-'));
    try {
      const file = join(dir, `init${suffix}`);
      writeFileSync(file, source);
      const exe = join(dir, compiler.includes('mingw') ? 'out.exe' : 'out');
      const r = spawnSync(compiler, [...args, file, '-o', exe, ...libs], { encoding: 'utf8' });
      if (r.error) throw new Error(`no ${compiler}: apt-get install -y ${compiler.includes('mingw') ? 'gcc-mingw-w64' : 'gcc g++'}`);
      if (r.status !== 0) throw new Error(`${compiler} refuses it:\n${r.stderr}`);
      const objdump = compiler.includes('mingw') ? spawnSync(compiler.replace(/gcc$/, 'objdump'), ['-p', exe], { encoding: 'utf8' }).stdout : '';
      const run = compiler.includes('mingw') ? '' : spawnSync(exe, { encoding: 'utf8' }).stdout;
      return { objdump, run };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('is aligned to 8 and holds the bytes (gcc, C11 _Alignas; g++, alignas)', () => {
    expect(text).toMatch(/^PTN_ALIGN8 static const unsigned char peer_target_name\[\d+\] = \{$/m);
    const main = '#include <stdio.h>\n#include <stdint.h>\n' + text + '\nint main(void) {\n' +
      '  printf("%d ", (int)((uintptr_t)peer_target_name % 8));\n' +
      '  for (size_t i = 0; i < sizeof peer_target_name; i++) printf("%02x", peer_target_name[i]);\n  return 0;\n}\n';
    expect(compile('cc', ['-std=c11', '-Wall', '-Wextra', '-Werror'], main).run).toBe(`0 ${toHex(bytes)}`);
    expect(compile('c++', ['-std=c++11', '-Wall', '-Werror', '-x', 'c++'], main, '.cpp').run).toBe(`0 ${toHex(bytes)}`);
  });

  it('compiles and links for Windows against the real headers, its sample call importing WSASetSocketPeerTargetName from fwpuclnt.dll', () => {
    const source = '#include <winsock2.h>\n#include <ws2tcpip.h>\n#include <mstcpip.h>\n' + text +
      '_Static_assert(_Alignof(SOCKET_PEER_TARGET_NAME) == 8, "the struct is 8-aligned, as the array");\n' +
      'int main(void) { return set_peer_target_name(INVALID_SOCKET); }\n';
    for (const compiler of ['x86_64-w64-mingw32-gcc', 'i686-w64-mingw32-gcc']) {
      const { objdump } = compile(compiler, ['-std=c11', '-Wall', '-Wextra', '-Werror'], source, '.c', ['-lfwpuclnt', '-lws2_32']);
      expect(objdump, compiler).toMatch(/DLL Name: fwpuclnt\.dll[\s\S]*WSASetSocketPeerTargetName/);
    }
  });
});
