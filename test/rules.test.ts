// The rules of docs/reference.md §2–3, one table per rule: each case names the exact Winsock code, errno, field
// and a fragment of the message. Encode-side cases go through encodePeerTargetName; decode-side
// cases corrupt buffers built byte by byte from docs/reference.md §1 (test/support/spec-reference.ts) and go
// through decodePeerTargetName and validatePeerTargetName, which must agree.
import { describe, expect, it } from 'vitest';

import {
  decodePeerTargetName,
  encodePeerTargetName,
  validatePeerTargetName,
  type CodecOptions,
  type PeerTargetNameInput,
} from '../host/index.js';
import {
  AF_INET, AF_INET6, AT, LINUX_AF_INET6, OFFSET_PADDING, OFFSET_PEER, OFFSET_STRING_LENGTH, OFFSET_STRINGS,
  SIZEOF_HEADER, SIZE_STORAGE, buildRecord, caught, expectError, patched, u16be, u16le, u32be, u32le, utf16le,
  type ExpectedError, type RawRecord,
} from './support/spec-reference.js';

const NAME = 'host/server.example.com';
const V4 = '192.0.2.10:4500';
const base = (over: Record<string, unknown> = {}) =>
  ({ protocol: 'ipsec', peer: V4, targetName: NAME, ...over }) as unknown as PeerTargetNameInput;
const STREAM: CodecOptions = { socketType: 'stream' };

interface EncodeCase extends ExpectedError {
  name: string;
  input: PeerTargetNameInput;
  options?: CodecOptions;
}

/** it.each over encode-side cases that must fail. */
function rejects(cases: EncodeCase[]) {
  it.each(cases)('$name → $code $field', ({ input, options, ...expected }) => {
    expectError(caught(() => encodePeerTargetName(input, options)), expected);
  });
}

interface AcceptCase {
  name: string;
  input: PeerTargetNameInput;
  options?: CodecOptions;
  /** Checks on the encoded bytes. */
  check: (bytes: Uint8Array) => void;
}

function accepts(cases: AcceptCase[]) {
  it.each(cases)('$name → ok', ({ input, options, check }) => {
    const bytes = encodePeerTargetName(input, options);
    check(bytes);
    expect(validatePeerTargetName(bytes, options)).toEqual({ ok: true });
  });
}

const peerBytes = (b: Uint8Array) => [...b.subarray(OFFSET_PEER, OFFSET_PEER + SIZE_STORAGE)];
const allZero = (xs: ArrayLike<number>) => Array.from(xs).every((x) => x === 0);

describe('the encoder lays out docs/reference.md §1 exactly', () => {
  it('IPv4: family 2 LE, port BE, address, zero sin_zero and slack, units, NUL-terminated name', () => {
    const bytes = encodePeerTargetName({ protocol: 'ipsec', peer: '192.0.2.10:4500', targetName: 'ab' });
    expect([...bytes]).toEqual([...buildRecord({ protocol: 1, family: AF_INET, port: 4500, address: [192, 0, 2, 10], name: 'ab' })]);
  });
  it('IPv6: family 23 LE, port BE, flowinfo BE, address, scope_id LE', () => {
    const bytes = encodePeerTargetName({
      protocol: 'default',
      peer: { address: 'fe80::1:2', port: 0x1234, flowInfo: 0x000abcde, scopeId: 0x01020304 },
      targetName: 'x',
    });
    expect(u16le(bytes, AT.family)).toBe(23);
    expect(u16be(bytes, AT.port)).toBe(0x1234);
    expect(u32be(bytes, AT.v6flow)).toBe(0x000abcde);
    expect(u32le(bytes, AT.v6scope)).toBe(0x01020304);
    expect([...bytes]).toEqual([...buildRecord({
      protocol: 0, family: AF_INET6, port: 0x1234, flowInfo: 0x000abcde, scopeId: 0x01020304,
      address: [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2], name: 'x',
    })]);
  });
});

describe('rule: protocol is 0–2 or its name (WSAEINVAL)', () => {
  rejects([
    { name: 'protocol 3', input: base({ protocol: 3 }), code: 'WSAEINVAL', field: 'protocol', message: '3' },
    { name: 'protocol -1', input: base({ protocol: -1 }), code: 'WSAEINVAL', field: 'protocol', message: '-1' },
    { name: 'protocol 1.5', input: base({ protocol: 1.5 }), code: 'WSAEINVAL', field: 'protocol', message: '1.5' },
    { name: "protocol 'bogus'", input: base({ protocol: 'bogus' }), code: 'WSAEINVAL', field: 'protocol', message: 'bogus' },
    { name: 'protocol 2^32', input: base({ protocol: 2 ** 32 }), code: 'WSAEINVAL', field: 'protocol', message: String(2 ** 32) },
    { name: 'protocol NaN', input: base({ protocol: NaN }), code: 'WSAEINVAL', field: 'protocol', message: 'NaN' },
    { name: "protocol 'toString' (not own)", input: base({ protocol: 'toString' }), code: 'WSAEINVAL', field: 'protocol', message: 'toString' },
  ]);
  accepts(([[0, 0], [1, 1], [2, 2], ['default', 0], ['ipsec', 1], ['ipsec2', 2]] as const).map(([protocol, value]) => ({
    name: `protocol ${JSON.stringify(protocol)}`,
    input: base({ protocol }),
    check: (b: Uint8Array) => expect(u32le(b, 0)).toBe(value),
  })));
});

describe('rule: input must be an object (WSAEFAULT)', () => {
  rejects([
    { name: 'null', input: null as unknown as PeerTargetNameInput, code: 'WSAEFAULT', field: 'input', message: 'null' },
    { name: 'undefined', input: undefined as unknown as PeerTargetNameInput, code: 'WSAEFAULT', field: 'input', message: 'undefined' },
    { name: 'a number', input: 42 as unknown as PeerTargetNameInput, code: 'WSAEFAULT', field: 'input', message: 'number' },
    { name: 'a string', input: 'x' as unknown as PeerTargetNameInput, code: 'WSAEFAULT', field: 'input', message: 'string' },
  ]);
});

