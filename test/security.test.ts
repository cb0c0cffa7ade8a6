// Rules and round trips for the WSASetSocketSecurity / WSAQuerySocketSecurity structs
// (host/codec/security.ts over assembly/security.ts). Byte-exactness against the real headers is
// test/golden/security-golden.test.ts's job; here every rule is pinned to its exact code and field.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';

import {
  decodeSocketSecurityQueryInfo,
  decodeSocketSecurityQueryTemplate,
  decodeSocketSecuritySettings,
  encodePeerTargetName,
  encodeSocketSecurityQueryInfo,
  encodeSocketSecurityQueryTemplate,
  encodeSocketSecuritySettings,
  PeerTargetNameError,
  SIZEOF_SOCKET_SECURITY_QUERY_INFO,
  SIZEOF_SOCKET_SECURITY_QUERY_TEMPLATE,
  SIZEOF_SOCKET_SECURITY_SETTINGS,
  SIZEOF_SOCKET_SECURITY_SETTINGS_IPSEC,
  SOCKET_INFO_FLAGS,
  SOCKET_SETTINGS_FLAGS,
  SOCKET_SETTINGS_IPSEC_FLAGS,
  validateSocketSecuritySettings,
  type SocketSecuritySettingsInput,
} from '../host/index.js';
import * as L from '../host/generated/layout.js';
import { codecErrorOf } from './support/errors.js';

/** Runs f and returns the PeerTargetNameError it throws (fails the test when it does not). */
function expectError(f: () => unknown, code: string, field: string): PeerTargetNameError {
  const error = codecErrorOf(f);
  expect({ code: error.code, field: error.field }, error.message).toEqual({ code, field });
  expect(error.message.startsWith(`${code}: ${field}: `)).toBe(true);
  return error;
}

