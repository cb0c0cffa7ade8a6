// Dotted quads ('a.b.c.d'), as Node's net.isIPv4 accepts them: four decimal octets of 1-3 digits,
// each at most 255 and without a leading zero. Used on their own and as the tail of IPv6 text.

import { CharCode } from "./chars";

/** The shortest and the longest dotted quad: '0.0.0.0' and '255.255.255.255'. */
const QUAD_MIN: usize = 7;
const QUAD_MAX: usize = 15;
/** The bytes parseIPv4 may read from a quad's start: one 16-byte block, and a u32 at its last octet. */
const QUAD_SPAN: usize = QUAD_MAX + 4;

/**
 * The octet of `digits` (1-3) decimal digits at p: the u32 there has them in its low bytes, first
 * one lowest. Returns it, or 256 (no octet: over 255, or a leading zero) so that one compare of the
 * four octets' OR rejects them all.
 */
@inline function octet(p: usize, digits: usize): u32 {
  // Each character's low nibble is its digit; bytes past the octet are shifted out, so the digits
  // end up right-aligned: hundreds, tens, ones in bytes 0, 1, 2 (missing ones zero).
  const w = ((load<u32>(p) & 0x0f0f0f) << <u32>((3 - digits) << 3)) & 0x0f0f0f;
  const value = (w & 0xff) * 100 + ((w >> 8) & 0xff) * 10 + (w >> 16);
  const leadingZero = digits > 1 && (load<u8>(p) == CharCode._0);
  return leadingZero ? 256 : value;
}

/**
 * Parses a dotted quad filling [p, end) exactly into 4 bytes at out (nothing is written for text
 * that is none). The common case is decided without a branch per character: one 16-byte block is
 * classified at once, the dots are found by their bits, and each octet is read from its digits with
 * one load. Text near the end of memory (a block there would read past it) takes the byte loop.
 */
@inline export function parseIPv4(p: usize, end: usize, out: usize): bool {
  const len = end - p;
  if (len - QUAD_MIN > QUAD_MAX - QUAD_MIN) return false; // also len < QUAD_MIN (it wraps)
  if (p + QUAD_SPAN > (<usize>memory.size() << 16)) return parseIPv4Loop(p, end, out);
  const v = v128.load(p);
  const within = (<u32>1 << <u32>len) - 1;
  const dots = <u32>i8x16.bitmask(i8x16.eq(v, i8x16.splat(<i8>CharCode.DOT))) & within;
  const digits = <u32>i8x16.bitmask(i8x16.lt_u(i8x16.sub(v, i8x16.splat(<i8>CharCode._0)), i8x16.splat(10))) & within;
  // Only digits and dots, and three dots: then four runs of digits, possibly empty.
  if ((dots | digits) != within || popcnt(dots) != 3) return false;
  const d1 = <usize>ctz(dots);
  const rest = dots & (dots - 1);
  const d2 = <usize>ctz(rest);
  const d3 = <usize>ctz(rest & (rest - 1));
  // Each run is 1-3 digits long: one unsigned compare per run rejects 0 (it wraps) and over 3.
  const n1 = d1;
  const n2 = d2 - d1 - 1;
  const n3 = d3 - d2 - 1;
  const n4 = len - d3 - 1;
  if ((n1 - 1) > 2 || (n2 - 1) > 2 || (n3 - 1) > 2 || (n4 - 1) > 2) return false;
  const a = octet(p, n1);
  const b = octet(p + d1 + 1, n2);
  const c = octet(p + d2 + 1, n3);
  const d = octet(p + d3 + 1, n4);
  if ((a | b | c | d) > 255) return false;
  store<u32>(out, a | (b << 8) | (c << 16) | (d << 24));
  return true;
}

/** parseIPv4 one character at a time, for text too near the end of memory to read a block. */
function parseIPv4Loop(p: usize, end: usize, out: usize): bool {
  let quad: u32 = 0;
  for (let i: u32 = 0; i < 4; i++) {
    if (i > 0) {
      if (p >= end || load<u8>(p) != CharCode.DOT) return false;
      p++;
    }
    let digits = 0;
    let value: u32 = 0;
    while (p < end) {
      const d = <u32>load<u8>(p) - CharCode._0;
      if (d > 9) break;
      if (digits > 0 && value == 0) return false; // leading zero, as Node rejects
      value = value * 10 + d;
      if (++digits > 3) return false;
      p++;
    }
    if (digits == 0 || value > 255) return false;
    quad |= value << (i << 3);
  }
  if (p != end) return false;
  store<u32>(out, quad);
  return true;
}
