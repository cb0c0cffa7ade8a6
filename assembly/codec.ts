// The codec's exported ABI: plain integers and offsets into this module's own memory, which the
// host owns and lays out (see host/memory.ts). Nothing here allocates, so a trap cannot leave a
// runtime half-updated: the host may simply call again.

import {
  PROTOCOL_MAX, PROTOCOL_IPSEC2, SIZEOF_PEER_TARGET_NAME, OFFSET_PROTOCOL, OFFSET_PADDING,
  SIZE_PADDING, OFFSET_PEER, SIZE_SOCKADDR_STORAGE, OFFSET_STRING_LENGTH, OFFSET_STRINGS,
  AF_INET, AF_INET6, SIZEOF_SOCKADDR_IN6, SIN_PORT, SIN_ADDR, SIN6_PORT,
  SIN6_FLOWINFO, SIN6_ADDR, SIN6_SCOPE_ID,
  LENGTH_UNIT_AUTO, LENGTH_UNIT_UNITS, LENGTH_UNIT_BYTES,
  IN_PROTOCOL, IN_FLAGS, IN_ADDRESS_PTR, IN_ADDRESS_LENGTH, IN_PORT, IN_FLOWINFO, IN_SCOPE_ID,
  IN_NAME_PTR, IN_NAME_LENGTH, SIZEOF_INPUT, PEER_NONE, PEER_TEXT, PEER_FIELDS, FLAG_PEER_MASK,
  ST_OFFSET, ST_LENGTH, ST_REASON, ST_DETAIL, SIZEOF_STATUS, RECORD_ALIGN,
  OPT_SOCKET_MASK, OPT_SOCKET_STREAM, OPT_UNIT_SHIFT,
  RES_PROTOCOL, RES_FAMILY, RES_PORT, RES_FLOWINFO, RES_SCOPE_ID, RES_ADDRESS, RES_STRING_LENGTH,
  RES_LENGTH_UNIT, RES_NAME_UNITS, RES_NAME_AVAILABLE, RES_PRESENT, RES_PROBLEM_COUNT, RES_PROBLEMS,
  SIZEOF_PROBLEM, SIZEOF_RESULT,
  PRESENT_PROTOCOL, PRESENT_PEER, PRESENT_STRING_LENGTH,
  REASON_PROTOCOL_RANGE, REASON_PEER_MISSING, REASON_PORT_RANGE, REASON_ADDRESS_UNSPECIFIED,
  REASON_PORT_ZERO, REASON_FAMILY_UNSUPPORTED, REASON_BUFFER_SHORT, REASON_STRING_BEYOND_BUFFER,
  REASON_STRING_LENGTH_ODD, REASON_PADDING_NONZERO, REASON_PEER_SLACK_NONZERO, REASON_TAIL_NONZERO,
  REASON_NAME_EMPTY, REASON_NAME_TOO_LONG, REASON_NAME_SURROGATE, SIN_ZERO, FLAG_NAME_ASCII,
} from "./layout";
import { fail, failDetail } from "./failure";
import { writeAddress, writePeerText } from "./sockaddr";
import { checkName, checkAsciiLength, widenAscii, copyUnits } from "./name";
import { allZero, beginProblems, problem, problemCount, zeroRun } from "./problems";

/** First byte the host may use: everything below is this module's static data. */
export function heap_base(): usize {
  return __heap_base;
}

@inline function unitFor(policy: u32, protocol: u32): u32 {
  if (policy != LENGTH_UNIT_AUTO) return policy;
  return protocol == PROTOCOL_IPSEC2 ? LENGTH_UNIT_BYTES : LENGTH_UNIT_UNITS;
}

/** The dgram rule (docs/reference.md §2): an unspecified address or port 0 can never be a peer to send to. */
function unreachable(peer: usize): i32 {
  const family = load<u16>(peer);
  if (family == AF_INET) {
    if (load<u32>(peer + SIN_ADDR) == 0) return fail(REASON_ADDRESS_UNSPECIFIED, 0);
    if (load<u16>(peer + SIN_PORT) == 0) return fail(REASON_PORT_ZERO, 0);
  } else {
    const a = peer + SIN6_ADDR;
    const high = load<u64>(a);
    const low = load<u64>(a + 8);
    // '::' and its IPv4-mapped twin '::ffff:0.0.0.0'
    if (high == 0 && (low == 0 || low == 0xffff0000)) return fail(REASON_ADDRESS_UNSPECIFIED, 0);
    if (load<u16>(peer + SIN6_PORT) == 0) return fail(REASON_PORT_ZERO, 0);
  }
  return 0;
}

