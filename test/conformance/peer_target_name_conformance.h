/*
 * peer_target_name_conformance.h: THE CONFORMANCE LIBRARY (a test stand-in), declared.
 *
 * A small library of this project's own, built from ONE C source in two ways by
 * build/conformance.mjs, for tests only:
 *   - the POSIX build, build/out/libpeer_target_name_conformance.so (Linux/macOS), on real POSIX
 *     sockets (fstat, SO_DOMAIN, SO_TYPE, getpeername);
 *   - the Winsock build, build/out/windows-{x64,x86}/fwpuclnt.dll (mingw-w64), on real Winsock
 *     SOCKETs (SO_TYPE, SO_PROTOCOL_INFOW, getpeername), to replace Wine's fwpuclnt.dll in the
 *     Wine test lane (Wine only stubs these functions; a call aborts the process).
 * It exports the Windows names and signatures of WSASetSocketPeerTargetName and its family so the
 * package's koffi bridge can be driven end to end, applies the documented argument rules, and
 * records what it was given in tables the tests look into through the ptn_* exports. It is NEVER
 * Windows' real Fwpuclnt.dll: no IPsec, no authentication, no network traffic; a success says only
 * that the call's arguments pass the documented checks. See peer_target_name_conformance.c for the
 * rules, in order, and ptn_platform.h for what differs between the builds.
 *
 * Windows types, as this library maps them: SOCKET = uintptr_t (POSIX: the file descriptor;
 * Windows: the Winsock handle), ULONG = uint32_t, INT = int, WCHAR = uint16_t (UTF-16LE code
 * units). All structs are read in their Windows layout (docs/reference.md §1): family 2 (AF_INET) / 23
 * (AF_INET6), ports big-endian, scope_id little-endian. Calling convention: the Windows-named
 * functions are WSAAPI (__stdcall on Windows, which matters on x86; exported UNDECORATED, as the
 * real DLL has them); the ptn_* exports are plain C (cdecl) on every platform.
 *
 * Last error: the POSIX build keeps its own thread-local last error and exports WSAGetLastError /
 * WSASetLastError. The Winsock build exports neither: it sets the REAL Ws2_32 last error, so
 * WSAGetLastError from ws2_32.dll returns it.
 *
 * Length unit at load: the environment variable PTN_CONFORMANCE_LENGTH_UNIT = auto | units | bytes
 * (exact, lower case) sets the policy when the library is loaded, as ptn_set_length_unit would; it
 * is read once (a change after load has no effect). Unset or empty: AUTO. Any other value: AUTO,
 * one warning line on stderr, and ptn_length_unit_env() reports it (-2), so a lane can assert that
 * its setting took.
 */
#ifndef PEER_TARGET_NAME_CONFORMANCE_H
#define PEER_TARGET_NAME_CONFORMANCE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define PTN_EXPORT __declspec(dllexport) /* only what is marked is exported (no DllMain, no statics) */
#define PTN_WSAAPI __stdcall             /* WSAAPI */
#else
#define PTN_EXPORT __attribute__((visibility("default")))
#define PTN_WSAAPI
#endif

/* ---- Windows-named exports (Fwpuclnt.dll / Ws2_32.dll stand-ins) ------------------------------ */

/* SOCKET_PEER_TARGET_NAME *name, PeerTargetNameLen len. 0, or -1 (SOCKET_ERROR) + last error. */
PTN_EXPORT int PTN_WSAAPI WSASetSocketPeerTargetName(uintptr_t s, const void *name, uint32_t len,
                                                     void *overlapped, void *completion);
/* peerAddr: a sockaddr_in (16 bytes) / sockaddr_in6 (28 bytes) in Windows layout. */
PTN_EXPORT int PTN_WSAAPI WSADeleteSocketPeerTargetName(uintptr_t s, const void *peerAddr,
                                                        uint32_t peerAddrLen, void *overlapped,
                                                        void *completion);
/* settings: SOCKET_SECURITY_SETTINGS { u32 SecurityProtocol; u32 SecurityFlags } or NULL (default). */
PTN_EXPORT int PTN_WSAAPI WSASetSocketSecurity(uintptr_t s, const void *settings, uint32_t len,
                                               void *overlapped, void *completion);
/* info: SOCKET_SECURITY_QUERY_INFO { u32 SecurityProtocol; u32 Flags; u64 PeerApplicationAccessTokenHandle;
 * u64 PeerMachineAccessTokenHandle } = 24 bytes. *infoLen in: capacity, out: 24. */
PTN_EXPORT int PTN_WSAAPI WSAQuerySocketSecurity(uintptr_t s, const void *queryTemplate,
                                                 uint32_t templateLen, void *info, uint32_t *infoLen,
                                                 void *overlapped, void *completion);
#if !defined(_WIN32) /* the Winsock build uses (and does not export) Ws2_32's own pair */
/* The calling thread's last error (thread-local, as on Windows). Not reset by a success. */
PTN_EXPORT int PTN_WSAAPI WSAGetLastError(void);
/* Sets the calling thread's last error (as Ws2_32's WSASetLastError; 0 clears it). */
PTN_EXPORT void PTN_WSAAPI WSASetLastError(int error);
#endif

/* ---- Test-only exports (ptn_*): not part of any Windows API ----------------------------------- */

/* Length-unit policy for PeerTargetNameStringLen: PTN_LENGTH_UNIT_AUTO (0, default: UTF-16 units
 * for DEFAULT/IPSEC, bytes for IPSEC2), _UNITS (1), _BYTES (2). 0 on success, -1 (unchanged) for
 * another value. Global. */