const settings = encodeSocketSecuritySettings;
const ipsecBytes = (ipsec: SocketSecuritySettingsInput['ipsec'] = {}) => settings({ protocol: 'ipsec', ipsec });
const setU32 = (b: Uint8Array, at: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint32(at, v, true);

describe('sizes and constants', () => {
  it('match the measured layout (x64 and x86 alike)', () => {
    expect([SIZEOF_SOCKET_SECURITY_SETTINGS, SIZEOF_SOCKET_SECURITY_SETTINGS_IPSEC,
      SIZEOF_SOCKET_SECURITY_QUERY_TEMPLATE, SIZEOF_SOCKET_SECURITY_QUERY_INFO]).toEqual([8, 88, 144, 24]);
    expect(SOCKET_SETTINGS_FLAGS).toEqual({ SOCKET_SETTINGS_GUARANTEE_ENCRYPTION: 1, SOCKET_SETTINGS_ALLOW_INSECURE: 2 });
    expect(Object.values(SOCKET_SETTINGS_IPSEC_FLAGS)).toEqual([1, 2, 4, 8]);
    expect(SOCKET_INFO_FLAGS).toEqual({
      SOCKET_INFO_CONNECTION_SECURED: 1, SOCKET_INFO_CONNECTION_ENCRYPTED: 2, SOCKET_INFO_CONNECTION_IMPERSONATED: 4,
    });
  });

  it('reason numbers stay unique and map to their Winsock code', () => {
    const reasons = Object.entries(L).filter(([name]) => name.startsWith('REASON_') && name !== 'REASON_SHIFT');
    const values = reasons.map(([, v]) => v as number);
    expect(new Set(values).size).toBe(values.length);
    expect(L.REASON_SECURITY_FLAGS_UNKNOWN >> 8).toBe(L.WSAEINVAL);
    expect(L.REASON_INFO_FLAGS_UNKNOWN & 0xff).toBe(26);
  });
});

describe('encodeSocketSecuritySettings: rules', () => {
  it('protocol: codec range, host spelling, and the IPsec struct\'s own rule', () => {
    expectError(() => settings({ protocol: 3 }), 'WSAEINVAL', 'settings.protocol');
    expectError(() => settings({ protocol: 'tls' as never }), 'WSAEINVAL', 'settings.protocol');
    expectError(() => settings({ protocol: -1 }), 'WSAEINVAL', 'settings.protocol');
    const e = expectError(() => settings({ protocol: 'default', ipsec: {} }), 'WSAEINVAL', 'settings.protocol');
    expect(e.reason).toBe(L.REASON_IPSEC_SETTINGS_PROTOCOL);
    expect(settings({ protocol: 'ipsec2', ipsec: {} }).length).toBe(88);
    expect(settings({ protocol: 'default' }).length).toBe(8);
  });

  it('flags: unknown bits (codec) and unknown names (host)', () => {
    const e = expectError(() => settings({ protocol: 1, flags: 0x4 }), 'WSAEINVAL', 'settings.flags');
    expect(e.reason).toBe(L.REASON_SECURITY_FLAGS_UNKNOWN);
    expect(e.value).toBe(4);
    expectError(() => settings({ protocol: 1, flags: 0x80000001 }), 'WSAEINVAL', 'settings.flags');
    expectError(() => settings({ protocol: 1, flags: ['encrypt'] }), 'WSAEINVAL', 'settings.flags');
    expectError(() => settings({ protocol: 1, flags: 1.5 }), 'WSAEINVAL', 'settings.flags');
    expectError(() => settings({ protocol: 1, flags: 'guarantee-encryption' as never }), 'WSAEINVAL', 'settings.flags');
    expect(settings({ protocol: 1, flags: ['guarantee-encryption', 'SOCKET_SETTINGS_ALLOW_INSECURE'] })[4]).toBe(3);
  });

  it('ipsecFlags: only the four SDK bits', () => {
    const e = expectError(() => ipsecBytes({ ipsecFlags: 0x10 }), 'WSAEINVAL', 'settings.ipsec.ipsecFlags');
    expect(e.reason).toBe(L.REASON_IPSEC_FLAGS_UNKNOWN);
    expectError(() => ipsecBytes({ ipsecFlags: ['skip-filter'] }), 'WSAEINVAL', 'settings.ipsec.ipsecFlags');
    expect(ipsecBytes({ ipsecFlags: 0xf })[8]).toBe(0xf);
  });

  it('policy keys: GUID text or 16 bytes', () => {
    expectError(() => ipsecBytes({ mmPolicyKey: 'not-a-guid' }), 'WSAEINVAL', 'settings.ipsec.mmPolicyKey');
    expectError(() => ipsecBytes({ mmPolicyKey: '{12345678-9abc-def0-0123-456789abcdef' }), 'WSAEINVAL', 'settings.ipsec.mmPolicyKey');
    expectError(() => ipsecBytes({ qmPolicyKey: new Uint8Array(15) }), 'WSAEINVAL', 'settings.ipsec.qmPolicyKey');
    const raw = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    expect(Array.from(ipsecBytes({ qmPolicyKey: raw }).subarray(28, 44))).toEqual(Array.from(raw));
    expect(ipsecBytes({ mmPolicyKey: '{12345678-9abc-def0-0123-456789abcdef}' }).subarray(12, 16))
      .toEqual(Uint8Array.from([0x78, 0x56, 0x34, 0x12]));
  });

  it('credential strings: no NUL, well-formed UTF-16, a UNICODE_STRING\'s length', () => {
    let e = expectError(() => ipsecBytes({ userName: 'ali\0ce' }), 'WSAEINVAL', 'settings.ipsec.userName');
    expect(e.reason).toBe(L.REASON_NAME_NUL);
    expect(e.value).toBe(3);
    e = expectError(() => ipsecBytes({ domainName: 'CORP\udc00' }), 'WSAEINVAL', 'settings.ipsec.domainName');
    expect(e.reason).toBe(L.REASON_NAME_SURROGATE);
    expectError(() => ipsecBytes({ password: '\ud83d' }), 'WSAEINVAL', 'settings.ipsec.password');
    e = expectError(() => ipsecBytes({ password: 'x'.repeat(32768) }), 'WSAEINVAL', 'settings.ipsec.password');
    expect(e.reason).toBe(L.REASON_NAME_TOO_LONG);
    expect(ipsecBytes({ password: 'x'.repeat(32767) }).length).toBe(88 + 2 * 32767);
    expectError(() => ipsecBytes({ userName: 42 as never }), 'WSAEINVAL', 'settings.ipsec.userName');
  });

  it('never quotes a password in an error', () => {
    for (const password of ['hunter2\0secret', 'hunter2\ud800secret']) {
      const e = expectError(() => ipsecBytes({ password }), 'WSAEINVAL', 'settings.ipsec.password');
      expect(e.message).not.toContain('hunter2');
      expect(JSON.stringify(e.toJSON())).not.toContain('hunter2');
      expect(String(e.value)).not.toContain('hunter2');
    }
  });

  it('values of the wrong type are errors, never TypeErrors', () => {
    expectError(() => settings({ protocol: 1n as never }), 'WSAEINVAL', 'settings.protocol');
    expectError(() => settings({ protocol: 1, flags: [1n] as never }), 'WSAEINVAL', 'settings.flags');
    expectError(() => settings({ protocol: 1, flags: Symbol('x') as never }), 'WSAEINVAL', 'settings.flags');
    expectError(() => ipsecBytes({ mmPolicyKey: 5n as never }), 'WSAEINVAL', 'settings.ipsec.mmPolicyKey');
    expectError(() => encodeSocketSecurityQueryTemplate({ protocol: 1, peer: '192.0.2.1:1', peerTokenAccessMask: 8n as never }),
      'WSAEINVAL', 'template.peerTokenAccessMask');
  });

  it('shape errors', () => {
    expectError(() => settings(null as never), 'WSAEFAULT', 'settings');
    expectError(() => settings({ protocol: 1, ipsec: 'yes' as never }), 'WSAEFAULT', 'settings.ipsec');
  });

  it('strings go in bytes, concatenated, the 4 bytes past them zero', () => {
    const b = ipsecBytes({ userName: 'ab', domainName: '', password: 'xyz' });
    expect(b.length).toBe(88 + 10);
    const v = new DataView(b.buffer);
    expect([v.getUint32(72, true), v.getUint32(76, true), v.getUint32(80, true)]).toEqual([4, 0, 6]);
    expect(Buffer.from(b.subarray(84, 94)).toString('utf16le')).toBe('abxyz');
    expect(Array.from(b.subarray(94))).toEqual([0, 0, 0, 0]);
  });
});

describe('decodeSocketSecuritySettings: rules for bytes made by anyone', () => {
  const valid = () => ipsecBytes({ userName: 'alice', domainName: 'CORP', password: 'pw' }).slice();

  it('lengths: 8 is SOCKET_SECURITY_SETTINGS, longer is the IPsec struct', () => {
    let e = expectError(() => decodeSocketSecuritySettings(new Uint8Array(5)), 'WSAEMSGSIZE', 'settings.length');
    expect(e.message).toContain('sizeof(SOCKET_SECURITY_SETTINGS), 8');
    e = expectError(() => decodeSocketSecuritySettings(new Uint8Array(20)), 'WSAEMSGSIZE', 'settings.length');
    expect(e.message).toContain('sizeof(SOCKET_SECURITY_SETTINGS_IPSEC), 88');
    expectError(() => decodeSocketSecuritySettings(null as never), 'WSAEFAULT', 'bytes');
    expect(decodeSocketSecuritySettings(new Uint8Array(8)).ipsec).toBeNull();
  });

  it('protocol, flags and ipsecFlags', () => {
    expectError(() => decodeSocketSecuritySettings(Uint8Array.from([5, 0, 0, 0, 0, 0, 0, 0])), 'WSAEINVAL', 'settings.protocol');
    expectError(() => decodeSocketSecuritySettings(Uint8Array.from([0, 0, 0, 0, 8, 0, 0, 0])), 'WSAEINVAL', 'settings.flags');
    const b = valid();
    setU32(b, 0, 0);
    expect(codecErrorOf(() => decodeSocketSecuritySettings(b)).reason).toBe(L.REASON_IPSEC_SETTINGS_PROTOCOL);
    const c = valid();
    c[8] = 0x20;
    expectError(() => decodeSocketSecuritySettings(c), 'WSAEINVAL', 'settings.ipsec.ipsecFlags');
  });

  it('Reserved, padding and Reserved2 must be zero', () => {
    for (const [at, field] of [[50, 'settings.ipsec.reserved'], [61, 'settings.ipsec.padding'], [70, 'settings.ipsec.reserved']] as const) {
      const b = valid();
      b[at] = 0x5a;
      const e = expectError(() => decodeSocketSecuritySettings(b), 'WSAEINVAL', field);
      expect(e.offset).toBe(at);
    }
  });

  it('string lengths: even, inside the buffer, and the strings well-formed', () => {
    let b = valid();
    setU32(b, 72, 9);
    let e = expectError(() => decodeSocketSecuritySettings(b), 'WSAEINVAL', 'settings.ipsec.userName');
    expect(e.reason).toBe(L.REASON_STRING_LENGTH_ODD);
    b = valid();
    setU32(b, 80, 400);
    e = expectError(() => decodeSocketSecuritySettings(b), 'WSAEMSGSIZE', 'settings.length');
    expect(e.reason).toBe(L.REASON_STRING_BEYOND_BUFFER);
    b = valid();
    b[84 + 10 + 8 + 2] = 0; // password 'pw' -> 'p\0'
    b[84 + 10 + 8 + 3] = 0;
    e = expectError(() => decodeSocketSecuritySettings(b), 'WSAEINVAL', 'settings.ipsec.password');
    expect([e.reason, e.offset]).toEqual([L.REASON_NAME_NUL, 104]);
    b = valid();
    b[85] = 0xd8; // 'a' -> U+D861, a lone high surrogate
    expectError(() => decodeSocketSecuritySettings(b), 'WSAEINVAL', 'settings.ipsec.userName');
  });

  it('a string cut off by the buffer\'s end: only a cut surrogate pair is the length\'s fault', () => {
    const cut = (lastUnit: number) => {
      const b = ipsecBytes({ userName: 'abc' }).slice(); // 94 bytes: 'abc' at 84..90, zero tail to 94
      setU32(b, 72, 20); // claims 10 units; 5 are inside the buffer
      b[90] = 0x64; // 'd'
      new DataView(b.buffer).setUint16(92, lastUnit, true);
      const result = validateSocketSecuritySettings(b);
      return result.ok ? [] : result.errors.map((e) => [e.field, e.reason]);
    };
    expect(cut(0xd83d)).toEqual([['settings.length', L.REASON_STRING_BEYOND_BUFFER]]);
    expect(cut(0)).toEqual([['settings.length', L.REASON_STRING_BEYOND_BUFFER], ['settings.ipsec.userName', L.REASON_NAME_NUL]]);
    expect(cut(0xdc00)).toEqual([['settings.length', L.REASON_STRING_BEYOND_BUFFER], ['settings.ipsec.userName', L.REASON_NAME_SURROGATE]]);
  });

  it('a run of non-zero bytes is one problem, from its first byte to its last', () => {
    const b = ipsecBytes().slice();
    b[46] = 1;
    b[50] = 2;
    const e = expectError(() => decodeSocketSecuritySettings(b), 'WSAEINVAL', 'settings.ipsec.reserved');
    expect([e.offset, e.length]).toEqual([46, 5]);
  });

  it('the tail after the strings must be zero, however long the buffer', () => {
    const b = new Uint8Array(300_000);
    b.set(valid());
    expect(decodeSocketSecuritySettings(b).ipsec?.userName).toBe('alice');
    b[250_000] = 1;
    const e = expectError(() => decodeSocketSecuritySettings(b), 'WSAEINVAL', 'settings.tail');
    expect(e.offset).toBe(250_000);
    const c = valid();
    c[c.length - 1] = 7;
    expectError(() => decodeSocketSecuritySettings(c), 'WSAEINVAL', 'settings.tail');
  });

  it('validate lists every problem without throwing', () => {
    const b = valid();
    b[4] = 0x10;
    b[50] = 1;
    b[b.length - 2] = 1;
    const result = validateSocketSecuritySettings(b);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.field)).toEqual(['settings.flags', 'settings.ipsec.reserved', 'settings.tail']);
    expect(validateSocketSecuritySettings(valid())).toEqual({ ok: true });
    expect(validateSocketSecuritySettings(undefined as never).ok).toBe(false);
  });

  it('takes ArrayBuffer and other views', () => {
    const b = valid();
    expect(decodeSocketSecuritySettings(b.buffer).ipsec?.domainName).toBe('CORP');
    const padded = new Uint8Array(b.length + 3);
    padded.set(b, 3);
    expect(decodeSocketSecuritySettings(new DataView(padded.buffer, 3)).ipsec?.password).toBe('pw');
  });
});