/** Writes the PeerAddress for one input record into the zeroed storage at out. */
@inline function writePeer(rec: usize, out: usize, stream: bool): i32 {
  const flags = load<u32>(rec + IN_FLAGS);
  const kind = flags & FLAG_PEER_MASK;
  if (kind == PEER_NONE) return stream ? 0 : fail(REASON_PEER_MISSING, 0);
  const text = <usize>load<u32>(rec + IN_ADDRESS_PTR);
  const textEnd = text + load<u32>(rec + IN_ADDRESS_LENGTH);
  let reason: i32;
  if (kind == PEER_TEXT) {
    reason = writePeerText(text, textEnd, out);
  } else {
    const port = load<u32>(rec + IN_PORT);
    if (port > 0xffff) return fail(REASON_PORT_RANGE, port);
    reason = writeAddress(
      text, textEnd, port, load<u32>(rec + IN_FLOWINFO), load<u32>(rec + IN_SCOPE_ID), flags, out,
    );
  }
  if (reason != 0 || stream) return reason;
  return unreachable(out);
}

/**
 * Zeroes the 144-byte header at dst with plain stores (memory.fill is an out-of-line call in
 * engines), unrolled: nine stores at constant offsets, no loop counter or branch per store.
 */
@inline function zeroHeader(dst: usize): void {
  const zero = i64x2.splat(0);
  v128.store(dst, zero, 0);
  v128.store(dst, zero, 16);
  v128.store(dst, zero, 32);
  v128.store(dst, zero, 48);
  v128.store(dst, zero, 64);
  v128.store(dst, zero, 80);
  v128.store(dst, zero, 96);
  v128.store(dst, zero, 112);
  v128.store(dst, zero, 128);
}
// The header is nine 16-byte blocks: zeroHeader's stores cover it exactly.
assert(SIZEOF_PEER_TARGET_NAME == 9 * 16);

/**
 * Encodes one input record into dst (144 + 2n bytes, zero-padded to RECORD_ALIGN). The host sizes
 * dst for names of at most maxUnits, so nothing past the header is written before the name's
 * length is known to fit.
 */
@inline function encodeOne(rec: usize, dst: usize, stream: bool, policy: u32, maxUnits: u32): i32 {
  const protocol = load<u32>(rec + IN_PROTOCOL);
  if (protocol > PROTOCOL_MAX) return fail(REASON_PROTOCOL_RANGE, protocol);
  // Zero first: padding and the rest of SOCKADDR_STORAGE are zero by construction.
  zeroHeader(dst);
  let reason = writePeer(rec, dst + OFFSET_PEER, stream);
  if (reason != 0) return reason;
  const n = load<u32>(rec + IN_NAME_LENGTH);
  const name = <usize>load<u32>(rec + IN_NAME_PTR);
  const ascii = (load<u32>(rec + IN_FLAGS) & FLAG_NAME_ASCII) != 0;
  // An ASCII name's U+0000 check is made by widenAscii, below, as it copies.
  reason = ascii ? checkAsciiLength(n, maxUnits) : checkName(name, n, maxUnits);
  if (reason != 0) return reason;
  // The tail (the name's NUL and the alignment padding) is zero too: [140 + 2n, align8(144 + 2n)),
  // as the 4 bytes after the name and the record's last 8, with no branch on the alignment. Written
  // before the name, as the 8-byte store may reach back into it (never before byte 144).
  const end = <usize>SIZEOF_PEER_TARGET_NAME + (<usize>n << 1);
  store<u32>(dst + end - 4, 0);
  store<u64>(dst + ((end + RECORD_ALIGN - 1) & ~(<usize>RECORD_ALIGN - 1)) - 8, 0);
  store<u32>(dst + OFFSET_PROTOCOL, protocol);
  store<u32>(dst + OFFSET_STRING_LENGTH, unitFor(policy, protocol) == LENGTH_UNIT_BYTES ? n << 1 : n);
  if (ascii) return widenAscii(dst + OFFSET_STRINGS, name, n);
  copyUnits(dst + OFFSET_STRINGS, name, n);
  return 0;
}

