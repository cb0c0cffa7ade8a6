// Issue 13: one reason → message table (host/codec/reason-messages.ts) for every struct. Every
// REASON_* the layout exports is worded there exactly once, and an error from a security struct
// reads as the SOCKET_PEER_TARGET_NAME error for the same reason, but for the context (which
// struct, which string) that each side supplies.
import { describe, expect, it } from 'vitest';

import {
  decodePeerTargetName,
  decodeSocketSecurityQueryTemplate,
  decodeSocketSecuritySettings,
  encodePeerTargetName,
  encodeSocketSecurityQueryTemplate,
  encodeSocketSecuritySettings,
  type PeerTargetNameError,
} from '../host/index.js';
import * as L from '../host/generated/layout.js';
import { REASON_WORDINGS, wordReason } from '../host/codec/reason-messages.js';
import { codecErrorOf } from './support/errors.js';

const layoutReasons = Object.entries(L)
  .filter(([name]) => name.startsWith('REASON_') && name !== 'REASON_SHIFT')
  .map(([name, value]) => [name, value as number] as const);

/** The message after "CODE: field: ", the part the table words. */
const textOf = (e: PeerTargetNameError) => e.message.slice(`${e.code}: ${e.field}: `.length);

const good = { protocol: 'ipsec' as const, peer: '192.0.2.10:4500', targetName: 'host/server.example.com' };
const ipsec = (credentials: { userName?: string; domainName?: string; password?: string }) =>
  encodeSocketSecuritySettings({ protocol: 'ipsec', ipsec: credentials });
