// The security codec against golden bytes laid out by the real Windows headers
// (security-golden.c, compiled by the mingw-w64 cross compilers for x64 and x86). Fresh vectors are
// extracted when both toolchains are on PATH; otherwise the committed security-vectors.json stands
// in, with a loud warning. Extraction also re-checks assembly/layout.ts against the headers: the C
// file _Static_asserts every constant through build/generated/layout.h.

import { Buffer } from 'node:buffer';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  decodeSocketSecurityQueryInfo,
  decodeSocketSecurityQueryTemplate,
  decodeSocketSecuritySettings,
  encodeSocketSecurityQueryInfo,
  encodeSocketSecurityQueryTemplate,
  encodeSocketSecuritySettings,
} from '../../host/index.js';
import { securityGoldenCases, type SecurityGoldenCase } from './security-cases.js';
import {
  extractSecurityVectors,
  INSTALL_HINT,
  missingTools,
  readCommittedSecurityVectors,
  type SecurityVectors,
} from './security-extract.mjs';

const PROTOCOLS: Record<string, number> = { default: 0, ipsec: 1, ipsec2: 2 };
const CREDENTIALS = ['userName', 'domainName', 'password'] as const;

const missing = missingTools();
const committed = readCommittedSecurityVectors();

if (missing.length > 0) {
  const rule = '!'.repeat(78);
  console.warn(
    [
      '',
      rule,
      '!!  SECURITY GOLDEN VECTORS NOT REGENERATED: the mingw-w64 cross toolchains are missing',
      `!!  not on PATH: ${missing.join(', ')}`,
      `!!  install them with: ${INSTALL_HINT}`,
      '!!  comparing the codec against the committed test/golden/security-vectors.json instead',
      rule,
      '',
    ].join('\n'),
  );
}

let vectors: SecurityVectors = committed.cases;
let fresh: SecurityVectors | undefined;

beforeAll(() => {
  if (missing.length === 0) {
    fresh = extractSecurityVectors();
    vectors = fresh;
  }
}, 120_000);

const fromHex = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
const hexOf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const u64 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getBigUint64(at, true);

function goldenBytes(name: string): Uint8Array {
  const hex = vectors[name];
  if (hex === undefined) throw new Error(`no golden vector for ${name}`);
  return fromHex(hex);
}

const protocolNumber = (p: string | number) => (typeof p === 'number' ? p : PROTOCOLS[p]!);

/** The struct member a byte offset falls in, for a readable diff. */
function fieldAt(c: SecurityGoldenCase, offset: number, golden: Uint8Array): string {
  if (c.kind === 'info') {
    return ['SecurityProtocol', 'Flags', 'PeerApplicationAccessTokenHandle', 'PeerApplicationAccessTokenHandle',
      'PeerMachineAccessTokenHandle', 'PeerMachineAccessTokenHandle'][offset >> 2] ?? 'past the struct';
  }
  if (c.kind === 'template') {
    if (offset < 4) return 'SecurityProtocol';
    if (offset < 8) return 'padding';
    if (offset < 136) return `PeerAddress+${offset - 8}`;
    return offset < 140 ? 'PeerTokenAccessMask' : 'tail padding';
  }
  const spans: Array<[number, string]> = [[4, 'SecurityProtocol'], [8, 'SecurityFlags'], [12, 'IpsecFlags'],
    [28, 'AuthipMMPolicyKey'], [44, 'AuthipQMPolicyKey'], [60, 'Reserved'], [64, 'padding'], [72, 'Reserved2'],
    [76, 'UserNameStringLen'], [80, 'DomainNameStringLen'], [84, 'PasswordStringLen']];
  const span = spans.find(([end]) => offset < end);
  if (span) return span[1];
  let at = 84;
  for (const [i, name] of CREDENTIALS.entries()) {
    const n = u32(golden, 72 + 4 * i);
    if (offset < at + n) return `AllStrings: ${name} byte ${offset - at}`;
    at += n;
  }
  return 'tail';
}

function describeDifference(c: SecurityGoldenCase, actual: Uint8Array, golden: Uint8Array): string | null {
  const length = Math.max(actual.length, golden.length);
  const first = Array.from({ length }, (_, i) => i).find((i) => actual[i] !== golden[i]);
  if (first === undefined) return null;
  const byte = (b: Uint8Array, i: number) => (i < b.length ? b[i]!.toString(16).padStart(2, '0') : '--');
  const row = (b: Uint8Array, start: number) => Array.from({ length: 16 }, (_, j) => byte(b, start + j)).join(' ');
  const rowStart = first - (first % 16);
  return [
    `codec bytes differ from golden bytes (length: codec ${actual.length}, golden ${golden.length})`,
    `first difference at offset ${first}, ${fieldAt(c, first, golden)}: codec ${byte(actual, first)}, golden ${byte(golden, first)}`,
    `golden @${rowStart}: ${row(golden, rowStart)}`,
    `codec  @${rowStart}: ${row(actual, rowStart)}`,
  ].join('\n');
}

