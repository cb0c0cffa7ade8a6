// The bar the codec is measured against: the best hand-written TypeScript encoder we could write
// for the same job, from the same JS inputs to the same finished bytes. DataView and typed-array
// stores, charCodeAt for every string, the IP text parsed here, every rule the codec enforces for
// these inputs checked here too (dgram peers, names without U+0000 or lone surrogates, lengths),
// and, where a workload repeats target names, their encoded units cached in a bounded Map.
//
// It is a contender, not part of the API: it throws plain Errors, knows only the default options
// (dgram, auto length unit, 1024-unit names), and exists so that `peer-target-name bench` can say
// how much the WebAssembly codec is worth against doing it by hand.
import * as L from '../../generated/layout.js';
import type { PeerTargetNameInput } from '../../codec/types.js';

const MAX_UNITS = L.DEFAULT_MAX_TARGET_NAME_LENGTH;
/** Most names the cache holds; past it, it starts afresh (a hostile stream of names stays bounded). */
const CACHE_LIMIT = 4096;

const align8 = (n: number) => (n + 7) & ~7;

class Invalid extends Error {}
const fail = (what: string): never => {
  throw new Invalid(what);
};

/** Scratch for an IPv6 address being assembled (eight 16-bit groups). */
const groups = new Uint16Array(8);

/** Parses a dotted quad in s[start, end) into bytes[at..at+4); false when it is not one. */
function parseIPv4(s: string, start: number, end: number, bytes: Uint8Array, at: number): boolean {
  let p = start;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (p >= end || s.charCodeAt(p) !== 0x2e) return false;
      p++;
    }
    const first = p;
    let value = 0;
    while (p < end) {
      const d = s.charCodeAt(p) - 0x30;
      if (d < 0 || d > 9) break;
      value = value * 10 + d;
      p++;
    }
    const digits = p - first;
    if (digits === 0 || digits > 3 || value > 255 || (digits > 1 && s.charCodeAt(first) === 0x30)) return false;
    bytes[at + part] = value;
  }
  return p === end;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** Parses IPv6 text in s[start, end) (no zone) into bytes[at..at+16); false when it is not one. */
function parseIPv6(s: string, start: number, end: number, bytes: Uint8Array, at: number): boolean {
  let count = 0;
  let gap = -1;
  let p = start;
  if (p === end) return false;
  if (s.charCodeAt(p) === 0x3a) {
    if (p + 1 >= end || s.charCodeAt(p + 1) !== 0x3a) return false;
    gap = 0;
    p += 2;
  }
  while (p < end) {
    if (count === 8) return false;
    let q = p;
    let value = 0;
    while (q < end) {
      const h = hexValue(s.charCodeAt(q));
      if (h < 0) break;
      value = (value << 4) | h;
      q++;
      if (q - p > 4) return false;
    }
    if (q < end && s.charCodeAt(q) === 0x2e) {
      // A trailing dotted quad takes the last two groups.
      if (count > 6 || !parseIPv4(s, p, end, bytes, at)) return false;
      groups[count++] = (bytes[at] << 8) | bytes[at + 1];
      groups[count++] = (bytes[at + 2] << 8) | bytes[at + 3];
      p = end;
      break;
    }
    if (q === p) return false;
    groups[count++] = value;
    p = q;
    if (p === end) break;
    if (s.charCodeAt(p) !== 0x3a) return false;
    p++;
    if (p < end && s.charCodeAt(p) === 0x3a) {
      if (gap >= 0) return false;
      gap = count;
      p++;
    } else if (p === end) {
      return false;
    }
  }
  let g = 0;
  if (gap < 0) {
    if (count !== 8) return false;
    for (; g < 8; g++) {
      bytes[at + 2 * g] = groups[g] >> 8;
      bytes[at + 2 * g + 1] = groups[g] & 0xff;
    }
  } else {
    if (count > 7) return false;
    const tail = count - gap;
    for (let i = 0; i < 8; i++) {
      const v = i < gap ? groups[i] : i >= 8 - tail ? groups[i - (8 - tail) + gap] : 0;
      bytes[at + 2 * i] = v >> 8;
      bytes[at + 2 * i + 1] = v & 0xff;
    }
  }
  return true;
}

/**
 * Writes the sockaddr for address text s[start, end) (a numeric zone allowed) at `peer` in `bytes`.
 * `family` is 0 (unknown), 4 or 6; scopeId is -1 when not given.
 */
