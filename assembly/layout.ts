// The one source of truth for the SOCKET_PEER_TARGET_NAME layout, the Winsock codes and the codec's
// ABI. AssemblyScript compiles this file into the codec; build/layout.mjs derives the host's
// host/generated/layout.ts from it mechanically (types dropped), so keep to one form per line:
// `export const NAME: type = integer expression;` (comments are free).
// Layout facts: docs/reference.md §1, measured from the mingw-w64 headers.

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

// Winsock error numbers (docs/reference.md §3) and socket constants
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

// Length-unit policy for PeerTargetNameStringLen (docs/reference.md §2)
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
export const IN_NAME_PTR: u32 = 28; // u32, UTF-16LE units, 2-aligned (or ASCII bytes, any alignment, with FLAG_NAME_ASCII)
export const IN_NAME_LENGTH: u32 = 32; // u32, in units
export const SIZEOF_INPUT: u32 = 36;

export const PEER_NONE: u32 = 0; // no peer (all-zero PeerAddress)
export const PEER_TEXT: u32 = 1; // 'a.b.c.d:port' or '[v6%zone]:port'
export const PEER_FIELDS: u32 = 2; // address text plus port/flowinfo/scope fields
export const FLAG_PEER_MASK: u32 = 3;
export const FLAG_FAMILY_IPV4: u32 = 4; // the caller said the address is IPv4
export const FLAG_FAMILY_IPV6: u32 = 8; // the caller said the address is IPv6
export const FLAG_SCOPE_GIVEN: u32 = 16; // IN_SCOPE_ID was given explicitly
export const FLAG_NAME_ASCII: u32 = 32; // the name at IN_NAME_PTR is IN_NAME_LENGTH ASCII bytes (one per UTF-16 unit), not UTF-16LE

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
// Fields and messages for each live in host/codec/reason-messages.ts (one table for every struct).
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

// ==== Secure Socket Extensions: WSASetSocketSecurity / WSAQuerySocketSecurity structs ==========
// Measured from the mingw-w64 10.0.0 headers with x86_64-w64-mingw32-gcc and i686-w64-mingw32-gcc
// (offsetof/sizeof/_Alignof); x64 and x86 lay these out identically: UINT64 is 8-aligned inside
// structs on i686-w64-mingw32 too (MSVC ABI), GUID is 4-aligned. test/golden/security-golden.c
// _Static_asserts every offset and size below against the real headers, on both targets.

// SOCKET_SECURITY_SETTINGS (align 4)
export const SS_PROTOCOL: u32 = 0; // SOCKET_SECURITY_PROTOCOL, u32
export const SS_FLAGS: u32 = 4; // SecurityFlags, u32
export const SIZEOF_SECURITY_SETTINGS: u32 = 8;

// SOCKET_SECURITY_SETTINGS_IPSEC (align 8): SecurityProtocol and SecurityFlags as above, then
export const SSI_IPSEC_FLAGS: u32 = 8; // u32
export const SSI_MM_POLICY_KEY: u32 = 12; // GUID AuthipMMPolicyKey
export const SSI_QM_POLICY_KEY: u32 = 28; // GUID AuthipQMPolicyKey
export const SSI_RESERVED: u32 = 44; // GUID Reserved
export const SIZEOF_GUID: u32 = 16;
export const SSI_PADDING: u32 = 60; // 4 bytes: Reserved2 is 8-aligned (x86 too)
export const SSI_RESERVED2: u32 = 64; // UINT64
export const SSI_USER_NAME_LENGTH: u32 = 72; // u32, in bytes (see SSI_STRINGS)
export const SSI_DOMAIN_NAME_LENGTH: u32 = 76; // u32, in bytes
export const SSI_PASSWORD_LENGTH: u32 = 80; // u32, in bytes
/**
 * AllStrings: UserName, DomainName, Password, concatenated without separators or terminators.
 * Their lengths count BYTES: the struct's reference page says "the length, in bytes" for all three
 * and Project Zero's NtApiDotNet (SocketSecuritySettings.ToBuffer) stores Length * 2; no source
 * says units, so unlike PeerTargetNameStringLen (docs/reference.md §2) there is no length-unit policy here.
 * The buffer is sizeof + the strings' bytes (88 + 2n), as NtApiDotNet sizes it and as the package
 * sizes SOCKET_PEER_TARGET_NAME: the 4 bytes past the strings are zero.
 */
export const SSI_STRINGS: u32 = 84;
export const SIZEOF_SECURITY_SETTINGS_IPSEC: u32 = 88;

