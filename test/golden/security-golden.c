/*
 * Golden SOCKET_SECURITY_SETTINGS[_IPSEC], SOCKET_SECURITY_QUERY_TEMPLATE and
 * SOCKET_SECURITY_QUERY_INFO records, laid out by the real Windows headers (mingw-w64).
 *
 * The sibling of golden.c, for the structs WSASetSocketSecurity and WSAQuerySocketSecurity take.
 * One of two independent statements of the cases; the other is security-cases.ts, in the
 * package's API terms. Every value is written by hand. security-extract.mjs compiles this file for
 * x64 and x86 (`-c -O0 -std=c11 -pedantic-errors`, with -I build/generated for layout.h) and reads
 * each case from two COFF sections: `.sec.<case>` holds the record, `.seclen.<case>` its length
 * (a ULONG: the `len` a caller passes). The bytes of `.sec.<case>` past that length must be zero.
 *
 * It also pins assembly/layout.ts (through build/generated/layout.h) to the headers: every offset,
 * size and flag the codec uses is _Static_asserted here, on both targets.
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <stddef.h>

#include "layout.h" /* build/generated/layout.h: assembly/layout.ts as C (PTN_*) */

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "BE16/BE32 below assume a little-endian target (x86 and x64 are)"
#endif

#define BE16(x) ((u_short)((((x) & 0xffu) << 8) | (((x) >> 8) & 0xffu)))
#define BE32(x) ((u_long)((((x) & 0xffu) << 24) | (((x) & 0xff00u) << 8) | \
                          (((x) >> 8) & 0xff00u) | (((x) >> 24) & 0xffu)))

/* A credential's length in BYTES (the unit the struct's page gives; see SSI_STRINGS in layout.ts),
 * counted by the compiler from the literal. */
#define BYTES(s) ((ULONG)(sizeof(s) - sizeof(wchar_t)))