/** The length of the record encoded from the input record at rec: the struct's 144 bytes and the name. */
@inline function recordLength(rec: usize): u32 {
  return SIZEOF_PEER_TARGET_NAME + (load<u32>(rec + IN_NAME_LENGTH) << 1);
}

/**
 * Encodes `count` input records (SIZEOF_INPUT each, at input) into consecutive RECORD_ALIGN-aligned
 * records at out, writing one status record each (SIZEOF_STATUS, at status). A failed record takes
 * no space. Returns the bytes used at out. The host sizes out for every record succeeding.
 *
 * Unless `columns` is 0, it also writes two u32 columns there, `count` entries each: every record's
 * offset plus `base`, then every record's length (0 for a failed one), so the host can take a
 * chunk's offsets and lengths with two block copies instead of a loop over the status records.
 */
export function encode_batch(
  input: usize, count: u32, out: usize, status: usize, options: u32, maxUnits: u32, columns: usize, base: u32,
): u32 {
  const stream = (options & OPT_SOCKET_MASK) == OPT_SOCKET_STREAM;
  const policy = (options >> OPT_UNIT_SHIFT) & 3;
  let used: usize = 0;
  for (let i: usize = 0; i < count; i++) {
    const rec = input + i * SIZEOF_INPUT;
    const st = status + i * SIZEOF_STATUS;
    const reason = encodeOne(rec, out + used, stream, policy, maxUnits);
    store<u32>(st + ST_OFFSET, <u32>used);
    store<i32>(st + ST_REASON, reason);
    let size: u32 = 0;
    if (reason == 0) {
      size = recordLength(rec);
      store<u32>(st + ST_LENGTH, size);
      store<u32>(st + ST_DETAIL, 0);
    } else {
      store<u32>(st + ST_LENGTH, 0);
      store<u32>(st + ST_DETAIL, failDetail);
    }
    if (columns != 0) {
      store<u32>(columns + (i << 2), base + <u32>used);
      store<u32>(columns + ((<usize>count + i) << 2), size);
    }
    used += (size + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1);
  }
  return <u32>used;
}

/**
 * Encodes the one input record at rec into dst: encode_batch's work for a single record, without
 * its status record and columns (the single-record API reads one number back instead of three).
 * Returns the record's length, or minus the reason, the failure's detail then stored at `detail`.
 */
export function encode_one(rec: usize, dst: usize, options: u32, maxUnits: u32, detail: usize): i32 {
  const stream = (options & OPT_SOCKET_MASK) == OPT_SOCKET_STREAM;
  const reason = encodeOne(rec, dst, stream, (options >> OPT_UNIT_SHIFT) & 3, maxUnits);
  if (reason != 0) {
    store<u32>(detail, failDetail);
    return -reason;
  }
  return <i32>recordLength(rec);
}

/**
 * Writes only the sockaddr for one input record (for WSADeleteSocketPeerTargetName) into the
 * SOCKADDR_STORAGE at out. Returns 0 or a reason; the detail is at the status pointer.
 */
export function encode_peer(rec: usize, out: usize, options: u32, status: usize): i32 {
  memory.fill(out, 0, SIZE_SOCKADDR_STORAGE);
  const reason = writePeer(rec, out, (options & OPT_SOCKET_MASK) == OPT_SOCKET_STREAM);
  store<i32>(status + ST_REASON, reason);
  store<u32>(status + ST_DETAIL, reason != 0 ? failDetail : 0);
  return reason;
}

// ---- decoding untrusted bytes ---------------------------------------------------------------

let result: usize = 0;