describe('rule: a dgram peer is required; a stream peer may be all zero', () => {
  rejects([
    { name: 'no peer (absent), dgram', input: base({ peer: undefined }), code: 'WSAEINVAL', field: 'peer', message: 'dgram' },
    { name: 'peer null, dgram', input: base({ peer: null }), code: 'WSAEINVAL', field: 'peer', message: 'dgram' },
    { name: 'no peer, explicit dgram', input: base({ peer: undefined }), options: { socketType: 'dgram' }, code: 'WSAEINVAL', field: 'peer', message: 'dgram' },
  ]);
  accepts([
    { name: 'no peer (absent), stream', input: base({ peer: undefined }), options: STREAM, check: (b) => expect(allZero(peerBytes(b))).toBe(true) },
    { name: 'peer null, stream', input: base({ peer: null }), options: STREAM, check: (b) => expect(allZero(peerBytes(b))).toBe(true) },
  ]);
});

describe('rule: a port is 1–65535; port 0 only on stream (peer.port)', () => {
  const obj = (port: unknown) => base({ peer: { address: '192.0.2.1', port } });
  rejects([
    { name: "text '192.0.2.10:0'", input: base({ peer: '192.0.2.10:0' }), code: 'WSAEINVAL', field: 'peer.port', message: 'port 0 is not a valid peer port' },
    { name: "text '[2001:db8::1]:0'", input: base({ peer: '[2001:db8::1]:0' }), code: 'WSAEINVAL', field: 'peer.port', message: 'port 0 is not a valid peer port' },
    { name: 'object port 0', input: obj(0), code: 'WSAEINVAL', field: 'peer.port', message: 'port 0 is not a valid peer port' },
    { name: 'object port 65536', input: obj(65536), code: 'WSAEINVAL', field: 'peer.port', message: '65536' },
    { name: 'object port 70000', input: obj(70000), code: 'WSAEINVAL', field: 'peer.port', message: '70000' },
    { name: 'object port 65536, stream', input: obj(65536), options: STREAM, code: 'WSAEINVAL', field: 'peer.port', message: '65536' },
    { name: 'object port -1', input: obj(-1), code: 'WSAEINVAL', field: 'peer.port', message: '-1' },
    { name: 'object port 1.5', input: obj(1.5), code: 'WSAEINVAL', field: 'peer.port', message: '1.5' },
    { name: 'object port "80" (a string)', input: obj('80'), code: 'WSAEINVAL', field: 'peer.port', message: '80' },
    { name: "text '192.0.2.10:65536'", input: base({ peer: '192.0.2.10:65536' }), code: 'WSAEINVAL', field: 'peer.port', message: '65536' },
  ]);
  accepts([
    { name: 'object port 65535', input: obj(65535), check: (b) => expect(u16be(b, AT.port)).toBe(65535) },
    { name: 'object port 1', input: obj(1), check: (b) => expect(u16be(b, AT.port)).toBe(1) },
    { name: "text port with leading zeros '192.0.2.10:00080'", input: base({ peer: '192.0.2.10:00080' }), check: (b) => expect(u16be(b, AT.port)).toBe(80) },
    { name: 'port 0 on stream', input: base({ peer: '192.0.2.10:0' }), options: STREAM, check: (b) => expect(u16be(b, AT.port)).toBe(0) },
  ]);
});

describe('rule: a dgram peer is not the unspecified address (peer.address)', () => {
  const unspecified = [
    { peer: '0.0.0.0:1', family: AF_INET },
    { peer: '[::]:1', family: AF_INET6 },
    { peer: '[::ffff:0.0.0.0]:1', family: AF_INET6 },
    { peer: '[0:0:0:0:0:0:0:0]:1', family: AF_INET6 },
  ];
  rejects(unspecified.map(({ peer }) => ({
    name: `${peer} on dgram`, input: base({ peer }), code: 'WSAEINVAL' as const, field: 'peer.address', message: 'unspecified',
  })));
  rejects([{
    name: 'object { address: "::", port: 1 } on dgram', input: base({ peer: { address: '::', port: 1 } }),
    code: 'WSAEINVAL', field: 'peer.address', message: 'unspecified',
  }]);
  accepts(unspecified.map(({ peer, family }) => ({
    name: `${peer} on stream`, input: base({ peer }), options: STREAM,
    check: (b: Uint8Array) => {
      expect(u16le(b, AT.family)).toBe(family);
      expect(u16be(b, AT.port)).toBe(1);
    },
  })));
  accepts([
    // Neighbours of the unspecified address are real peers.
    { name: '[::1]:1 on dgram', input: base({ peer: '[::1]:1' }), check: (b) => expect(b[AT.v6addr + 15]).toBe(1) },
    { name: '[::ffff:0.0.0.1]:1 on dgram', input: base({ peer: '[::ffff:0.0.0.1]:1' }), check: (b) => expect(b[AT.v6addr + 15]).toBe(1) },
    { name: '[::0.0.0.1]:1 on dgram', input: base({ peer: '[::0.0.0.1]:1' }), check: (b) => expect(b[AT.v6addr + 15]).toBe(1) },
    { name: '0.0.0.1:1 on dgram', input: base({ peer: '0.0.0.1:1' }), check: (b) => expect(b[AT.v4addr + 3]).toBe(1) },
  ]);
});