describe('SOCKET_SECURITY_QUERY_TEMPLATE', () => {
  const template = encodeSocketSecurityQueryTemplate;

  it('peer rules are encodePeerTargetName\'s, under template.peer', () => {
    expectError(() => template({ protocol: 1, peer: '192.0.2.1:0' }), 'WSAEINVAL', 'template.peer.port');
    expectError(() => template({ protocol: 1, peer: '192.0.2.1:70000' }), 'WSAEINVAL', 'template.peer.port');
    expectError(() => template({ protocol: 1, peer: { address: '192.0.2.1', port: -1 } }), 'WSAEINVAL', 'template.peer.port');
    expectError(() => template({ protocol: 1, peer: '0.0.0.0:500' }), 'WSAEINVAL', 'template.peer.address');
    expectError(() => template({ protocol: 1, peer: '[fe80::1%eth0]:500' }), 'WSAEINVAL', 'template.peer.address');
    expectError(() => template({ protocol: 1, peer: 'example.com:500' }), 'WSAEINVAL', 'template.peer.address');
    expectError(() => template({ protocol: 1, peer: { address: '192.0.2.1', port: 1, family: 'IPv6' } }),
      'WSAEAFNOSUPPORT', 'template.peer.family');
    expectError(() => template({ protocol: 1 }), 'WSAEINVAL', 'template.peer');
    expect(template({ protocol: 1 }, { socketType: 'stream' }).subarray(8, 136).every((b) => b === 0)).toBe(true);
    expect(template({ protocol: 1, peer: '0.0.0.0:0' }, { socketType: 'stream' }).length).toBe(144);
  });

  it('the peer bytes are the ones SOCKET_PEER_TARGET_NAME carries', () => {
    const peer = '[2001:db8::7%3]:4500';
    const ptn = encodePeerTargetName({ protocol: 'ipsec', peer, targetName: 'host/x' });
    expect(template({ protocol: 'ipsec', peer }).subarray(0, 136)).toEqual(ptn.subarray(0, 136));
  });

  it('protocol and mask', () => {
    const e = expectError(() => template({ protocol: 7, peer: '192.0.2.1:1' }), 'WSAEINVAL', 'template.protocol');
    expect(e.reason).toBe(L.REASON_PROTOCOL_RANGE);
    expectError(() => template({ protocol: 1, peer: '192.0.2.1:1', peerTokenAccessMask: -1 }), 'WSAEINVAL', 'template.peerTokenAccessMask');
    expectError(() => template({ protocol: 1, peer: '192.0.2.1:1', peerTokenAccessMask: 2 ** 32 }), 'WSAEINVAL', 'template.peerTokenAccessMask');
    expect(template({ protocol: 1, peer: '192.0.2.1:1', peerTokenAccessMask: 0xffffffff }).subarray(136, 140))
      .toEqual(Uint8Array.from([255, 255, 255, 255]));
    expectError(() => template(undefined as never), 'WSAEFAULT', 'template');
    expectError(() => template({ protocol: 1, peer: '192.0.2.1:1' }, { socketType: 'raw' as never }), 'WSAEINVAL', 'options.socketType');
  });

  it('decode checks what it reads', () => {
    const good = template({ protocol: 2, peer: '192.0.2.1:500', peerTokenAccessMask: 8 });
    expectError(() => decodeSocketSecurityQueryTemplate(good.subarray(0, 143)), 'WSAEMSGSIZE', 'template.length');
    let b = good.slice();
    b[5] = 1;
    expect(expectError(() => decodeSocketSecurityQueryTemplate(b), 'WSAEINVAL', 'template.padding').offset).toBe(5);
    b = good.slice();
    b[8] = 99;
    expectError(() => decodeSocketSecurityQueryTemplate(b), 'WSAEAFNOSUPPORT', 'template.peer.family');
    b = good.slice();
    b[30] = 1;
    expectError(() => decodeSocketSecurityQueryTemplate(b), 'WSAEINVAL', 'template.peer');
    b = good.slice();
    b[0] = 3;
    expectError(() => decodeSocketSecurityQueryTemplate(b), 'WSAEINVAL', 'template.protocol');
    b = good.slice();
    b[141] = 1;
    expectError(() => decodeSocketSecurityQueryTemplate(b), 'WSAEINVAL', 'template.tail');
    const none = new Uint8Array(144);
    expectError(() => decodeSocketSecurityQueryTemplate(none), 'WSAEINVAL', 'template.peer');
    expect(decodeSocketSecurityQueryTemplate(none, { socketType: 'stream' }).peer).toBeNull();
    // An IPSEC2 template is longer: its extra members are not read.
    const longer = new Uint8Array(152);
    longer.set(good);
    longer.fill(0xee, 140);
    expect(decodeSocketSecurityQueryTemplate(longer).peerTokenAccessMask).toBe(8);
  });
});

