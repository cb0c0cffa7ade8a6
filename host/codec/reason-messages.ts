// The one table of codec reasons in words, for every struct: SOCKET_PEER_TARGET_NAME's errors
// (errors.ts reasonError) and the security structs' (security.ts) word each reason here, once.
// A caller says where the problem is (ReasonContext: which struct, which credential string, the
// peer text it was given); the table says what the problem is. Only wording lives here: the
// Winsock code comes from the reason itself, and the error is built by the caller.
import * as L from '../generated/layout.js';
import { addressPart, ipv4Hint, peerSyntaxHint } from './peer-hints.js';
import { allowedFlags, hexOf, INFO_FLAGS, IPSEC_FLAGS, SETTINGS_FLAGS } from './security-flags.js';

/** The structs whose bytes a reason can be about. */
export type StructName =
  | 'SOCKET_PEER_TARGET_NAME'
  | 'SOCKET_SECURITY_SETTINGS'
  | 'SOCKET_SECURITY_SETTINGS_IPSEC'
  | 'SOCKET_SECURITY_QUERY_TEMPLATE'
  | 'SOCKET_SECURITY_QUERY_INFO';

/** What the host knows when it turns a codec reason into words. */
export interface ReasonContext {
  /** The struct the problem is in; absent: SOCKET_PEER_TARGET_NAME. */
  struct?: StructName;
  /**
   * For a NAME_* or STRING_* reason about a credential string of SOCKET_SECURITY_SETTINGS_IPSEC:
   * its label ('user name'); absent, the string is the target name. A credential's content is
   * never in the context, so no wording can show it.
   */
  credential?: string;
  /** The peer as the caller gave it (text or address), for encode errors. */
  peerText?: string;
  /** The peer was an object, so its text is `peer.address` rather than all of `peer`. */
  peerIsObject?: boolean;
  port?: number;
  scopeId?: number;
  /** The target name as given (for an unpaired surrogate's code point); never a credential. */
  targetName?: string;
  /** The option in force; every SOCKET_PEER_TARGET_NAME caller gives it. */
  maxTargetNameLength?: number;
  /** For decode errors: the buffer's length and the unit the string length was read in. */
  bufferLength?: number;
  lengthUnit?: 'units' | 'bytes';
  offset?: number;
  length?: number;
}

/** A reason in words: the field it is about (in SOCKET_PEER_TARGET_NAME's terms), the text, the value. */
export type Wording = (detail: number, c: ReasonContext) => [field: string, text: string, value?: unknown];

/**
 * Layout facts the wordings quote, per struct: its size (BUFFER_SHORT), which bytes are its padding
 * and its tail (PADDING_NONZERO, TAIL_NONZERO; nouns only, the sentence is the table's) and, where
 * it has strings, what counts their length and where they start (STRING_BEYOND_BUFFER).
 */
interface StructFacts {
  size: number;
  padding?: string;
  tail?: string;
  tailNote?: string;
  lengthName?: string;
  stringsAt?: number;
}

const STRUCTS: Readonly<Record<StructName, StructFacts>> = {
  SOCKET_PEER_TARGET_NAME: {
    size: L.SIZEOF_PEER_TARGET_NAME, padding: 'the padding after SecurityProtocol',
    tail: 'the bytes after the target name', tailNote: ' (its NUL terminator)',
    lengthName: 'PeerTargetNameStringLen', stringsAt: L.OFFSET_STRINGS,
  },
  SOCKET_SECURITY_SETTINGS: { size: L.SIZEOF_SECURITY_SETTINGS },
  SOCKET_SECURITY_SETTINGS_IPSEC: {
    size: L.SIZEOF_SECURITY_SETTINGS_IPSEC, padding: 'the padding before Reserved2',
    tail: 'the bytes after the strings',
    lengthName: 'UserNameStringLen + DomainNameStringLen + PasswordStringLen', stringsAt: L.SSI_STRINGS,
  },
  // Its first 136 bytes are SOCKET_PEER_TARGET_NAME's and are worded as that struct's.
  SOCKET_SECURITY_QUERY_TEMPLATE: {
    size: L.SIZEOF_SECURITY_QUERY_TEMPLATE, tail: 'the padding after PeerTokenAccessMask',
  },
  SOCKET_SECURITY_QUERY_INFO: { size: L.SIZEOF_SECURITY_QUERY_INFO },
};