describe('rule: the target name is 1..max UTF-16 units, no U+0000, no unpaired surrogate (targetName)', () => {
  rejects([
    { name: 'empty', input: base({ targetName: '' }), code: 'WSAEINVAL', field: 'targetName', message: 'empty' },
    { name: 'U+0000 inside', input: base({ targetName: 'host/a\u0000b' }), code: 'WSAEINVAL', field: 'targetName', message: 'U+0000 at index 6' },
    { name: 'U+0000 alone', input: base({ targetName: '\u0000' }), code: 'WSAEINVAL', field: 'targetName', message: 'U+0000 at index 0' },
    { name: 'lone high surrogate inside', input: base({ targetName: 'a\uD800b' }), code: 'WSAEINVAL', field: 'targetName', message: 'U+D800 at index 1' },
    { name: 'lone low surrogate inside', input: base({ targetName: 'a\uDC00b' }), code: 'WSAEINVAL', field: 'targetName', message: 'U+DC00 at index 1' },
    { name: 'high surrogate at the end', input: base({ targetName: 'ab\uD83D' }), code: 'WSAEINVAL', field: 'targetName', message: 'U+D83D at index 2' },
    { name: 'low before high (reversed pair)', input: base({ targetName: '\uDE00\uD83D' }), code: 'WSAEINVAL', field: 'targetName', message: 'U+DE00 at index 0' },
    { name: 'two highs then a low', input: base({ targetName: '\uD83D\uD83D\uDE00' }), code: 'WSAEINVAL', field: 'targetName', message: 'U+D83D at index 0' },
    { name: 'not a string', input: base({ targetName: 42 }), code: 'WSAEINVAL', field: 'targetName', message: 'number' },
    { name: '1025 units (default max 1024)', input: base({ targetName: 'x'.repeat(1025) }), code: 'WSAEINVAL', field: 'targetName', message: '1025' },
    { name: '11 units with max 10', input: base({ targetName: 'x'.repeat(11) }), options: { maxTargetNameLength: 10 }, code: 'WSAEINVAL', field: 'targetName', message: '11' },
    { name: 'astral pair crossing max 10 (9 + 2 units)', input: base({ targetName: 'x'.repeat(9) + '😀' }), options: { maxTargetNameLength: 10 }, code: 'WSAEINVAL', field: 'targetName', message: '11' },
    { name: '32768 units with max 32767', input: base({ targetName: 'x'.repeat(32768) }), options: { maxTargetNameLength: 32767 }, code: 'WSAEINVAL', field: 'targetName', message: '32768' },
  ]);
  accepts([
    { name: 'one unit', input: base({ targetName: 'x' }), check: (b) => expect(b.length).toBe(SIZEOF_HEADER + 2) },
    { name: 'a surrogate pair', input: base({ targetName: '\uD83D\uDE00' }), check: (b) => expect([...b.subarray(140, 144)]).toEqual(utf16le('\uD83D\uDE00')) },
    { name: 'exactly 1024 units (default max)', input: base({ targetName: 'y'.repeat(1024) }), check: (b) => expect(b.length).toBe(SIZEOF_HEADER + 2048) },
    { name: 'exactly 10 units with max 10', input: base({ targetName: 'x'.repeat(10) }), options: { maxTargetNameLength: 10 }, check: (b) => expect(b.length).toBe(SIZEOF_HEADER + 20) },
    { name: '9 + astral pair = 11 units with max 11', input: base({ targetName: 'x'.repeat(9) + '😀' }), options: { maxTargetNameLength: 11 }, check: (b) => expect(b.length).toBe(SIZEOF_HEADER + 22) },
    { name: 'exactly 32767 units with max 32767', input: base({ targetName: 'z'.repeat(32767) }), options: { maxTargetNameLength: 32767 }, check: (b) => expect(b.length).toBe(SIZEOF_HEADER + 65534) },
    { name: 'U+FFFF and U+E000 (not surrogates)', input: base({ targetName: '\uFFFF\uE000\uD7FF' }), check: (b) => expect(u16le(b, 140)).toBe(0xffff) },
  ]);
});

describe('rule: options are checked (WSAEINVAL options.*)', () => {
  const opt = (options: unknown) => options as CodecOptions;
  rejects([
    { name: "lengthUnit 'chars'", input: base(), options: opt({ lengthUnit: 'chars' }), code: 'WSAEINVAL', field: 'options.lengthUnit', message: 'chars' },
    { name: "socketType 'seqpacket'", input: base(), options: opt({ socketType: 'seqpacket' }), code: 'WSAEINVAL', field: 'options.socketType', message: 'seqpacket' },
    { name: 'maxTargetNameLength 0', input: base(), options: { maxTargetNameLength: 0 }, code: 'WSAEINVAL', field: 'options.maxTargetNameLength', message: '0' },
    { name: 'maxTargetNameLength 32768', input: base(), options: { maxTargetNameLength: 32768 }, code: 'WSAEINVAL', field: 'options.maxTargetNameLength', message: '32768' },
    { name: 'maxTargetNameLength 1.5', input: base(), options: { maxTargetNameLength: 1.5 }, code: 'WSAEINVAL', field: 'options.maxTargetNameLength', message: '1.5' },
    { name: 'maxTargetNameLength -1', input: base(), options: { maxTargetNameLength: -1 }, code: 'WSAEINVAL', field: 'options.maxTargetNameLength', message: '-1' },
    { name: "maxTargetNameLength '10'", input: base(), options: opt({ maxTargetNameLength: '10' }), code: 'WSAEINVAL', field: 'options.maxTargetNameLength', message: '10' },
  ]);
  it('the same bad options are reported by decode and validate', () => {
    const bytes = encodePeerTargetName(base());
    const bad = opt({ lengthUnit: 'chars' });
    expectError(caught(() => decodePeerTargetName(bytes, bad)), { code: 'WSAEINVAL', field: 'options.lengthUnit', message: 'chars' });
    const v = validatePeerTargetName(bytes, bad);
    expect(v.ok).toBe(false);
    if (!v.ok) expectError(v.error, { code: 'WSAEINVAL', field: 'options.lengthUnit', message: 'chars' });
  });
});

