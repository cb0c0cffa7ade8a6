/*
 * peer_target_name_conformance.h: the LINUX CONFORMANCE LIBRARY (a test stand-in), declared.
 *
 * This is NOT Windows and NOT Fwpuclnt.dll. It is a small shared library of this project's own,
 * libpeer_target_name_conformance.so, built only for tests on Linux/macOS by build/conformance.mjs.
 * It exports the Windows symbol names and signatures of WSASetSocketPeerTargetName and its family
 * so the package's koffi bridge can be driven end to end where the real DLL cannot run (Wine only
 * stubs these functions; a call aborts the process). It applies the documented argument rules to
 * REAL POSIX sockets (fstat, SO_DOMAIN, SO_TYPE, getpeername), and records what it was given in
 * tables the tests can look into through the ptn_* exports. It performs no IPsec, no
 * authentication and no network traffic whatsoever; a success here says only that the call's
 * arguments pass the documented checks. See peer_target_name_conformance.c for the rules, in order.
 *
 * Windows types, as this library maps them: SOCKET = uintptr_t (the POSIX file descriptor),
 * ULONG = uint32_t, INT = int, WCHAR = uint16_t (UTF-16LE code units). All structs are read in
 * their Windows layout (SPEC §1): family 2 (AF_INET) / 23 (AF_INET6), ports big-endian, scope_id
 * little-endian. Calling convention: the platform's C convention (WSAAPI is __stdcall only on
 * Windows x86, which this library is never built for).
 */
#ifndef PEER_TARGET_NAME_CONFORMANCE_H
#define PEER_TARGET_NAME_CONFORMANCE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Windows-named exports (Fwpuclnt.dll / Ws2_32.dll stand-ins) ------------------------------ */

/* SOCKET_PEER_TARGET_NAME *name, PeerTargetNameLen len. 0, or -1 (SOCKET_ERROR) + last error. */
int WSASetSocketPeerTargetName(uintptr_t s, const void *name, uint32_t len, void *overlapped,
                               void *completion);
/* peerAddr: a sockaddr_in (16 bytes) / sockaddr_in6 (28 bytes) in Windows layout. */
int WSADeleteSocketPeerTargetName(uintptr_t s, const void *peerAddr, uint32_t peerAddrLen,
                                  void *overlapped, void *completion);
/* settings: SOCKET_SECURITY_SETTINGS { u32 SecurityProtocol; u32 SecurityFlags } or NULL (default). */
int WSASetSocketSecurity(uintptr_t s, const void *settings, uint32_t len, void *overlapped,
                         void *completion);
/* info: SOCKET_SECURITY_QUERY_INFO { u32 SecurityProtocol; u32 Flags; u64 PeerApplicationAccessTokenHandle;
 * u64 PeerMachineAccessTokenHandle } = 24 bytes. *infoLen in: capacity, out: 24. */
int WSAQuerySocketSecurity(uintptr_t s, const void *queryTemplate, uint32_t templateLen, void *info,
                           uint32_t *infoLen, void *overlapped, void *completion);
/* The calling thread's last error (thread-local, as on Windows). Not reset by a success. */
int WSAGetLastError(void);
/* Sets the calling thread's last error (as Ws2_32's WSASetLastError; 0 clears it). */
void WSASetLastError(int error);

/* ---- Test-only exports (ptn_*): not part of any Windows API ----------------------------------- */

/* Length-unit policy for PeerTargetNameStringLen: PTN_LENGTH_UNIT_AUTO (0, default: UTF-16 units
 * for DEFAULT/IPSEC, bytes for IPSEC2), _UNITS (1), _BYTES (2). 0 on success, -1 (unchanged) for
 * another value. Global. */
int ptn_set_length_unit(int unit);
/* The current policy. */
int ptn_length_unit(void);

/* Peers registered on the socket (0 for a descriptor with no table, or a reused descriptor). */
uint32_t ptn_peer_count(uintptr_t s);
/* Looks up the peer (a Windows-layout sockaddr, 28 bytes are read at most; family 0 = the
 * all-zero stream peer). Copies min(units, nameCap) units to nameOut (may be NULL), the entry's
 * sequence number to *seqOut and CLOCK_MONOTONIC registration time to *timeNsOut (each may be
 * NULL). Returns the name's length in UTF-16 units, or -1 when absent. */
