// The bar the codec is measured against: the best hand-written TypeScript encoder we could write
// for the same job, from the same JS inputs to the same finished bytes. charCodeAt loops and plain
// typed-array stores (no DataView, no per-record views, no sizing pass), the IP text parsed here,
// every rule the codec enforces for these inputs checked here too (dgram peers, names without
// U+0000 or lone surrogates, lengths), one region for a batch, and, where a workload repeats
// target names, their encoded units cached in a bounded Map. A second batch variant moves each
// chunk's names with ONE TextEncoder.encodeInto call and widens the ASCII bytes (as the package
// does), falling back to charCodeAt for a chunk that is not ASCII.
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

/** Big-endian u32 store. */
function be32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}

/**
 * Writes the sockaddr for address text s[start, end) (a numeric zone allowed) at `peer` in `bytes`
 * (zeroed). `family` is 0 (unknown), 4 or 6; scopeId is -1 when not given.
 */
function writeAddress(bytes: Uint8Array, peer: number, s: string, start: number, end: number,
  port: number, family: number, flowInfo: number, scopeId: number): void {
  if (end - start > L.MAX_PEER_TEXT_LENGTH) fail('peer text too long');
  let zoneAt = start;
  while (zoneAt < end && s.charCodeAt(zoneAt) !== 0x25) zoneAt++;
  if (zoneAt === end && parseIPv4(s, start, end, bytes, peer + L.SIN_ADDR)) {
    if (family === 6) fail('family mismatch');
    if (flowInfo !== 0 || scopeId > 0) fail('flowInfo or scopeId on IPv4');
    if (port === 0) fail('port 0');
    const a = peer + L.SIN_ADDR;
    if ((bytes[a] | bytes[a + 1] | bytes[a + 2] | bytes[a + 3]) === 0) fail('unspecified address');
    bytes[peer + L.SIN_FAMILY] = L.AF_INET;
    bytes[peer + L.SIN_PORT] = port >>> 8;
    bytes[peer + L.SIN_PORT + 1] = port;
    return;
  }
  bytes[peer + L.SIN_ADDR] = bytes[peer + L.SIN_ADDR + 1] = bytes[peer + L.SIN_ADDR + 2] = bytes[peer + L.SIN_ADDR + 3] = 0;
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
  let high = 0;
  for (let i = 0; i < 10; i++) high |= bytes[a + i];
  const low = bytes[a + 12] | bytes[a + 13] | bytes[a + 14] | bytes[a + 15];
  if (high === 0 && low === 0) {
    if ((bytes[a + 10] | bytes[a + 11]) === 0 || (bytes[a + 10] & bytes[a + 11]) === 0xff) fail('unspecified address');
  }
  if (port === 0) fail('port 0');
  bytes[peer + L.SIN6_FAMILY] = L.AF_INET6;
  bytes[peer + L.SIN6_PORT] = port >>> 8;
  bytes[peer + L.SIN6_PORT + 1] = port;
  if (flowInfo !== 0) be32(bytes, peer + L.SIN6_FLOWINFO, flowInfo);
  if (scope !== 0) {
    const z = peer + L.SIN6_SCOPE_ID;
    bytes[z] = scope;
    bytes[z + 1] = scope >>> 8;
    bytes[z + 2] = scope >>> 16;
    bytes[z + 3] = scope >>> 24;
  }
}

/** Parses 'a.b.c.d:port' or '[v6%zone]:port' and writes the sockaddr. One scan, no pre-scan. */
function writePeerText(bytes: Uint8Array, peer: number, s: string): void {
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
    // The port is after the last colon; any other colon makes it ambiguous (IPv6 without brackets).
    let colon = end - 1;
    while (colon >= 0 && s.charCodeAt(colon) !== 0x3a) colon--;
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
  // An unbracketed address with a colon is never IPv4, and IPv6 text needs brackets here.
  if (addrStart === 0) {
    const b = peer + L.SIN_ADDR;
    if (!parseIPv4(s, 0, addrEnd, bytes, b)) fail('ambiguous peer');
    if (port === 0) fail('port 0');
    if ((bytes[b] | bytes[b + 1] | bytes[b + 2] | bytes[b + 3]) === 0) fail('unspecified address');
    bytes[peer + L.SIN_FAMILY] = L.AF_INET;
    bytes[peer + L.SIN_PORT] = port >>> 8;
    bytes[peer + L.SIN_PORT + 1] = port;
    return;
  }
  writeAddress(bytes, peer, s, addrStart, addrEnd, port, 0, 0, -1);
  if (bytes[peer] === L.AF_INET) fail('brackets around IPv4');
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

/** Checks a name's units while writing them little-endian at bytes[at...] (byte stores: no view needed). */
function writeName(bytes: Uint8Array, at: number, name: string): void {
  const n = name.length;
  if (n === 0 || n > MAX_UNITS) fail('bad name length');
  let all = 0;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    all |= c;
    bytes[at + 2 * i] = c;
    bytes[at + 2 * i + 1] = c >>> 8;
    if (c === 0) fail('NUL in name');
  }
  if (all >= 0xd800) checkSurrogates(name);
}

