// IP text parsing and sockaddr_in / sockaddr_in6 layout inside a SOCKADDR_STORAGE.
// Accepts exactly what Node's net.isIPv4 / net.isIPv6 accept (dotted quads without leading zeros,
// RFC 4291 IPv6 text with an optional trailing IPv4), plus a numeric zone; names are never resolved.

import {
  AF_INET, AF_INET6, SIZE_SOCKADDR_STORAGE,
  SIN_FAMILY, SIN_PORT, SIN_ADDR, SIN6_FAMILY, SIN6_PORT, SIN6_FLOWINFO, SIN6_ADDR, SIN6_SCOPE_ID,
  FLAG_FAMILY_IPV4, FLAG_FAMILY_IPV6, FLAG_SCOPE_GIVEN, MAX_PEER_TEXT_LENGTH,
  REASON_PEER_SYNTAX, REASON_ADDRESS_SYNTAX, REASON_ZONE_NAMED, REASON_ZONE_RANGE,
  REASON_ZONE_CONFLICT, REASON_FLOWINFO_ON_IPV4, REASON_SCOPE_ON_IPV4, REASON_PORT_RANGE, REASON_FAMILY_MISMATCH,
  REASON_PEER_TEXT_TOO_LONG,
} from "./layout";
import { fail } from "./failure";
import { CharCode } from "./chars";
import { parseIPv4 } from "./ipv4";
import { parseDecimal, parsePort } from "./decimal";


// 16 bytes of scratch for an IPv6 address being assembled (static data, no allocator).
const v6scratch = memory.data(16);

/**
 * Where the first `byte` is in [p, end), or end. Sixteen bytes at a time while a block fits in
 * memory (a block may read past end, never past memory), so a scan costs no branch per character.
 */
function findByte(p: usize, end: usize, byte: i32): usize {
  const limit = <usize>memory.size() << 16;
  const needle = i8x16.splat(<i8>byte);
  for (; p < end && p + 16 <= limit; p += 16) {
    const bits = i8x16.bitmask(i8x16.eq(v128.load(p), needle));
    if (bits != 0) {
      const at = p + <usize>ctz(bits);
      return at < end ? at : end;
    }
  }
  for (; p < end; p++) if (<i32>load<u8>(p) == byte) return p;
  return end;
}

@inline function hexValue(c: u32): i32 {
  if (c - CharCode._0 < 10) return <i32>(c - CharCode._0);
  const l = c | CharCode.LOWER;
  if (l - CharCode.a < 6) return <i32>(l - CharCode.a + 10);
  return -1;
}

/** The longest IPv6 text without a dotted quad: eight groups of four and seven colons. */
const FAST_MAX: usize = 39;
/** The bytes before an address's start parseIPv6Fast may read: its first group is read as a u32 ending at the group's end. */
const FAST_BEFORE: usize = 3;

/** Per byte of v: all ones for a hex digit, else zero. */
@inline function hexLanes(v: v128): v128 {
  const digit = i8x16.lt_u(i8x16.sub(v, i8x16.splat(<i8>CharCode._0)), i8x16.splat(10));
  const letter = i8x16.lt_u(i8x16.sub(v128.or(v, i8x16.splat(<i8>CharCode.LOWER)), i8x16.splat(<i8>CharCode.a)), i8x16.splat(6));
  return v128.or(digit, letter);
}

/** One bit per byte of v: set for a colon. */
@inline function colonBits(v: v128): u64 {
  return <u64><u32>i8x16.bitmask(i8x16.eq(v, i8x16.splat(<i8>CharCode.COLON)));
}

/** One bit per byte of v: set for a hex digit. */
@inline function hexBits(v: v128): u64 {
  return <u64><u32>i8x16.bitmask(hexLanes(v));
}

/**
 * The 16-bit value of the 1-4 hex digits that end at p (the bytes before them, up to p - 4, are
 * read and dropped), in network order as a little-endian u16 store writes it.
 */
@inline function groupValue(p: usize, digits: usize): u32 {
  // Each byte to its nibble ('a'-'f' and 'A'-'F' have bit 6 set: low nibble + 9); the u32 ending
  // at p has the last digit in its top byte, so dropping the bytes before the group is one mask.
  const w = load<u32>(p - 4);
  const nibbles = ((w & 0x0f0f0f0f) + ((w >> 6) & 0x01010101) * 9) & (<u32>0xffffffff << <u32>((4 - digits) << 3));
  // Nibbles b0 b1 b2 b3 (b3 the last digit) to the bytes (b0 b1) (b2 b3): the high byte first.
  const pairs = ((nibbles << 4) | (nibbles >> 8)) & 0x00ff00ff;
  return (pairs & 0xff) | (pairs >> 8);
}