describe('rule: zones are numeric and agree with scopeId', () => {
  rejects([
    { name: "named zone '[fe80::1%eth0]:1'", input: base({ peer: '[fe80::1%eth0]:1' }), code: 'WSAEINVAL', field: 'peer.address', message: 'named zone' },
    { name: "named zone in an object 'fe80::1%eth0'", input: base({ peer: { address: 'fe80::1%eth0', port: 1 } }), code: 'WSAEINVAL', field: 'peer.address', message: 'named zone' },
    { name: "zone '%4294967296' (over u32)", input: base({ peer: '[fe80::1%4294967296]:1' }), code: 'WSAEINVAL', field: 'peer.address', message: '4294967295' },
    { name: "empty zone 'fe80::1%'", input: base({ peer: { address: 'fe80::1%', port: 1 } }), code: 'WSAEINVAL', field: 'peer.address', message: 'fe80::1%' },
    { name: 'zone %3 vs scopeId 4', input: base({ peer: { address: 'fe80::1%3', port: 1, scopeId: 4 } }), code: 'WSAEINVAL', field: 'peer.scopeId', message: '4' },
    { name: 'zone %3 vs scopeId 0', input: base({ peer: { address: 'fe80::1%3', port: 1, scopeId: 0 } }), code: 'WSAEINVAL', field: 'peer.scopeId', message: '%3' },
    { name: 'scopeId -1', input: base({ peer: { address: 'fe80::1', port: 1, scopeId: -1 } }), code: 'WSAEINVAL', field: 'peer.scopeId', message: '-1' },
    { name: 'flowInfo 2^32', input: base({ peer: { address: 'fe80::1', port: 1, flowInfo: 2 ** 32 } }), code: 'WSAEINVAL', field: 'peer.flowInfo', message: String(2 ** 32) },
  ]);
  accepts([
    { name: "'[fe80::1%7]:1' → scope_id 7", input: base({ peer: '[fe80::1%7]:1' }), check: (b) => expect(u32le(b, AT.v6scope)).toBe(7) },
    { name: "'[fe80::1%4294967295]:1' → scope_id 2^32-1", input: base({ peer: '[fe80::1%4294967295]:1' }), check: (b) => expect(u32le(b, AT.v6scope)).toBe(0xffffffff) },
    { name: 'zone %3 and scopeId 3 agree', input: base({ peer: { address: 'fe80::1%3', port: 1, scopeId: 3 } }), check: (b) => expect(u32le(b, AT.v6scope)).toBe(3) },
    { name: 'scopeId without zone', input: base({ peer: { address: 'fe80::1', port: 1, scopeId: 9 } }), check: (b) => expect(u32le(b, AT.v6scope)).toBe(9) },
  ]);
});

describe('rule: sockaddr_in has no flowinfo or scope id', () => {
  rejects([
    { name: 'flowInfo 5 on IPv4', input: base({ peer: { address: '192.0.2.1', port: 1, flowInfo: 5 } }), code: 'WSAEINVAL', field: 'peer.flowInfo', message: '5' },
    { name: 'scopeId 3 on IPv4', input: base({ peer: { address: '192.0.2.1', port: 1, scopeId: 3 } }), code: 'WSAEINVAL', field: 'peer.scopeId', message: '3' },
  ]);
});

describe('rule: the family hint is AF_INET / AF_INET6 and matches the address (WSAEAFNOSUPPORT)', () => {
  const hinted = (address: string, family: unknown) => base({ peer: { address, port: 1, family } });
  rejects([
    { name: "IPv4 address, family 'IPv6'", input: hinted('192.0.2.1', 'IPv6'), code: 'WSAEAFNOSUPPORT', field: 'peer.family', message: '192.0.2.1' },
    { name: "IPv6 address, family 'IPv4'", input: hinted('2001:db8::1', 'IPv4'), code: 'WSAEAFNOSUPPORT', field: 'peer.family', message: '2001:db8::1' },
    { name: "'::ffff:192.0.2.1', family 4", input: hinted('::ffff:192.0.2.1', 4), code: 'WSAEAFNOSUPPORT', field: 'peer.family', message: '::ffff:192.0.2.1' },
    { name: "family 'IPX'", input: hinted('192.0.2.1', 'IPX'), code: 'WSAEAFNOSUPPORT', field: 'peer.family', message: 'IPX' },
    { name: 'family 10 (Linux AF_INET6)', input: hinted('2001:db8::1', LINUX_AF_INET6), code: 'WSAEAFNOSUPPORT', field: 'peer.family', message: '10' },
  ]);
  accepts([
    ...(['IPv4', 'ipv4', 4, AF_INET] as const).map((family) => ({
      name: `IPv4 with family ${JSON.stringify(family)}`, input: hinted('192.0.2.1', family),
      check: (b: Uint8Array) => expect(u16le(b, AT.family)).toBe(AF_INET),
    })),
    ...(['IPv6', 'ipv6', 6, AF_INET6] as const).map((family) => ({
      name: `IPv6 with family ${JSON.stringify(family)}`, input: hinted('2001:db8::1', family),
      check: (b: Uint8Array) => expect(u16le(b, AT.family)).toBe(AF_INET6),
    })),
  ]);
});