const structOf = (c: ReasonContext) => c.struct ?? 'SOCKET_PEER_TARGET_NAME';
const facts = (c: ReasonContext) => STRUCTS[structOf(c)];
const codePoint = (unit: number) => 'U+' + unit.toString(16).toUpperCase().padStart(4, '0');
const quote = (s: string | undefined) => JSON.stringify(s ?? '');
/** The string a NAME_* reason is about, as a noun, and " of the ..." after an index into it. */
const stringNoun = (c: ReasonContext) => (c.credential !== undefined ? 'a credential string' : 'a target name');
const ofString = (c: ReasonContext) => (c.credential !== undefined ? ` of the ${c.credential}` : '');
/** "byte 5 is 0xaa": where a non-zero run starts (the offset comes with the problem). */
const byteAt = (d: number, c: ReasonContext) => `byte ${c.offset} is ${hexOf(d)}`;

/** ADDRESS_SYNTAX in words: what is wrong with dotted IPv4 text (host/codec/peer-hints.ts), else that names are not resolved. */
function addressSyntax(peerText: string | undefined, isObject: boolean): string {
  const hint = peerText === undefined ? undefined : ipv4Hint(isObject ? peerText : addressPart(peerText));
  return `${quote(peerText)} is not an IPv4 or IPv6 address${hint !== undefined ? `: ${hint}` : ' (host names are not resolved)'}`;
}

/**
 * One entry per REASON_* in host/generated/layout.ts, whichever struct raises it (a test holds the
 * two lists equal). The field is SOCKET_PEER_TARGET_NAME's; the security structs put the field the
 * codec names in its place.
 */
