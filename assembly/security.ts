// The other Secure Socket Extensions structs a caller sets or reads around WSASetSocketPeerTargetName:
// SOCKET_SECURITY_SETTINGS[_IPSEC] (WSASetSocketSecurity), SOCKET_SECURITY_QUERY_TEMPLATE and
// SOCKET_SECURITY_QUERY_INFO (WSAQuerySocketSecurity). Same ABI style as codec.ts: plain
// pointers into memory the host owns, nothing allocated, a REASON_* per failure.
//
// The peer inside a query template is written by codec.ts's encode_peer (the host calls it first),
// so IP text is parsed in one place only.

import {
  PROTOCOL_DEFAULT, PROTOCOL_MAX, AF_UNSPEC, AF_INET, AF_INET6, SIZE_SOCKADDR_STORAGE,
  SS_PROTOCOL, SS_FLAGS, SIZEOF_SECURITY_SETTINGS,
  SSI_IPSEC_FLAGS, SSI_MM_POLICY_KEY, SSI_QM_POLICY_KEY, SSI_RESERVED, SIZEOF_GUID, SSI_PADDING,
  SSI_RESERVED2, SSI_USER_NAME_LENGTH, SSI_STRINGS, SIZEOF_SECURITY_SETTINGS_IPSEC,
  SQT_PROTOCOL, SQT_PEER, SQT_TOKEN_ACCESS_MASK, SIZEOF_SECURITY_QUERY_TEMPLATE,
  SQI_PROTOCOL, SQI_FLAGS, SQI_APPLICATION_TOKEN, SQI_MACHINE_TOKEN, SIZEOF_SECURITY_QUERY_INFO,
  SOCKET_SETTINGS_MASK, SOCKET_SETTINGS_IPSEC_MASK, SOCKET_INFO_MASK, MAX_CREDENTIAL_STRING_LENGTH,
  SEC_IN_PROTOCOL, SEC_IN_FLAGS, SEC_IN_FORM, SEC_IN_IPSEC_FLAGS, SEC_IN_MM_POLICY_KEY,
  SEC_IN_QM_POLICY_KEY, SEC_IN_STRINGS, SEC_STRING_PTR, SEC_STRING_LENGTH, SIZEOF_SEC_STRING,
  SEC_STRING_COUNT, SETTINGS_FORM_BASIC, SETTINGS_FORM_IPSEC,
  SEC_ST_LENGTH, SEC_ST_REASON, SEC_ST_DETAIL, SEC_ST_FIELD,
  SEC_FIELD_NONE, SEC_FIELD_PROTOCOL, SEC_FIELD_FLAGS, SEC_FIELD_IPSEC_FLAGS, SEC_FIELD_USER_NAME,
  SEC_FIELD_RESERVED, SEC_FIELD_PADDING, SEC_FIELD_LENGTH, SEC_FIELD_TAIL, SEC_FIELD_PEER,
  SR_FORM, SR_PROTOCOL, SR_FLAGS, SR_IPSEC_FLAGS, SR_MM_POLICY_KEY, SR_QM_POLICY_KEY,
  SR_STRING_LENGTHS, SR_APPLICATION_TOKEN, SR_MACHINE_TOKEN, SR_PROBLEM_COUNT, SR_PROBLEMS,
  SIZEOF_SEC_PROBLEM, SIZEOF_SEC_RESULT,
  REASON_PROTOCOL_RANGE, REASON_NAME_TOO_LONG, REASON_NAME_SURROGATE, REASON_STRING_LENGTH_ODD, REASON_PADDING_NONZERO,
  REASON_TAIL_NONZERO, REASON_BUFFER_SHORT, REASON_STRING_BEYOND_BUFFER, REASON_FAMILY_UNSUPPORTED,
  REASON_SECURITY_FLAGS_UNKNOWN, REASON_IPSEC_FLAGS_UNKNOWN, REASON_IPSEC_SETTINGS_PROTOCOL,
  REASON_RESERVED_NONZERO, REASON_INFO_FLAGS_UNKNOWN,
} from "./layout";
import { fail, failDetail } from "./failure";
import { checkName } from "./name";
import { beginProblems, problem, problemCount, zeroRun } from "./problems";