PTN_EXPORT int ptn_set_length_unit(int unit);
/* The current policy. */
PTN_EXPORT int ptn_length_unit(void);
/* What PTN_CONFORMANCE_LENGTH_UNIT gave at load: -1 unset or empty, -2 an unknown value (the
 * policy stayed AUTO), else the unit it set (0 auto, 1 units, 2 bytes). */
PTN_EXPORT int ptn_length_unit_env(void);

/* Peers registered on the socket (0 for a socket with no table, a non-socket, or (POSIX) a reused
 * descriptor). */
PTN_EXPORT uint32_t ptn_peer_count(uintptr_t s);
/* Looks up the peer (a Windows-layout sockaddr, 28 bytes are read at most; family 0 = the
 * all-zero stream peer). Copies min(units, nameCap) units to nameOut (may be NULL), the entry's
 * sequence number to *seqOut and registration time (ptn_monotonic_ns) to *timeNsOut (each may
 * be NULL). Returns the name's length in UTF-16 units, or -1 when absent. */
PTN_EXPORT int ptn_peer_lookup(uintptr_t s, const void *sockaddr128, uint16_t *nameOut,
                               uint32_t nameCap, uint64_t *seqOut, uint64_t *timeNsOut);
/* The SecurityProtocol the peer was registered with, or -1 when absent. */
PTN_EXPORT int ptn_peer_protocol(uintptr_t s, const void *sockaddr128);
/* Writes up to cap peers as 128-byte Windows-layout SOCKADDR_STORAGE records, in registration
 * order (oldest first; a replaced entry counts as registered at its replacement). Returns how
 * many were written; with sockaddrsOut NULL, returns how many there are. */
PTN_EXPORT int ptn_peer_list(uintptr_t s, void *sockaddrsOut, uint32_t cap);

/* The calling thread's LAST WSASetSocketPeerTargetName call: copies min(len, cap, kept) of the
 * exact bytes it received into out (may be NULL) and returns the len argument it was given.
 * Up to PTN_CONFORMANCE_LAST_BYTES_MAX bytes are kept. */
#define PTN_CONFORMANCE_LAST_BYTES_MAX (1u << 20)
PTN_EXPORT uint32_t ptn_last_bytes(void *out, uint32_t cap);
/* The calling thread's last WSASetSocketPeerTargetName socket argument (0 before any call). */
PTN_EXPORT uintptr_t ptn_last_socket(void);

/* Fault injection (global): the next `count` calls of WSASetSocketPeerTargetName or
 * WSADeleteSocketPeerTargetName fail with wsaError before any other check. 0 clears. */
PTN_EXPORT void ptn_fail_next(uint32_t count, int wsaError);
/* WSASetSocketPeerTargetName with exactly this name (n UTF-16 units) fails with WSAEINVAL after
 * every other check passed, as if Windows refused the principal. n = 0 clears. */
PTN_EXPORT void ptn_refuse_name(const uint16_t *units, uint32_t n);

/* The event log: off at load and after ptn_reset. ptn_log_enable(cap) empties it and keeps the
 * next `cap` events (0: off); past cap, events are counted (ptn_log_dropped) but not kept. An event
 * is a successful WSASetSocketPeerTargetName (PTN_LOG_SET) or WSADeleteSocketPeerTargetName
 * (PTN_LOG_DELETE), in the order they took effect, as a PTN_LOG_RECORD_SIZE-byte record, all
 * little-endian: @0 u64 ptn_monotonic_ns time; @8 u64 the entry's sequence number (for a delete:
 * the sequence of the registration it removed); @16 u64 the socket; @24 u32 the event; @28 u32 zero;
 * @32 the peer's first 32 bytes of Windows-layout SOCKADDR_STORAGE (sockaddr_in / sockaddr_in6).
 * ptn_log_enable returns 0, or -1 when out of memory (the log is then unchanged). */
#define PTN_LOG_RECORD_SIZE 64u
#define PTN_LOG_SET 1u
#define PTN_LOG_DELETE 2u
PTN_EXPORT int ptn_log_enable(uint32_t cap);
/* Copies events [from, from + cap) to out and returns how many; with out NULL, returns how many
 * events the log holds. */
PTN_EXPORT uint32_t ptn_log_read(void *out, uint32_t from, uint32_t cap);
/* Events not kept because the log was full. */
PTN_EXPORT uint64_t ptn_log_dropped(void);

/* The monotonic clock now, in ns (the clock the entries' times are on): CLOCK_MONOTONIC on POSIX,
 * QueryPerformanceCounter on Windows. */
PTN_EXPORT uint64_t ptn_monotonic_ns(void);
/* How many WSASetSocketPeerTargetName calls were made since load / ptn_reset (every call counts,
 * failed ones too). */
PTN_EXPORT uint64_t ptn_call_count(void);
/* Largest len argument WSASetSocketPeerTargetName received since load / ptn_reset. */
PTN_EXPORT uint32_t ptn_max_len_seen(void);
/* Back to the state at load: all tables (peers and security settings), faults, refused name,
 * counters, sequence numbers (the next registration gets 1), the length unit (the one
 * PTN_CONFORMANCE_LENGTH_UNIT set at load, AUTO without it: a lane that sets it keeps it across
 * resets) and the event log (off); also the CALLING thread's last error and last-call record
 * (other threads keep theirs). */
PTN_EXPORT void ptn_reset(void);

#ifdef __cplusplus
}
#endif

#endif
