// The WASM IP parser against Node: an address is accepted exactly when net.isIPv4/net.isIPv6 accept
// it, except for the two documented differences (docs/reference.md §2: a zone must be numeric, and it must fit
// sin6_scope_id's 32 bits). Accepted addresses must produce the bytes Node's own URL parser gives.
import net from 'node:net';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { PeerTargetNameError, decodePeerTargetName, encodePeerTargetName } from '../host/index.js';
import { formatIPv6 } from '../host/codec/address.js';
import {
  AF_INET, AF_INET6, AT, referenceIPv4Bytes, referenceIPv6Bytes, u16be, u16le, u32le,
} from './support/spec-reference.js';

const RUNS = { seed: 0x1b6c4e5, numRuns: 500 } as const;
// Stream, so that '0.0.0.0' and '::' are parsed like any other address (the dgram rule is elsewhere).
const STREAM = { socketType: 'stream' } as const;

type Verdict =
  | { accept: true; family: 'ipv4' | 'ipv6'; bytes: number[]; scopeId: number }
  | { accept: false; because: 'node rejects' | 'named zone' | 'zone too large' };

/** What the codec must do with address text s, decided from Node and docs/reference.md §2 alone. */
function verdict(s: string): Verdict {
  if (net.isIPv4(s)) return { accept: true, family: 'ipv4', bytes: referenceIPv4Bytes(s), scopeId: 0 };
  if (!net.isIPv6(s)) return { accept: false, because: 'node rejects' };
  const at = s.indexOf('%');
  const address = at < 0 ? s : s.slice(0, at);
  const zone = at < 0 ? undefined : s.slice(at + 1);
  if (zone !== undefined && !/^[0-9]+$/.test(zone)) return { accept: false, because: 'named zone' };
  if (zone !== undefined && BigInt(zone) > 0xffffffffn) return { accept: false, because: 'zone too large' };
  return { accept: true, family: 'ipv6', bytes: referenceIPv6Bytes(address), scopeId: zone === undefined ? 0 : Number(zone) };
}

/** The text-peer spelling of s: brackets for anything with a colon. */
const asText = (s: string) => (s.includes(':') ? `[${s}]:1` : `${s}:1`);

function encodeBoth(s: string): { object: Uint8Array | PeerTargetNameError; text: Uint8Array | PeerTargetNameError } {
  const run = (peer: string | { address: string; port: number }) => {
    try {
      return encodePeerTargetName({ protocol: 0, peer, targetName: 'x' }, STREAM);
    } catch (error) {
      expect(error).toBeInstanceOf(PeerTargetNameError);
      return error as PeerTargetNameError;
    }
  };
  return { object: run({ address: s, port: 1 }), text: run(asText(s)) };
}

function checkAccepted(bytes: Uint8Array, v: Extract<Verdict, { accept: true }>): void {
  expect(u16be(bytes, AT.port)).toBe(1);
  const decoded = decodePeerTargetName(bytes, STREAM).peer!;
  expect(decoded.family).toBe(v.family);
  if (v.family === 'ipv4') {
    expect(u16le(bytes, AT.family)).toBe(AF_INET);
    expect([...bytes.subarray(AT.v4addr, AT.v4addr + 4)]).toEqual(v.bytes);
    expect(referenceIPv4Bytes(decoded.address)).toEqual(v.bytes);
  } else {
    expect(u16le(bytes, AT.family)).toBe(AF_INET6);
    expect([...bytes.subarray(AT.v6addr, AT.v6addr + 16)]).toEqual(v.bytes);
    expect(u32le(bytes, AT.v6scope)).toBe(v.scopeId);
    expect(decoded.scopeId).toBe(v.scopeId);
    expect(referenceIPv6Bytes(decoded.address)).toEqual(v.bytes);
  }
}

function checkRejected(result: Uint8Array | PeerTargetNameError, v: Extract<Verdict, { accept: false }>, form: 'object' | 'text'): void {
  expect(result).toBeInstanceOf(PeerTargetNameError);
  const e = result as PeerTargetNameError;
  expect(e.code).toBe('WSAEINVAL');
  if (form === 'object') expect(e.field).toBe('peer.address');
  else expect(['peer', 'peer.address']).toContain(e.field);
  if (v.because === 'named zone') expect(e.message).toContain('named zone');
  if (v.because === 'zone too large') expect(e.message).toContain('4294967295');
}