/** The member the last failure is about (SEC_FIELD_*), beside failure.ts's failDetail. */
let failField: u32 = SEC_FIELD_NONE;

function failAt(field: u32, reason: i32, detail: u32): i32 {
  failField = field;
  return fail(reason, detail);
}

function report(status: usize, length: u32, reason: i32): u32 {
  store<u32>(status + SEC_ST_LENGTH, reason == 0 ? length : 0);
  store<i32>(status + SEC_ST_REASON, reason);
  store<u32>(status + SEC_ST_DETAIL, reason == 0 ? 0 : failDetail);
  store<u32>(status + SEC_ST_FIELD, reason == 0 ? SEC_FIELD_NONE : failField);
  return reason == 0 ? length : 0;
}

/** The rules every SOCKET_SECURITY_SETTINGS shares: protocol 0-2, no unknown SecurityFlags bits. */
function checkHeader(protocol: u32, flags: u32, form: u32): i32 {
  if (protocol > PROTOCOL_MAX) return failAt(SEC_FIELD_PROTOCOL, REASON_PROTOCOL_RANGE, protocol);
  // The struct's page: "must be set to SOCKET_SECURITY_PROTOCOL_IPSEC, not ..._DEFAULT". IPSEC2
  // is its Win7 successor (NtApiDotNet sends the IPsec settings with IPSEC2), so both are taken.
  if (form == SETTINGS_FORM_IPSEC && protocol == PROTOCOL_DEFAULT) {
    return failAt(SEC_FIELD_PROTOCOL, REASON_IPSEC_SETTINGS_PROTOCOL, protocol);
  }
  const unknown = flags & ~SOCKET_SETTINGS_MASK;
  if (unknown != 0) return failAt(SEC_FIELD_FLAGS, REASON_SECURITY_FLAGS_UNKNOWN, unknown);
  return 0;
}

/** A credential string: 0 units (absent) or a well-formed UTF-16 string without U+0000. */
function checkCredential(field: u32, src: usize, n: u32): i32 {
  if (n > MAX_CREDENTIAL_STRING_LENGTH) return failAt(field, REASON_NAME_TOO_LONG, n);
  if (n == 0) return 0;
  const reason = checkName(src, n, MAX_CREDENTIAL_STRING_LENGTH);
  return reason == 0 ? 0 : failAt(field, reason, failDetail);
}

/**
 * Encodes the settings input record at rec (SIZEOF_SEC_INPUT) into out: SOCKET_SECURITY_SETTINGS
 * (8 bytes) or SOCKET_SECURITY_SETTINGS_IPSEC (88 + 2n bytes, n = the strings' units, the strings'
 * lengths in bytes). Writes a SIZEOF_SEC_STATUS record at status; returns the bytes written, or 0.
 * The host sizes out for 88 + 2n rounded up to 8.
 */
