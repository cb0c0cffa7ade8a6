// The target name: UTF-16 code units. A name is 1..max units, with no U+0000 inside (Windows also
// reads it as a C string) and no unpaired surrogate (no principal could carry it).

import {
  REASON_NAME_EMPTY, REASON_NAME_NUL, REASON_NAME_SURROGATE, REASON_NAME_TOO_LONG,
} from "./layout";
import { fail } from "./failure";

/**
 * Checks the n units at src. Returns 0 or a reason, with the offending unit's index (or, for a
 * name that is too long, its length) in failDetail.
 */
export function checkName(src: usize, n: u32, maxUnits: u32): i32 {
  if (n == 0) return fail(REASON_NAME_EMPTY, 0);
  if (n > maxUnits) return fail(REASON_NAME_TOO_LONG, n);
  const end = src + (<usize>n << 1);
  let p = src;
  // Eight units at a time while none of them is NUL or from U+D800 up (the common case: ASCII and
  // most of the BMP); the first block that has one goes to the unit-by-unit loop below.
  const one = i16x8.splat(1);
  const limit = i16x8.splat(<i16>0xd7ff);
  while (p + 16 <= end) {
    if (v128.any_true(i16x8.ge_u(i16x8.sub(v128.load(p), one), limit))) break;
    p += 16;
  }
  while (p < end) {
    const u = <u32>load<u16>(p);
    // One unsigned compare sends NUL and everything from U+D800 up to the slow path.
    if (u - 1 >= 0xd7ff) {
      if (u == 0) return fail(REASON_NAME_NUL, <u32>((p - src) >> 1));
      if (u < 0xe000) {
        // Only a high surrogate followed by a low one is a pair.
        if (u >= 0xdc00 || p + 2 >= end || <u32>load<u16>(p + 2) - 0xdc00 >= 0x400) {
          return fail(REASON_NAME_SURROGATE, <u32>((p - src) >> 1));
        }
        p += 2;
      }
    }
    p += 2;
  }
  return 0;
}

/**
 * Checks the length of an ASCII name (FLAG_NAME_ASCII: the host moved it in as one byte per UTF-16
 * unit): only emptiness, length and U+0000 can be wrong, ASCII holds no surrogate. The U+0000 check
 * is widenAscii's, made while it copies.
 */
export function checkAsciiLength(n: u32, maxUnits: u32): i32 {
  if (n == 0) return fail(REASON_NAME_EMPTY, 0);
  if (n > maxUnits) return fail(REASON_NAME_TOO_LONG, n);
  return 0;
}

/**
 * Writes the n (at least one) bytes at src as n UTF-16LE units at dst (ASCII widened: each byte is
 * a unit) and checks them for U+0000 on the way, in one pass as the C reference does. Returns 0, or
 * REASON_NAME_NUL with the first NUL's index in failDetail (dst then holds part of the name: the
 * caller drops the record). Only [dst, dst + 2n) is written and only [src, src + n) read: the last
 * block overlaps the one before it instead of a byte loop over the rest.
 */
export function widenAscii(dst: usize, src: usize, n: u32): i32 {
  const count = <usize>n;
  const zero = i64x2.splat(0);
  if (count >= 16) {
    const last = count - 16;
    let i: usize = 0;
    while (true) {
      const at = i < last ? i : last;
      const v = v128.load(src + at);
      v128.store(dst + (at << 1), i16x8.extend_low_i8x16_u(v));
      v128.store(dst + (at << 1), i16x8.extend_high_i8x16_u(v), 16);
      // The first NUL of this block is the name's first: the blocks before it held none.
      const nul = i8x16.bitmask(i8x16.eq(v, zero));
      if (nul != 0) return fail(REASON_NAME_NUL, <u32>(at + ctz(nul)));
      if (at == last) return 0;
      i += 16;
    }
  }
  if (count >= 8) {
    // Two 8-byte halves, the second overlapping the first.
    const last = count - 8;
    const a = v128.load64_zero(src);
    const b = v128.load64_zero(src + last);
    v128.store(dst, i16x8.extend_low_i8x16_u(a));
    v128.store(dst + (last << 1), i16x8.extend_low_i8x16_u(b));
    const nulA = i8x16.bitmask(i8x16.eq(a, zero)) & 0xff;
    if (nulA != 0) return fail(REASON_NAME_NUL, <u32>ctz(nulA));
    const nulB = i8x16.bitmask(i8x16.eq(b, zero)) & 0xff;
    if (nulB != 0) return fail(REASON_NAME_NUL, <u32>(last + ctz(nulB)));
    return 0;
  }
  for (let i: usize = 0; i < count; i++) {
    const c = load<u8>(src + i);
    if (c == 0) return fail(REASON_NAME_NUL, <u32>i);
    store<u16>(dst + (i << 1), c);
  }
  return 0;
}

/** Copies n (at least one) UTF-16 units from src to dst, sixteen bytes at a time, the last block overlapping. */
export function copyUnits(dst: usize, src: usize, n: u32): void {
  const bytes = <usize>n << 1;
  if (bytes >= 16) {
    const last = bytes - 16;
    for (let i: usize = 0; i < last; i += 16) v128.store(dst + i, v128.load(src + i));
    v128.store(dst + last, v128.load(src + last));
    return;
  }
  if (bytes >= 8) {
    store<u64>(dst, load<u64>(src));
    store<u64>(dst + bytes - 8, load<u64>(src + bytes - 8));
    return;
  }
  for (let i: usize = 0; i < bytes; i += 2) store<u16>(dst + i, load<u16>(src + i));
}
