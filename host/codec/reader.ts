// Reading buffers made by anyone: the codec's decode() into raw fields and every problem, its
// check() verdict alone (validate's ok path, decode's fast path, and the bridge's check of bytes
// before they reach native code), and the one helper that checks the bytes past the copied prefix
// of a long buffer.
import * as L from '../generated/layout.js';
import { formatIPv4, formatIPv6 } from './address.js';
import { unitsText } from './units-text.js';
import type { CodecMemory } from './memory.js';
import type { ResolvedOptions } from './options.js';
import { bufferOf, lengthOf, offsetOf } from './views.js';
import { PROTOCOL_NAMES } from './protocols.js';
import { checkBeyondCopy } from './beyond-copy.js';
import type { DecodedPeer, DecodedPeerTargetName } from './types.js';

/** Decode copies at most this much; any byte past it can only be tail, checked in place. */
export const DECODE_COPY_LIMIT = L.OFFSET_STRINGS + 2 * L.HARD_MAX_TARGET_NAME_LENGTH + 4;

/** n bytes of u8 from `at`, in a fresh array (new + set: slice() takes a slower path in V8). */
function copyOf(u8: Uint8Array, at: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  out.set(u8.subarray(at, at + n));
  return out;
}

/** The raw fields a decode call leaves in the result record. */
export interface RawDecode {
  length: number;
  present: number;
  protocol: number;
  family: number;
  port: number;
  flowInfo: number;
  scopeId: number;
  address: Uint8Array;
  stringLength: number;
  lengthUnit: 'units' | 'bytes';
  nameUnits: number;
  /** The units the buffer actually holds, as a string (lone surrogates kept as they are). */
  name: string;
  problems: { reason: number; detail: number; offset: number; length: number }[];
}

export class CodecReader {
  /** The private copy of the bytes the last checkedCopy() refused, for its error. */
  private refused: Uint8Array | undefined;

  constructor(private readonly m: CodecMemory) {}

  /**
   * The bridge's check of caller bytes before they may reach native code, per call. Returns the
   * bytes to pass: a private copy, made first and then checked, so native code receives exactly the
   * bytes that were checked even if the caller's buffer is shared with another thread that writes
   * to it. A buffer of up to DECODE_COPY_LIMIT bytes (every valid record, unless padded with zeros
   * beyond) is copied into the codec's memory and checked there by the codec's check() (decode()'s
   * verdict, without building the decoded fields); that copy is valid until the next call on this
   * codec. A longer one is copied into a fresh Uint8Array of the same length, outside the codec's
   * memory, and that copy is decoded. Returns undefined for an empty view, or when the copy has a
   * problem: takeRefused() then hands over that very copy, for the error.
   */
  checkedCopy(bytes: Uint8Array, options: ResolvedOptions): Uint8Array | undefined {
    const m = this.m;
    this.refused = undefined;
    const length = lengthOf(bytes); // the internal length: an own `length` property cannot lie
    if (length === 0) return undefined;
    if (length > DECODE_COPY_LIMIT) {
      const copy = new Uint8Array(bytes); // copies through the internal slots, never the caller's code
      if (this.decode(copy, options).problems.length === 0) return copy;
      this.refused = copy;
      return undefined;
    }
    // A view into this memory would be detached if reserve() grows it: copy it out first.
    if (bufferOf(bytes) === m.buffer) bytes = new Uint8Array(bytes);
    m.reserve(length + 8);
    const at = m.workStart;
    const u8 = m.u8;
    u8.set(bytes, at);
    let verdict: number;
    try {
      verdict = m.wasm.check(at, length, options.word, options.maxTargetNameLength);
    } catch (cause) {
      return m.recover(cause);
    }
    if (verdict === 0) return m.checkedViews.get(u8, at, length);
    this.refused = u8.slice(at, at + length); // what failed, kept for the error
    return undefined;
  }

  /**
   * The private copy the last checkedCopy() refused (once): decode it for the error, never the
   * caller's buffer again, which another thread may have changed since.
   */
  takeRefused(): Uint8Array | undefined {
    const refused = this.refused;
    this.refused = undefined;
    return refused;
  }

  /**
   * The codec's check() verdict on bytes (true: decode() would find no problem), without building
   * anything; false means "decode to find out". Buffers longer than the copy limit are never
   * judged here (false).
   */
  passes(bytes: Uint8Array, options: ResolvedOptions): boolean {
    const m = this.m;
    const length = lengthOf(bytes);
    if (length === 0 || length > DECODE_COPY_LIMIT) return false;
    if (bufferOf(bytes) === m.buffer) bytes = new Uint8Array(bytes);
    m.reserve(length + 8);
    const at = m.workStart;
    m.u8.set(bytes, at);
    let verdict: number;
    try {
      verdict = m.wasm.check(at, length, options.word, options.maxTargetNameLength);
    } catch (cause) {
      return m.recover(cause);
    }
    return verdict === 0;
  }