export function encode_security_settings(rec: usize, out: usize, status: usize): u32 {
  const protocol = load<u32>(rec + SEC_IN_PROTOCOL);
  const flags = load<u32>(rec + SEC_IN_FLAGS);
  const form = load<u32>(rec + SEC_IN_FORM) == SETTINGS_FORM_IPSEC ? SETTINGS_FORM_IPSEC : SETTINGS_FORM_BASIC;
  let reason = checkHeader(protocol, flags, form);
  if (reason != 0) return report(status, 0, reason);
  if (form == SETTINGS_FORM_BASIC) {
    store<u32>(out + SS_PROTOCOL, protocol);
    store<u32>(out + SS_FLAGS, flags);
    return report(status, SIZEOF_SECURITY_SETTINGS, 0);
  }
  const ipsecFlags = load<u32>(rec + SEC_IN_IPSEC_FLAGS);
  const unknown = ipsecFlags & ~SOCKET_SETTINGS_IPSEC_MASK;
  if (unknown != 0) return report(status, 0, failAt(SEC_FIELD_IPSEC_FLAGS, REASON_IPSEC_FLAGS_UNKNOWN, unknown));
  let units: usize = 0;
  for (let i: u32 = 0; i < SEC_STRING_COUNT; i++) {
    const ref = rec + SEC_IN_STRINGS + i * SIZEOF_SEC_STRING;
    const n = load<u32>(ref + SEC_STRING_LENGTH);
    reason = checkCredential(SEC_FIELD_USER_NAME + i, <usize>load<u32>(ref + SEC_STRING_PTR), n);
    if (reason != 0) return report(status, 0, reason);
    units += n;
  }
  const size = <usize>SIZEOF_SECURITY_SETTINGS_IPSEC + (units << 1);
  // Zero first: Reserved, Reserved2, the padding and the tail are zero by construction.
  memory.fill(out, 0, (size + 7) & ~7);
  store<u32>(out + SS_PROTOCOL, protocol);
  store<u32>(out + SS_FLAGS, flags);
  store<u32>(out + SSI_IPSEC_FLAGS, ipsecFlags);
  memory.copy(out + SSI_MM_POLICY_KEY, rec + SEC_IN_MM_POLICY_KEY, SIZEOF_GUID);
  memory.copy(out + SSI_QM_POLICY_KEY, rec + SEC_IN_QM_POLICY_KEY, SIZEOF_GUID);
  let at = out + SSI_STRINGS;
  for (let i: u32 = 0; i < SEC_STRING_COUNT; i++) {
    const ref = rec + SEC_IN_STRINGS + i * SIZEOF_SEC_STRING;
    const bytes = <usize>load<u32>(ref + SEC_STRING_LENGTH) << 1;
    store<u32>(out + SSI_USER_NAME_LENGTH + i * 4, <u32>bytes);
    memory.copy(at, <usize>load<u32>(ref + SEC_STRING_PTR), bytes);
    at += bytes;
  }
  return report(status, <u32>size, 0);
}

/**
 * Writes SOCKET_SECURITY_QUERY_TEMPLATE (144 bytes) at out from a protocol, the SOCKADDR_STORAGE
 * at peer (as codec.ts's encode_peer wrote it; all zero for no peer) and PeerTokenAccessMask (any
 * ACCESS_MASK; 0 asks for no tokens). Writes a status record; returns 144, or 0.
 */
export function encode_query_template(protocol: u32, peer: usize, mask: u32, out: usize, status: usize): u32 {
  if (protocol > PROTOCOL_MAX) {
    return report(status, 0, failAt(SEC_FIELD_PROTOCOL, REASON_PROTOCOL_RANGE, protocol));
  }
  const family = <u32>load<u16>(peer);
  if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6) {
    return report(status, 0, failAt(SEC_FIELD_PEER, REASON_FAMILY_UNSUPPORTED, family));
  }
  memory.fill(out, 0, SIZEOF_SECURITY_QUERY_TEMPLATE);
  store<u32>(out + SQT_PROTOCOL, protocol);
  memory.copy(out + SQT_PEER, peer, SIZE_SOCKADDR_STORAGE);
  store<u32>(out + SQT_TOKEN_ACCESS_MASK, mask);
  return report(status, SIZEOF_SECURITY_QUERY_TEMPLATE, 0);
}

// ---- decoding untrusted bytes ---------------------------------------------------------------

let result: usize = 0;

function begin(res: usize): void {
  result = res;
  beginProblems(res + SR_PROBLEMS, SIZEOF_SEC_PROBLEM);
  memory.fill(res, 0, SIZEOF_SEC_RESULT);
}

function finish(): u32 {
  const problems = problemCount();
  store<u32>(result + SR_PROBLEM_COUNT, problems);
  return problems;
}