int ptn_peer_lookup(uintptr_t s, const void *sockaddr128, uint16_t *nameOut, uint32_t nameCap,
                    uint64_t *seqOut, uint64_t *timeNsOut);
/* The SecurityProtocol the peer was registered with, or -1 when absent. */
int ptn_peer_protocol(uintptr_t s, const void *sockaddr128);
/* Writes up to cap peers as 128-byte Windows-layout SOCKADDR_STORAGE records, in registration
 * order (oldest first; a replaced entry counts as registered at its replacement). Returns how
 * many were written; with sockaddrsOut NULL, returns how many there are. */
int ptn_peer_list(uintptr_t s, void *sockaddrsOut, uint32_t cap);

/* The calling thread's LAST WSASetSocketPeerTargetName call: copies min(len, cap, kept) of the
 * exact bytes it received into out (may be NULL) and returns the len argument it was given.
 * Up to PTN_CONFORMANCE_LAST_BYTES_MAX bytes are kept. */
#define PTN_CONFORMANCE_LAST_BYTES_MAX (1u << 20)
uint32_t ptn_last_bytes(void *out, uint32_t cap);
/* The calling thread's last WSASetSocketPeerTargetName socket argument (0 before any call). */
uintptr_t ptn_last_socket(void);

/* Fault injection (global): the next `count` calls of WSASetSocketPeerTargetName or
 * WSADeleteSocketPeerTargetName fail with wsaError before any other check. 0 clears. */
void ptn_fail_next(uint32_t count, int wsaError);
/* WSASetSocketPeerTargetName with exactly this name (n UTF-16 units) fails with WSAEINVAL after
 * every other check passed, as if Windows refused the principal. n = 0 clears. */
void ptn_refuse_name(const uint16_t *units, uint32_t n);

/* The event log: off at load and after ptn_reset. ptn_log_enable(cap) empties it and keeps the
 * next `cap` events (0: off); past cap, events are counted (ptn_log_dropped) but not kept. An event
 * is a successful WSASetSocketPeerTargetName (PTN_LOG_SET) or WSADeleteSocketPeerTargetName
 * (PTN_LOG_DELETE), in the order they took effect, as a PTN_LOG_RECORD_SIZE-byte record, all
 * little-endian: @0 u64 CLOCK_MONOTONIC ns; @8 u64 the entry's sequence number (for a delete: the
 * sequence of the registration it removed); @16 u64 the socket; @24 u32 the event; @28 u32 zero;
 * @32 the peer's first 32 bytes of Windows-layout SOCKADDR_STORAGE (sockaddr_in / sockaddr_in6).
 * ptn_log_enable returns 0, or -1 when out of memory (the log is then unchanged). */
#define PTN_LOG_RECORD_SIZE 64u
#define PTN_LOG_SET 1u
#define PTN_LOG_DELETE 2u
int ptn_log_enable(uint32_t cap);
/* Copies events [from, from + cap) to out and returns how many; with out NULL, returns how many
 * events the log holds. */
uint32_t ptn_log_read(void *out, uint32_t from, uint32_t cap);
/* Events not kept because the log was full. */
uint64_t ptn_log_dropped(void);

/* CLOCK_MONOTONIC now, in ns (the clock the entries' times are on). */
uint64_t ptn_monotonic_ns(void);
/* How many WSASetSocketPeerTargetName calls were made since load / ptn_reset (every call counts,
 * failed ones too). */
uint64_t ptn_call_count(void);
/* Largest len argument WSASetSocketPeerTargetName received since load / ptn_reset. */
uint32_t ptn_max_len_seen(void);
/* Back to the state at load: all tables (peers and security settings), faults, refused name,
 * counters, sequence numbers (the next registration gets 1), the length unit (AUTO) and the event
 * log (off); also the CALLING thread's last error and last-call record (other threads keep theirs). */
void ptn_reset(void);

#ifdef __cplusplus
}
#endif

#endif