/** The whole check for one address text, both spellings. */
function crossCheck(s: string): void {
  const v = verdict(s);
  const { object, text } = encodeBoth(s);
  for (const [form, result] of [['object', object], ['text', text]] as const) {
    if (v.accept) {
      if (!(result instanceof Uint8Array)) {
        expect.fail(`${form} peer ${JSON.stringify(s)}: Node accepts it, the codec says ${result.message}`);
      }
      checkAccepted(result, v);
    } else {
      if (result instanceof Uint8Array) {
        expect.fail(`${form} peer ${JSON.stringify(s)}: expected a rejection (${v.because}), the codec accepted it`);
      }
      checkRejected(result, v, form);
    }
  }
}

// ---- explicit edge cases, with bytes written out by hand ------------------------------------

const g = (...groups: number[]) => groups.flatMap((x) => [x >> 8, x & 0xff]);

describe('edge cases', () => {
  const accepted: [string, 'ipv4' | 'ipv6', number[], number][] = [
    ['::', 'ipv6', g(0, 0, 0, 0, 0, 0, 0, 0), 0],
    ['::1', 'ipv6', g(0, 0, 0, 0, 0, 0, 0, 1), 0],
    ['1::', 'ipv6', g(1, 0, 0, 0, 0, 0, 0, 0), 0],
    ['1:2:3:4:5:6:7::', 'ipv6', g(1, 2, 3, 4, 5, 6, 7, 0), 0],
    ['::1:2:3:4:5:6:7', 'ipv6', g(0, 1, 2, 3, 4, 5, 6, 7), 0],
    ['1::8', 'ipv6', g(1, 0, 0, 0, 0, 0, 0, 8), 0],
    ['1:2:3:4:5:6:7:8', 'ipv6', g(1, 2, 3, 4, 5, 6, 7, 8), 0],
    ['FFFF:abcd::Ef01', 'ipv6', g(0xffff, 0xabcd, 0, 0, 0, 0, 0, 0xef01), 0],
    ['0001:02::', 'ipv6', g(1, 2, 0, 0, 0, 0, 0, 0), 0],
    ['::ffff:1.2.3.4', 'ipv6', g(0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304), 0],
    ['::ffff:192.0.2.1', 'ipv6', g(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201), 0],
    ['::1.2.3.4', 'ipv6', g(0, 0, 0, 0, 0, 0, 0x0102, 0x0304), 0],
    ['1:2:3:4:5:6:1.2.3.4', 'ipv6', g(1, 2, 3, 4, 5, 6, 0x0102, 0x0304), 0],
    ['1:2:3:4:5::1.2.3.4', 'ipv6', g(1, 2, 3, 4, 5, 0, 0x0102, 0x0304), 0],
    ['fe80::1%7', 'ipv6', g(0xfe80, 0, 0, 0, 0, 0, 0, 1), 7],
    ['fe80::1%0', 'ipv6', g(0xfe80, 0, 0, 0, 0, 0, 0, 1), 0],
    ['fe80::1%007', 'ipv6', g(0xfe80, 0, 0, 0, 0, 0, 0, 1), 7],
    ['fe80::1%4294967295', 'ipv6', g(0xfe80, 0, 0, 0, 0, 0, 0, 1), 0xffffffff],
    ['0.0.0.0', 'ipv4', [0, 0, 0, 0], 0],
    ['255.255.255.255', 'ipv4', [255, 255, 255, 255], 0],
    ['1.20.100.0', 'ipv4', [1, 20, 100, 0], 0],
  ];
  it.each(accepted)('%s is accepted as %s with the right bytes', (s, family, bytes, scopeId) => {
    // First: Node agrees (so the table itself is right).
    expect(net.isIP(s)).toBe(family === 'ipv4' ? 4 : 6);
    const { object, text } = encodeBoth(s);
    for (const result of [object, text]) {
      expect(result).toBeInstanceOf(Uint8Array);
      checkAccepted(result as Uint8Array, { accept: true, family, bytes, scopeId });
    }
  });

  const rejected: [string, boolean, string][] = [
    // [text, Node accepts it, fragment of our message]
    ['1:2:3:4:5:6:7:1.2.3.4', false, 'not an IPv4 or IPv6 address'],
    ['1:2:3:4:5:6::1.2.3.4', false, 'not an IPv4 or IPv6 address'],
    ['1:2:3:4:5:6:7:8:9', false, 'not an IPv4 or IPv6 address'],
    ['1::2::3', false, 'not an IPv4 or IPv6 address'],
    ['1:::2', false, 'not an IPv4 or IPv6 address'],
    [':1:2:3:4:5:6:7', false, 'not an IPv4 or IPv6 address'],
    ['1:2:3:4:5:6:7:', false, 'not an IPv4 or IPv6 address'],
    ['1::2:3:4:5:6:7:8', false, 'not an IPv4 or IPv6 address'],
    ['12345::', false, 'not an IPv4 or IPv6 address'],
    ['::ffff:01.2.3.4', false, 'not an IPv4 or IPv6 address'],
    ['::1.2.3', false, 'not an IPv4 or IPv6 address'],
    ['01.2.3.4', false, 'not an IPv4 or IPv6 address'],
    ['1.2.3.256', false, 'not an IPv4 or IPv6 address'],
    ['1.2.3', false, 'not an IPv4 or IPv6 address'],
    ['1.2.3.4.5', false, 'not an IPv4 or IPv6 address'],
    ['1.2.3.4%1', false, 'not an IPv4 or IPv6 address'],
    ['0x7f.0.0.1', false, 'not an IPv4 or IPv6 address'],
    ['', false, 'not an IPv4 or IPv6 address'],
    ['fe80::1%', false, 'not an IPv4 or IPv6 address'],
    ['fe80::1%1%2', false, 'not an IPv4 or IPv6 address'],
    ['fe80::1%4294967296', true, '4294967295'],
    ['fe80::1%99999999999999999999', true, '4294967295'],
    ['fe80::1%eth0', true, 'named zone'],
    ['fe80::1%1.2', true, 'named zone'],
    ['::1%:', true, 'named zone'],
  ];
  it.each(rejected)('%s is rejected (Node accepts: %s)', (s, nodeAccepts, fragment) => {
    expect(net.isIP(s) !== 0).toBe(nodeAccepts);
    const { object, text } = encodeBoth(s);
    for (const [form, result] of [['object', object], ['text', text]] as const) {
      expect(result).toBeInstanceOf(PeerTargetNameError);
      const e = result as PeerTargetNameError;
      expect(e.code).toBe('WSAEINVAL');
      if (form === 'object') {
        expect(e.field).toBe('peer.address');
        expect(e.message).toContain(fragment);
      } else {
        expect(['peer', 'peer.address']).toContain(e.field);
        if (nodeAccepts) expect(e.message).toContain(fragment);
      }
    }
  });

  it("'::ffff:192.0.2.1' stays a sockaddr_in6 (family 23) and decodes as ::ffff:a.b.c.d", () => {
    const bytes = encodePeerTargetName({ protocol: 0, peer: '[::ffff:192.0.2.1]:500', targetName: 'x' });
    expect([bytes[AT.family], bytes[AT.family + 1]]).toEqual([23, 0]);
    expect(decodePeerTargetName(bytes).peer).toEqual({ family: 'ipv6', address: '::ffff:192.0.2.1', port: 500, flowInfo: 0, scopeId: 0 });
  });
});