/**
 * Decodes and checks len bytes of SOCKET_SECURITY_SETTINGS (exactly 8 bytes) or
 * SOCKET_SECURITY_SETTINGS_IPSEC (anything longer), which may hold anything. Fills the
 * SIZEOF_SEC_RESULT record at res with every field the buffer holds and up to MAX_PROBLEMS
 * problems, in byte order. Returns the problem count.
 */
export function decode_security_settings(buf: usize, len: u32, res: usize): u32 {
  begin(res);
  const form = len > SIZEOF_SECURITY_SETTINGS ? SETTINGS_FORM_IPSEC : SETTINGS_FORM_BASIC;
  store<u32>(res + SR_FORM, form);
  const need = form == SETTINGS_FORM_IPSEC ? SIZEOF_SECURITY_SETTINGS_IPSEC : SIZEOF_SECURITY_SETTINGS;
  if (len < need) problem(REASON_BUFFER_SHORT, len, 0, len, SEC_FIELD_LENGTH);
  if (len >= SS_PROTOCOL + 4) {
    const protocol = load<u32>(buf + SS_PROTOCOL);
    store<u32>(res + SR_PROTOCOL, protocol);
    if (protocol > PROTOCOL_MAX) {
      problem(REASON_PROTOCOL_RANGE, protocol, SS_PROTOCOL, 4, SEC_FIELD_PROTOCOL);
    } else if (form == SETTINGS_FORM_IPSEC && protocol == PROTOCOL_DEFAULT) {
      problem(REASON_IPSEC_SETTINGS_PROTOCOL, protocol, SS_PROTOCOL, 4, SEC_FIELD_PROTOCOL);
    }
  }
  if (len >= SS_FLAGS + 4) {
    const flags = load<u32>(buf + SS_FLAGS);
    store<u32>(res + SR_FLAGS, flags);
    const unknown = flags & ~SOCKET_SETTINGS_MASK;
    if (unknown != 0) problem(REASON_SECURITY_FLAGS_UNKNOWN, unknown, SS_FLAGS, 4, SEC_FIELD_FLAGS);
  }
  if (form == SETTINGS_FORM_BASIC) return finish();
  if (len >= SSI_IPSEC_FLAGS + 4) {
    const ipsecFlags = load<u32>(buf + SSI_IPSEC_FLAGS);
    store<u32>(res + SR_IPSEC_FLAGS, ipsecFlags);
    const unknown = ipsecFlags & ~SOCKET_SETTINGS_IPSEC_MASK;
    if (unknown != 0) problem(REASON_IPSEC_FLAGS_UNKNOWN, unknown, SSI_IPSEC_FLAGS, 4, SEC_FIELD_IPSEC_FLAGS);
  }
  if (len >= SSI_QM_POLICY_KEY + SIZEOF_GUID) {
    memory.copy(res + SR_MM_POLICY_KEY, buf + SSI_MM_POLICY_KEY, SIZEOF_GUID);
    memory.copy(res + SR_QM_POLICY_KEY, buf + SSI_QM_POLICY_KEY, SIZEOF_GUID);
  }
  if (len < SSI_STRINGS) return finish();
  zeroRun(buf, SSI_RESERVED, SSI_RESERVED + SIZEOF_GUID, REASON_RESERVED_NONZERO, SEC_FIELD_RESERVED);
  zeroRun(buf, SSI_PADDING, SSI_RESERVED2, REASON_PADDING_NONZERO, SEC_FIELD_PADDING);
  zeroRun(buf, SSI_RESERVED2, SSI_RESERVED2 + 8, REASON_RESERVED_NONZERO, SEC_FIELD_RESERVED);
  // The three lengths first (byte order), then the strings they delimit.
  let total: u64 = 0;
  for (let i: u32 = 0; i < SEC_STRING_COUNT; i++) {
    const raw = load<u32>(buf + SSI_USER_NAME_LENGTH + i * 4);
    store<u32>(res + SR_STRING_LENGTHS + i * 4, raw);
    if ((raw & 1) != 0) {
      problem(REASON_STRING_LENGTH_ODD, raw, SSI_USER_NAME_LENGTH + i * 4, 4, SEC_FIELD_USER_NAME + i);
    } else if ((raw >> 1) > MAX_CREDENTIAL_STRING_LENGTH) {
      problem(REASON_NAME_TOO_LONG, raw >> 1, SSI_USER_NAME_LENGTH + i * 4, 4, SEC_FIELD_USER_NAME + i);
    }
    total += raw;
  }
  if (<u64>SSI_STRINGS + total > <u64>len) {
    problem(REASON_STRING_BEYOND_BUFFER, <u32>min<u64>(total, 0xffffffff), SSI_USER_NAME_LENGTH, 12, SEC_FIELD_LENGTH);
  }
  let at: u64 = SSI_STRINGS;
  for (let i: u32 = 0; i < SEC_STRING_COUNT; i++) {
    const raw = load<u32>(buf + SSI_USER_NAME_LENGTH + i * 4);
    const n = raw >> 1;
    // Whatever of the string lies inside the buffer is checked; what is cut off was reported above.
    const room: u64 = at < <u64>len ? (<u64>len - at) >> 1 : 0;
    const available = <u32>min<u64>(<u64>n, room);
    if (available > 0 && n <= MAX_CREDENTIAL_STRING_LENGTH) {
      const reason = checkName(buf + <usize>at, available, MAX_CREDENTIAL_STRING_LENGTH);
      // A high surrogate cut from its pair by the buffer's end is the lengths' fault, reported above.
      const lastUnit = load<u16>(buf + <usize>at + ((<usize>available - 1) << 1));
      const cut = available < n && failDetail == available - 1 &&
        reason == REASON_NAME_SURROGATE && lastUnit >= 0xd800 && lastUnit < 0xdc00;
      if (reason != 0 && !cut) {
        problem(reason, failDetail, <u32>at + (failDetail << 1), 2, SEC_FIELD_USER_NAME + i);
      }
    }
    at += raw;
  }
  if (at <= <u64>len) zeroRun(buf, <u32>at, len, REASON_TAIL_NONZERO, SEC_FIELD_TAIL);
  return finish();
}