describe("rule: peer text is 'a.b.c.d:port' or '[v6]:port', an IP address, never a host name", () => {
  // A 128-character peer that is valid: a zone written with many leading zeros.
  const longest = `[fe80::1%${'0'.repeat(115)}7]:1`;
  rejects([
    { name: "IPv6 without brackets '2001:db8::1:500'", input: base({ peer: '2001:db8::1:500' }), code: 'WSAEINVAL', field: 'peer', message: '2001:db8::1:500' },
    { name: "missing port '1.2.3.4'", input: base({ peer: '1.2.3.4' }), code: 'WSAEINVAL', field: 'peer', message: '1.2.3.4' },
    { name: "missing port '[::1]'", input: base({ peer: '[::1]' }), code: 'WSAEINVAL', field: 'peer', message: '[::1]' },
    { name: "empty port '[::1]:'", input: base({ peer: '[::1]:' }), code: 'WSAEINVAL', field: 'peer', message: '[::1]:' },
    { name: "port not a number '1.2.3.4:http'", input: base({ peer: '1.2.3.4:http' }), code: 'WSAEINVAL', field: 'peer', message: '1.2.3.4:http' },
    { name: "IPv4 in brackets '[192.0.2.1]:80'", input: base({ peer: '[192.0.2.1]:80' }), code: 'WSAEINVAL', field: 'peer', message: '[192.0.2.1]:80' },
    { name: "host name 'localhost:80'", input: base({ peer: 'localhost:80' }), code: 'WSAEINVAL', field: 'peer.address', message: 'host names' },
    { name: "host name 'example.com:443'", input: base({ peer: 'example.com:443' }), code: 'WSAEINVAL', field: 'peer.address', message: 'example.com' },
    { name: 'host name in an object', input: base({ peer: { address: 'localhost', port: 80 } }), code: 'WSAEINVAL', field: 'peer.address', message: 'localhost' },
    { name: 'address not a string', input: base({ peer: { address: 0x7f000001, port: 80 } }), code: 'WSAEINVAL', field: 'peer.address', message: 'number' },
    { name: 'peer is a number', input: base({ peer: 5 }), code: 'WSAEINVAL', field: 'peer', message: 'number' },
    { name: 'non-ASCII digits', input: base({ peer: '１.2.3.4:80' }), code: 'WSAEINVAL', field: 'peer.address', message: '１.2.3.4' },
    { name: '129 characters', input: base({ peer: `[fe80::1%${'0'.repeat(116)}7]:1` }), code: 'WSAEINVAL', field: 'peer', message: '129 characters' },
    { name: '130 characters', input: base({ peer: '1'.repeat(130) }), code: 'WSAEINVAL', field: 'peer', message: '130 characters' },
    { name: '200 characters', input: base({ peer: `[fe80::1%${'0'.repeat(187)}7]:1` }), code: 'WSAEINVAL', field: 'peer', message: '200 characters' },
  ]);
  accepts([
    { name: 'exactly 128 characters', input: base({ peer: longest }), check: (b) => expect(u32le(b, AT.v6scope)).toBe(7) },
    { name: "upper-case hex '[2001:DB8::A]:1'", input: base({ peer: '[2001:DB8::A]:1' }), check: (b) => expect(b[AT.v6addr + 15]).toBe(10) },
  ]);
  it('the 128-character peer really is 128 characters (guards the case above)', () => {
    expect(longest.length).toBe(128);
  });
});

// ---- decode side ---------------------------------------------------------------------------

interface DecodeCase extends ExpectedError {
  name: string;
  bytes: unknown;
  options?: CodecOptions;
  /** Where the problem must start and how long it must be; `end` bounds a run instead of `length`. */
  offset?: number;
  length?: number;
  end?: number;
}

const v4 = (r: RawRecord = {}) => buildRecord({ family: AF_INET, name: 'ab', ...r });
const v6 = (r: RawRecord = {}) => buildRecord({ family: AF_INET6, name: 'ab', ...r });
const V6_UNSPEC = new Array(16).fill(0);
const V6_MAPPED_UNSPEC = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0];

/** Decode and validate both report the case's problem as the first one. */
function decodeRejects(cases: DecodeCase[]) {
  it.each(cases)('$name → $code $field', ({ bytes, options, offset, length, end, name: _n, ...expected }) => {
    const thrown = caught(() => decodePeerTargetName(bytes as Uint8Array, options));
    expectError(thrown, expected);
    const v = validatePeerTargetName(bytes as Uint8Array, options);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.error).toBe(v.errors[0]);
    expectError(v.error, expected);
    expect({ code: v.error.code, field: v.error.field, message: v.error.message })
      .toEqual({ code: thrown.code, field: thrown.field, message: thrown.message });
    if (offset !== undefined) {
      expect(thrown.offset).toBe(offset);
      if (length !== undefined) expect(thrown.length).toBe(length);
      if (end !== undefined) {
        expect(thrown.length).toBeGreaterThanOrEqual(1);
        expect(thrown.offset! + thrown.length!).toBeLessThanOrEqual(end);
      }
    }
  });
}

describe('decode rule: a buffer is needed (WSAEFAULT bytes)', () => {
  decodeRejects([
    { name: 'null', bytes: null, code: 'WSAEFAULT', field: 'bytes', message: 'null' },
    { name: 'undefined', bytes: undefined, code: 'WSAEFAULT', field: 'bytes', message: 'undefined' },
    { name: 'a number', bytes: 144, code: 'WSAEFAULT', field: 'bytes', message: 'number' },
    { name: 'a string', bytes: '00'.repeat(144), code: 'WSAEFAULT', field: 'bytes', message: 'string' },
  ]);
});

describe('decode rule: at least sizeof = 144 bytes (WSAEMSGSIZE length)', () => {
  decodeRejects([0, 1, 100, 143].map((n) => ({
    name: `${n} bytes`, bytes: v4().subarray(0, n), code: 'WSAEMSGSIZE' as const, field: 'length', message: `${n} bytes`,
    offset: 0, length: n,
  })));
  it('accepts an ArrayBuffer and a DataView over the same bytes', () => {
    const bytes = v4();
    const expected = decodePeerTargetName(bytes);
    expect(decodePeerTargetName(bytes.slice().buffer)).toEqual(expected);
    const host = new Uint8Array(bytes.length + 16);
    host.set(bytes, 16);
    expect(decodePeerTargetName(new DataView(host.buffer, 16, bytes.length))).toEqual(expected);
  });
});

describe('decode rule: protocol is 0–2 (WSAEINVAL protocol)', () => {
  decodeRejects([
    { name: 'protocol 3', bytes: v4({ protocol: 3 }), code: 'WSAEINVAL', field: 'protocol', message: '3', offset: 0, length: 4 },
    { name: 'protocol 0xffffffff', bytes: v4({ protocol: 0xffffffff }), code: 'WSAEINVAL', field: 'protocol', message: '4294967295', offset: 0, length: 4 },
  ]);
});

describe('decode rule: sa_family is 2 or 23 (WSAEAFNOSUPPORT peer.family)', () => {
  decodeRejects([
    { name: 'family 5', bytes: v4({ family: 5 }), code: 'WSAEAFNOSUPPORT', field: 'peer.family', message: 'family 5', offset: AT.family, length: 2 },
    { name: 'family 10 (Linux AF_INET6)', bytes: v4({ family: LINUX_AF_INET6 }), code: 'WSAEAFNOSUPPORT', field: 'peer.family', message: 'family 10', offset: AT.family, length: 2 },
    { name: 'family 10 on stream', bytes: v4({ family: LINUX_AF_INET6 }), options: STREAM, code: 'WSAEAFNOSUPPORT', field: 'peer.family', message: 'family 10', offset: AT.family, length: 2 },
    { name: 'family 0 but other bytes set', bytes: patched(v4({ family: 0 }), { [AT.port]: 1 }), options: STREAM, code: 'WSAEAFNOSUPPORT', field: 'peer.family', message: 'family 0', offset: AT.family, length: 2 },
    { name: 'family 2 stored big-endian (0x0200)', bytes: patched(v4(), { [AT.family]: 0, [AT.family + 1]: 2 }), code: 'WSAEAFNOSUPPORT', field: 'peer.family', message: 'family 512', offset: AT.family, length: 2 },
  ]);
});