describe('SOCKET_SECURITY_QUERY_INFO', () => {
  it('encode rules', () => {
    expectError(() => encodeSocketSecurityQueryInfo({ protocol: 1, flags: 8 }), 'WSAEINVAL', 'info.flags');
    expect(codecErrorOf(() => encodeSocketSecurityQueryInfo({ protocol: 1, flags: 8 })).reason).toBe(L.REASON_INFO_FLAGS_UNKNOWN);
    expectError(() => encodeSocketSecurityQueryInfo({ protocol: 1, flags: ['secured'] }), 'WSAEINVAL', 'info.flags');
    expectError(() => encodeSocketSecurityQueryInfo({ protocol: 9 }), 'WSAEINVAL', 'info.protocol');
    expectError(() => encodeSocketSecurityQueryInfo({ protocol: 1, peerApplicationAccessTokenHandle: -1 }),
      'WSAEINVAL', 'info.peerApplicationAccessTokenHandle');
    expectError(() => encodeSocketSecurityQueryInfo({ protocol: 1, peerMachineAccessTokenHandle: 2n ** 64n }),
      'WSAEINVAL', 'info.peerMachineAccessTokenHandle');
    expectError(() => encodeSocketSecurityQueryInfo({ protocol: 1, peerMachineAccessTokenHandle: 2 ** 53 }),
      'WSAEINVAL', 'info.peerMachineAccessTokenHandle');
    expectError(() => encodeSocketSecurityQueryInfo(7 as never), 'WSAEFAULT', 'info');
  });

  it('decode rules', () => {
    expectError(() => decodeSocketSecurityQueryInfo(new Uint8Array(23)), 'WSAEMSGSIZE', 'info.length');
    const b = encodeSocketSecurityQueryInfo({ protocol: 'ipsec', flags: 1 });
    b[4] = 0x81;
    const e = expectError(() => decodeSocketSecurityQueryInfo(b), 'WSAEINVAL', 'info.flags');
    expect(e.value).toBe(0x80);
    // SOCKET_SECURITY_QUERY_INFO_IPSEC2 is longer; what follows the 24 bytes is not read.
    const longer = new Uint8Array(64).fill(0xcc);
    longer.set(encodeSocketSecurityQueryInfo({ protocol: 'ipsec2', flags: 7, peerMachineAccessTokenHandle: 9n }));
    expect(decodeSocketSecurityQueryInfo(longer)).toEqual({
      protocol: 'ipsec2', flags: 7,
      flagNames: ['SOCKET_INFO_CONNECTION_SECURED', 'SOCKET_INFO_CONNECTION_ENCRYPTED', 'SOCKET_INFO_CONNECTION_IMPERSONATED'],
      peerApplicationAccessTokenHandle: 0n, peerMachineAccessTokenHandle: 9n,
    });
  });
});

