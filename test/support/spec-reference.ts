// An independent reading of docs/reference.md for the tests: the struct layout (§1), the Winsock
// numbers (§3), a byte-level record builder and an IPv6 reference parser. Nothing here comes from
// the codec or from host/generated, so a wrong constant there cannot hide behind the same wrong
// constant here.
import { expect } from 'vitest';

import { PeerTargetNameError } from '../../host/index.js';

// ---- docs/reference.md §1: SOCKET_PEER_TARGET_NAME ----------------------------------------------------------
export const SIZEOF_HEADER = 144;
export const OFFSET_PROTOCOL = 0;
export const OFFSET_PADDING = 4; // 4 bytes
export const OFFSET_PEER = 8; // SOCKADDR_STORAGE, 128 bytes
export const SIZE_STORAGE = 128;
export const OFFSET_STRING_LENGTH = 136;
export const OFFSET_STRINGS = 140;

/** Buffer offsets of the sockaddr fields (PeerAddress starts at 8). */
export const AT = {
  family: OFFSET_PEER + 0, // u16 LE
  port: OFFSET_PEER + 2, // u16 BE
  v4addr: OFFSET_PEER + 4, // 4 bytes
  sinZero: OFFSET_PEER + 8, // 8 bytes
  v6flow: OFFSET_PEER + 4, // u32 BE
  v6addr: OFFSET_PEER + 8, // 16 bytes
  v6scope: OFFSET_PEER + 24, // u32 LE
} as const;

export const AF_INET = 2;
export const AF_INET6 = 23; // Windows' number
export const LINUX_AF_INET6 = 10;

// ---- docs/reference.md §3: Winsock error numbers ------------------------------------------------------------
export const ERRNO = {
  WSAEFAULT: 10014,
  WSAEINVAL: 10022,
  WSAEMSGSIZE: 10040,
  WSAEAFNOSUPPORT: 10047,
} as const;
export type Code = keyof typeof ERRNO;

export interface ExpectedError {
  code: Code;
  field: string;
  /** A fragment the message must contain. */
  message: string;
}

/** Runs fn, which must throw a PeerTargetNameError; returns it. */
export function caught(fn: () => unknown): PeerTargetNameError {
  let result: unknown;
  try {
    result = fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PeerTargetNameError);
    return error as PeerTargetNameError;
  }
  return expect.fail(`expected a PeerTargetNameError, but the call returned ${describe(result)}`);
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

export function expectError(error: unknown, expected: ExpectedError): void {
  expect(error).toBeInstanceOf(PeerTargetNameError);
  const e = error as PeerTargetNameError;
  expect({ code: e.code, errno: e.errno, field: e.field }).toEqual({
    code: expected.code, errno: ERRNO[expected.code], field: expected.field,
  });
  expect(e.message).toContain(expected.message);
}

// ---- A record built byte by byte from docs/reference.md §1 --------------------------------------------------
export interface RawRecord {
  protocol?: number;
  /** sa_family as stored (2, 23, or anything for corrupt buffers); 0 or absent = all-zero PeerAddress. */
  family?: number;
  port?: number;
  /** 4 bytes for family 2, 16 for family 23. */
  address?: number[];
  flowInfo?: number;
  scopeId?: number;
  /** The target name's UTF-16 units (may be ill-formed on purpose). */
  name?: string;
  /** PeerTargetNameStringLen as stored; defaults to the name's length in `unit`. */
  stringLength?: number;
  unit?: 'units' | 'bytes';
  /** Total buffer length; defaults to 144 + 2n. */
  total?: number;
}

export function buildRecord(r: RawRecord = {}): Uint8Array {
  const name = r.name ?? 'host/a';
  const total = r.total ?? SIZEOF_HEADER + 2 * name.length;
  const bytes = new Uint8Array(Math.max(total, SIZEOF_HEADER + 2 * name.length));
  const dv = new DataView(bytes.buffer);
  dv.setUint32(OFFSET_PROTOCOL, r.protocol ?? 0, true);
  const family = r.family ?? AF_INET;
  if (family === AF_INET) {
    dv.setUint16(AT.family, AF_INET, true);
    dv.setUint16(AT.port, r.port ?? 4500, false);
    bytes.set(r.address ?? [192, 0, 2, 10], AT.v4addr);
  } else if (family === AF_INET6) {
    dv.setUint16(AT.family, AF_INET6, true);
    dv.setUint16(AT.port, r.port ?? 500, false);
    dv.setUint32(AT.v6flow, r.flowInfo ?? 0, false);
    bytes.set(r.address ?? [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], AT.v6addr);
    dv.setUint32(AT.v6scope, r.scopeId ?? 0, true);
  } else if (family !== 0) {
    dv.setUint16(AT.family, family, true);
  }
  const stringLength = r.stringLength ?? (r.unit === 'bytes' ? 2 * name.length : name.length);
  dv.setUint32(OFFSET_STRING_LENGTH, stringLength, true);
  for (let i = 0; i < name.length; i++) dv.setUint16(OFFSET_STRINGS + 2 * i, name.charCodeAt(i), true);
  return bytes.subarray(0, total);
}

/** A copy of bytes with the given byte offsets set to the given values. */
export function patched(bytes: Uint8Array, patches: Record<number, number>): Uint8Array {
  const copy = bytes.slice();
  for (const [at, value] of Object.entries(patches)) copy[Number(at)] = value;
  return copy;
}

export const u16le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8);
export const u16be = (b: Uint8Array, at: number) => (b[at] << 8) | b[at + 1];
export const u32le = (b: Uint8Array, at: number) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
export const u32be = (b: Uint8Array, at: number) => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;

/** The 16-bit units of a string as UTF-16LE bytes. */
export function utf16le(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff, s.charCodeAt(i) >> 8);
  return out;
}

// ---- IP reference: Node's WHATWG URL parser, independent of the codec ---------------------------

/** Expands hex-only IPv6 text ('a:b::c', as URL serialises it) into 16 bytes. */
export function expandHexIPv6(text: string): number[] {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  if (all.length !== 8 || all.some((g) => !(g >= 0 && g <= 0xffff))) throw new Error(`not IPv6 hex text: ${text}`);
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/** The canonical (WHATWG/RFC 5952 hex) text of an IPv6 address without zone, via URL. */
export function urlCanonicalIPv6(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/** 16 bytes of an IPv6 address (no zone), parsed by the URL parser. */
export function referenceIPv6Bytes(address: string): number[] {
  return expandHexIPv6(urlCanonicalIPv6(address));
}

export function referenceIPv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}