function encodeCase(c: SecurityGoldenCase): Uint8Array {
  switch (c.kind) {
    case 'settings': return encodeSocketSecuritySettings(c.input);
    case 'template': return encodeSocketSecurityQueryTemplate(c.input, { socketType: c.socketType ?? 'dgram' });
    case 'info': return encodeSocketSecurityQueryInfo(c.input);
  }
}

/** Decodes golden bytes and encodes what came out again: the round trip through the decoder. */
function reencode(c: SecurityGoldenCase, golden: Uint8Array): Uint8Array {
  switch (c.kind) {
    case 'settings': {
      const d = decodeSocketSecuritySettings(golden);
      return encodeSocketSecuritySettings({
        protocol: d.protocol,
        flags: d.flagNames,
        ipsec: d.ipsec && {
          ipsecFlags: d.ipsec.ipsecFlagNames,
          mmPolicyKey: d.ipsec.mmPolicyKey ?? undefined,
          qmPolicyKey: d.ipsec.qmPolicyKey ?? undefined,
          userName: d.ipsec.userName,
          domainName: d.ipsec.domainName,
          password: d.ipsec.password,
        },
      });
    }
    case 'template': {
      const socketType = c.socketType ?? 'dgram';
      const d = decodeSocketSecurityQueryTemplate(golden, { socketType });
      const peer = d.peer && {
        address: d.peer.address, port: d.peer.port, family: d.peer.family,
        ...(d.peer.family === 'ipv6' ? { flowInfo: d.peer.flowInfo, scopeId: d.peer.scopeId } : {}),
      };
      return encodeSocketSecurityQueryTemplate({ protocol: d.protocol, peer, peerTokenAccessMask: d.peerTokenAccessMask }, { socketType });
    }
    case 'info': {
      const d = decodeSocketSecurityQueryInfo(golden);
      return encodeSocketSecurityQueryInfo({ ...d, flags: d.flagNames });
    }
  }
}

describe('security golden vectors', () => {
  it.skipIf(missing.length > 0)('fresh extraction from the headers equals the committed security-vectors.json', () => {
    expect(fresh).toEqual(committed.cases);
  });

  it('security-golden.c and security-cases.ts state the same cases, in the same order', () => {
    expect(Object.keys(vectors)).toEqual(securityGoldenCases.map((c) => c.name));
    expect(securityGoldenCases.length).toBeGreaterThanOrEqual(8);
  });

  // The C and TS statements of each case agree, independently of the codec.
  it.each(securityGoldenCases)('$name: the C record matches its TS description', (c) => {
    const golden = goldenBytes(c.name);
    expect(u32(golden, 0), 'SecurityProtocol').toBe(protocolNumber(c.input.protocol));
    if (c.kind === 'info') {
      expect(golden.length).toBe(24);
      expect(u64(golden, 8), 'PeerApplicationAccessTokenHandle').toBe(BigInt(c.input.peerApplicationAccessTokenHandle ?? 0));
      expect(u64(golden, 16), 'PeerMachineAccessTokenHandle').toBe(BigInt(c.input.peerMachineAccessTokenHandle ?? 0));
    } else if (c.kind === 'template') {
      expect(golden.length).toBe(144);
      expect(u32(golden, 136), 'PeerTokenAccessMask').toBe(c.input.peerTokenAccessMask ?? 0);
      expect(hexOf(golden.subarray(4, 8)), 'padding').toBe('00000000');
      expect(hexOf(golden.subarray(140)), 'tail padding').toBe('00000000');
      if (c.input.peer == null) expect(golden.subarray(8, 136).every((b) => b === 0), 'no peer').toBe(true);
    } else if (c.input.ipsec == null) {
      expect(golden.length).toBe(8);
    } else {
      const strings = CREDENTIALS.map((k) => c.input.ipsec![k] ?? '');
      const bytes = strings.map((s) => 2 * s.length);
      expect(golden.length, '88 + the strings\' bytes').toBe(88 + bytes.reduce((a, b) => a + b, 0));
      expect([u32(golden, 72), u32(golden, 76), u32(golden, 80)], 'string lengths, in bytes').toEqual(bytes);
      expect(Buffer.from(golden.subarray(84, golden.length - 4)).toString('utf16le'), 'AllStrings').toBe(strings.join(''));
      expect(hexOf(golden.subarray(golden.length - 4)), 'the 4 bytes past the strings').toBe('00000000');
      expect(golden.subarray(44, 72).every((b) => b === 0), 'Reserved, padding, Reserved2').toBe(true);
    }
  });

  it.each(securityGoldenCases)('$name: the codec writes the golden bytes', (c) => {
    const diff = describeDifference(c, encodeCase(c), goldenBytes(c.name));
    if (diff !== null) expect.fail(`${c.name}: ${diff}`);
  });

  it.each(securityGoldenCases)('$name: decoding the golden bytes and encoding the result gives them back', (c) => {
    const golden = goldenBytes(c.name);
    const diff = describeDifference(c, reencode(c, golden), golden);
    if (diff !== null) expect.fail(`${c.name} (round trip): ${diff}`);
  });
});