function decodePeer(buf: usize, stream: bool): void {
  const peer = buf + OFFSET_PEER;
  const family = <u32>load<u16>(peer);
  store<u32>(result + RES_FAMILY, family);
  const end: u32 = OFFSET_PEER + SIZE_SOCKADDR_STORAGE;
  let used: u32;
  if (family == AF_INET) {
    store<u32>(result + RES_PORT, bswap<u16>(load<u16>(peer + SIN_PORT)));
    store<u32>(result + RES_ADDRESS, load<u32>(peer + SIN_ADDR));
    used = SIN_ZERO; // sin_zero must be zero too
  } else if (family == AF_INET6) {
    store<u32>(result + RES_PORT, bswap<u16>(load<u16>(peer + SIN6_PORT)));
    store<u32>(result + RES_FLOWINFO, bswap<u32>(load<u32>(peer + SIN6_FLOWINFO)));
    memory.copy(result + RES_ADDRESS, peer + SIN6_ADDR, 16);
    store<u32>(result + RES_SCOPE_ID, load<u32>(peer + SIN6_SCOPE_ID));
    used = SIZEOF_SOCKADDR_IN6;
  } else {
    if (family == 0 && allZero(buf, OFFSET_PEER, end)) {
      // An all-zero PeerAddress: fine for a stream socket, missing for a dgram one.
      if (!stream) problem(REASON_PEER_MISSING, 0, OFFSET_PEER, SIZE_SOCKADDR_STORAGE);
    } else {
      problem(REASON_FAMILY_UNSUPPORTED, family, OFFSET_PEER, 2);
    }
    return;
  }
  // The dgram rule first: problems are listed in byte order, and the port and address come first.
  if (!stream) {
    const reason = unreachable(peer);
    if (reason == REASON_ADDRESS_UNSPECIFIED) {
      const at = OFFSET_PEER + (family == AF_INET ? SIN_ADDR : SIN6_ADDR);
      problem(reason, 0, at, family == AF_INET ? 4 : 16);
    } else if (reason == REASON_PORT_ZERO) {
      problem(reason, 0, OFFSET_PEER + SIN_PORT, 2);
    }
  }
  // sin_zero and the rest of SOCKADDR_STORAGE: non-zero there means a wrongly built struct.
  zeroRun(buf, OFFSET_PEER + used, end, REASON_PEER_SLACK_NONZERO);
}

/**
 * Decodes and checks the len bytes at buf, which may hold anything. Fills the SIZEOF_RESULT record
 * at res with every field the buffer is long enough to hold and up to MAX_PROBLEMS problems, in
 * byte order. Returns the problem count.
 */
export function decode(buf: usize, len: u32, options: u32, maxUnits: u32, res: usize): u32 {
  const stream = (options & OPT_SOCKET_MASK) == OPT_SOCKET_STREAM;
  const policy = (options >> OPT_UNIT_SHIFT) & 3;
  result = res;
  beginProblems(res + RES_PROBLEMS, SIZEOF_PROBLEM);
  // The fields before the problem records; a problem record is read only when counted.
  for (let i: usize = 0; i < <usize>RES_PROBLEMS; i += 16) v128.store(res + i, i64x2.splat(0));
  let present: u32 = 0;
  if (len < SIZEOF_PEER_TARGET_NAME) problem(REASON_BUFFER_SHORT, len, 0, len);
  let protocol: u32 = 0;
  if (len >= OFFSET_PROTOCOL + 4) {
    protocol = load<u32>(buf + OFFSET_PROTOCOL);
    store<u32>(res + RES_PROTOCOL, protocol);
    present |= PRESENT_PROTOCOL;
    if (protocol > PROTOCOL_MAX) problem(REASON_PROTOCOL_RANGE, protocol, OFFSET_PROTOCOL, 4);
  }
  if (len >= OFFSET_PADDING + SIZE_PADDING) {
    zeroRun(buf, OFFSET_PADDING, OFFSET_PADDING + SIZE_PADDING, REASON_PADDING_NONZERO);
  }
  if (len >= OFFSET_PEER + SIZE_SOCKADDR_STORAGE) {
    present |= PRESENT_PEER;
    decodePeer(buf, stream);
  }
  if (len >= OFFSET_STRING_LENGTH + 4) {
    present |= PRESENT_STRING_LENGTH;
    const raw = load<u32>(buf + OFFSET_STRING_LENGTH);
    const unit = unitFor(policy, protocol);
    store<u32>(res + RES_STRING_LENGTH, raw);
    store<u32>(res + RES_LENGTH_UNIT, unit);
    if (unit == LENGTH_UNIT_BYTES && (raw & 1) != 0) {
      problem(REASON_STRING_LENGTH_ODD, raw, OFFSET_STRING_LENGTH, 4);
    }
    const n: u64 = unit == LENGTH_UNIT_BYTES ? raw >> 1 : raw;
    const room: u64 = len >= OFFSET_STRINGS ? (len - OFFSET_STRINGS) >> 1 : 0;
    const available = <u32>(n < room ? n : room);
    store<u32>(res + RES_NAME_UNITS, <u32>n);
    store<u32>(res + RES_NAME_AVAILABLE, available);
    if (OFFSET_STRINGS + (n << 1) > <u64>len) {
      problem(REASON_STRING_BEYOND_BUFFER, raw, OFFSET_STRING_LENGTH, 4);
    }
    if (n == 0) {
      problem(REASON_NAME_EMPTY, 0, OFFSET_STRING_LENGTH, 4);
    } else if (n > <u64>maxUnits) {
      problem(REASON_NAME_TOO_LONG, <u32>n, OFFSET_STRING_LENGTH, 4);
    } else if (available > 0) {
      const reason = checkName(buf + OFFSET_STRINGS, available, maxUnits);
      // A pair cut in half by the buffer's end is the length's fault, reported above.
      const lastUnit = load<u16>(buf + OFFSET_STRINGS + ((<usize>available - 1) << 1));
      const cut = available < <u32>n && failDetail == available - 1 &&
        reason == REASON_NAME_SURROGATE && lastUnit >= 0xd800 && lastUnit < 0xdc00;
      if (reason != 0 && !cut) problem(reason, failDetail, OFFSET_STRINGS + (failDetail << 1), 2);
    }
    if (available == <u32>n) {
      zeroRun(buf, OFFSET_STRINGS + (available << 1), len, REASON_TAIL_NONZERO);
    }
  }
  store<u32>(res + RES_PRESENT, present);
  const problems = problemCount();
  store<u32>(res + RES_PROBLEM_COUNT, problems);
  return problems;
}