describe('round trips', () => {
  const protocol = fc.constantFrom('default', 'ipsec', 'ipsec2') as fc.Arbitrary<'default' | 'ipsec' | 'ipsec2'>;
  const credential = fc.string({ unit: 'binary', maxLength: 24 }).filter((s) => !s.includes('\0'));
  const guid = fc.option(fc.uuid({ version: 4 }), { nil: undefined });

  it('settings: encode then decode gives the input back', () => {
    fc.assert(fc.property(
      protocol, fc.integer({ min: 0, max: 3 }), fc.option(fc.record({
        ipsecFlags: fc.integer({ min: 0, max: 15 }), mmPolicyKey: guid, qmPolicyKey: guid,
        userName: credential, domainName: credential, password: credential,
      }), { nil: undefined }),
      (p, flags, ipsec) => {
        const proto = ipsec !== undefined && p === 'default' ? 'ipsec' : p;
        const bytes = encodeSocketSecuritySettings({ protocol: proto, flags, ipsec });
        const d = decodeSocketSecuritySettings(bytes);
        expect(d.protocol).toBe(proto);
        expect(d.flags).toBe(flags);
        expect(d.totalLength).toBe(bytes.length);
        if (ipsec === undefined) {
          expect(d.ipsec).toBeNull();
          expect(bytes.length).toBe(8);
        } else {
          expect(d.ipsec).toEqual({
            ...ipsec,
            ipsecFlagNames: Object.entries(SOCKET_SETTINGS_IPSEC_FLAGS).filter(([, bit]) => ipsec.ipsecFlags & bit).map(([n]) => n),
            mmPolicyKey: ipsec.mmPolicyKey ?? null,
            qmPolicyKey: ipsec.qmPolicyKey ?? null,
          });
          expect(bytes.length).toBe(88 + 2 * (ipsec.userName.length + ipsec.domainName.length + ipsec.password.length));
        }
      },
    ));
  });

  it('template: encode then decode gives the peer and mask back', () => {
    const v4 = fc.tuple(fc.integer({ min: 1, max: 255 }), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
    fc.assert(fc.property(protocol, v4, fc.integer({ min: 1, max: 65535 }), fc.nat({ max: 0xffffffff }), (p, address, port, mask) => {
      const d = decodeSocketSecurityQueryTemplate(encodeSocketSecurityQueryTemplate({ protocol: p, peer: { address, port }, peerTokenAccessMask: mask }));
      expect(d).toEqual({ protocol: p, peer: { family: 'ipv4', address, port, flowInfo: 0, scopeId: 0 }, peerTokenAccessMask: mask, totalLength: 144 });
    }));
    const d = decodeSocketSecurityQueryTemplate(encodeSocketSecurityQueryTemplate({ protocol: 1, peer: '[fe80::1%7]:500' }));
    expect(d.peer).toEqual({ family: 'ipv6', address: 'fe80::1', port: 500, flowInfo: 0, scopeId: 7 });
  });

  it('info: encode then decode gives the handles back, as bigints', () => {
    fc.assert(fc.property(protocol, fc.nat(7), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      (p, flags, app, machine) => {
        const d = decodeSocketSecurityQueryInfo(encodeSocketSecurityQueryInfo({
          protocol: p, flags, peerApplicationAccessTokenHandle: app, peerMachineAccessTokenHandle: machine,
        }));
        expect([d.protocol, d.flags, d.peerApplicationAccessTokenHandle, d.peerMachineAccessTokenHandle]).toEqual([p, flags, app, machine]);
      }));
  });

  it('interleaves with the peer-target-name codec on the shared instance', () => {
    const before = encodePeerTargetName({ protocol: 'ipsec', peer: '192.0.2.10:4500', targetName: 'host/a' });
    const s = encodeSocketSecuritySettings({ protocol: 'ipsec', ipsec: { password: 'p'.repeat(30000) } });
    const after = encodePeerTargetName({ protocol: 'ipsec', peer: '192.0.2.10:4500', targetName: 'host/a' });
    expect(after).toEqual(before);
    expect(decodeSocketSecuritySettings(s).ipsec?.password.length).toBe(30000);
  });
});
