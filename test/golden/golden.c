/*
 * Golden SOCKET_PEER_TARGET_NAME records, laid out by the real Windows headers (mingw-w64).
 *
 * This file is one of two independent statements of the golden cases; the other is cases.ts,
 * in the package's API terms. Every value here is written by hand: nothing is generated from
 * the TypeScript list. extract.mjs compiles this file for x64 and x86 (`-c -O0 -std=c11`) and
 * reads each case's bytes from its own COFF section, `.golden.<case>`.
 *
 * A case's bytes are the first 144 + 2n bytes of its object (n = name length in UTF-16 units):
 * the header, the name, its NUL and 2 bytes of tail padding. Static storage is zero-filled, so
 * all padding and every unused byte of PeerAddress is zero.
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <stddef.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "BE16/BE32 below assume a little-endian target (x86 and x64 are)"
#endif

/* Network byte order as constant expressions: htons() is a function, not usable in a static
 * initialiser, and hides what ends up in memory. */
#define BE16(x) ((u_short)((((x) & 0xffu) << 8) | (((x) >> 8) & 0xffu)))
#define BE32(x) ((u_long)((((x) & 0xffu) << 24) | (((x) & 0xff00u) << 8) | \
                          (((x) >> 8) & 0xff00u) | (((x) >> 24) & 0xffu)))

/* PeerTargetNameStringLen in either unit, counted by the compiler from the literal itself. */
#define UNITS(s) ((ULONG)(sizeof(s) / sizeof(wchar_t) - 1))
#define BYTES(s) ((ULONG)(sizeof(s) - sizeof(wchar_t)))

/* ---- The mirror struct -------------------------------------------------------------------
 * AllStrings is a flexible array, so the real type cannot be statically initialised with a
 * name in standard C. The mirror has the same members with the real header types, the peer
 * as a union of the real sockaddr types, and a fixed-size name array; the asserts below pin
 * it to SOCKET_PEER_TARGET_NAME byte for byte. */
#define GOLDEN_MAX_UNITS 128

typedef union {
  SOCKADDR_STORAGE storage;
  struct sockaddr_in v4;
  struct sockaddr_in6 v6;
} GOLDEN_PEER;

typedef struct {
  SOCKET_SECURITY_PROTOCOL SecurityProtocol;
  GOLDEN_PEER PeerAddress;
  ULONG PeerTargetNameStringLen;
  wchar_t AllStrings[GOLDEN_MAX_UNITS];
} GOLDEN_PTN;

