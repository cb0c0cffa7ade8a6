// The codec against golden bytes laid out by the real Windows headers (golden.c, compiled by the
// mingw-w64 cross compilers). Fresh vectors are extracted when both toolchains are on PATH;
// otherwise the committed vectors.json stands in, with a loud warning.

import { Buffer } from 'node:buffer';
import { beforeAll, describe, expect, it } from 'vitest';

import { encodePeerTargetName } from '../../host/index.js';
import { goldenCases, type GoldenCase } from './cases.js';
import {
  extractGoldenVectors,
  INSTALL_HINT,
  missingTools,
  readCommittedVectors,
  type GoldenVectors,
} from './extract.mjs';

const SIZEOF_HEADER = 144;
const OFFSET_STRING_LENGTH = 136;
const OFFSET_STRINGS = 140;
const AF_INET = 2;
const AF_INET6 = 23;
const PROTOCOLS: Record<string, number> = { default: 0, ipsec: 1, ipsec2: 2 };

const missing = missingTools();
const committed = readCommittedVectors();

if (missing.length > 0) {
  const rule = '!'.repeat(78);
  console.warn(
    [
      '',
      rule,
      '!!  GOLDEN VECTORS NOT REGENERATED: the mingw-w64 cross toolchains are missing',
      `!!  not on PATH: ${missing.join(', ')}`,
      `!!  install them with: ${INSTALL_HINT}`,
      '!!  comparing the codec against the committed test/golden/vectors.json instead',
      rule,
      '',
    ].join('\n'),
  );
}

let vectors: GoldenVectors = committed.cases;
let fresh: GoldenVectors | undefined;

beforeAll(() => {
  if (missing.length === 0) {
    fresh = extractGoldenVectors(); // a temporary work directory, removed afterwards
    vectors = fresh;
  }
}, 120_000);

const fromHex = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

function goldenBytes(name: string): Uint8Array {
  const hex = vectors[name];
  if (hex === undefined) throw new Error(`no golden vector for ${name}`);
  return fromHex(hex);
}

function protocolNumber(c: GoldenCase): number {
  const p = c.input.protocol;
  return typeof p === 'number' ? p : PROTOCOLS[p]!;
}

/** What the record's length field should hold under the case's length-unit policy (docs/reference.md §2). */
function expectedStringLength(c: GoldenCase): number {
  const n = c.input.targetName.length;
  const unit = c.options?.lengthUnit ?? 'auto';
  const bytes = unit === 'bytes' || (unit === 'auto' && protocolNumber(c) === 2);
  return bytes ? 2 * n : n;
}

const u16 = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);
const u32 = (b: Uint8Array, at: number) => (u16(b, at) | (u16(b, at + 2) << 16)) >>> 0;
const hexOf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Names the struct field a byte offset falls in, reading the family from the golden record. */
function fieldAt(offset: number, golden: Uint8Array): string {
  if (offset < 4) return 'SecurityProtocol';
  if (offset < 8) return 'padding after SecurityProtocol';
  if (offset < OFFSET_STRING_LENGTH) {
    const k = offset - 8;
    const family = u16(golden, 8);
    const spans: Array<[number, string]> =
      family === AF_INET
        ? [[2, 'sin_family'], [4, 'sin_port'], [8, 'sin_addr'], [16, 'sin_zero']]
        : family === AF_INET6
          ? [[2, 'sin6_family'], [4, 'sin6_port'], [8, 'sin6_flowinfo'], [24, 'sin6_addr'], [28, 'sin6_scope_id']]
          : [];
    const field = spans.find(([end]) => k < end)?.[1] ?? 'SOCKADDR_STORAGE slack';
    return `PeerAddress+${k} (${field})`;
  }
  if (offset < OFFSET_STRINGS) return 'PeerTargetNameStringLen';
  const n = (golden.length - SIZEOF_HEADER) / 2;
  const unit = (offset - OFFSET_STRINGS) >> 1;
  if (unit < n) return `AllStrings[${unit}]`;
  if (unit === n) return 'NUL after the name';
  return offset < golden.length ? 'tail padding' : 'past the golden record';
}