/**
 * IPv6 text of hex digits and colons only (the common case: what Node reports for a peer) parsed
 * without a branch per character: every byte is classified at once (only the 16-byte blocks the
 * text reaches), colons are found by their bit, and each group's 1-4 digits become a value by
 * shifts. Returns 1 for an address (written to out), 0 for text that is none, and -1 where this
 * path does not decide (a dotted quad or any other character, longer text, or too near either end
 * of memory to read its blocks): parseIPv6's loop does. Its verdict equals that loop's on every
 * input it decides (test/ip-crosscheck.test.ts, the fuzzer).
 */
@inline function parseIPv6Fast(start: usize, end: usize, out: usize): i32 {
  const len = end - start;
  const span = (len + 15) & ~15; // the blocks read
  if (len == 0 || len > FAST_MAX || start < FAST_BEFORE || start + span > (<usize>memory.size() << 16)) return -1;
  const a = v128.load(start);
  let colons = colonBits(a);
  let hex = hexBits(a);
  if (len > 16) {
    const b = v128.load(start, 16);
    colons |= colonBits(b) << 16;
    hex |= hexBits(b) << 16;
    if (len > 32) {
      const c = v128.load(start, 32);
      colons |= colonBits(c) << 32;
      hex |= hexBits(c) << 32;
    }
  }
  const within: u64 = (<u64>1 << <u64>len) - 1;
  colons &= within;
  if ((colons | (hex & within)) != within) return -1;
  const groups = v6scratch;
  let count = 0;
  let gap = -1;
  let pos: usize = 0;
  if (colons & 1) { // a leading ':' must be '::'
    if ((colons & 2) == 0) return 0;
    gap = 0;
    pos = 2;
    colons &= ~(<u64>3);
  }
  while (pos < len) {
    if (count == 8) return 0;
    const next: usize = colons != 0 ? <usize>ctz(colons) : len;
    const n = next - pos;
    if (n - 1 >= 4) return 0; // an empty group (':::') or more than four digits
    store<u16>(groups + (<usize>count << 1), <u16>groupValue(start + next, n));
    count++;
    pos = next;
    if (pos == len) break;
    colons &= colons - 1; // the colon at pos
    pos++;
    if (pos < len && (colons & (<u64>1 << <u64>pos)) != 0) {
      if (gap >= 0) return 0; // a second '::'
      gap = count;
      colons &= colons - 1;
      pos++;
    } else if (pos == len) {
      return 0; // a single trailing ':'
    }
  }
  return placeGroups(groups, count, gap, out) ? 1 : 0;
}

/** Writes `count` parsed groups to out, '::' (at group `gap`, or none: -1) standing for zeros. */
function placeGroups(groups: usize, count: i32, gap: i32, out: usize): bool {
  // Plain loads and stores: memory.copy/fill are out-of-line calls in engines, dear for 16 bytes.
  if (gap < 0) {
    if (count != 8) return false;
    v128.store(out, v128.load(groups));
  } else {
    if (count > 7) return false; // '::' stands for at least one group
    const head = <usize>gap << 1;
    const tail = <usize>(count - gap) << 1;
    v128.store(out, i64x2.splat(0));
    for (let i: usize = 0; i < head; i += 2) store<u16>(out + i, load<u16>(groups + i));
    for (let i: usize = 0; i < tail; i += 2) store<u16>(out + 16 - tail + i, load<u16>(groups + head + i));
  }
  return true;
}

/** Parses IPv6 text (no zone) filling [start, end) exactly into 16 bytes at out. */
function parseIPv6(start: usize, end: usize, out: usize): bool {
  const fast = parseIPv6Fast(start, end, out);
  if (fast >= 0) return fast == 1;
  const groups = v6scratch;
  let count = 0; // 16-bit groups written so far
  let gap = -1; // group index where '::' stands
  let p = start;
  if (p == end) return false;
  if (load<u8>(p) == CharCode.COLON) { // a leading ':' must be '::'
    if (p + 1 >= end || load<u8>(p + 1) != CharCode.COLON) return false;
    gap = 0;
    p += 2;
  }
  while (p < end) {
    if (count == 8) return false;
    let q = p;
    let value: u32 = 0;
    while (q < end) {
      const h = hexValue(load<u8>(q));
      if (h < 0) break;
      value = (value << 4) | <u32>h;
      q++;
      if (q - p > 4) return false;
    }
    if (q < end && load<u8>(q) == CharCode.DOT) { // a trailing dotted quad takes the last two groups
      if (count > 6 || !parseIPv4(p, end, groups + (<usize>count << 1))) return false;
      count += 2;
      p = end;
      break;
    }
    if (q == p) return false;
    store<u16>(groups + (<usize>count << 1), bswap<u16>(<u16>value));
    count++;
    p = q;
    if (p == end) break;
    if (load<u8>(p) != CharCode.COLON) return false;
    p++;
    if (p < end && load<u8>(p) == CharCode.COLON) {
      if (gap >= 0) return false; // a second '::'
      gap = count;
      p++;
    } else if (p == end) {
      return false; // a single trailing ':'
    }
  }
  return placeGroups(groups, count, gap, out);
}