// SOCKET_SECURITY_QUERY_TEMPLATE (align 8). Bytes 0..136 are laid out exactly as in
// SOCKET_PEER_TARGET_NAME (protocol, padding, PeerAddress), so its peer codec serves both.
export const SQT_PROTOCOL: u32 = 0; // u32
export const SQT_PADDING: u32 = 4; // 4 bytes, zero
export const SQT_PEER: u32 = 8; // SOCKADDR_STORAGE
export const SQT_TOKEN_ACCESS_MASK: u32 = 136; // PeerTokenAccessMask, u32 (an ACCESS_MASK)
export const SIZEOF_SECURITY_QUERY_TEMPLATE: u32 = 144; // 4 bytes of tail padding

// SOCKET_SECURITY_QUERY_INFO (align 8)
export const SQI_PROTOCOL: u32 = 0; // u32
export const SQI_FLAGS: u32 = 4; // u32, SOCKET_INFO_*
export const SQI_APPLICATION_TOKEN: u32 = 8; // UINT64 PeerApplicationAccessTokenHandle
export const SQI_MACHINE_TOKEN: u32 = 16; // UINT64 PeerMachineAccessTokenHandle
export const SIZEOF_SECURITY_QUERY_INFO: u32 = 24;

// Flags, named as mstcpip.h names them. SecurityFlags (SOCKET_SECURITY_SETTINGS[_IPSEC]):
export const SOCKET_SETTINGS_GUARANTEE_ENCRYPTION: u32 = 0x1;
export const SOCKET_SETTINGS_ALLOW_INSECURE: u32 = 0x2;
export const SOCKET_SETTINGS_MASK: u32 = SOCKET_SETTINGS_GUARANTEE_ENCRYPTION + SOCKET_SETTINGS_ALLOW_INSECURE;
// IpsecFlags. mingw-w64 10.0.0 defines only the first; the Windows SDK's mstcpip.h (and newer
// mingw-w64, and NtApiDotNet's SocketSecurityIpsecFlags) add the other three under
// NTDDI_VERSION >= NTDDI_WIN7. All four are accepted.
export const SOCKET_SETTINGS_IPSEC_SKIP_FILTER_INSTANTIATION: u32 = 0x1;
export const SOCKET_SETTINGS_IPSEC_OPTIONAL_PEER_NAME_VERIFICATION: u32 = 0x2;
export const SOCKET_SETTINGS_IPSEC_ALLOW_FIRST_INBOUND_PKT_UNENCRYPTED: u32 = 0x4;
export const SOCKET_SETTINGS_IPSEC_PEER_NAME_IS_RAW_FORMAT: u32 = 0x8;
export const SOCKET_SETTINGS_IPSEC_MASK: u32 = 0xf;
// SOCKET_SECURITY_QUERY_INFO.Flags
export const SOCKET_INFO_CONNECTION_SECURED: u32 = 0x1;
export const SOCKET_INFO_CONNECTION_ENCRYPTED: u32 = 0x2;
export const SOCKET_INFO_CONNECTION_IMPERSONATED: u32 = 0x4;
export const SOCKET_INFO_MASK: u32 = 0x7;
// SOCKET_SECURITY_QUERY_TEMPLATE_IPSEC2 (Windows SDK, Win7+; not in mingw-w64 10.0.0, not yet
// encoded here): its Flags and FieldMask.
export const SOCKET_QUERY_IPSEC2_ABORT_CONNECTION_ON_FIELD_CHANGE: u32 = 0x1;
export const SOCKET_QUERY_IPSEC2_FIELD_MASK_MM_SA_ID: u32 = 0x1;
export const SOCKET_QUERY_IPSEC2_FIELD_MASK_QM_SA_ID: u32 = 0x2;

/** UserName, DomainName and Password each hold at most this many UTF-16 units (a UNICODE_STRING). */
export const MAX_CREDENTIAL_STRING_LENGTH: u32 = HARD_MAX_TARGET_NAME_LENGTH;

// ---- The security codec's ABI (assembly/security.ts) -----------------------------------------

// Settings input record, written by the host.
export const SEC_IN_PROTOCOL: u32 = 0; // u32
export const SEC_IN_FLAGS: u32 = 4; // u32, SecurityFlags
export const SEC_IN_FORM: u32 = 8; // u32, SETTINGS_FORM_*
export const SEC_IN_IPSEC_FLAGS: u32 = 12; // u32
export const SEC_IN_MM_POLICY_KEY: u32 = 16; // 16 bytes, GUID in memory order
export const SEC_IN_QM_POLICY_KEY: u32 = 32; // 16 bytes
export const SEC_IN_STRINGS: u32 = 48; // 3 string refs: UserName, DomainName, Password
export const SEC_STRING_PTR: u32 = 0; // u32, UTF-16LE units
export const SEC_STRING_LENGTH: u32 = 4; // u32, in units
export const SIZEOF_SEC_STRING: u32 = 8;
export const SEC_STRING_COUNT: u32 = 3;
export const SIZEOF_SEC_INPUT: u32 = 48 + 3 * 8;