export const REASON_WORDINGS: readonly (readonly [reason: number, wording: Wording])[] = [
  [L.REASON_PROTOCOL_RANGE, (d) => ['protocol',
    `${d} is not a SOCKET_SECURITY_PROTOCOL: use 0 (default), 1 (ipsec) or 2 (ipsec2)`, d]],
  [L.REASON_IPSEC_SETTINGS_PROTOCOL, (d) => ['protocol',
    "SOCKET_SECURITY_SETTINGS_IPSEC needs protocol 'ipsec' (1) or 'ipsec2' (2), not 'default' (0)", d]],
  [L.REASON_PEER_MISSING, () => ['peer',
    'a dgram socket needs a peer address and port; only a stream socket may leave PeerAddress all zero']],
  [L.REASON_PEER_SYNTAX, (_d, c) => ['peer',
    `${quote(c.peerText)} is not 'address:port'${peerSyntaxHint(c.peerText ?? '')}`, c.peerText]],
  [L.REASON_PEER_TEXT_TOO_LONG, (d, c) => [c.peerIsObject ? 'peer.address' : 'peer',
    `${c.peerText?.length ?? d} characters is longer than any IP address and port can be (${L.MAX_PEER_TEXT_LENGTH} at most)`, c.peerText]],
  [L.REASON_ADDRESS_SYNTAX, (_d, c) => ['peer.address', addressSyntax(c.peerText, c.peerIsObject === true), c.peerText]],
  [L.REASON_ZONE_NAMED, (_d, c) => ['peer.address',
    `${quote(c.peerText)} has a named zone; only a numeric zone (an interface index, e.g. %7) fits in sin6_scope_id`,
    c.peerText]],
  [L.REASON_ZONE_RANGE, (_d, c) => ['peer.address',
    `the zone in ${quote(c.peerText)} is larger than 4294967295, the largest sin6_scope_id`, c.peerText]],
  [L.REASON_ZONE_CONFLICT, (d, c) => ['peer.scopeId',
    `scopeId ${c.scopeId} disagrees with the zone %${d} in the address ${quote(c.peerText)}`, c.scopeId]],
  [L.REASON_FLOWINFO_ON_IPV4, (d) => ['peer.flowInfo',
    `flowInfo ${d} is given for an IPv4 address; sockaddr_in has no flow information`, d]],
  [L.REASON_SCOPE_ON_IPV4, (d) => ['peer.scopeId',
    `scopeId ${d} is given for an IPv4 address; sockaddr_in has no scope id`, d]],
  [L.REASON_ADDRESS_UNSPECIFIED, (_d, c) => ['peer.address',
    `${c.peerText !== undefined ? quote(c.peerText) + ' is' : 'PeerAddress holds'} the unspecified address; ` +
    'a dgram peer must be an address one can send to', c.peerText]],
  [L.REASON_PORT_ZERO, () => ['peer.port', 'port 0 is not a valid peer port', 0]],
  [L.REASON_PORT_RANGE, (_d, c) => ['peer.port',
    `${c.port !== undefined ? `port ${c.port}` : `the port in ${quote(c.peerText)}`} is out of range: a port is 1 to 65535`,
    c.port ?? c.peerText]],
  [L.REASON_FAMILY_MISMATCH, (d, c) => ['peer.family',
    `${quote(c.peerText)} is an ${d === L.AF_INET ? 'IPv4' : 'IPv6'} address, not of the family given`, c.peerText]],
  [L.REASON_FAMILY_UNSUPPORTED, (d) => ['peer.family',
    `address family ${d} is neither AF_INET (${L.AF_INET}) nor AF_INET6 (${L.AF_INET6}, Windows' number)`, d]],
  [L.REASON_SECURITY_FLAGS_UNKNOWN, (d) => ['flags',
    `bits ${hexOf(d)} are not SecurityFlags; use ${allowedFlags(SETTINGS_FLAGS)}`, d]],
  [L.REASON_IPSEC_FLAGS_UNKNOWN, (d) => ['ipsec.ipsecFlags',
    `bits ${hexOf(d)} are not IpsecFlags; use ${allowedFlags(IPSEC_FLAGS)}`, d]],
  [L.REASON_INFO_FLAGS_UNKNOWN, (d) => ['flags',
    `bits ${hexOf(d)} are not SOCKET_SECURITY_QUERY_INFO flags; known: ${allowedFlags(INFO_FLAGS)}`, d]],
  [L.REASON_NAME_EMPTY, () => ['targetName', 'the target name is empty; an SPN such as host/server.example.com is needed', '']],
  [L.REASON_NAME_NUL, (d, c) => ['targetName',
    `U+0000 at index ${d}${ofString(c)}: ${stringNoun(c)} cannot hold a NUL (Windows would read it as the end)`, d]],
  // The code point comes from targetName only: a credential's units are never shown.
  [L.REASON_NAME_SURROGATE, (d, c) => ['targetName',
    `unpaired surrogate${c.targetName !== undefined ? ' ' + codePoint(c.targetName.charCodeAt(d)) : ''} ` +
    `at index ${d}${ofString(c)}: ${stringNoun(c)} must be well-formed UTF-16`, d]],
  // A target name's limit is the caller's option; a credential's is its UNICODE_STRING's.
  [L.REASON_NAME_TOO_LONG, (d, c) => ['targetName',
    `${d} UTF-16 units${c.credential !== undefined ? ` in the ${c.credential}` : ''} is longer than the maximum of ` +
    (c.credential !== undefined
      ? `${L.MAX_CREDENTIAL_STRING_LENGTH} (a UNICODE_STRING)`
      : `${c.maxTargetNameLength ?? L.DEFAULT_MAX_TARGET_NAME_LENGTH} (option maxTargetNameLength)`), d]],
  [L.REASON_STRING_LENGTH_ODD, (d, c) => ['stringLength',
    `${c.credential !== undefined ? `the ${c.credential}'s length ` : ''}${d} is odd, ` +
    'but it counts bytes here and a UTF-16 string has an even number of bytes', d]],
  [L.REASON_STRING_BEYOND_BUFFER, (d, c) => {
    const s = facts(c);
    const bytes = c.lengthUnit === 'units' ? d * 2 : d;
    return ['stringLength', `${s.lengthName ?? 'the string length'} ${d} (${c.lengthUnit ?? 'bytes'}) needs ` +
      `${(s.stringsAt ?? s.size) + bytes} bytes, but the buffer has ${c.bufferLength}`, d];
  }],
  [L.REASON_BUFFER_SHORT, (d, c) => ['length',
    `${d} bytes is shorter than sizeof(${structOf(c)}), ${facts(c).size}`, d]],
  [L.REASON_PADDING_NONZERO, (d, c) => ['padding',
    `${byteAt(d, c)}; ${facts(c).padding ?? 'the padding'} must be zero`, d]],
  [L.REASON_RESERVED_NONZERO, (d, c) => ['ipsec.reserved',
    `${byteAt(d, c)}; Reserved and Reserved2 must be zero`, d]],
  [L.REASON_PEER_SLACK_NONZERO, (d, c) => ['peer',
    `${byteAt(d, c)}; PeerAddress must be zero beyond its sockaddr (and in sin_zero)`, d]],
  [L.REASON_TAIL_NONZERO, (d, c) => ['tail',
    `${byteAt(d, c)}; ${facts(c).tail ?? 'the bytes after the struct'} must be zero${facts(c).tailNote ?? ''}`, d]],
];

const BY_REASON = new Map(REASON_WORDINGS);

/** A reason's words in a context, or undefined for a reason the table does not know (a codec/host mismatch). */
export function wordReason(reason: number, detail: number, context: ReasonContext): ReturnType<Wording> | undefined {
  return BY_REASON.get(reason)?.(detail, context);
}
