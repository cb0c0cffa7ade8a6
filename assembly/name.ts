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
 * Checks the n ASCII bytes at src, a name the host moved in as one byte per UTF-16 unit
 * (FLAG_NAME_ASCII): only emptiness, length and U+0000 can be wrong, ASCII holds no surrogate.
 */
export function checkAsciiName(src: usize, n: u32, maxUnits: u32): i32 {
  if (n == 0) return fail(REASON_NAME_EMPTY, 0);
  if (n > maxUnits) return fail(REASON_NAME_TOO_LONG, n);
  const zero = i64x2.splat(0);
  let i: u32 = 0;
  for (; i + 16 <= n; i += 16) {
    const nul = i8x16.bitmask(i8x16.eq(v128.load(src + i), zero));
    if (nul != 0) return fail(REASON_NAME_NUL, i + <u32>ctz(nul));
  }
  for (; i < n; i++) {
    if (load<u8>(src + i) == 0) return fail(REASON_NAME_NUL, i);
  }
  return 0;
}

/** Writes the n bytes at src as n UTF-16LE units at dst (ASCII widened: each byte is a unit). */
export function widenAscii(dst: usize, src: usize, n: u32): void {
  let i: usize = 0;
  const count = <usize>n;
  for (; i + 16 <= count; i += 16) {
    const v = v128.load(src + i);
    v128.store(dst + (i << 1), i16x8.extend_low_i8x16_u(v));
    v128.store(dst + (i << 1) + 16, i16x8.extend_high_i8x16_u(v));
  }
  if (i + 8 <= count) {
    v128.store(dst + (i << 1), i16x8.extend_low_i8x16_u(v128.load64_zero(src + i)));
    i += 8;
  }
  for (; i < count; i++) store<u16>(dst + (i << 1), load<u8>(src + i));
}

/** Copies n UTF-16 units from src to dst, sixteen bytes at a time where it can. */
export function copyUnits(dst: usize, src: usize, n: u32): void {
  const bytes = <usize>n << 1;
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) v128.store(dst + i, v128.load(src + i));
  if (i + 8 <= bytes) {
    store<u64>(dst + i, load<u64>(src + i));
    i += 8;
  }
  for (; i < bytes; i += 2) store<u16>(dst + i, load<u16>(src + i));
}