@inline function isZoneChar(c: u32): bool {
  // Node's zone characters: [0-9a-zA-Z-.:]
  return c - CharCode._0 < 10 || (c | CharCode.LOWER) - CharCode.a < 26 || c == CharCode.MINUS || c == CharCode.DOT || c == CharCode.COLON;
}

/**
 * Writes the sockaddr for address text [start, end) into the zeroed SOCKADDR_STORAGE at out.
 * `flags` carry the caller's family hint and whether `scopeId` was given; `port` is already range
 * checked. Returns 0 or a reason; the address family is left at out for the caller's checks.
 */
export function writeAddress(
  start: usize, end: usize, port: u32, flowInfo: u32, scopeId: u32, flags: u32, out: usize,
): i32 {
  if (end - start > MAX_PEER_TEXT_LENGTH) return fail(REASON_PEER_TEXT_TOO_LONG, <u32>(end - start));
  // A dotted quad first, over all of the text (it has no zone; a '%' fails it at once), then
  // IPv6 with a zone split off ('fe80::1%7'): no scan for '%' before an IPv4 address.
  if (parseIPv4(start, end, out + SIN_ADDR)) {
    if (flags & FLAG_FAMILY_IPV6) return fail(REASON_FAMILY_MISMATCH, AF_INET);
    if (flowInfo != 0) return fail(REASON_FLOWINFO_ON_IPV4, flowInfo);
    if (scopeId != 0) return fail(REASON_SCOPE_ON_IPV4, scopeId);
    store<u16>(out + SIN_FAMILY, AF_INET);
    store<u16>(out + SIN_PORT, bswap<u16>(<u16>port));
    return 0;
  }
  // parseIPv4 wrote nothing. IPv6 of hex digits and colons only (no zone) is decided by the fast
  // path over all of the text, with no scan for '%' first; a '%' (or anything else) sends it on
  // to the scan and parseIPv6, which then answers exactly as for any text.
  let zoneAt = end;
  let fast = parseIPv6Fast(start, end, out + SIN6_ADDR);
  if (fast < 0) {
    zoneAt = findByte(start, end, CharCode.PERCENT);
    fast = parseIPv6(start, zoneAt, out + SIN6_ADDR) ? 1 : 0;
  }
  if (fast == 0) {
    memory.fill(out, 0, SIZE_SOCKADDR_STORAGE);
    return fail(REASON_ADDRESS_SYNTAX, 0);
  }
  if (flags & FLAG_FAMILY_IPV4) {
    memory.fill(out, 0, SIZE_SOCKADDR_STORAGE);
    return fail(REASON_FAMILY_MISMATCH, AF_INET6);
  }
  let scope = scopeId;
  if (zoneAt < end) {
    const zoneStart = zoneAt + 1;
    if (zoneStart == end) return fail(REASON_ADDRESS_SYNTAX, <u32>(zoneAt - start));
    let numeric = true;
    for (let p = zoneStart; p < end; p++) {
      const c = <u32>load<u8>(p);
      if (!isZoneChar(c)) return fail(REASON_ADDRESS_SYNTAX, <u32>(p - start));
      if (c - CharCode._0 >= 10) numeric = false;
    }
    if (!numeric) return fail(REASON_ZONE_NAMED, <u32>(zoneStart - start));
    const zone = parseDecimal(zoneStart, end, 0xffffffff);
    if (zone < 0) return fail(REASON_ZONE_RANGE, 0);
    if ((flags & FLAG_SCOPE_GIVEN) && <u32>zone != scopeId) return fail(REASON_ZONE_CONFLICT, <u32>zone);
    scope = <u32>zone;
  }
  store<u16>(out + SIN6_FAMILY, AF_INET6);
  store<u16>(out + SIN6_PORT, bswap<u16>(<u16>port));
  store<u32>(out + SIN6_FLOWINFO, bswap<u32>(flowInfo));
  store<u32>(out + SIN6_SCOPE_ID, scope);
  return 0;
}