/* ---- The headers, as assembly/layout.ts states them --------------------------------------- */
#define AT(type, member, expected) \
  _Static_assert(offsetof(type, member) == (expected), #type "." #member " @" #expected)
#define SIZE(type, expected) \
  _Static_assert(sizeof(type) == (expected), "sizeof(" #type ") == " #expected)

_Static_assert(sizeof(GUID) == PTN_SIZEOF_GUID && _Alignof(GUID) == 4, "GUID: 16 bytes, align 4");
_Static_assert(sizeof(UINT64) == 8 && sizeof(ULONG) == 4, "UINT64 and ULONG (LLP64)");
_Static_assert(sizeof(SOCKET_SECURITY_PROTOCOL) == 4, "the enum is 32-bit");

AT(SOCKET_SECURITY_SETTINGS, SecurityProtocol, PTN_SS_PROTOCOL);
AT(SOCKET_SECURITY_SETTINGS, SecurityFlags, PTN_SS_FLAGS);
SIZE(SOCKET_SECURITY_SETTINGS, PTN_SIZEOF_SECURITY_SETTINGS);
_Static_assert(_Alignof(SOCKET_SECURITY_SETTINGS) == 4, "SOCKET_SECURITY_SETTINGS align 4");

AT(SOCKET_SECURITY_SETTINGS_IPSEC, SecurityProtocol, PTN_SS_PROTOCOL);
AT(SOCKET_SECURITY_SETTINGS_IPSEC, SecurityFlags, PTN_SS_FLAGS);
AT(SOCKET_SECURITY_SETTINGS_IPSEC, IpsecFlags, PTN_SSI_IPSEC_FLAGS);
AT(SOCKET_SECURITY_SETTINGS_IPSEC, AuthipMMPolicyKey, PTN_SSI_MM_POLICY_KEY);
AT(SOCKET_SECURITY_SETTINGS_IPSEC, AuthipQMPolicyKey, PTN_SSI_QM_POLICY_KEY);
AT(SOCKET_SECURITY_SETTINGS_IPSEC, Reserved, PTN_SSI_RESERVED);
/* On i686-w64-mingw32 too, UINT64 is 8-aligned inside a struct (MSVC ABI): 4 bytes of padding. */
_Static_assert(PTN_SSI_RESERVED + PTN_SIZEOF_GUID == PTN_SSI_PADDING, "padding follows Reserved");
_Static_assert(_Alignof(UINT64) == 8, "UINT64 is 8-aligned");
AT(SOCKET_SECURITY_SETTINGS_IPSEC, Reserved2, PTN_SSI_RESERVED2);
AT(SOCKET_SECURITY_SETTINGS_IPSEC, UserNameStringLen, PTN_SSI_USER_NAME_LENGTH);
AT(SOCKET_SECURITY_SETTINGS_IPSEC, DomainNameStringLen, PTN_SSI_DOMAIN_NAME_LENGTH);
AT(SOCKET_SECURITY_SETTINGS_IPSEC, PasswordStringLen, PTN_SSI_PASSWORD_LENGTH);
AT(SOCKET_SECURITY_SETTINGS_IPSEC, AllStrings, PTN_SSI_STRINGS);
SIZE(SOCKET_SECURITY_SETTINGS_IPSEC, PTN_SIZEOF_SECURITY_SETTINGS_IPSEC);
_Static_assert(_Alignof(SOCKET_SECURITY_SETTINGS_IPSEC) == 8, "SOCKET_SECURITY_SETTINGS_IPSEC align 8");

AT(SOCKET_SECURITY_QUERY_TEMPLATE, SecurityProtocol, PTN_SQT_PROTOCOL);
AT(SOCKET_SECURITY_QUERY_TEMPLATE, PeerAddress, PTN_SQT_PEER);
AT(SOCKET_SECURITY_QUERY_TEMPLATE, PeerTokenAccessMask, PTN_SQT_TOKEN_ACCESS_MASK);
SIZE(SOCKET_SECURITY_QUERY_TEMPLATE, PTN_SIZEOF_SECURITY_QUERY_TEMPLATE);
_Static_assert(PTN_SQT_PADDING == PTN_SQT_PROTOCOL + 4, "padding after SecurityProtocol");
/* host/codec/security.ts decodes the template's first 136 bytes with SOCKET_PEER_TARGET_NAME's decoder. */
_Static_assert(offsetof(SOCKET_SECURITY_QUERY_TEMPLATE, PeerAddress) ==
               offsetof(SOCKET_PEER_TARGET_NAME, PeerAddress), "template peer = PTN peer");
_Static_assert(offsetof(SOCKET_SECURITY_QUERY_TEMPLATE, PeerTokenAccessMask) ==
               offsetof(SOCKET_PEER_TARGET_NAME, PeerTargetNameStringLen), "mask = PTN string length");
_Static_assert(sizeof(SOCKET_SECURITY_QUERY_TEMPLATE) == sizeof(SOCKET_PEER_TARGET_NAME), "same size");
_Static_assert(PTN_SQT_PEER == PTN_OFFSET_PEER, "layout.ts agrees");

AT(SOCKET_SECURITY_QUERY_INFO, SecurityProtocol, PTN_SQI_PROTOCOL);
AT(SOCKET_SECURITY_QUERY_INFO, Flags, PTN_SQI_FLAGS);
AT(SOCKET_SECURITY_QUERY_INFO, PeerApplicationAccessTokenHandle, PTN_SQI_APPLICATION_TOKEN);
AT(SOCKET_SECURITY_QUERY_INFO, PeerMachineAccessTokenHandle, PTN_SQI_MACHINE_TOKEN);
SIZE(SOCKET_SECURITY_QUERY_INFO, PTN_SIZEOF_SECURITY_QUERY_INFO);

/* Flags: what mingw-w64 defines must match; the Win7 SDK additions are checked where defined. */
_Static_assert(SOCKET_SETTINGS_GUARANTEE_ENCRYPTION == PTN_SOCKET_SETTINGS_GUARANTEE_ENCRYPTION, "flag");
_Static_assert(SOCKET_SETTINGS_ALLOW_INSECURE == PTN_SOCKET_SETTINGS_ALLOW_INSECURE, "flag");
_Static_assert((SOCKET_SETTINGS_GUARANTEE_ENCRYPTION | SOCKET_SETTINGS_ALLOW_INSECURE) == PTN_SOCKET_SETTINGS_MASK, "mask");
_Static_assert(SOCKET_SETTINGS_IPSEC_SKIP_FILTER_INSTANTIATION == PTN_SOCKET_SETTINGS_IPSEC_SKIP_FILTER_INSTANTIATION, "flag");
#ifdef SOCKET_SETTINGS_IPSEC_OPTIONAL_PEER_NAME_VERIFICATION
_Static_assert(SOCKET_SETTINGS_IPSEC_OPTIONAL_PEER_NAME_VERIFICATION == PTN_SOCKET_SETTINGS_IPSEC_OPTIONAL_PEER_NAME_VERIFICATION, "flag");
_Static_assert(SOCKET_SETTINGS_IPSEC_ALLOW_FIRST_INBOUND_PKT_UNENCRYPTED == PTN_SOCKET_SETTINGS_IPSEC_ALLOW_FIRST_INBOUND_PKT_UNENCRYPTED, "flag");
_Static_assert(SOCKET_SETTINGS_IPSEC_PEER_NAME_IS_RAW_FORMAT == PTN_SOCKET_SETTINGS_IPSEC_PEER_NAME_IS_RAW_FORMAT, "flag");
#endif
#ifdef SOCKET_QUERY_IPSEC2_ABORT_CONNECTION_ON_FIELD_CHANGE
_Static_assert(SOCKET_QUERY_IPSEC2_ABORT_CONNECTION_ON_FIELD_CHANGE == PTN_SOCKET_QUERY_IPSEC2_ABORT_CONNECTION_ON_FIELD_CHANGE, "flag");
_Static_assert(SOCKET_QUERY_IPSEC2_FIELD_MASK_MM_SA_ID == PTN_SOCKET_QUERY_IPSEC2_FIELD_MASK_MM_SA_ID, "flag");
_Static_assert(SOCKET_QUERY_IPSEC2_FIELD_MASK_QM_SA_ID == PTN_SOCKET_QUERY_IPSEC2_FIELD_MASK_QM_SA_ID, "flag");
#endif
_Static_assert(SOCKET_INFO_CONNECTION_SECURED == PTN_SOCKET_INFO_CONNECTION_SECURED, "flag");
_Static_assert(SOCKET_INFO_CONNECTION_ENCRYPTED == PTN_SOCKET_INFO_CONNECTION_ENCRYPTED, "flag");
_Static_assert(SOCKET_INFO_CONNECTION_IMPERSONATED == PTN_SOCKET_INFO_CONNECTION_IMPERSONATED, "flag");
_Static_assert((SOCKET_INFO_CONNECTION_SECURED | SOCKET_INFO_CONNECTION_ENCRYPTED |
                SOCKET_INFO_CONNECTION_IMPERSONATED) == PTN_SOCKET_INFO_MASK, "mask");
_Static_assert(SOCKET_SECURITY_PROTOCOL_DEFAULT == PTN_PROTOCOL_DEFAULT && SOCKET_SECURITY_PROTOCOL_IPSEC ==
               PTN_PROTOCOL_IPSEC && SOCKET_SECURITY_PROTOCOL_IPSEC2 == PTN_PROTOCOL_IPSEC2, "protocols");

/* ---- Mirror structs ----------------------------------------------------------------------
 * SOCKET_SECURITY_SETTINGS_IPSEC ends in a flexible array and the template's PeerAddress is a
 * SOCKADDR_STORAGE, so neither can be statically initialised with strings or a sockaddr_in in
 * standard C. The mirrors have the same members and header types, a fixed AllStrings and the peer
 * as a union of the real sockaddr types; the asserts pin them to the real structs byte for byte.
 * SOCKET_SECURITY_SETTINGS and SOCKET_SECURITY_QUERY_INFO are used as they are. */
#define SEC_MAX_UNITS 64

typedef struct {
  SOCKET_SECURITY_PROTOCOL SecurityProtocol;
  ULONG SecurityFlags;
  ULONG IpsecFlags;
  GUID AuthipMMPolicyKey;
  GUID AuthipQMPolicyKey;
  GUID Reserved;
  UINT64 Reserved2;
  ULONG UserNameStringLen;
  ULONG DomainNameStringLen;
  ULONG PasswordStringLen;
  wchar_t AllStrings[SEC_MAX_UNITS];
} GOLDEN_SSI;

typedef union {
  SOCKADDR_STORAGE storage;
  struct sockaddr_in v4;
  struct sockaddr_in6 v6;
} GOLDEN_PEER;

typedef struct {
  SOCKET_SECURITY_PROTOCOL SecurityProtocol;
  GOLDEN_PEER PeerAddress;
  ULONG PeerTokenAccessMask;
} GOLDEN_SQT;

#define MIRROR(mirror, real, member) \
  _Static_assert(offsetof(mirror, member) == offsetof(real, member), #mirror "." #member)
MIRROR(GOLDEN_SSI, SOCKET_SECURITY_SETTINGS_IPSEC, SecurityProtocol);
MIRROR(GOLDEN_SSI, SOCKET_SECURITY_SETTINGS_IPSEC, SecurityFlags);
MIRROR(GOLDEN_SSI, SOCKET_SECURITY_SETTINGS_IPSEC, IpsecFlags);
MIRROR(GOLDEN_SSI, SOCKET_SECURITY_SETTINGS_IPSEC, AuthipMMPolicyKey);
MIRROR(GOLDEN_SSI, SOCKET_SECURITY_SETTINGS_IPSEC, AuthipQMPolicyKey);
MIRROR(GOLDEN_SSI, SOCKET_SECURITY_SETTINGS_IPSEC, Reserved);
MIRROR(GOLDEN_SSI, SOCKET_SECURITY_SETTINGS_IPSEC, Reserved2);
MIRROR(GOLDEN_SSI, SOCKET_SECURITY_SETTINGS_IPSEC, UserNameStringLen);
MIRROR(GOLDEN_SSI, SOCKET_SECURITY_SETTINGS_IPSEC, DomainNameStringLen);
MIRROR(GOLDEN_SSI, SOCKET_SECURITY_SETTINGS_IPSEC, PasswordStringLen);
MIRROR(GOLDEN_SSI, SOCKET_SECURITY_SETTINGS_IPSEC, AllStrings);
_Static_assert(_Alignof(GOLDEN_SSI) == _Alignof(SOCKET_SECURITY_SETTINGS_IPSEC), "mirror alignment");
MIRROR(GOLDEN_SQT, SOCKET_SECURITY_QUERY_TEMPLATE, SecurityProtocol);
MIRROR(GOLDEN_SQT, SOCKET_SECURITY_QUERY_TEMPLATE, PeerAddress);
MIRROR(GOLDEN_SQT, SOCKET_SECURITY_QUERY_TEMPLATE, PeerTokenAccessMask);
_Static_assert(sizeof(GOLDEN_SQT) == sizeof(SOCKET_SECURITY_QUERY_TEMPLATE), "mirror size");
_Static_assert(sizeof(GOLDEN_PEER) == sizeof(SOCKADDR_STORAGE), "peer union adds no bytes");
_Static_assert(_Alignof(GOLDEN_SQT) == _Alignof(SOCKET_SECURITY_QUERY_TEMPLATE), "mirror alignment");

/* ---- One case ----------------------------------------------------------------------------
 * A record in `.sec.<id>` and its length, the `len` argument a caller passes, in `.seclen.<id>`. */
#define RECORD(id, type, length, ...)                                                        \
  __attribute__((used, section(".sec." #id))) static const type golden_##id = { __VA_ARGS__ }; \
  __attribute__((used, section(".seclen." #id))) static const ULONG golden_##id##_length = (length)

#define SETTINGS(id, protocol, flags)                                                   \
  RECORD(id, SOCKET_SECURITY_SETTINGS, sizeof(SOCKET_SECURITY_SETTINGS),                \
         .SecurityProtocol = (protocol), .SecurityFlags = (flags))

/* IPSEC(id, length, protocol, flags, ipsecFlags, mm, qm, user, domain, password)
 * `length` is written by hand and checked against sizeof + the compiler's byte count of the three
 * literals, which AllStrings holds concatenated (adjacent literals), without terminators. */
#define IPSEC(id, length, protocol, flags, ipsecFlags, mm, qm, user, domain, password)             \
  _Static_assert((length) == sizeof(SOCKET_SECURITY_SETTINGS_IPSEC) + BYTES(user) + BYTES(domain) + \
                                 BYTES(password), #id ": length");                                  \
  _Static_assert(sizeof(user domain password) <= sizeof(((GOLDEN_SSI *)0)->AllStrings), #id ": room"); \
  RECORD(id, GOLDEN_SSI, length,                                                                   \
         .SecurityProtocol = (protocol), .SecurityFlags = (flags), .IpsecFlags = (ipsecFlags),      \
         .AuthipMMPolicyKey = mm, .AuthipQMPolicyKey = qm,                                          \
         .UserNameStringLen = BYTES(user), .DomainNameStringLen = BYTES(domain),                    \
         .PasswordStringLen = BYTES(password), .AllStrings = user domain password)

#define TEMPLATE(id, protocol, mask, ...)                                                 \
  RECORD(id, GOLDEN_SQT, sizeof(SOCKET_SECURITY_QUERY_TEMPLATE),                          \
         .SecurityProtocol = (protocol), .PeerAddress = { __VA_ARGS__ }, .PeerTokenAccessMask = (mask))

#define INFO(id, protocol, flags, application, machine)                                   \
  RECORD(id, SOCKET_SECURITY_QUERY_INFO, sizeof(SOCKET_SECURITY_QUERY_INFO),              \
         .SecurityProtocol = (protocol), .Flags = (flags),                                \
         .PeerApplicationAccessTokenHandle = (application), .PeerMachineAccessTokenHandle = (machine))

#define IPSEC_P SOCKET_SECURITY_PROTOCOL_IPSEC
#define IPSEC2_P SOCKET_SECURITY_PROTOCOL_IPSEC2
#define DEFAULT_P SOCKET_SECURITY_PROTOCOL_DEFAULT
#define GUARANTEE SOCKET_SETTINGS_GUARANTEE_ENCRYPTION
#define INSECURE SOCKET_SETTINGS_ALLOW_INSECURE
#define SKIP_FILTER SOCKET_SETTINGS_IPSEC_SKIP_FILTER_INSTANTIATION

/* GUIDs: Data1, Data2, Data3 are stored little-endian, Data4 byte by byte. */
#define GUID_ZERO { 0, 0, 0, { 0, 0, 0, 0, 0, 0, 0, 0 } }
/* {12345678-9ABC-DEF0-0123-456789ABCDEF} */
#define GUID_A { 0x12345678, 0x9abc, 0xdef0, { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef } }
/* a1b2c3d4-e5f6-4789-8abc-def012345678 */
#define GUID_B { 0xa1b2c3d4, 0xe5f6, 0x4789, { 0x8a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78 } }

/* ---- SOCKET_SECURITY_SETTINGS (8 bytes) ---- */
SETTINGS(settings_default, DEFAULT_P, 0);
SETTINGS(settings_ipsec_guarantee_encryption, IPSEC_P, GUARANTEE);
SETTINGS(settings_ipsec2_allow_insecure, IPSEC2_P, INSECURE);
SETTINGS(settings_default_both_flags, DEFAULT_P, GUARANTEE | INSECURE);

/* ---- SOCKET_SECURITY_SETTINGS_IPSEC (88 + the strings' bytes) ---- */
IPSEC(ipsec_empty, 88, IPSEC_P, 0, 0, GUID_ZERO, GUID_ZERO, L"", L"", L"");
IPSEC(ipsec_policy_keys, 88, IPSEC_P, GUARANTEE, SKIP_FILTER, GUID_A, GUID_B, L"", L"", L"");
/* 5 + 4 + 8 units: 10 + 8 + 16 bytes */
IPSEC(ipsec_credentials, 122, IPSEC_P, 0, 0, GUID_ZERO, GUID_ZERO, L"alice", L"CORP", L"P@ssw0rd");
/* jürgen (6 units), 例え (2 units), pa🔑ss (U+1F511 is a surrogate pair: 6 units) */
IPSEC(ipsec2_credentials_unicode, 116, IPSEC2_P, INSECURE, 0, GUID_A, GUID_ZERO,
      L"j\u00fcrgen", L"\u4f8b\u3048", L"pa\U0001F511ss");
IPSEC(ipsec_user_only, 108, IPSEC_P, 0, SKIP_FILTER, GUID_ZERO, GUID_ZERO, L"svc-backup", L"", L"");
IPSEC(ipsec_domain_password, 104, IPSEC_P, GUARANTEE, 0, GUID_ZERO, GUID_B, L"", L"EXAMPLE", L"x");
/* All four IpsecFlags: mingw-w64 10 names only 0x1; 0x2, 0x4 and 0x8 are the Win7 SDK's
 * OPTIONAL_PEER_NAME_VERIFICATION, ALLOW_FIRST_INBOUND_PKT_UNENCRYPTED, PEER_NAME_IS_RAW_FORMAT. */
IPSEC(ipsec2_win7_ipsec_flags, 88, IPSEC2_P, GUARANTEE, SKIP_FILTER | 0x2 | 0x4 | 0x8,
      GUID_ZERO, GUID_ZERO, L"", L"", L"");

/* ---- SOCKET_SECURITY_QUERY_TEMPLATE (144 bytes) ---- */
/* 192.0.2.10:4500, TOKEN_QUERY */
TEMPLATE(template_ipv4, IPSEC_P, TOKEN_QUERY,
         .v4 = { .sin_family = AF_INET, .sin_port = BE16(4500),
                 .sin_addr.S_un.S_un_b = { 192, 0, 2, 10 } });
/* [fe80::1%7]:500, TOKEN_QUERY | TOKEN_IMPERSONATE */
TEMPLATE(template_ipv6_zone, IPSEC2_P, TOKEN_QUERY | TOKEN_IMPERSONATE,
         .v6 = { .sin6_family = AF_INET6, .sin6_port = BE16(500),
                 .sin6_addr.u.Byte = { 0xfe, 0x80, [15] = 0x01 }, .sin6_scope_id = 7 });
/* A stream socket: no peer, no tokens */
TEMPLATE(template_stream_no_peer, DEFAULT_P, 0, .storage = { .ss_family = AF_UNSPEC });
/* { address: '2001:db8::1', port: 500, family: 'IPv6', flowInfo: 0x12345, scopeId: 3 }, MAXIMUM_ALLOWED */
TEMPLATE(template_peer_object_maximum_allowed, IPSEC_P, MAXIMUM_ALLOWED,
         .v6 = { .sin6_family = AF_INET6, .sin6_port = BE16(500), .sin6_flowinfo = BE32(0x12345),
                 .sin6_addr.u.Byte = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 }, .sin6_scope_id = 3 });

/* ---- SOCKET_SECURITY_QUERY_INFO (24 bytes) ---- */
INFO(info_secured_encrypted, IPSEC_P, SOCKET_INFO_CONNECTION_SECURED | SOCKET_INFO_CONNECTION_ENCRYPTED,
     0x1234, 0x5678);
INFO(info_impersonated_high_handles, IPSEC2_P,
     SOCKET_INFO_CONNECTION_SECURED | SOCKET_INFO_CONNECTION_IMPERSONATED,
     0x00007ffe12345678ULL, 0xfffffffffffffffcULL);
INFO(info_default_none, DEFAULT_P, 0, 0, 0);
