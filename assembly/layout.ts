// The one source of truth for the SOCKET_PEER_TARGET_NAME layout, the Winsock codes and the codec's
// ABI. AssemblyScript compiles this file into the codec; build/layout.mjs derives the host's
// host/generated/layout.ts from it mechanically (types dropped), so keep to one form per line:
// `export const NAME: type = integer expression;` (comments are free).
// Layout facts: ../shared/SPEC.md §1, measured from the mingw-w64 headers.

// SOCKET_SECURITY_PROTOCOL
export const PROTOCOL_DEFAULT: u32 = 0;
export const PROTOCOL_IPSEC: u32 = 1;
export const PROTOCOL_IPSEC2: u32 = 2;
export const PROTOCOL_MAX: u32 = 2;

// SOCKET_PEER_TARGET_NAME (x64, x86 and arm64 alike)
export const OFFSET_PROTOCOL: u32 = 0;
export const OFFSET_PADDING: u32 = 4;
export const SIZE_PADDING: u32 = 4;
export const OFFSET_PEER: u32 = 8;
export const SIZE_SOCKADDR_STORAGE: u32 = 128;
export const OFFSET_STRING_LENGTH: u32 = 136;
export const OFFSET_STRINGS: u32 = 140;
/** sizeof(SOCKET_PEER_TARGET_NAME): 4 bytes of tail padding follow AllStrings' start. */
export const SIZEOF_PEER_TARGET_NAME: u32 = 144;

// Address families as Windows numbers them (AF_INET6 is 23 there, not Linux's 10).
export const AF_UNSPEC: u32 = 0;
export const AF_INET: u32 = 2;
export const AF_INET6: u32 = 23;

// sockaddr_in, offsets within PeerAddress
export const SIZEOF_SOCKADDR_IN: u32 = 16;
export const SIN_FAMILY: u32 = 0;
export const SIN_PORT: u32 = 2; // big-endian
export const SIN_ADDR: u32 = 4;
export const SIN_ZERO: u32 = 8;

// sockaddr_in6, offsets within PeerAddress
export const SIZEOF_SOCKADDR_IN6: u32 = 28;
export const SIN6_FAMILY: u32 = 0;
export const SIN6_PORT: u32 = 2; // big-endian
export const SIN6_FLOWINFO: u32 = 4; // big-endian
export const SIN6_ADDR: u32 = 8;
export const SIN6_SCOPE_ID: u32 = 24; // little-endian: an interface index in host order

// Winsock error numbers (SPEC §3) and socket constants
export const WSAEFAULT: i32 = 10014;
export const WSAEINVAL: i32 = 10022;
export const WSAENOTSOCK: i32 = 10038;
export const WSAEMSGSIZE: i32 = 10040;
export const WSAEAFNOSUPPORT: i32 = 10047;
export const WSAENOBUFS: i32 = 10055;
export const WSAEISCONN: i32 = 10056;
export const SOCKET_ERROR: i32 = -1;
export const SOCK_STREAM: u32 = 1;
export const SOCK_DGRAM: u32 = 2;

// Length-unit policy for PeerTargetNameStringLen (SPEC §2)
export const LENGTH_UNIT_AUTO: u32 = 0; // UTF-16 units for DEFAULT and IPSEC, bytes for IPSEC2
export const LENGTH_UNIT_UNITS: u32 = 1;
export const LENGTH_UNIT_BYTES: u32 = 2;

// Target-name limits, in UTF-16 units. The hard cap is what a Windows UNICODE_STRING can hold.
export const DEFAULT_MAX_TARGET_NAME_LENGTH: u32 = 1024;
export const HARD_MAX_TARGET_NAME_LENGTH: u32 = 32767;
/** Longest peer text the codec parses: '[' + 45-char IPv6 + '%' + zone + ']:65535' fits well. */
export const MAX_PEER_TEXT_LENGTH: u32 = 128;

// ---- The codec's ABI -------------------------------------------------------------------------

// Encode input record: one per record, written by the host.
export const IN_PROTOCOL: u32 = 0; // u32
export const IN_FLAGS: u32 = 4; // u32, FLAG_* below
export const IN_ADDRESS_PTR: u32 = 8; // u32, ASCII text of the address or of 'address:port'
export const IN_ADDRESS_LENGTH: u32 = 12; // u32
export const IN_PORT: u32 = 16; // u32, for PEER_FIELDS
export const IN_FLOWINFO: u32 = 20; // u32
export const IN_SCOPE_ID: u32 = 24; // u32
export const IN_NAME_PTR: u32 = 28; // u32, UTF-16LE units, 2-aligned
export const IN_NAME_LENGTH: u32 = 32; // u32, in units
export const SIZEOF_INPUT: u32 = 36;

export const PEER_NONE: u32 = 0; // no peer (all-zero PeerAddress)
export const PEER_TEXT: u32 = 1; // 'a.b.c.d:port' or '[v6%zone]:port'
export const PEER_FIELDS: u32 = 2; // address text plus port/flowinfo/scope fields
export const FLAG_PEER_MASK: u32 = 3;
export const FLAG_FAMILY_IPV4: u32 = 4; // the caller said the address is IPv4
export const FLAG_FAMILY_IPV6: u32 = 8; // the caller said the address is IPv6
export const FLAG_SCOPE_GIVEN: u32 = 16; // IN_SCOPE_ID was given explicitly