function writeAddress(view: DataView, bytes: Uint8Array, peer: number, s: string, start: number, end: number,
  port: number, family: number, flowInfo: number, scopeId: number): void {
  if (end - start > L.MAX_PEER_TEXT_LENGTH) fail('peer text too long');
  let zoneAt = start;
  while (zoneAt < end && s.charCodeAt(zoneAt) !== 0x25) zoneAt++;
  if (zoneAt === end && parseIPv4(s, start, end, bytes, peer + L.SIN_ADDR)) {
    if (family === 6) fail('family mismatch');
    if (flowInfo !== 0 || scopeId > 0) fail('flowInfo or scopeId on IPv4');
    if (port === 0) fail('port 0');
    if (view.getUint32(peer + L.SIN_ADDR) === 0) fail('unspecified address');
    view.setUint16(peer + L.SIN_FAMILY, L.AF_INET, true);
    view.setUint16(peer + L.SIN_PORT, port);
    return;
  }
  view.setUint32(peer + L.SIN_ADDR, 0);
  if (!parseIPv6(s, start, zoneAt, bytes, peer + L.SIN6_ADDR)) fail('not an IP address');
  if (family === 4) fail('family mismatch');
  let scope = scopeId < 0 ? 0 : scopeId;
  if (zoneAt < end) {
    let zone = 0;
    if (zoneAt + 1 === end) fail('empty zone');
    for (let p = zoneAt + 1; p < end; p++) {
      const d = s.charCodeAt(p) - 0x30;
      if (d < 0 || d > 9) fail('named or malformed zone');
      zone = zone * 10 + d;
      if (zone > 0xffffffff) fail('zone out of range');
    }
    if (scopeId >= 0 && zone !== scopeId) fail('zone conflicts with scopeId');
    scope = zone;
  }
  const a = peer + L.SIN6_ADDR;
  const high = view.getUint32(a) | view.getUint32(a + 4) | view.getUint32(a + 8);
  const low = view.getUint32(a + 12);
  if (high === 0 && low === 0) fail('unspecified address');
  if (view.getUint32(a) === 0 && view.getUint32(a + 4) === 0 && view.getUint32(a + 8) === 0xffff && low === 0) fail('unspecified address');
  if (port === 0) fail('port 0');
  view.setUint16(peer + L.SIN6_FAMILY, L.AF_INET6, true);
  view.setUint16(peer + L.SIN6_PORT, port);
  view.setUint32(peer + L.SIN6_FLOWINFO, flowInfo);
  view.setUint32(peer + L.SIN6_SCOPE_ID, scope, true);
}

/** Parses 'a.b.c.d:port' or '[v6%zone]:port' and writes the sockaddr. */
function writePeerText(view: DataView, bytes: Uint8Array, peer: number, s: string): void {
  const end = s.length;
  if (end > L.MAX_PEER_TEXT_LENGTH) fail('peer text too long');
  let addrStart = 0;
  let addrEnd: number;
  let portStart: number;
  if (end > 0 && s.charCodeAt(0) === 0x5b) {
    addrStart = 1;
    let close = 1;
    while (close < end && s.charCodeAt(close) !== 0x5d) close++;
    if (close === end || close + 1 >= end || s.charCodeAt(close + 1) !== 0x3a) fail('malformed peer');
    addrEnd = close;
    portStart = close + 2;
  } else {
    let colon = -1;
    for (let p = 0; p < end; p++) {
      if (s.charCodeAt(p) === 0x3a) {
        if (colon >= 0) fail('ambiguous peer');
        colon = p;
      }
    }
    if (colon < 0) fail('no port');
    addrEnd = colon;
    portStart = colon + 1;
  }
  if (portStart === end) fail('no port');
  let port = 0;
  for (let p = portStart; p < end; p++) {
    const d = s.charCodeAt(p) - 0x30;
    if (d < 0 || d > 9) fail('malformed port');
    port = port * 10 + d;
    if (port > 65535) fail('port out of range');
  }
  writeAddress(view, bytes, peer, s, addrStart, addrEnd, port, 0, 0, -1);
  if (addrStart === 1 && bytes[peer] === L.AF_INET) fail('brackets around IPv4');
}

function protocolOf(p: unknown): number {
  if (p === 'ipsec') return L.PROTOCOL_IPSEC;
  if (p === 'ipsec2') return L.PROTOCOL_IPSEC2;
  if (p === 'default') return L.PROTOCOL_DEFAULT;
  if (p === 0 || p === 1 || p === 2) return p;
  return fail('bad protocol');
}

function familyOf(f: unknown): number {
  if (f === undefined || f === null) return 0;
  if (f === 'IPv4' || f === 'ipv4' || f === 4 || f === L.AF_INET) return 4;
  if (f === 'IPv6' || f === 'ipv6' || f === 6 || f === L.AF_INET6) return 6;
  return fail('bad family');
}

/** Checks a name's units while writing them at u16[at...]. */
function writeName(u16: Uint16Array, at: number, name: string): void {
  const n = name.length;
  if (n === 0 || n > MAX_UNITS) fail('bad name length');
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c === 0) fail('NUL in name');
    if ((c & 0xf800) === 0xd800) {
      // Only a high surrogate followed by a low one is a pair.
      const next = i + 1 < n ? name.charCodeAt(i + 1) : 0;
      if (c >= 0xdc00 || (next & 0xfc00) !== 0xdc00) fail('lone surrogate');
      u16[at + i] = c;
      u16[at + ++i] = next;
      continue;
    }
    u16[at + i] = c;
  }
}

