// The one "check beyond the copied prefix" helper: a decoder copies at most a fixed prefix of a
// long buffer into the codec's memory; every byte past it can only be tail. This judges "string
// beyond the buffer" on the real buffer and finds a non-zero tail byte past the copy, in place.
import * as L from '../generated/layout.js';

export interface BeyondProblem {
  reason: number;
  detail: number;
  offset: number;
  length: number;
}

/**
 * Fixes up `problems` the codec found in bytes[0, copied) of a longer buffer whose strings end at
 * `stringsEnd`: drops its "string beyond buffer" when the real buffer holds the strings, and adds
 * the first non-zero byte past the copy as a non-zero tail (made by `tail`, for records with more
 * fields) unless one is already reported.
 */
export function checkBeyondCopy<P extends BeyondProblem>(bytes: Uint8Array, copied: number, stringsEnd: number, problems: P[],
  tail: (problem: BeyondProblem) => P = (p) => p as P): void {
  const length = bytes.length;
  const beyond = problems.findIndex((p) => p.reason === L.REASON_STRING_BEYOND_BUFFER);
  if (beyond >= 0 && stringsEnd <= length) problems.splice(beyond, 1);
  if (problems.some((p) => p.reason === L.REASON_TAIL_NONZERO)) return;
  for (let i = Math.max(copied, stringsEnd); i < length; i++) {
    if (bytes[i] !== 0) {
      problems.push(tail({ reason: L.REASON_TAIL_NONZERO, detail: bytes[i], offset: i, length: length - i }));
      return;
    }
  }
}