/** A readable account of how `actual` differs from `golden`, or null when they are equal. */
function describeDifference(
  actual: Uint8Array,
  golden: Uint8Array,
  [a, g] = ['codec', 'golden'],
): string | null {
  const length = Math.max(actual.length, golden.length);
  const differing: number[] = [];
  for (let i = 0; i < length; i++) if (actual[i] !== golden[i]) differing.push(i);
  if (differing.length === 0) return null;

  const runs: Array<[number, number]> = [];
  for (const i of differing) {
    const last = runs[runs.length - 1];
    if (last && last[1] === i - 1) last[1] = i;
    else runs.push([i, i]);
  }
  const byte = (b: Uint8Array, i: number) => (i < b.length ? b[i]!.toString(16).padStart(2, '0') : '--');
  const row = (b: Uint8Array, start: number) =>
    Array.from({ length: 16 }, (_, j) => byte(b, start + j)).join(' ');
  const width = Math.max(a.length, g.length);
  const first = differing[0]!;
  const rowStart = first - (first % 16);
  return [
    `${a} bytes differ from ${g} bytes (length: ${a} ${actual.length}, ${g} ${golden.length})`,
    `first difference at offset ${first}, ${fieldAt(first, golden)}: ${a} ${byte(actual, first)}, ${g} ${byte(golden, first)}`,
    'differing bytes:',
    ...runs.map(([from, to]) =>
      from === to
        ? `  ${from}: ${fieldAt(from, golden)}`
        : `  ${from}-${to}: ${fieldAt(from, golden)} .. ${fieldAt(to, golden)}`,
    ),
    `${g.padEnd(width)} @${rowStart}: ${row(golden, rowStart)}`,
    `${a.padEnd(width)} @${rowStart}: ${row(actual, rowStart)}`,
  ].join('\n');
}

describe('golden vectors', () => {
  it.skipIf(missing.length > 0)('fresh extraction from the headers equals the committed vectors.json', () => {
    expect(Object.keys(fresh!)).toEqual(Object.keys(committed.cases));
    const stale = Object.keys(fresh!).flatMap((name) => {
      const diff = describeDifference(goldenBytes(name), fromHex(committed.cases[name]!), [
        'fresh',
        'committed',
      ]);
      return diff === null ? [] : [`${name}: ${diff}`];
    });
    expect(stale, 'regenerate with: node test/golden/extract.mjs --write').toEqual([]);
  });

  it('golden.c and cases.ts state the same cases, in the same order', () => {
    expect(Object.keys(vectors)).toEqual(goldenCases.map((c) => c.name));
  });

  // The C and TS statements of each case agree, independently of the codec.
  it.each(goldenCases)('$name: the C record matches its TS description', (c) => {
    const golden = goldenBytes(c.name);
    const n = c.input.targetName.length;
    expect(golden.length).toBe(SIZEOF_HEADER + 2 * n);
    expect(vectors[c.name]!.length).toBe(2 * (SIZEOF_HEADER + 2 * n));
    expect(hexOf(golden.subarray(OFFSET_STRINGS + 2 * n)), 'NUL and tail padding').toBe('00000000');
    expect(hexOf(golden.subarray(4, 8)), 'padding after SecurityProtocol').toBe('00000000');
    expect(u32(golden, 0), 'SecurityProtocol').toBe(protocolNumber(c));
    expect(u32(golden, OFFSET_STRING_LENGTH), 'PeerTargetNameStringLen').toBe(expectedStringLength(c));
    const name = Buffer.from(golden.subarray(OFFSET_STRINGS, OFFSET_STRINGS + 2 * n)).toString('utf16le');
    expect(name, 'AllStrings').toBe(c.input.targetName);
    if (c.input.peer == null) {
      expect(golden.subarray(8, OFFSET_STRING_LENGTH).every((b) => b === 0), 'PeerAddress all zero').toBe(true);
    } else {
      expect([AF_INET, AF_INET6], 'PeerAddress family').toContain(u16(golden, 8));
    }
  });

  it.each(goldenCases)('$name: the codec writes the golden bytes', (c) => {
    const actual = encodePeerTargetName(c.input, c.options);
    const diff = describeDifference(actual, goldenBytes(c.name));
    if (diff !== null) expect.fail(`${c.name}: ${diff}`);
  });
});