/**
 * The bridge's check of bytes about to reach native code: 0 when decode() would find no problem in
 * the len bytes at buf, else non-zero (decode() then names the problems). The same rules as
 * decode(), in the same order, stopping at the first; nothing is written. Its verdict equals
 * decode()'s on every input (the fuzzer checks both on each buffer it makes).
 */
export function check(buf: usize, len: u32, options: u32, maxUnits: u32): u32 {
  if (len < SIZEOF_PEER_TARGET_NAME) return 1;
  const stream = (options & OPT_SOCKET_MASK) == OPT_SOCKET_STREAM;
  const protocol = load<u32>(buf + OFFSET_PROTOCOL);
  if (protocol > PROTOCOL_MAX || load<u32>(buf + OFFSET_PADDING) != 0) return 1;
  const peer = buf + OFFSET_PEER;
  const family = <u32>load<u16>(peer);
  let used: u32;
  if (family == AF_INET) {
    used = SIN_ZERO;
  } else if (family == AF_INET6) {
    used = SIZEOF_SOCKADDR_IN6;
  } else if (family == 0 && stream) {
    used = 0; // an all-zero PeerAddress
  } else {
    return 1;
  }
  if (family != 0 && !stream && unreachable(peer) != 0) return 1;
  if (!allZero(buf, OFFSET_PEER + used, OFFSET_PEER + SIZE_SOCKADDR_STORAGE)) return 1;
  const raw = load<u32>(buf + OFFSET_STRING_LENGTH);
  const inBytes = unitFor((options >> OPT_UNIT_SHIFT) & 3, protocol) == LENGTH_UNIT_BYTES;
  if (inBytes && (raw & 1) != 0) return 1;
  const n: u64 = inBytes ? raw >> 1 : raw;
  if (n == 0 || n > <u64>maxUnits || OFFSET_STRINGS + (n << 1) > <u64>len) return 1;
  if (checkName(buf + OFFSET_STRINGS, <u32>n, maxUnits) != 0) return 1;
  return allZero(buf, OFFSET_STRINGS + (<u32>n << 1), len) ? 0 : 1;
}

// ---- the other Secure Socket Extensions structs (assembly/security.ts) ----------------------
export {
  encode_security_settings, encode_query_template, decode_security_settings, decode_query_info,
} from "./security";
