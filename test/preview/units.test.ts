// The preview's pure parts, in Node: URL state, form → codec input, errors → controls, the C
// initialiser. The page itself is tested in Chromium (preview.test.ts).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { encodePeerTargetName, inspectPeerTargetName, PeerTargetNameError, toHex } from '../../host/index.js';
import { cInitialiser } from '../../host/tools/preview/cinit.js';
import { controlFor, errorText, inputFromState, optionsFromState } from '../../host/tools/preview/form.js';
import { readPaste } from '../../host/tools/preview/paste.js';
import { DEFAULT_STATE, parseState, serializeState, type PageState } from '../../host/tools/preview/state.js';

const state = (change: Partial<PageState>): PageState => ({ ...DEFAULT_STATE, ...change });

describe('preview state in the URL', () => {
  it('a fresh page is the README example', () => {
    expect(parseState('')).toEqual(DEFAULT_STATE);
    expect(toHex(encodePeerTargetName(inputFromState(DEFAULT_STATE), optionsFromState(DEFAULT_STATE))))
      .toBe(toHex(encodePeerTargetName({ protocol: 'ipsec', peer: '192.0.2.10:4500', targetName: 'host/server.example.com' })));
  });

  it('round-trips every field, characters a URL must escape included', () => {
    const build = state({
      protocol: 'ipsec2', address: 'fe80::1', port: '', zone: '7', flow: '0x12345',
      name: 'host/\u670d\u52a1\u5668 & co?#%41+=\u{1F600}', unit: 'bytes', socket: 'stream',
    });
    expect(parseState(serializeState(build))).toEqual(build);
    const inspect = state({ mode: 'inspect', hex: '01000000 0x00,\n00', unit: 'units' });
    expect(parseState(serializeState(inspect))).toEqual(inspect);
    // An emptied address is kept as empty, not turned back into the default.
    expect(parseState(serializeState(state({ address: '' }))).address).toBe('');
  });

  it('ignores what it does not know', () => {
    expect(parseState('#mode=edit&protocol=4&unit=words&socket=raw&junk=1')).toEqual(DEFAULT_STATE);
  });
});

describe('preview form', () => {
  it('leaves the peer out only when all its fields are empty', () => {
    expect(inputFromState(state({ address: '', port: '', zone: '', flow: '' })).peer).toBeNull();
    expect(inputFromState(state({ address: '', port: '80' })).peer).toEqual({ address: '', port: 80 });
  });

  it('numeric zone → scopeId, named zone → the address text, flow in decimal or hex', () => {
    expect(inputFromState(state({ address: 'fe80::1', zone: '7', flow: '0x10' })).peer)
      .toEqual({ address: 'fe80::1', port: 4500, scopeId: 7, flowInfo: 16 });
    expect(inputFromState(state({ address: 'fe80::1', zone: 'eth0' })).peer).toEqual({ address: 'fe80::1%eth0', port: 4500 });
    expect(inputFromState(state({ port: '' })).peer).toEqual({ address: '192.0.2.10', port: 0 });
  });

  it('puts each codec error next to the control it is about', () => {
    const errorFor = (change: Partial<PageState>) => {
      const s = state(change);
      try {
        encodePeerTargetName(inputFromState(s), optionsFromState(s));
      } catch (e) {
        return e as PeerTargetNameError;
      }
      throw new Error(`no error for ${JSON.stringify(change)}`);
    };
    const cases: [Partial<PageState>, string, string][] = [
      [{ port: '0' }, 'port', 'WSAEINVAL'],
      [{ port: 'http' }, 'port', 'WSAEINVAL'],
      [{ address: 'example.com' }, 'address', 'WSAEINVAL'],
      [{ address: '', port: '' }, 'address', 'WSAEINVAL'],
      [{ address: 'fe80::1', zone: 'eth0' }, 'zone', 'WSAEINVAL'],
      [{ address: 'fe80::1', zone: '4294967296' }, 'zone', 'WSAEINVAL'],
      [{ zone: '3' }, 'zone', 'WSAEINVAL'],
      [{ flow: '7' }, 'flow', 'WSAEINVAL'],
      [{ name: '' }, 'name', 'WSAEINVAL'],
      [{ name: 'a\uD800b' }, 'name', 'WSAEINVAL'],
    ];
    for (const [change, control, code] of cases) {
      const error = errorFor(change);
      expect(error.code, JSON.stringify(change)).toBe(code);
      expect(controlFor(error), `${JSON.stringify(change)}: ${error.message}`).toBe(control);
      expect(error.message).toBe(`${error.code}: ${error.field}: ${errorText(error)}`);
    }
  });
});

describe('preview C initialiser', () => {
  it('names every field, survives a hostile name, and compiles to the same bytes', () => {
    const bytes = encodePeerTargetName({ protocol: 'ipsec2', peer: '[2001:db8::1]:500', targetName: 'host/*/ evil\n/* x' });
    const { fields } = inspectPeerTargetName(bytes);
    const text = cInitialiser(bytes, fields, 'a summary with */ inside\nand a second line');
    for (const row of fields) expect(text).toContain(` ${row.offset} ${row.field}: `);
    expect(text).toContain(`PTN_ALIGN8 static const unsigned char peer_target_name[${bytes.length}] = {`);
    // Comments cannot be closed early: only the initialiser's own comment delimiters remain.
    const opened = text.match(/\/\*/g)?.length ?? 0;
    expect(text.match(/\*\//g)?.length).toBe(opened);
    expect(compile(text)).toBe(toHex(bytes));
    // And the page's Inspect box reads it back (macros, comments, declaration and sample call dropped).
    const read = readPaste(text);
    expect(read.ok && read.format).toBe('C initialiser');
    expect(read.ok && toHex(read.bytes)).toBe(toHex(bytes));
  });

  it('emits bytes no field covers, saying so', () => {
    const bytes = new Uint8Array(10).fill(0xab);
    const text = cInitialiser(bytes, [{ offset: 2, size: 4, field: 'X', value: 'v', hex: '', kind: 'field', problems: [] }], 's');
    expect(text).toMatch(/\/\*  0 \(not a field\) \*\/\n    0xab, 0xab,\n/);
    expect(text).toMatch(/\/\*  6 \(not a field\) \*\/\n    0xab, 0xab, 0xab, 0xab,\n/);
    expect(compile(text)).toBe('ab'.repeat(10));
  });
});

function compile(initialiser: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ptn-cinit-'));
  try {
    const source = join(dir, 'init.c');
    writeFileSync(source, `#include <stdio.h>\n${initialiser}\nint main(void) {\n` +
      '  for (size_t i = 0; i < sizeof peer_target_name; i++) printf("%02x", peer_target_name[i]);\n  return 0;\n}\n');
    const compiler = process.env.CC || 'cc';
    const cc = spawnSync(compiler, ['-std=c11', '-Wall', '-Wcomment', '-Werror', '-o', join(dir, 'init'), source], { encoding: 'utf8' });
    if (cc.error) throw new Error(`no C compiler (${compiler}): apt-get install -y gcc (.ci/run installs it)`);
    if (cc.status !== 0) throw new Error(`the C initialiser does not compile:\n${cc.stderr}`);
    return spawnSync(join(dir, 'init'), { encoding: 'utf8' }).stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