describe('decode rule: PeerTargetNameStringLen fits the buffer and is even in bytes', () => {
  decodeRejects([
    { name: 'units: 5 in a 148-byte buffer', bytes: v4({ stringLength: 5 }), code: 'WSAEMSGSIZE', field: 'stringLength', message: '148', offset: OFFSET_STRING_LENGTH, length: 4 },
    { name: 'units: 0xffffffff', bytes: v4({ stringLength: 0xffffffff }), code: 'WSAEMSGSIZE', field: 'stringLength', message: '4294967295', offset: OFFSET_STRING_LENGTH, length: 4 },
    { name: 'bytes (ipsec2 auto): 10 in a 148-byte buffer', bytes: v4({ protocol: 2, stringLength: 10 }), code: 'WSAEMSGSIZE', field: 'stringLength', message: '148', offset: OFFSET_STRING_LENGTH, length: 4 },
    { name: 'bytes (ipsec2 auto): 6 = 3 units, the third is the NUL', bytes: v4({ protocol: 2, stringLength: 6 }), code: 'WSAEINVAL', field: 'targetName', message: 'U+0000 at index 2', offset: OFFSET_STRINGS + 4, length: 2 },
    { name: 'bytes (ipsec2 auto): odd 3', bytes: v4({ protocol: 2, stringLength: 3 }), code: 'WSAEINVAL', field: 'stringLength', message: 'odd', offset: OFFSET_STRING_LENGTH, length: 4 },
    { name: 'bytes (forced): odd 3', bytes: v4({ protocol: 0, stringLength: 3 }), options: { lengthUnit: 'bytes' }, code: 'WSAEINVAL', field: 'stringLength', message: 'odd', offset: OFFSET_STRING_LENGTH, length: 4 },
    { name: 'length 0 (empty name)', bytes: v4({ stringLength: 0 }), code: 'WSAEINVAL', field: 'targetName', message: 'empty', offset: OFFSET_STRING_LENGTH },
    { name: 'length 11 with max 10', bytes: v4({ name: 'x'.repeat(11) }), options: { maxTargetNameLength: 10 }, code: 'WSAEINVAL', field: 'targetName', message: '11', offset: OFFSET_STRING_LENGTH },
  ]);
  it('units: an odd count is fine (3 units)', () => {
    expect(decodePeerTargetName(v4({ name: 'abc' })).targetName).toBe('abc');
  });
});

describe('decode rule: the name has no U+0000 and no unpaired surrogate (targetName)', () => {
  decodeRejects([
    { name: 'U+0000 at index 1', bytes: v4({ name: 'a\u0000b' }), code: 'WSAEINVAL', field: 'targetName', message: 'index 1', offset: OFFSET_STRINGS + 2, length: 2 },
    { name: 'lone low surrogate at index 0', bytes: v4({ name: '\uDC00b' }), code: 'WSAEINVAL', field: 'targetName', message: 'index 0', offset: OFFSET_STRINGS, length: 2 },
    { name: 'high surrogate at the end', bytes: v4({ name: 'ab\uD800' }), code: 'WSAEINVAL', field: 'targetName', message: 'index 2', offset: OFFSET_STRINGS + 4, length: 2 },
  ]);
});

describe('decode rule: padding, SOCKADDR_STORAGE slack, sin_zero and tail are zero', () => {
  decodeRejects([
    { name: 'padding byte 4', bytes: patched(v4(), { 4: 0x7f }), code: 'WSAEINVAL', field: 'padding', message: 'byte 4', offset: 4, end: 8 },
    { name: 'padding byte 7', bytes: patched(v4(), { 7: 1 }), code: 'WSAEINVAL', field: 'padding', message: 'byte 7', offset: 7, length: 1 },
    { name: 'IPv4 sin_zero byte 16', bytes: patched(v4(), { [AT.sinZero]: 1 }), code: 'WSAEINVAL', field: 'peer', message: 'byte 16', offset: 16, end: 24 },
    { name: 'IPv4 sin_zero byte 23', bytes: patched(v4(), { [AT.sinZero + 7]: 1 }), code: 'WSAEINVAL', field: 'peer', message: 'byte 23', offset: 23, end: 24 },
    { name: 'IPv4 storage slack byte 24', bytes: patched(v4(), { 24: 1 }), code: 'WSAEINVAL', field: 'peer', message: 'byte 24', offset: 24, end: 136 },
    { name: 'IPv4 storage slack byte 135', bytes: patched(v4(), { 135: 0xff }), code: 'WSAEINVAL', field: 'peer', message: 'byte 135', offset: 135, length: 1 },
    { name: 'IPv6 storage slack byte 36', bytes: patched(v6(), { 36: 1 }), code: 'WSAEINVAL', field: 'peer', message: 'byte 36', offset: 36, end: 136 },
    { name: 'IPv6 storage slack byte 135', bytes: patched(v6(), { 135: 1 }), code: 'WSAEINVAL', field: 'peer', message: 'byte 135', offset: 135, length: 1 },
    { name: 'tail byte 144 (the NUL)', bytes: patched(v4(), { 144: 0x41 }), code: 'WSAEINVAL', field: 'tail', message: 'byte 144', offset: 144, end: 148 },
    { name: 'tail byte 147', bytes: patched(v4(), { 147: 1 }), code: 'WSAEINVAL', field: 'tail', message: 'byte 147', offset: 147, length: 1 },
    { name: 'tail of a longer buffer (byte 199)', bytes: patched(v4({ total: 200 }), { 199: 1 }), code: 'WSAEINVAL', field: 'tail', message: 'byte 199', offset: 199, length: 1 },
    { name: 'tail of a 70000-byte buffer (byte 69999)', bytes: patched(v4({ total: 70000 }), { 69999: 1 }), code: 'WSAEINVAL', field: 'tail', message: 'byte 69999', offset: 69999, length: 1 },
  ]);
});