export const SETTINGS_FORM_BASIC: u32 = 0; // SOCKET_SECURITY_SETTINGS, 8 bytes
export const SETTINGS_FORM_IPSEC: u32 = 1; // SOCKET_SECURITY_SETTINGS_IPSEC, 88 + 2n bytes

// Security status record, written by the codec's encoders.
export const SEC_ST_LENGTH: u32 = 0; // u32, bytes written; 0 when the encode failed
export const SEC_ST_REASON: i32 = 4; // i32, 0 or a REASON_*
export const SEC_ST_DETAIL: u32 = 8; // u32, the offending value or index
export const SEC_ST_FIELD: u32 = 12; // u32, SEC_FIELD_*
export const SIZEOF_SEC_STATUS: u32 = 16;

// Which member a reason is about (the reasons are shared with SOCKET_PEER_TARGET_NAME's).
export const SEC_FIELD_NONE: u32 = 0;
export const SEC_FIELD_PROTOCOL: u32 = 1;
export const SEC_FIELD_FLAGS: u32 = 2; // SecurityFlags, or QUERY_INFO's Flags
export const SEC_FIELD_IPSEC_FLAGS: u32 = 3;
export const SEC_FIELD_USER_NAME: u32 = 4; // SEC_FIELD_USER_NAME + i is AllStrings' string i
export const SEC_FIELD_DOMAIN_NAME: u32 = 5;
export const SEC_FIELD_PASSWORD: u32 = 6;
export const SEC_FIELD_RESERVED: u32 = 7; // Reserved, Reserved2
export const SEC_FIELD_PADDING: u32 = 8;
export const SEC_FIELD_LENGTH: u32 = 9; // the buffer's length
export const SEC_FIELD_TAIL: u32 = 10; // bytes past the strings
export const SEC_FIELD_PEER: u32 = 11;

// Security decode result, written by the codec's decoders at the result pointer.
export const SR_FORM: u32 = 0; // u32, SETTINGS_FORM_* as read (by length: over 8 bytes is IPSEC)
export const SR_PROTOCOL: u32 = 4; // u32
export const SR_FLAGS: u32 = 8; // u32
export const SR_IPSEC_FLAGS: u32 = 12; // u32
export const SR_MM_POLICY_KEY: u32 = 16; // 16 bytes
export const SR_QM_POLICY_KEY: u32 = 32; // 16 bytes
export const SR_STRING_LENGTHS: u32 = 48; // 3 x u32, raw byte counts
export const SR_APPLICATION_TOKEN: u32 = 64; // u64
export const SR_MACHINE_TOKEN: u32 = 72; // u64
export const SR_PROBLEM_COUNT: u32 = 80; // u32
export const SR_PROBLEMS: u32 = 88; // MAX_PROBLEMS records of SIZEOF_SEC_PROBLEM
export const SPB_REASON: i32 = 0; // i32
export const SPB_DETAIL: u32 = 4; // u32
export const SPB_OFFSET: u32 = 8; // u32
export const SPB_LENGTH: u32 = 12; // u32
export const SPB_FIELD: u32 = 16; // u32, SEC_FIELD_*
export const SIZEOF_SEC_PROBLEM: u32 = 24;
export const SIZEOF_SEC_RESULT: u32 = 88 + 16 * 24;

// Reasons for these structs, continuing the numbering above (the shared ones are reused:
// PROTOCOL_RANGE, NAME_NUL, NAME_SURROGATE, NAME_TOO_LONG, STRING_LENGTH_ODD, PADDING_NONZERO,
// TAIL_NONZERO, BUFFER_SHORT, STRING_BEYOND_BUFFER, FAMILY_UNSUPPORTED).
export const REASON_SECURITY_FLAGS_UNKNOWN: i32 = WSAEINVAL * 256 + 22;
export const REASON_IPSEC_FLAGS_UNKNOWN: i32 = WSAEINVAL * 256 + 23;
export const REASON_IPSEC_SETTINGS_PROTOCOL: i32 = WSAEINVAL * 256 + 24;
export const REASON_RESERVED_NONZERO: i32 = WSAEINVAL * 256 + 25;
export const REASON_INFO_FLAGS_UNKNOWN: i32 = WSAEINVAL * 256 + 26;