/** Writes the sockaddr of a peer (text or object) at `at` in a zeroed region; throws when it is invalid. */
export function writePeer(peer: PeerTargetNameInput['peer'], view: DataView, bytes: Uint8Array, at: number): void {
  if (typeof peer === 'string') {
    writePeerText(view, bytes, at, peer);
  } else if (peer !== null && typeof peer === 'object') {
    const { address, port, flowInfo = 0, scopeId } = peer;
    if (typeof address !== 'string' || !(port >= 1 && port <= 65535 && port === (port | 0))) fail('bad peer');
    if (!(flowInfo >= 0 && flowInfo <= 0xffffffff && Number.isInteger(flowInfo))) fail('bad flowInfo');
    if (scopeId !== undefined && !(scopeId >= 0 && scopeId <= 0xffffffff && Number.isInteger(scopeId))) fail('bad scopeId');
    writeAddress(view, bytes, at, address, 0, address.length, port, familyOf(peer.family), flowInfo, scopeId ?? -1);
  } else {
    fail('a dgram peer is required');
  }
}

/** The protocol number of an input's protocol, or a throw. */
export { protocolOf, Invalid };

/** Checks a name (length, U+0000, lone surrogates); throws when it is invalid. */
export function checkName(name: unknown): string {
  if (typeof name !== 'string') return fail('name is not a string');
  const n = name.length;
  if (n === 0 || n > MAX_UNITS) fail('bad name length');
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c === 0) fail('NUL in name');
    if ((c & 0xf800) === 0xd800) {
      if (c >= 0xdc00 || i + 1 >= n || (name.charCodeAt(i + 1) & 0xfc00) !== 0xdc00) fail('lone surrogate');
      i++;
    }
  }
  return name;
}

export interface HandEncodedBatch {
  bytes: Uint8Array;
  offsets: Uint32Array;
  lengths: Uint32Array;
}

/** The hand-written encoder. `cacheNames` caches each name's checked units (for workloads where names repeat). */
export class HandWrittenEncoder {
  private readonly cache = new Map<string, Uint16Array>();
  constructor(readonly cacheNames: boolean) {}

  /** Writes input's record at `at` (8-aligned, zeroed) in bytes; returns its length. */
  private writeRecord(input: PeerTargetNameInput, bytes: Uint8Array, view: DataView, u16: Uint16Array, at: number): number {
    const protocol = protocolOf(input.protocol);
    const name = input.targetName;
    if (typeof name !== 'string') fail('name is not a string');
    writePeer(input.peer, view, bytes, at + L.OFFSET_PEER);
    const n = name.length;
    const units = at + L.OFFSET_STRINGS >>> 1;
    if (this.cacheNames) {
      let cached = this.cache.get(name);
      if (cached === undefined) {
        writeName(u16, units, name);
        cached = u16.slice(units, units + n);
        if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
        this.cache.set(name, cached);
      } else {
        for (let i = 0; i < n; i++) u16[units + i] = cached[i];
      }
    } else {
      writeName(u16, units, name);
    }
    view.setUint32(at + L.OFFSET_PROTOCOL, protocol, true);
    view.setUint32(at + L.OFFSET_STRING_LENGTH, protocol === L.PROTOCOL_IPSEC2 ? 2 * n : n, true);
    return L.SIZEOF_PEER_TARGET_NAME + 2 * n;
  }

  /** One record into a fresh Uint8Array of exactly 144 + 2n bytes (what encodePeerTargetName returns). */
  encode(input: PeerTargetNameInput): Uint8Array {
    const name = input.targetName;
    const size = L.SIZEOF_PEER_TARGET_NAME + 2 * (typeof name === 'string' ? name.length : 0);
    const bytes = new Uint8Array(size);
    // A 144 + 2n buffer is 4-aligned in length: a Uint16Array over all of it fits.
    this.writeRecord(input, bytes, new DataView(bytes.buffer), new Uint16Array(bytes.buffer), 0);
    return bytes;
  }

  /** Many records into one region, 8-aligned, as encodePeerTargetNames lays them out (length 0 = failed). */
  encodeMany(inputs: readonly PeerTargetNameInput[]): HandEncodedBatch {
    const count = inputs.length;
    let total = 0;
    for (let i = 0; i < count; i++) {
      const name = inputs[i].targetName;
      total += align8(L.SIZEOF_PEER_TARGET_NAME + 2 * (typeof name === 'string' ? Math.min(name.length, MAX_UNITS) : 0));
    }
    const bytes = new Uint8Array(total);
    const view = new DataView(bytes.buffer);
    const u16 = new Uint16Array(bytes.buffer);
    const offsets = new Uint32Array(count);
    const lengths = new Uint32Array(count);
    let at = 0;
    for (let i = 0; i < count; i++) {
      try {
        const length = this.writeRecord(inputs[i], bytes, view, u16, at);
        offsets[i] = at;
        lengths[i] = length;
        at += align8(length);
      } catch (error) {
        if (!(error instanceof Invalid)) throw error;
        bytes.fill(0, at, at + L.SIZEOF_PEER_TARGET_NAME + 2 * MAX_UNITS); // a failed record takes no space
      }
    }
    return { bytes: bytes.subarray(0, at), offsets, lengths };
  }
}