/** Fails on a lone surrogate (only called for names with a unit ≥ 0xd800). */
function checkSurrogates(name: string): void {
  const n = name.length;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if ((c & 0xf800) === 0xd800) {
      if (c >= 0xdc00 || i + 1 >= n || (name.charCodeAt(i + 1) & 0xfc00) !== 0xdc00) fail('lone surrogate');
      i++;
    }
  }
}

/** Writes the sockaddr of a peer (text or object) at `at` in a zeroed region; throws when it is invalid. */
export function writePeer(peer: PeerTargetNameInput['peer'], bytes: Uint8Array, at: number): void {
  if (typeof peer === 'string') {
    writePeerText(bytes, at, peer);
  } else if (peer !== null && typeof peer === 'object') {
    const address = peer.address;
    const port = peer.port;
    const flowInfo = peer.flowInfo ?? 0;
    const scopeId = peer.scopeId;
    if (typeof address !== 'string' || !(port >= 1 && port <= 65535 && port === (port | 0))) fail('bad peer');
    if (!(flowInfo >= 0 && flowInfo <= 0xffffffff && Number.isInteger(flowInfo))) fail('bad flowInfo');
    if (scopeId !== undefined && !(scopeId >= 0 && scopeId <= 0xffffffff && Number.isInteger(scopeId))) fail('bad scopeId');
    writeAddress(bytes, at, address, 0, address.length, port, familyOf(peer.family), flowInfo, scopeId ?? -1);
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
  let all = 0;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c === 0) fail('NUL in name');
    all |= c;
  }
  if (all >= 0xd800) checkSurrogates(name);
  return name;
}

export interface HandEncodedBatch {
  bytes: Uint8Array;
  offsets: Uint32Array;
  lengths: Uint32Array;
}

const CHUNK = 4096;
const textEncoder = new TextEncoder();

/** The hand-written encoder. `cacheNames` caches each name's checked bytes (for workloads where names repeat). */
export class HandWrittenEncoder {
  private readonly cache = new Map<string, Uint8Array>();
  /** Scratch for the bulk variant: one chunk's names, encoded by one encodeInto. */
  private scratch = new Uint8Array(CHUNK * 64);
  constructor(readonly cacheNames: boolean) {}

  /** Writes the name's bytes at `at`: from the cache, or checked and (if caching) cached. */
  private name(bytes: Uint8Array, at: number, name: string): void {
    if (this.cacheNames) {
      const cached = this.cache.get(name);
      if (cached !== undefined) {
        bytes.set(cached, at);
        return;
      }
      writeName(bytes, at, name);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(name, bytes.slice(at, at + 2 * name.length));
      return;
    }
    writeName(bytes, at, name);
  }

  /** Writes input's record at `at` in bytes (zeroed); returns its length. */
  private writeRecord(input: PeerTargetNameInput, bytes: Uint8Array, at: number): number {
    const protocol = protocolOf(input.protocol);
    const name = input.targetName;
    if (typeof name !== 'string') fail('name is not a string');
    writePeer(input.peer, bytes, at + L.OFFSET_PEER);
    const n = name.length;
    this.name(bytes, at + L.OFFSET_STRINGS, name);
    bytes[at + L.OFFSET_PROTOCOL] = protocol;
    const length = protocol === L.PROTOCOL_IPSEC2 ? 2 * n : n;
    bytes[at + L.OFFSET_STRING_LENGTH] = length;
    bytes[at + L.OFFSET_STRING_LENGTH + 1] = length >>> 8;
    return L.SIZEOF_PEER_TARGET_NAME + 2 * n;
  }

  /** One record into a fresh Uint8Array of exactly 144 + 2n bytes (what encodePeerTargetName returns). */
  encode(input: PeerTargetNameInput): Uint8Array {
    const name = input.targetName;
    const bytes = new Uint8Array(L.SIZEOF_PEER_TARGET_NAME + 2 * (typeof name === 'string' ? name.length : 0));
    this.writeRecord(input, bytes, 0);
    return bytes;
  }

  /**
   * One record into a region the caller reuses, at `offset` (what encodePeerTargetNameInto does):
   * zeroes the record's bytes first (the region holds whatever was there), returns its length.
   */
  encodeInto(target: Uint8Array, offset: number, input: PeerTargetNameInput): number {
    const name = input.targetName;
    const size = L.SIZEOF_PEER_TARGET_NAME + 2 * (typeof name === 'string' ? name.length : 0);
    if (offset + size > target.length) fail('target too small');
    target.fill(0, offset, offset + size);
    return this.writeRecord(input, target, offset);
  }