const setU32 = (b: Uint8Array, at: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint32(at, v, true);

describe('the reason table', () => {
  it('words every REASON_* of the layout exactly once, and nothing else', () => {
    const worded = REASON_WORDINGS.map(([reason]) => reason);
    expect(new Set(worded).size, 'a reason worded twice').toBe(worded.length);
    const missing = layoutReasons.filter(([, value]) => !worded.includes(value)).map(([name]) => name);
    expect(missing, 'reasons with no wording').toEqual([]);
    const known = new Set(layoutReasons.map(([, value]) => value));
    expect(worded.filter((reason) => !known.has(reason)), 'wordings for no reason').toEqual([]);
  });

  it('every wording gives a field and some text, whatever the context lacks', () => {
    for (const [name, reason] of layoutReasons) {
      const words = wordReason(reason, 1, {});
      expect(words, name).toBeDefined();
      const [field, text] = words!;
      expect(field, name).toMatch(/^[a-zA-Z.]+$/);
      expect(text.length, name).toBeGreaterThan(10);
    }
  });
});

describe('security-struct errors and SOCKET_PEER_TARGET_NAME errors share the words', () => {
  it('PROTOCOL_RANGE: the same text, word for word', () => {
    const ptn = codecErrorOf(() => encodePeerTargetName({ ...good, protocol: 3 }));
    const settings = codecErrorOf(() => encodeSocketSecuritySettings({ protocol: 3 }));
    const template = codecErrorOf(() => encodeSocketSecurityQueryTemplate({ protocol: 3, peer: good.peer }));
    expect([ptn.reason, settings.reason, template.reason]).toEqual([L.REASON_PROTOCOL_RANGE, L.REASON_PROTOCOL_RANGE, L.REASON_PROTOCOL_RANGE]);
    expect(textOf(settings)).toBe(textOf(ptn));
    expect(textOf(template)).toBe(textOf(ptn));
    expect([settings.field, template.field]).toEqual(['settings.protocol', 'template.protocol']);
  });

  it('BUFFER_SHORT: the same sentence, naming each struct and its size', () => {
    const ptn = codecErrorOf(() => decodePeerTargetName(new Uint8Array(5)));
    const settings = codecErrorOf(() => decodeSocketSecuritySettings(new Uint8Array(5)));
    const ipsecShort = codecErrorOf(() => decodeSocketSecuritySettings(new Uint8Array(20)));
    const template = codecErrorOf(() => decodeSocketSecurityQueryTemplate(new Uint8Array(5)));
    for (const e of [ptn, settings, ipsecShort, template]) expect(e.reason).toBe(L.REASON_BUFFER_SHORT);
    const as = (struct: string, size: number) => textOf(ptn).replace('sizeof(SOCKET_PEER_TARGET_NAME), 144', `sizeof(${struct}), ${size}`);
    expect(textOf(settings)).toBe(as('SOCKET_SECURITY_SETTINGS', 8));
    expect(textOf(ipsecShort)).toBe(as('SOCKET_SECURITY_SETTINGS_IPSEC', 88).replace('5 bytes', '20 bytes'));
    expect(textOf(template)).toBe(as('SOCKET_SECURITY_QUERY_TEMPLATE', 144));
  });

  it('NAME_NUL, NAME_SURROGATE, NAME_TOO_LONG: a credential is worded as the target name, named as a credential', () => {
    // Contexts differ only in the string: "of the user name" after the index, "a credential string"
    // for "a target name". The password's own units are never shown (no code point).
    const asCredential = (text: string, label: string, index: number) =>
      text.replace(`index ${index}:`, `index ${index} of the ${label}:`).replace('a target name', 'a credential string');

    const nulPtn = codecErrorOf(() => encodePeerTargetName({ ...good, targetName: 'ali\0ce' }));
    const nulSec = codecErrorOf(() => ipsec({ userName: 'ali\0ce' }));
    expect([nulPtn.reason, nulSec.reason]).toEqual([L.REASON_NAME_NUL, L.REASON_NAME_NUL]);
    expect(textOf(nulSec)).toBe(asCredential(textOf(nulPtn), 'user name', 3));

    const lonePtn = codecErrorOf(() => encodePeerTargetName({ ...good, targetName: 'CORP\udc00' }));
    const loneSec = codecErrorOf(() => ipsec({ password: 'CORP\udc00' }));
    expect([lonePtn.reason, loneSec.reason]).toEqual([L.REASON_NAME_SURROGATE, L.REASON_NAME_SURROGATE]);
    expect(textOf(loneSec)).toBe(asCredential(textOf(lonePtn).replace(' U+DC00', ''), 'password', 4));

    const longPtn = codecErrorOf(() => encodePeerTargetName({ ...good, targetName: 'x'.repeat(32768) }, { maxTargetNameLength: 32767 }));
    const longSec = codecErrorOf(() => ipsec({ domainName: 'x'.repeat(32768) }));
    expect([longPtn.reason, longSec.reason]).toEqual([L.REASON_NAME_TOO_LONG, L.REASON_NAME_TOO_LONG]);
    expect(textOf(longSec)).toBe(textOf(longPtn)
      .replace('units is', 'units in the domain name is').replace('(option maxTargetNameLength)', '(a UNICODE_STRING)'));
  });

  it('STRING_LENGTH_ODD and the non-zero byte reasons: one sentence each', () => {
    const oddPtn = codecErrorOf(() => {
      const b = encodePeerTargetName(good);
      setU32(b, L.OFFSET_STRING_LENGTH, 45);
      return decodePeerTargetName(b, { lengthUnit: 'bytes' });
    });
    const oddBytes = ipsec({ userName: 'alice' }).slice();
    setU32(oddBytes, L.SSI_USER_NAME_LENGTH, 9);
    const oddSec = codecErrorOf(() => decodeSocketSecuritySettings(oddBytes));
    expect([oddPtn.reason, oddSec.reason]).toEqual([L.REASON_STRING_LENGTH_ODD, L.REASON_STRING_LENGTH_ODD]);
    expect(textOf(oddSec)).toBe(`the user name's length ${textOf(oddPtn).replace('45', '9')}`);

    const paddingBytes = ipsec({}).slice();
    paddingBytes[61] = 0xaa;
    const paddingSec = codecErrorOf(() => decodeSocketSecuritySettings(paddingBytes));
    const ptnBytes = encodePeerTargetName(good);
    ptnBytes[5] = 0xaa;
    const paddingPtn = codecErrorOf(() => decodePeerTargetName(ptnBytes));
    expect([paddingPtn.reason, paddingSec.reason]).toEqual([L.REASON_PADDING_NONZERO, L.REASON_PADDING_NONZERO]);
    expect(textOf(paddingSec)).toBe(textOf(paddingPtn).replace('byte 5', 'byte 61').replace('after SecurityProtocol', 'before Reserved2'));

    // The template's tail is checked by the host, not the codec: worded by the same table all the same.
    const template = encodeSocketSecurityQueryTemplate({ protocol: 1, peer: good.peer }).slice();
    template[141] = 7;
    const tailTemplate = codecErrorOf(() => decodeSocketSecurityQueryTemplate(template));
    const tailSettingsBytes = ipsec({ userName: 'a' }).slice();
    tailSettingsBytes[tailSettingsBytes.length - 1] = 7;
    const tailSettings = codecErrorOf(() => decodeSocketSecuritySettings(tailSettingsBytes));
    for (const e of [tailTemplate, tailSettings]) expect(e.reason).toBe(L.REASON_TAIL_NONZERO);
    expect(textOf(tailTemplate)).toBe('byte 141 is 0x07; the padding after PeerTokenAccessMask must be zero');
    expect(textOf(tailSettings)).toBe(`byte ${tailSettingsBytes.length - 1} is 0x07; the bytes after the strings must be zero`);
  });

  it('the words match wordReason\'s for the same context', () => {
    const e = codecErrorOf(() => encodeSocketSecuritySettings({ protocol: 1, flags: 0x4 }));
    expect(textOf(e)).toBe(wordReason(L.REASON_SECURITY_FLAGS_UNKNOWN, 4, { struct: 'SOCKET_SECURITY_SETTINGS' })![1]);
    expect(textOf(e)).toContain('bits 0x04 are not SecurityFlags');
  });
});
