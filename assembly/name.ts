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