describe('decode rule: a dgram peer is present, specified, with a port', () => {
  decodeRejects([
    { name: 'all-zero PeerAddress on dgram', bytes: buildRecord({ family: 0, name: 'ab' }), code: 'WSAEINVAL', field: 'peer', message: 'dgram', offset: OFFSET_PEER, length: SIZE_STORAGE },
    { name: 'IPv4 port 0', bytes: v4({ port: 0 }), code: 'WSAEINVAL', field: 'peer.port', message: 'port 0 is not a valid peer port', offset: AT.port, length: 2 },
    { name: 'IPv6 port 0', bytes: v6({ port: 0 }), code: 'WSAEINVAL', field: 'peer.port', message: 'port 0 is not a valid peer port', offset: AT.port, length: 2 },
    { name: 'IPv4 0.0.0.0', bytes: v4({ address: [0, 0, 0, 0] }), code: 'WSAEINVAL', field: 'peer.address', message: 'unspecified', offset: AT.v4addr, length: 4 },
    { name: 'IPv6 ::', bytes: v6({ address: V6_UNSPEC }), code: 'WSAEINVAL', field: 'peer.address', message: 'unspecified', offset: AT.v6addr, length: 16 },
    { name: 'IPv6 ::ffff:0.0.0.0', bytes: v6({ address: V6_MAPPED_UNSPEC }), code: 'WSAEINVAL', field: 'peer.address', message: 'unspecified', offset: AT.v6addr, length: 16 },
  ]);
  it.each([
    ['all-zero PeerAddress', buildRecord({ family: 0, name: 'ab' }), null],
    ['IPv4 port 0', v4({ port: 0 }), { family: 'ipv4', address: '192.0.2.10', port: 0, flowInfo: 0, scopeId: 0 }],
    ['IPv4 0.0.0.0', v4({ address: [0, 0, 0, 0] }), { family: 'ipv4', address: '0.0.0.0', port: 4500, flowInfo: 0, scopeId: 0 }],
    ['IPv6 ::', v6({ address: V6_UNSPEC, port: 0 }), { family: 'ipv6', address: '::', port: 0, flowInfo: 0, scopeId: 0 }],
  ] as const)('%s is fine on stream', (_name, bytes, peer) => {
    expect(validatePeerTargetName(bytes, STREAM)).toEqual({ ok: true });
    expect(decodePeerTargetName(bytes, STREAM).peer).toEqual(peer);
  });
});

describe('decode: a valid hand-built buffer', () => {
  it('IPv6 with flowinfo and scope id decodes field by field', () => {
    const bytes = v6({
      protocol: 1, port: 500, flowInfo: 0x000abcde, scopeId: 0x01020304,
      address: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], name: 'host/x',
    });
    expect(decodePeerTargetName(bytes)).toEqual({
      protocol: 'ipsec',
      peer: { family: 'ipv6', address: '2001:db8::1', port: 500, flowInfo: 0x000abcde, scopeId: 0x01020304 },
      targetName: 'host/x', stringLength: 6, lengthUnit: 'units', totalLength: 156,
    });
  });
  it('IPv4 decodes field by field', () => {
    expect(decodePeerTargetName(v4({ protocol: 2, port: 65535, address: [10, 1, 2, 3], name: 'ab', unit: 'bytes' }))).toEqual({
      protocol: 'ipsec2',
      peer: { family: 'ipv4', address: '10.1.2.3', port: 65535, flowInfo: 0, scopeId: 0 },
      targetName: 'ab', stringLength: 4, lengthUnit: 'bytes', totalLength: 148,
    });
  });
});

describe('validatePeerTargetName returns ALL problems, first byte first', () => {
  it('protocol, padding, port 0, name NUL and tail together', () => {
    const bytes = patched(v4({ protocol: 7, port: 0, name: 'a\u0000bc' }), { 5: 2, [OFFSET_STRINGS + 8 + 1]: 9 });
    const v = validatePeerTargetName(bytes);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.errors.map((e) => [e.field, e.code, e.offset])).toEqual([
      ['protocol', 'WSAEINVAL', 0],
      ['padding', 'WSAEINVAL', 5],
      ['peer.port', 'WSAEINVAL', AT.port],
      ['targetName', 'WSAEINVAL', OFFSET_STRINGS + 2],
      ['tail', 'WSAEINVAL', OFFSET_STRINGS + 9],
    ]);
    expect(v.error).toBe(v.errors[0]);
    expect(caught(() => decodePeerTargetName(bytes)).message).toBe(v.errors[0].message);
  });
  it('a short buffer: the length problem and what the bytes there already show', () => {
    const v = validatePeerTargetName(patched(v4({ protocol: 9 }), { 6: 1 }).subarray(0, 20));
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.errors.map((e) => [e.field, e.offset])).toEqual([['length', 0], ['protocol', 0], ['padding', 6]]);
  });
  it('a port 0 (byte 10) is listed before non-zero storage slack (byte 30)', () => {
    const v = validatePeerTargetName(patched(v4({ port: 0 }), { 30: 1 }));
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.errors.map((e) => [e.field, e.offset])).toEqual([['peer.port', AT.port], ['peer', 30]]);
  });
  it('an unspecified IPv6 address (byte 16) is listed before non-zero storage slack (byte 40)', () => {
    const v = validatePeerTargetName(patched(v6({ address: V6_UNSPEC }), { 40: 1 }));
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.errors.map((e) => [e.field, e.offset])).toEqual([['peer.address', AT.v6addr], ['peer', 40]]);
  });
  // A buffer cut short (stringLength 5 units, room for 4): the length is at fault, and so is
  // whatever is wrong inside the units that are there; only a high surrogate cut from its pair
  // at the very end is the length's fault alone.
  it.each([
    ['U+0000 as the last unit held', [0x61, 0x62, 0x63, 0x0000], [['stringLength', 136], ['targetName', 146]]],
    ['U+0000 before the last unit', [0x61, 0x62, 0x0000, 0x63], [['stringLength', 136], ['targetName', 144]]],
    ['lone low surrogate as the last unit held', [0x61, 0x62, 0x63, 0xdc00], [['stringLength', 136], ['targetName', 146]]],
    ['high surrogate as the last unit held (its pair cut off)', [0x61, 0x62, 0x63, 0xd800], [['stringLength', 136]]],
  ] as const)('a cut-short buffer with %s', (_name, units, expected) => {
    const bytes = v4({ name: String.fromCharCode(...units), stringLength: 5, total: 148 });
    expect(bytes.length).toBe(148);
    const v = validatePeerTargetName(bytes);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.errors.map((e) => [e.field, e.offset])).toEqual(expected);
    expect(v.error.code).toBe('WSAEMSGSIZE');
  });
  it('offsets never decrease for a buffer broken everywhere', () => {
    const bytes = patched(v6({ protocol: 3, port: 0, address: V6_UNSPEC, name: '\uDC00x', stringLength: 3 }),
      { 4: 1, 50: 1 });
    const v = validatePeerTargetName(bytes);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    const offsets = v.errors.map((e) => e.offset!);
    expect(v.errors.length).toBeGreaterThanOrEqual(5);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
  });
});