// ---- generated addresses ---------------------------------------------------------------------

const hexGroup = fc.stringMatching(/^[0-9a-fA-F]{1,5}$/); // 5 digits: one too many
const CHARS = '0123456789abcdefABCDEF:.%[]'.split('');

const generators: [string, fc.Arbitrary<string>][] = [
  ['fc.ipV4()', fc.ipV4()],
  ['fc.ipV6()', fc.ipV6()],
  ['fc.ipV4Extended() (Node rejects the non-dotted-decimal forms)', fc.ipV4Extended()],
  ['random characters from 0-9a-fA-F:.%[]', fc.string({ unit: fc.constantFrom(...CHARS), minLength: 0, maxLength: 45 })],
  ['IPv4 with leading zeros', fc.tuple(fc.ipV4(), fc.nat(3), fc.integer({ min: 1, max: 2 })).map(([a, i, z]) => {
    const parts = a.split('.');
    parts[i] = '0'.repeat(z) + parts[i];
    return parts.join('.');
  })],
  ['7, 8 or 9 groups', fc.array(hexGroup, { minLength: 7, maxLength: 9 }).map((gs) => gs.join(':'))],
  ['a second :: inserted', fc.tuple(fc.ipV6(), fc.nat()).map(([a, at]) => {
    const i = at % (a.length + 1);
    return a.slice(0, i) + '::' + a.slice(i);
  })],
  ['v4 tails after 0–7 groups', fc.tuple(
    fc.array(hexGroup, { maxLength: 7 }),
    fc.constantFrom(':', '::'),
    fc.oneof(fc.ipV4(), fc.ipV4Extended()),
  ).map(([gs, sep, v4]) => gs.join(':') + sep + v4)],
  ['zones: numeric, huge, named, empty', fc.tuple(fc.ipV6(), fc.oneof(
    fc.integer({ min: 0, max: 0xffffffff }).map(String),
    fc.bigInt({ min: 0n, max: 1n << 40n }).map(String),
    fc.stringMatching(/^[0-9a-zA-Z.:-]{1,8}$/),
    fc.constantFrom('', '%1', 'eth 0', '0x10'),
  )).map(([a, z]) => `${a}%${z}`)],
  ['IPv6 upper-cased', fc.ipV6().map((a) => a.toUpperCase())],
];

