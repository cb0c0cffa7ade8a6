// The one problem recorder and zero-run helper of every decoder (the peer target name's in
// codec.ts, the security structs' in security.ts): problem records of PB_* fields (plus SPB_FIELD
// for the security structs' wider records), at most MAX_PROBLEMS of them, in byte order.

import { MAX_PROBLEMS, PB_REASON, PB_DETAIL, PB_OFFSET, PB_LENGTH, SIZEOF_PROBLEM, SPB_FIELD } from "./layout";

/** Where the current decode's problem records start, and each one's size. */
let records: usize = 0;
let stride: u32 = SIZEOF_PROBLEM;
let count: u32 = 0;

/** Starts a decode's problem list: records of `size` bytes from `at`. */
export function beginProblems(at: usize, size: u32): void {
  records = at;
  stride = size;
  count = 0;
}

/** How many problems the current decode has recorded. */
export function problemCount(): u32 {
  return count;
}

/** Records one problem (the field only where the records have room for it). */
export function problem(reason: i32, detail: u32, offset: u32, length: u32, field: u32 = 0): void {
  if (count == MAX_PROBLEMS) return;
  const pb = records + <usize>(count * stride);
  store<i32>(pb + PB_REASON, reason);
  store<u32>(pb + PB_DETAIL, detail);
  store<u32>(pb + PB_OFFSET, offset);
  store<u32>(pb + PB_LENGTH, length);
  if (stride > SIZEOF_PROBLEM) store<u32>(pb + SPB_FIELD, field);
  count++;
}

/**
 * True when [from, to) of buf holds only zeros (true for an empty range): sixteen bytes at a time,
 * and one block that overlaps the last, never a read outside the range (the common case: every
 * check of a valid buffer scans the sockaddr's ~100 bytes of slack).
 */
export function allZero(buf: usize, from: u32, to: u32): bool {
  if (to <= from) return true;
  if (to - from < 16) {
    for (let i = from; i < to; i++) if (load<u8>(buf + i) != 0) return false;
    return true;
  }
  let i = from;
  for (; i + 16 <= to; i += 16) if (v128.any_true(v128.load(buf + i))) return false;
  return i == to || !v128.any_true(v128.load(buf + to - 16));
}

/** Offset of the first non-zero byte in [from, to) of buf, or -1 (the byte loop runs only when there is one). */
function firstNonZero(buf: usize, from: u32, to: u32): i32 {
  if (allZero(buf, from, to)) return -1;
  for (let i = from; i < to; i++) if (load<u8>(buf + i) != 0) return <i32>i;
  return -1;
}

/** Reports the non-zero bytes in [from, to) of buf, from the first to the last of them, as one problem. */
export function zeroRun(buf: usize, from: u32, to: u32, reason: i32, field: u32 = 0): void {
  const at = firstNonZero(buf, from, to);
  if (at < 0) return;
  let last = to - 1;
  while (load<u8>(buf + last) == 0) last--;
  problem(reason, load<u8>(buf + at), <u32>at, last + 1 - <u32>at, field);
}