  /**
   * decode()'s answer for a buffer the codec's check() passes, read straight from the checked copy
   * (no result record, no problem list); undefined when check() does not pass it (decode() then
   * names the problems).
   */
  decodeValid(bytes: Uint8Array, options: ResolvedOptions): DecodedPeerTargetName | undefined {
    const m = this.m;
    if (!this.passes(bytes, options)) return undefined;
    const at = m.workStart;
    const u8 = m.u8;
    const u32 = m.u32;
    const protocol = u8[at + L.OFFSET_PROTOCOL];
    const p = at + L.OFFSET_PEER;
    const family = u8[p] | (u8[p + 1] << 8);
    const port = (u8[p + L.SIN_PORT] << 8) | u8[p + L.SIN_PORT + 1];
    let peer: DecodedPeer | null = null;
    if (family === L.AF_INET) {
      peer = { family: 'ipv4', address: formatIPv4(u8, p + L.SIN_ADDR), port, flowInfo: 0, scopeId: 0 };
    } else if (family === L.AF_INET6) {
      const f = p + L.SIN6_FLOWINFO;
      peer = {
        family: 'ipv6', address: formatIPv6(u8, p + L.SIN6_ADDR), port,
        flowInfo: ((u8[f] << 24) | (u8[f + 1] << 16) | (u8[f + 2] << 8) | u8[f + 3]) >>> 0,
        scopeId: u32[(p + L.SIN6_SCOPE_ID) >>> 2],
      };
    }
    const stringLength = u32[(at + L.OFFSET_STRING_LENGTH) >>> 2];
    const unit = options.lengthUnit;
    const inBytes = unit === 'bytes' || (unit === 'auto' && protocol === L.PROTOCOL_IPSEC2);
    const n = inBytes ? stringLength >>> 1 : stringLength;
    const from = (at + L.OFFSET_STRINGS) >>> 1;
    // check() passed: 1 to 32767 units, no lone surrogate.
    const targetName = unitsText(m.u16, from, n);
    return {
      protocol: PROTOCOL_NAMES[protocol],
      peer, targetName, stringLength, lengthUnit: inBytes ? 'bytes' : 'units', totalLength: lengthOf(bytes),
    };
  }

  /** Decodes any bytes into raw fields and every problem found, in byte order. */
  decode(bytes: Uint8Array, options: ResolvedOptions): RawDecode {
    const m = this.m;
    // A view into this codec's own memory would be detached if reserve() grows it.
    if (bufferOf(bytes) === m.buffer) bytes = new Uint8Array(bytes);
    const length = lengthOf(bytes);
    const copied = Math.min(length, DECODE_COPY_LIMIT);
    m.reserve(copied + 8);
    const at = m.workStart;
    // Through the internal slots: no subarray(), which a subclass could redirect.
    if (copied > 0) m.u8.set(copied === length ? bytes : new Uint8Array(bufferOf(bytes), offsetOf(bytes), copied), at);
    const count = m.run(() => m.wasm.decode(at, copied, options.word, options.maxTargetNameLength, m.result));
    const u32 = m.u32;
    const r = m.result >>> 2;
    const problems: RawDecode['problems'] = [];
    for (let k = 0; k < count; k++) {
      const p = r + L.W_RES_PROBLEMS + k * L.WORDS_PROBLEM;
      problems.push({ reason: m.i32[p + L.W_PB_REASON], detail: u32[p + L.W_PB_DETAIL], offset: u32[p + L.W_PB_OFFSET], length: u32[p + L.W_PB_LENGTH] });
    }
    const nameUnits = u32[r + L.W_RES_NAME_UNITS];
    // The codec saw only the first DECODE_COPY_LIMIT bytes: every byte past it can only be tail.
    if (copied < length) checkBeyondCopy(bytes, copied, L.OFFSET_STRINGS + 2 * nameUnits, problems);
    const available = u32[r + L.W_RES_NAME_AVAILABLE];
    const nameAt = (at + L.OFFSET_STRINGS) >>> 1;
    const name = unitsText(m.u16, nameAt, available);
    return {
      length,
      present: u32[r + L.W_RES_PRESENT],
      protocol: u32[r + L.W_RES_PROTOCOL],
      family: u32[r + L.W_RES_FAMILY],
      port: u32[r + L.W_RES_PORT],
      flowInfo: u32[r + L.W_RES_FLOWINFO],
      scopeId: u32[r + L.W_RES_SCOPE_ID],
      address: copyOf(m.u8, m.result + L.RES_ADDRESS, 16),
      stringLength: u32[r + L.W_RES_STRING_LENGTH],
      lengthUnit: u32[r + L.W_RES_LENGTH_UNIT] === L.LENGTH_UNIT_BYTES ? 'bytes' : 'units',
      nameUnits,
      name,
      problems,
    };
  }

}