// ---- docs/reference.md §2: the length-unit policy and the total length ------------------------------------

describe('length-unit policy (docs/reference.md §2)', () => {
  const name = 'host/é😀'; // 8 UTF-16 units: the astral character counts twice
  const n = 8;
  const cases = [
    { protocol: 'default', lengthUnit: undefined, stored: n, unit: 'units' },
    { protocol: 'ipsec', lengthUnit: undefined, stored: n, unit: 'units' },
    { protocol: 'ipsec2', lengthUnit: undefined, stored: 2 * n, unit: 'bytes' },
    { protocol: 'default', lengthUnit: 'auto', stored: n, unit: 'units' },
    { protocol: 'ipsec', lengthUnit: 'auto', stored: n, unit: 'units' },
    { protocol: 'ipsec2', lengthUnit: 'auto', stored: 2 * n, unit: 'bytes' },
    { protocol: 'default', lengthUnit: 'units', stored: n, unit: 'units' },
    { protocol: 'ipsec', lengthUnit: 'units', stored: n, unit: 'units' },
    { protocol: 'ipsec2', lengthUnit: 'units', stored: n, unit: 'units' },
    { protocol: 'default', lengthUnit: 'bytes', stored: 2 * n, unit: 'bytes' },
    { protocol: 'ipsec', lengthUnit: 'bytes', stored: 2 * n, unit: 'bytes' },
    { protocol: 'ipsec2', lengthUnit: 'bytes', stored: 2 * n, unit: 'bytes' },
  ] as const;
  it.each(cases)('$protocol with lengthUnit $lengthUnit stores $stored ($unit) and decodes back', ({ protocol, lengthUnit, stored, unit }) => {
    const options: CodecOptions = lengthUnit ? { lengthUnit } : {};
    const bytes = encodePeerTargetName({ protocol, peer: V4, targetName: name }, options);
    expect(u32le(bytes, OFFSET_STRING_LENGTH)).toBe(stored);
    expect([...bytes.subarray(OFFSET_STRINGS, OFFSET_STRINGS + 2 * n)]).toEqual(utf16le(name));
    const decoded = decodePeerTargetName(bytes, options);
    expect(decoded).toMatchObject({ protocol, targetName: name, stringLength: stored, lengthUnit: unit, totalLength: 144 + 2 * n });
  });

  it('a units-stored ipsec2 buffer read under auto (bytes) is caught by the tail check', () => {
    const bytes = encodePeerTargetName({ protocol: 'ipsec2', peer: V4, targetName: 'abcd' }, { lengthUnit: 'units' });
    expect(u32le(bytes, OFFSET_STRING_LENGTH)).toBe(4);
    const v = validatePeerTargetName(bytes); // auto: 4 bytes = 2 units, then 'cd' is in the tail
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.errors.map((e) => [e.field, e.offset])).toEqual([['tail', OFFSET_STRINGS + 4]]);
    expect(decodePeerTargetName(bytes, { lengthUnit: 'units' }).targetName).toBe('abcd');
  });

  it('a bytes-stored default buffer read under auto (units) overruns the buffer', () => {
    const bytes = encodePeerTargetName({ protocol: 'default', peer: V4, targetName: 'abcd' }, { lengthUnit: 'bytes' });
    expect(u32le(bytes, OFFSET_STRING_LENGTH)).toBe(8);
    expectError(caught(() => decodePeerTargetName(bytes)), { code: 'WSAEMSGSIZE', field: 'stringLength', message: '152' });
    expect(decodePeerTargetName(bytes, { lengthUnit: 'bytes' }).targetName).toBe('abcd');
  });

  it.each([1, 2, 3, 7, 100, 1024])('total length is 144 + 2n and bytes 140+2n..143+2n are zero (n = %i)', (units) => {
    for (const protocol of ['default', 'ipsec', 'ipsec2'] as const) {
      for (const lengthUnit of ['auto', 'units', 'bytes'] as const) {
        const targetName = 'q'.repeat(units);
        const bytes = encodePeerTargetName({ protocol, peer: '[2001:db8::5]:9', targetName }, { lengthUnit });
        expect(bytes.length).toBe(144 + 2 * units);
        expect([...bytes.subarray(140 + 2 * units)]).toEqual([0, 0, 0, 0]);
        expect([...bytes.subarray(OFFSET_PADDING, OFFSET_PADDING + 4)]).toEqual([0, 0, 0, 0]);
      }
    }
  });

  it('an astral name counts its surrogate pairs as two units each', () => {
    const bytes = encodePeerTargetName({ protocol: 'ipsec', peer: V4, targetName: '😀😀😀' });
    expect(bytes.length).toBe(144 + 12);
    expect(u32le(bytes, OFFSET_STRING_LENGTH)).toBe(6);
  });
});