#define SAME_OFFSET(member) \
  _Static_assert(offsetof(GOLDEN_PTN, member) == offsetof(SOCKET_PEER_TARGET_NAME, member), \
                 "mirror offset of " #member)

/* The real struct, as docs/reference.md §1 states it. */
_Static_assert(offsetof(SOCKET_PEER_TARGET_NAME, SecurityProtocol) == 0, "SecurityProtocol @0");
_Static_assert(offsetof(SOCKET_PEER_TARGET_NAME, PeerAddress) == 8, "PeerAddress @8");
_Static_assert(offsetof(SOCKET_PEER_TARGET_NAME, PeerTargetNameStringLen) == 136, "StringLen @136");
_Static_assert(offsetof(SOCKET_PEER_TARGET_NAME, AllStrings) == 140, "AllStrings @140");
_Static_assert(sizeof(SOCKET_PEER_TARGET_NAME) == 144, "sizeof 144");
_Static_assert(sizeof(SOCKET_SECURITY_PROTOCOL) == 4, "enum is 32-bit");
_Static_assert(sizeof(SOCKADDR_STORAGE) == 128, "SOCKADDR_STORAGE is 128 bytes");
_Static_assert(sizeof(ULONG) == 4 && sizeof(u_long) == 4, "ULONG is 32-bit (LLP64)");
_Static_assert(sizeof(wchar_t) == 2, "wchar_t is a UTF-16 unit");

/* The mirror matches it. */
SAME_OFFSET(SecurityProtocol);
SAME_OFFSET(PeerAddress);
SAME_OFFSET(PeerTargetNameStringLen);
SAME_OFFSET(AllStrings);
_Static_assert(sizeof(GOLDEN_PEER) == sizeof(SOCKADDR_STORAGE), "peer union adds no bytes");
_Static_assert(_Alignof(GOLDEN_PEER) == _Alignof(SOCKADDR_STORAGE), "peer union alignment");
_Static_assert(_Alignof(GOLDEN_PTN) == _Alignof(SOCKET_PEER_TARGET_NAME), "mirror alignment");

/* sockaddr_in / sockaddr_in6, offsets within PeerAddress. */
_Static_assert(offsetof(struct sockaddr_in, sin_family) == 0, "sin_family @0");
_Static_assert(offsetof(struct sockaddr_in, sin_port) == 2, "sin_port @2");
_Static_assert(offsetof(struct sockaddr_in, sin_addr) == 4, "sin_addr @4");
_Static_assert(offsetof(struct sockaddr_in, sin_zero) == 8, "sin_zero @8");
_Static_assert(sizeof(struct sockaddr_in) == 16, "sizeof sockaddr_in");
_Static_assert(offsetof(struct sockaddr_in6, sin6_family) == 0, "sin6_family @0");
_Static_assert(offsetof(struct sockaddr_in6, sin6_port) == 2, "sin6_port @2");
_Static_assert(offsetof(struct sockaddr_in6, sin6_flowinfo) == 4, "sin6_flowinfo @4");
_Static_assert(offsetof(struct sockaddr_in6, sin6_addr) == 8, "sin6_addr @8");
_Static_assert(offsetof(struct sockaddr_in6, sin6_scope_id) == 24, "sin6_scope_id @24");
_Static_assert(sizeof(struct sockaddr_in6) == 28, "sizeof sockaddr_in6");

/* Windows numbers, not Linux's. */
_Static_assert(AF_INET == 2 && AF_INET6 == 23 && AF_UNSPEC == 0, "Windows address families");
_Static_assert(SOCKET_SECURITY_PROTOCOL_DEFAULT == 0 && SOCKET_SECURITY_PROTOCOL_IPSEC == 1 &&
               SOCKET_SECURITY_PROTOCOL_IPSEC2 == 2, "SOCKET_SECURITY_PROTOCOL values");

/* The byte-swap macros do what they say. */
_Static_assert(BE16(0x1234) == 0x3412 && BE32(0x00012345) == 0x45230100, "byte swaps");

/* ---- One case ----------------------------------------------------------------------------
 * GOLDEN(id, protocol, unit, length, name, peer initialiser...)
 * `length` is written by hand and checked against the compiler's own count of `name` in
 * `unit`; the name array must leave room for the NUL and the 2 bytes of tail padding. */
#define GOLDEN(id, protocol, unit, length, name, ...)                                          \
  _Static_assert((length) == unit(name), #id ": PeerTargetNameStringLen");                     \
  _Static_assert(sizeof(name) + 2 <= sizeof(((GOLDEN_PTN *)0)->AllStrings), #id ": too long"); \
  __attribute__((used, section(".golden." #id))) static const GOLDEN_PTN golden_##id = {       \
    .SecurityProtocol = (protocol),                                                            \
    .PeerAddress = { __VA_ARGS__ },                                                            \
    .PeerTargetNameStringLen = (length),                                                       \
    .AllStrings = name,                                                                        \
  }

/* Peer initialisers. Addresses are spelled byte by byte, in network order; 192.0.2.10 is
 * TEST-NET-1. */
#define NO_PEER .storage = { .ss_family = AF_UNSPEC }
#define V4(b1, b2, b3, b4, port) \
  .v4 = { .sin_family = AF_INET, .sin_port = BE16(port), .sin_addr.S_un.S_un_b = { b1, b2, b3, b4 } }

/* 2001:db8::1 and 2001:db8::2 */
#define V6_DOC_1 { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 }
#define V6_DOC_2 { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x02 }

#define SPN L"host/server.example.com" /* 23 units */

/* ---- Protocols, IPv4, implicit `auto` length (units for DEFAULT/IPSEC, bytes for IPSEC2) ---- */
GOLDEN(ipv4_default, SOCKET_SECURITY_PROTOCOL_DEFAULT, UNITS, 23, SPN, V4(192, 0, 2, 10, 4500));
GOLDEN(ipv4_ipsec, SOCKET_SECURITY_PROTOCOL_IPSEC, UNITS, 23, SPN, V4(192, 0, 2, 10, 4500));
GOLDEN(ipv4_ipsec2, SOCKET_SECURITY_PROTOCOL_IPSEC2, BYTES, 46, SPN, V4(192, 0, 2, 10, 4500));

/* Protocol given as a number (1 = IPSEC) */
GOLDEN(protocol_numeric, SOCKET_SECURITY_PROTOCOL_IPSEC, UNITS, 23, SPN, V4(192, 0, 2, 10, 4500));

/* ---- Length unit forced, and `auto` given explicitly ---- */
GOLDEN(unit_units_ipsec2, SOCKET_SECURITY_PROTOCOL_IPSEC2, UNITS, 23, SPN, V4(192, 0, 2, 10, 4500));
GOLDEN(unit_bytes_default, SOCKET_SECURITY_PROTOCOL_DEFAULT, BYTES, 46, SPN, V4(192, 0, 2, 10, 4500));
GOLDEN(unit_bytes_ipsec, SOCKET_SECURITY_PROTOCOL_IPSEC, BYTES, 46, SPN, V4(192, 0, 2, 10, 4500));
GOLDEN(unit_auto_default, SOCKET_SECURITY_PROTOCOL_DEFAULT, UNITS, 23, SPN, V4(192, 0, 2, 10, 4500));
GOLDEN(unit_auto_ipsec2, SOCKET_SECURITY_PROTOCOL_IPSEC2, BYTES, 46, SPN, V4(192, 0, 2, 10, 4500));

/* ---- Ports at the edges, and one with the top bit set ---- */
GOLDEN(port_1, SOCKET_SECURITY_PROTOCOL_IPSEC, UNITS, 23, SPN, V4(192, 0, 2, 10, 1));
GOLDEN(port_65535, SOCKET_SECURITY_PROTOCOL_IPSEC, UNITS, 23, SPN, V4(192, 0, 2, 10, 65535));
GOLDEN(port_32768_high_address, SOCKET_SECURITY_PROTOCOL_IPSEC, UNITS, 23, SPN,
       V4(203, 0, 113, 255, 32768));

/* ---- IPv6 ---- */
/* [2001:db8::1]:500 */
GOLDEN(ipv6_global, SOCKET_SECURITY_PROTOCOL_IPSEC, UNITS, 23, SPN,
       .v6 = { .sin6_family = AF_INET6, .sin6_port = BE16(500), .sin6_addr.u.Byte = V6_DOC_1 });

/* [2001:db8::1]:500 under IPSEC2: bytes */
GOLDEN(ipv6_global_ipsec2, SOCKET_SECURITY_PROTOCOL_IPSEC2, BYTES, 46, SPN,
       .v6 = { .sin6_family = AF_INET6, .sin6_port = BE16(500), .sin6_addr.u.Byte = V6_DOC_1 });

/* [fe80::1%7]:5000: the zone is an interface index, stored little-endian */
GOLDEN(ipv6_zone, SOCKET_SECURITY_PROTOCOL_IPSEC, UNITS, 23, SPN,
       .v6 = { .sin6_family = AF_INET6, .sin6_port = BE16(5000),
               .sin6_addr.u.Byte = { 0xfe, 0x80, [15] = 0x01 }, .sin6_scope_id = 7 });

/* [fe80::abcd:1%258]:500: a two-byte zone shows its byte order (02 01 00 00) */
GOLDEN(ipv6_zone_258, SOCKET_SECURITY_PROTOCOL_DEFAULT, UNITS, 23, SPN,
       .v6 = { .sin6_family = AF_INET6, .sin6_port = BE16(500),
               .sin6_addr.u.Byte = { 0xfe, 0x80, [12] = 0xab, 0xcd, 0x00, 0x01 },
               .sin6_scope_id = 258 });

/* [::ffff:192.0.2.1]:4500 stays a sockaddr_in6 */
GOLDEN(ipv6_v4mapped, SOCKET_SECURITY_PROTOCOL_IPSEC2, BYTES, 46, SPN,
       .v6 = { .sin6_family = AF_INET6, .sin6_port = BE16(4500),
               .sin6_addr.u.Byte = { [10] = 0xff, 0xff, 192, 0, 2, 1 } });

/* [2001:db8::1]:65535 */
GOLDEN(ipv6_port_65535, SOCKET_SECURITY_PROTOCOL_DEFAULT, UNITS, 23, SPN,
       .v6 = { .sin6_family = AF_INET6, .sin6_port = BE16(65535), .sin6_addr.u.Byte = V6_DOC_1 });

/* ---- Peer given as an object ---- */
/* { address: '2001:db8::2', port: 500, family: 'IPv6', flowInfo: 0x12345, scopeId: 3 } */
GOLDEN(peer_object_ipv6, SOCKET_SECURITY_PROTOCOL_IPSEC, UNITS, 23, SPN,
       .v6 = { .sin6_family = AF_INET6, .sin6_port = BE16(500), .sin6_flowinfo = BE32(0x12345),
               .sin6_addr.u.Byte = V6_DOC_2, .sin6_scope_id = 3 });

/* { address: '198.51.100.7', port: 4500, family: 'IPv4' } */
GOLDEN(peer_object_ipv4, SOCKET_SECURITY_PROTOCOL_DEFAULT, UNITS, 23, SPN,
       V4(198, 51, 100, 7, 4500));

/* ---- Stream socket with no peer: PeerAddress all zero ---- */
GOLDEN(stream_no_peer, SOCKET_SECURITY_PROTOCOL_IPSEC, UNITS, 23, SPN, NO_PEER);
GOLDEN(stream_no_peer_ipsec2, SOCKET_SECURITY_PROTOCOL_IPSEC2, BYTES, 46, SPN, NO_PEER);

/* ---- Names ---- */
/* One character: 146 bytes in all */
GOLDEN(name_single_char, SOCKET_SECURITY_PROTOCOL_DEFAULT, UNITS, 1, L"h", V4(192, 0, 2, 10, 4500));

/* host/sérvér.example.com: é is U+00E9, one unit each */
GOLDEN(name_latin1, SOCKET_SECURITY_PROTOCOL_IPSEC, UNITS, 23,
       L"host/s\u00e9rv\u00e9r.example.com", V4(192, 0, 2, 10, 4500));

/* host/服务器.example under IPSEC2: 3 CJK units, 16 units, 32 bytes */
GOLDEN(name_cjk_ipsec2, SOCKET_SECURITY_PROTOCOL_IPSEC2, BYTES, 32,
       L"host/\u670d\u52a1\u5668.example", V4(192, 0, 2, 10, 4500));

/* host/😀.example: U+1F600 is a surrogate pair (D83D DE00), 2 units; 15 units in all */
GOLDEN(name_astral, SOCKET_SECURITY_PROTOCOL_DEFAULT, UNITS, 15,
       L"host/\U0001F600.example", V4(192, 0, 2, 10, 4500));

/* The same under IPSEC2: 30 bytes */
GOLDEN(name_astral_ipsec2, SOCKET_SECURITY_PROTOCOL_IPSEC2, BYTES, 30,
       L"host/\U0001F600.example", V4(192, 0, 2, 10, 4500));

/* A realistic longer SPN: 37 units */
GOLDEN(name_sql_spn, SOCKET_SECURITY_PROTOCOL_IPSEC, UNITS, 37,
       L"MSSQLSvc/sql-01.corp.example.com:1433",
       .v6 = { .sin6_family = AF_INET6, .sin6_port = BE16(1433), .sin6_addr.u.Byte = V6_DOC_1 });
