// What Inspect mode says beyond the validator's problems: how the buffer's length compares with the
// 144 + 2n an encoder writes (even where the validator accepts it), which fields a cut-short buffer
// still holds, and a length written in the other unit, explained as such with the fix.
import * as L from '../../generated/layout.js';
import type { FieldRow } from '../../codec/fields.js';
import type { InspectedPeerTargetName } from '../../codec/decode.js';
import type { CodecOptions } from '../../codec/types.js';

type Inspect = (bytes: Uint8Array, options?: CodecOptions) => InspectedPeerTargetName;

const range = (from: number, to: number) => (to - from <= 1 ? `byte ${from}` : `bytes ${from}–${to - 1}`);
const plural = (n: number, one: string, many = one + 's') => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** The name's length in UTF-16 units as the buffer states it, when it is a whole number. */
function nameUnits(report: InspectedPeerTargetName): number | undefined {
  const { stringLength, lengthUnit } = report.value;
  if (stringLength === undefined || lengthUnit === undefined) return undefined;
  if (lengthUnit === 'units') return stringLength;
  return stringLength % 2 === 0 ? stringLength / 2 : undefined;
}

/**
 * A sentence when the buffer is not 144 + 2n bytes long (n: the name's units as stated), naming
 * the difference and what the extra or missing bytes are; undefined when the length is exact.
 */
export function lengthNote(bytes: Uint8Array, report: InspectedPeerTargetName): string | undefined {
  const len = bytes.length;
  const encoderWrites = (what: string) =>
    report.problems.length === 0 ? ` The validator accepts it, but an encoder writes ${what}.` : ` An encoder writes ${what}.`;
  if (len < L.OFFSET_STRINGS) {
    if (len === 0) return undefined;
    return `${plural(len, 'byte')}: cut short before ${len < L.OFFSET_STRING_LENGTH ? 'PeerTargetNameStringLen (offset 136)' : 'AllStrings (offset 140)'}. ` +
      `A SOCKET_PEER_TARGET_NAME is at least ${L.SIZEOF_PEER_TARGET_NAME} bytes; the fields whose bytes are here are shown.`;
  }
  const n = nameUnits(report);
  if (n === undefined) return undefined;
  const expected = L.SIZEOF_PEER_TARGET_NAME + 2 * n;
  const formula = `144 + 2 × ${n} = ${expected}`;
  const nameEnd = L.OFFSET_STRINGS + 2 * n;
  if (len > expected) {
    const extra = bytes.subarray(expected);
    const zero = extra.every((b) => b === 0);
    return `${plural(len, 'byte')} is ${plural(len - expected, 'byte')} more than the struct needs (${formula}): ` +
      `${range(expected, len)} ${zero ? 'are all zero' : 'are not all zero'} and lie beyond it.` +
      encoderWrites(`${expected} and passes PeerTargetNameLen = ${expected}`);
  }
  if (len < expected) {
    const missing: string[] = [];
    if (len < nameEnd) missing.push(`${range(len, nameEnd)} of the name`);
    if (len < nameEnd + 2) missing.push(`the NUL terminator (${range(Math.max(len, nameEnd), nameEnd + 2)})`);
    missing.push(`the tail padding (${range(Math.max(len, nameEnd + 2), expected)})`);
    return `${plural(len, 'byte')} is ${plural(expected - len, 'byte')} short of ${formula}: it is cut before ` +
      `${missing.join(', ').replace(/, ([^,]*)$/, ' and $1')}.` + encoderWrites(`${expected} bytes`);
  }
  return undefined;
}

/**
 * A buffer cut short before the codec reads the peer still has every field whose bytes are here:
 * the rows come from the same buffer zero-extended to the struct's size, cut back to the bytes
 * present (a field cut in two says so), with the real buffer's problems.
 */
export function presentFields(bytes: Uint8Array, report: InspectedPeerTargetName, inspect: Inspect, options: CodecOptions): InspectedPeerTargetName {
  if (bytes.length >= L.SIZEOF_PEER_TARGET_NAME || report.value.peer !== undefined || bytes.length <= L.OFFSET_PEER + 1) return report;
  const padded = new Uint8Array(L.SIZEOF_PEER_TARGET_NAME);
  padded.set(bytes);
  const whole = inspect(padded, options);
  const len = bytes.length;
  const problems = report.problems;
  const touching = (offset: number, size: number) => problems
    .filter((p) => p.offset !== undefined && p.offset < offset + size && p.offset + Math.max(1, p.length ?? 0) > offset)
    .map((p) => p.code);
  const fields: FieldRow[] = [];
  for (const row of whole.fields) {
    if (row.offset >= len) break;
    const size = Math.min(row.size, len - row.offset);
    const cut = size < row.size;
    fields.push({
      ...row,
      size,
      value: cut ? `? (cut short: ${size} of ${row.size} bytes)` : row.value,
      hex: cut ? row.hex.slice(0, 2 * size) : row.hex,
      problems: touching(row.offset, size),
    });
  }
  const value = { ...report.value };
  // The peer, when its whole sockaddr is here.
  const peer = whole.value.peer;
  const sockaddr = peer?.family === 'ipv6' ? L.SIZEOF_SOCKADDR_IN6 : L.SIZEOF_SOCKADDR_IN;
  if (peer && len >= L.OFFSET_PEER + sockaddr) value.peer = peer;
  return { ...report, value, fields };
}

/** A length written in the other unit: what it reads as, and the fix. */
export interface UnitMismatch {
  /** PeerTargetNameStringLen as stored. */
  stored: number;
  /** The unit the current options read it in, and the unit that makes the buffer valid. */
  readAs: 'units' | 'bytes';
  writtenIn: 'units' | 'bytes';
  /** The value that means the same name in the unit the options read. */
  fixed: number;
  /** The buffer with PeerTargetNameStringLen rewritten to `fixed`. */
  fixedBytes: Uint8Array;
  /** The name the buffer holds, read in the other unit. */
  name: string;
}

/**
 * When the buffer has problems under the current options but none with PeerTargetNameStringLen read
 * in the other unit, the writer counted in that unit: a unit mismatch, not a broken tail.
 */
export function unitMismatch(bytes: Uint8Array, report: InspectedPeerTargetName, inspect: Inspect, options: CodecOptions): UnitMismatch | undefined {
  const { stringLength, lengthUnit } = report.value;
  if (report.problems.length === 0 || stringLength === undefined || lengthUnit === undefined || stringLength === 0) return undefined;
  const other = lengthUnit === 'units' ? 'bytes' : 'units';
  const again = inspect(bytes, { ...options, lengthUnit: other });
  if (again.problems.length !== 0) return undefined;
  const fixed = lengthUnit === 'bytes' ? stringLength * 2 : stringLength / 2;
  if (!Number.isInteger(fixed)) return undefined;
  const fixedBytes = bytes.slice();
  new DataView(fixedBytes.buffer).setUint32(L.OFFSET_STRING_LENGTH, fixed, true);
  return { stored: stringLength, readAs: lengthUnit, writtenIn: other, fixed, fixedBytes, name: again.value.targetName ?? '' };
}