  /** Many records into one region, 8-aligned, as encodePeerTargetNames lays them out (length 0 = failed). */
  encodeMany(inputs: readonly PeerTargetNameInput[]): HandEncodedBatch {
    const count = inputs.length;
    let bytes: Uint8Array = new Uint8Array(0);
    const offsets = new Uint32Array(count);
    const lengths = new Uint32Array(count);
    let at = 0;
    for (let i = 0; i < count; i++) {
      const input = inputs[i];
      const name = input.targetName;
      const worst = align8(L.SIZEOF_PEER_TARGET_NAME + 2 * (typeof name === 'string' ? Math.min(name.length, MAX_UNITS) : 0));
      if (at + worst > bytes.length) bytes = grow(bytes, at, at + worst, count - i, worst);
      try {
        const length = this.writeRecord(input, bytes, at);
        offsets[i] = at;
        lengths[i] = length;
        at += align8(length);
      } catch (error) {
        if (!(error instanceof Invalid)) throw error;
        bytes.fill(0, at, at + worst); // a failed record takes no space
      }
    }
    return { bytes: bytes.subarray(0, at), offsets, lengths };
  }

  /**
   * encodeMany with each chunk's names moved by ONE TextEncoder.encodeInto: the names joined, encoded
   * into scratch; when that was pure ASCII (read = written = length), each name is widened from the
   * scratch bytes, else the chunk's names go through charCodeAt as in encodeMany.
   */
  encodeManyBulk(inputs: readonly PeerTargetNameInput[]): HandEncodedBatch {
    const count = inputs.length;
    let bytes: Uint8Array = new Uint8Array(0);
    const offsets = new Uint32Array(count);
    const lengths = new Uint32Array(count);
    let at = 0;
    for (let base = 0; base < count; base += CHUNK) {
      const end = Math.min(count, base + CHUNK);
      let joined = '';
      for (let i = base; i < end; i++) {
        const name = inputs[i].targetName;
        if (typeof name === 'string') joined += name;
      }
      if (joined.length > this.scratch.length) this.scratch = new Uint8Array(joined.length * 2);
      const moved = textEncoder.encodeInto(joined, this.scratch);
      const ascii = moved.read === joined.length && moved.written === joined.length;
      const scratch = this.scratch;
      let from = 0;
      for (let i = base; i < end; i++) {
        const input = inputs[i];
        const name = input.targetName;
        const n = typeof name === 'string' ? name.length : 0;
        const worst = align8(L.SIZEOF_PEER_TARGET_NAME + 2 * Math.min(n, MAX_UNITS));
        if (at + worst > bytes.length) bytes = grow(bytes, at, at + worst, count - i, worst);
        try {
          const protocol = protocolOf(input.protocol);
          if (typeof name !== 'string') fail('name is not a string');
          writePeer(input.peer, bytes, at + L.OFFSET_PEER);
          if (ascii) {
            if (n === 0 || n > MAX_UNITS) fail('bad name length');
            const to = at + L.OFFSET_STRINGS;
            let nul = 1;
            for (let k = 0; k < n; k++) {
              const c = scratch[from + k];
              nul &= c === 0 ? 0 : 1;
              bytes[to + 2 * k] = c;
            }
            if (nul === 0) fail('NUL in name');
          } else {
            writeName(bytes, at + L.OFFSET_STRINGS, name);
          }
          bytes[at + L.OFFSET_PROTOCOL] = protocol;
          const length = protocol === L.PROTOCOL_IPSEC2 ? 2 * n : n;
          bytes[at + L.OFFSET_STRING_LENGTH] = length;
          bytes[at + L.OFFSET_STRING_LENGTH + 1] = length >>> 8;
          offsets[i] = at;
          lengths[i] = L.SIZEOF_PEER_TARGET_NAME + 2 * n;
          at += align8(L.SIZEOF_PEER_TARGET_NAME + 2 * n);
        } catch (error) {
          if (!(error instanceof Invalid)) throw error;
          bytes.fill(0, at, at + worst);
        }
        from += n;
      }
    }
    return { bytes: bytes.subarray(0, at), offsets, lengths };
  }
}

/** A larger zeroed region holding bytes[0, used): sized for the records left at about this one's size. */
function grow(bytes: Uint8Array, used: number, needed: number, left: number, each: number): Uint8Array {
  const next = new Uint8Array(Math.max(needed, bytes.length + (bytes.length >>> 1), used + left * (each + 16)));
  next.set(bytes.subarray(0, used));
  return next;
}