/**
 * Where the first colon of [start, end) is, if it is among the first 16 bytes; else end (also when
 * a 16-byte block there would read past memory).
 */
@inline function firstColon(start: usize, end: usize): usize {
  const len = end - start;
  if (start + 16 > (<usize>memory.size() << 16)) return end;
  const within = len >= 16 ? 0xffff : (<u32>1 << <u32>len) - 1;
  const bits = <u32>i8x16.bitmask(i8x16.eq(v128.load(start), i8x16.splat(<i8>CharCode.COLON))) & within;
  return bits != 0 ? start + <usize>ctz(bits) : end;
}

/** Parses 'a.b.c.d:port' or '[v6%zone]:port' at [start, end) into the zeroed storage at out. */
export function writePeerText(start: usize, end: usize, out: usize): i32 {
  if (end - start > MAX_PEER_TEXT_LENGTH) return fail(REASON_PEER_TEXT_TOO_LONG, <u32>(end - start));
  let addrStart = start;
  let addrEnd: usize;
  let portStart: usize;
  if (start < end && load<u8>(start) == CharCode.OPENBRACKET) {
    addrStart = start + 1;
    const close = findByte(addrStart, end, CharCode.CLOSEBRACKET);
    if (close == end) return fail(REASON_PEER_SYNTAX, <u32>(end - start));
    addrEnd = close;
    if (close + 1 >= end || load<u8>(close + 1) != CharCode.COLON) return fail(REASON_PEER_SYNTAX, <u32>(close + 1 - start));
    portStart = close + 2;
  } else {
    // The common case, 'a.b.c.d:port', first: the first colon (a dotted quad is at most 15 bytes,
    // so it is in the first block), the dotted quad before it and the port after it. Where that
    // all holds, the text has that one colon, and the exact path below would find the same.
    const quadEnd = firstColon(start, end);
    if (quadEnd < end && parseIPv4(start, quadEnd, out + SIN_ADDR)) {
      const quadPort = parsePort(quadEnd + 1, end);
      if (quadPort >= 0) {
        store<u16>(out + SIN_FAMILY, AF_INET);
        store<u16>(out + SIN_PORT, bswap<u16>(<u16>quadPort));
        return 0;
      }
      store<u32>(out + SIN_ADDR, 0); // the path below starts from zeroed storage
    }
    // Everything else, exactly as it always was: the port's colon found from the end, the dotted
    // quad before it parsed in place (a dotted quad holds no other colon); any other text takes
    // the general path below, so every error is the one it reports.
    let last = end;
    while (last > start && load<u8>(last - 1) != CharCode.COLON) last--;
    if (last > start && parseIPv4(start, last - 1, out + SIN_ADDR)) {
      const quadPort = parsePort(last, end);
      if (quadPort < 0) {
        store<u32>(out + SIN_ADDR, 0);
        return fail(quadPort == -2 ? REASON_PORT_RANGE : REASON_PEER_SYNTAX, quadPort == -2 ? 0 : <u32>(last - start));
      }
      store<u16>(out + SIN_FAMILY, AF_INET);
      store<u16>(out + SIN_PORT, bswap<u16>(<u16>quadPort));
      return 0;
    }
    // parseIPv4 wrote nothing.
    const colon = findByte(start, end, CharCode.COLON);
    // No port, or IPv6 without brackets: both ambiguous, so both refused (the detail: how many colons).
    if (colon == end) return fail(REASON_PEER_SYNTAX, 0);
    if (findByte(colon + 1, end, CharCode.COLON) != end) {
      let colons: u32 = 0;
      for (let p = start; p < end; p++) if (load<u8>(p) == CharCode.COLON) colons++;
      return fail(REASON_PEER_SYNTAX, colons);
    }
    addrEnd = colon;
    portStart = colon + 1;
  }
  const port = parsePort(portStart, end);
  if (port == -2) return fail(REASON_PORT_RANGE, 0);
  if (port < 0) return fail(REASON_PEER_SYNTAX, <u32>(portStart - start));
  const reason = writeAddress(addrStart, addrEnd, <u32>port, 0, 0, 0, out);
  if (reason == 0 && addrStart != start && load<u16>(out + SIN_FAMILY) == AF_INET) {
    memory.fill(out, 0, SIZE_SOCKADDR_STORAGE);
    return fail(REASON_PEER_SYNTAX, 0); // brackets are for IPv6 only
  }
  return reason;
}