// Encode status record: one per input, written by the codec.
export const ST_OFFSET: u32 = 0; // u32, where the record starts in the output region
export const ST_LENGTH: u32 = 4; // u32, 144 + 2n; 0 when the record failed
export const ST_REASON: i32 = 8; // i32, 0 or a REASON_* below
export const ST_DETAIL: u32 = 12; // u32, the offending value or index
export const SIZEOF_STATUS: u32 = 16;
/** Records in a batch output start at multiples of this (SOCKADDR_STORAGE is 8-aligned). */
export const RECORD_ALIGN: u32 = 8;

// Encode/decode options word
export const OPT_SOCKET_DGRAM: u32 = 0;
export const OPT_SOCKET_STREAM: u32 = 1;
export const OPT_SOCKET_MASK: u32 = 1;
export const OPT_UNIT_SHIFT: u32 = 1; // LENGTH_UNIT_* << OPT_UNIT_SHIFT

// Decode result, written by the codec at the result pointer.
export const RES_PROTOCOL: u32 = 0; // u32
export const RES_FAMILY: u32 = 4; // u32, raw sa_family
export const RES_PORT: u32 = 8; // u32
export const RES_FLOWINFO: u32 = 12; // u32
export const RES_SCOPE_ID: u32 = 16; // u32
export const RES_ADDRESS: u32 = 20; // 16 bytes (4 used for IPv4)
export const RES_STRING_LENGTH: u32 = 36; // u32, raw PeerTargetNameStringLen
export const RES_LENGTH_UNIT: u32 = 40; // u32, LENGTH_UNIT_UNITS or LENGTH_UNIT_BYTES, as interpreted
export const RES_NAME_UNITS: u32 = 44; // u32, units the string length claims
export const RES_NAME_AVAILABLE: u32 = 48; // u32, units actually inside the buffer
export const RES_PRESENT: u32 = 52; // u32, PRESENT_* bits: which fields the buffer was long enough to hold
export const RES_PROBLEM_COUNT: u32 = 56; // u32
export const RES_PROBLEMS: u32 = 64; // MAX_PROBLEMS records of SIZEOF_PROBLEM
export const PB_REASON: i32 = 0; // i32
export const PB_DETAIL: u32 = 4; // u32
export const PB_OFFSET: u32 = 8; // u32, first byte the problem is about
export const PB_LENGTH: u32 = 12; // u32, how many bytes
export const SIZEOF_PROBLEM: u32 = 16;
export const MAX_PROBLEMS: u32 = 16;
export const SIZEOF_RESULT: u32 = 64 + 16 * 16;

export const PRESENT_PROTOCOL: u32 = 1;
export const PRESENT_PEER: u32 = 2;
export const PRESENT_STRING_LENGTH: u32 = 4;

// Reasons: errno * 256 + a serial number, so both sides derive the Winsock code from the reason.
// Fields and messages for each live in host/errors.ts.
export const REASON_SHIFT: i32 = 8;
export const REASON_PROTOCOL_RANGE: i32 = WSAEINVAL * 256 + 1;
export const REASON_PEER_MISSING: i32 = WSAEINVAL * 256 + 2;
export const REASON_PEER_SYNTAX: i32 = WSAEINVAL * 256 + 3;
export const REASON_ADDRESS_SYNTAX: i32 = WSAEINVAL * 256 + 4;
export const REASON_ZONE_NAMED: i32 = WSAEINVAL * 256 + 5;
export const REASON_ZONE_RANGE: i32 = WSAEINVAL * 256 + 6;
export const REASON_ZONE_CONFLICT: i32 = WSAEINVAL * 256 + 7;
export const REASON_FLOWINFO_ON_IPV4: i32 = WSAEINVAL * 256 + 8;
export const REASON_SCOPE_ON_IPV4: i32 = WSAEINVAL * 256 + 21;
export const REASON_ADDRESS_UNSPECIFIED: i32 = WSAEINVAL * 256 + 9;
export const REASON_PORT_ZERO: i32 = WSAEINVAL * 256 + 10;
export const REASON_PORT_RANGE: i32 = WSAEINVAL * 256 + 11;
export const REASON_NAME_EMPTY: i32 = WSAEINVAL * 256 + 12;
export const REASON_NAME_NUL: i32 = WSAEINVAL * 256 + 13;
export const REASON_NAME_SURROGATE: i32 = WSAEINVAL * 256 + 14;
export const REASON_NAME_TOO_LONG: i32 = WSAEINVAL * 256 + 15;
export const REASON_STRING_LENGTH_ODD: i32 = WSAEINVAL * 256 + 16;
export const REASON_PADDING_NONZERO: i32 = WSAEINVAL * 256 + 17;
export const REASON_PEER_SLACK_NONZERO: i32 = WSAEINVAL * 256 + 18;
export const REASON_TAIL_NONZERO: i32 = WSAEINVAL * 256 + 19;
export const REASON_PEER_TEXT_TOO_LONG: i32 = WSAEINVAL * 256 + 20;
export const REASON_FAMILY_MISMATCH: i32 = WSAEAFNOSUPPORT * 256 + 1;
export const REASON_FAMILY_UNSUPPORTED: i32 = WSAEAFNOSUPPORT * 256 + 2;
export const REASON_BUFFER_SHORT: i32 = WSAEMSGSIZE * 256 + 1;
export const REASON_STRING_BEYOND_BUFFER: i32 = WSAEMSGSIZE * 256 + 2;