/**
 * Decodes and checks len bytes of SOCKET_SECURITY_QUERY_INFO, as WSAQuerySocketSecurity fills it.
 * Bytes past the 24 are not read: SOCKET_SECURITY_QUERY_INFO_IPSEC2 extends the struct there.
 * Fills the result record at res; returns the problem count.
 */
export function decode_query_info(buf: usize, len: u32, res: usize): u32 {
  begin(res);
  if (len < SIZEOF_SECURITY_QUERY_INFO) problem(REASON_BUFFER_SHORT, len, 0, len, SEC_FIELD_LENGTH);
  if (len >= SQI_PROTOCOL + 4) {
    const protocol = load<u32>(buf + SQI_PROTOCOL);
    store<u32>(res + SR_PROTOCOL, protocol);
    if (protocol > PROTOCOL_MAX) problem(REASON_PROTOCOL_RANGE, protocol, SQI_PROTOCOL, 4, SEC_FIELD_PROTOCOL);
  }
  if (len >= SQI_FLAGS + 4) {
    const flags = load<u32>(buf + SQI_FLAGS);
    store<u32>(res + SR_FLAGS, flags);
    const unknown = flags & ~SOCKET_INFO_MASK;
    if (unknown != 0) problem(REASON_INFO_FLAGS_UNKNOWN, unknown, SQI_FLAGS, 4, SEC_FIELD_FLAGS);
  }
  if (len >= SQI_APPLICATION_TOKEN + 8) store<u64>(res + SR_APPLICATION_TOKEN, load<u64>(buf + SQI_APPLICATION_TOKEN));
  if (len >= SQI_MACHINE_TOKEN + 8) store<u64>(res + SR_MACHINE_TOKEN, load<u64>(buf + SQI_MACHINE_TOKEN));
  return finish();
}
