// Decimal numbers in peer text: ports ('...:443') and numeric zones ('fe80::1%7').

import { CharCode } from "./chars";

/** Reads decimal digits [p, end) as a u32; -1 on a non-digit (or none), -2 once over limit. */
export function parseDecimal(p: usize, end: usize, limit: u64): i64 {
  if (p == end) return -1;
  let value: u64 = 0;
  while (p < end) {
    const d = <u32>load<u8>(p) - CharCode._0;
    if (d > 9) return -1;
    value = value * 10 + d;
    if (value > limit) return -2;
    p++;
  }
  return <i64>value;
}

/** The most digits parsePort reads at once: a port has at most five (leading zeros take the loop). */
const PORT_DIGITS: usize = 5;

/**
 * parseDecimal(p, end, 65535), the same answer, for a port: its 1-5 digits read with one 8-byte load
 * and three multiplies instead of a loop whose exit depends on the port's length. Anything else (no
 * digits, a non-digit, more digits, too near the end of memory to read 8 bytes) takes parseDecimal,
 * so every error is the one it reports. Over 65535 is -2 here as there: on digits alone the value
 * only grows from one digit to the next, so the loop would pass the limit too.
 */
@inline export function parsePort(p: usize, end: usize): i64 {
  const len = end - p;
  if (len - 1 >= PORT_DIGITS || p + 8 > (<usize>memory.size() << 16)) return parseDecimal(p, end, 65535);
  const w = load<u64>(p);
  const within = (<u32>1 << <u32>len) - 1;
  const digits = <u32>i8x16.bitmask(i8x16.lt_u(i8x16.sub(i64x2.splat(w), i8x16.splat(<i8>CharCode._0)), i8x16.splat(10)));
  if ((digits & within) != within) return parseDecimal(p, end, 65535);
  // Each character's low nibble is its digit. Shifted up so the last digit is the top byte (the
  // bytes past the port leave, zeros come in as leading zeros), then eight digits, first one in the
  // lowest byte, combined pairwise: 2 digits per 16 bits, 4 per 32, all 8 (simdjson's
  // parse_eight_digits_unrolled).
  let v = (w & 0x0f0f0f0f0f0f0f0f) << (<u64>(8 - len) << 3);
  v = (v * 2561) >> 8; // 10 * 256 + 1
  v = ((v & 0x00ff00ff00ff00ff) * 6553601) >> 16; // 100 * 65536 + 1
  v = ((v & 0x0000ffff0000ffff) * 42949672960001) >> 32; // 10000 * 2^32 + 1
  const value = <i64>(v & 0xffffffff);
  return value > 65535 ? -2 : value;
}