describe('agrees with net.isIPv4 / net.isIPv6', () => {
  it.each(generators)('%s', (_name, arb) => {
    fc.assert(fc.property(arb, crossCheck), RUNS);
  });

  it('the generators reach both outcomes and both documented differences', () => {
    const seen = new Set<string>();
    for (const [, arb] of generators) {
      for (const s of fc.sample(arb, { seed: RUNS.seed, numRuns: 500 })) {
        const v = verdict(s);
        seen.add(v.accept ? `accept ${v.family}` : v.because);
      }
    }
    expect([...seen].sort()).toEqual(['accept ipv4', 'accept ipv6', 'named zone', 'node rejects', 'zone too large']);
  });
});

describe('IPv6 text of decoded addresses (RFC 5952)', () => {
  /** RFC 5952 §4 read literally, with arrays: the reference the package's array-free formatter must equal. */
  function rfc5952(bytes: Uint8Array): string {
    const groups: number[] = [];
    for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
    if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${[...bytes.subarray(12)].join('.')}`;
    let bestStart = -1;
    let bestLength = 1; // §4.2.2: a single zero group is never '::'
    for (let i = 0; i < 8;) {
      let j = i;
      while (j < 8 && groups[j] === 0) j++;
      if (j - i > bestLength) { bestStart = i; bestLength = j - i; } // §4.2.3: the first of equal runs
      i = j === i ? i + 1 : j;
    }
    const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':'); // §4.1, §4.3: no leading zeros, lower case
    return bestStart < 0 ? hex(groups) : `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
  }

  it('equals the literal reading of RFC 5952 on 20,000 addresses rich in zero runs, at any offset', () => {
    const bytes = new Uint8Array(18);
    const groups = [0, 0, 0, 0xffff, 1, 0x10, 0xabcd];
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 0x1_0000_0000);
    for (let n = 0; n < 20_000; n++) {
      for (let i = 0; i < 8; i++) {
        const g = n % 5 === 0 ? Math.floor(random() * 0x10000) : groups[Math.floor(random() * groups.length)];
        bytes[1 + 2 * i] = g >> 8;
        bytes[2 + 2 * i] = g & 255;
      }
      if (n % 11 === 0) bytes.fill(0, 1, 11).fill(0xff, 11, 13);
      const text = formatIPv6(bytes, 1);
      expect(text).toBe(rfc5952(bytes.subarray(1, 17)));
      expect(net.isIPv6(text)).toBe(true);
    }
    expect(formatIPv6(new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]))).toBe('2001:db8::1:0:0:1');
  });
});
