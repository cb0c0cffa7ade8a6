/*
 * peer_target_name_conformance.c: THE CONFORMANCE LIBRARY, a test stand-in.
 *
 * WHAT IT IS. A small library of this project's own, built by build/conformance.mjs for tests
 * only, from this ONE source in two builds: the POSIX build (libpeer_target_name_conformance.so,
 * Linux/macOS) and the Winsock build (fwpuclnt.dll for Windows x64/x86, mingw-w64), which takes
 * the place of Wine's fwpuclnt.dll in the Wine test lane (Wine only stubs these functions; a call
 * aborts the process). It exports the Windows names and signatures of WSASetSocketPeerTargetName,
 * WSADeleteSocketPeerTargetName, WSASetSocketSecurity and WSAQuerySocketSecurity (and, in the
 * POSIX build only, WSAGetLastError / WSASetLastError), so the package's koffi bridge can be tested
 * end to end. The functions below apply the documented argument rules (the function's reference
 * page, with the project's decisions in docs/reference.md §2/§3 where the sources disagree) to REAL sockets
 * (POSIX descriptors, or Winsock SOCKETs), and keep what they accepted in per-socket tables that
 * the tests read back through the ptn_* exports. Everything that differs between the two builds
 * (locking, thread exit, clock, last error, the socket probes, socket identity) is in
 * ptn_platform.h; nothing below depends on the platform.
 *
 * WHAT IT IS NOT. It is never Windows' real Fwpuclnt.dll, nor Ws2_32.dll, nor a port of either,
 * even in its Windows build. It does no IPsec, no authentication, no policy, and sends nothing on
 * the network; it never touches the socket beyond reading its state (family, type, peer). A
 * success here means only "these arguments pass the documented checks", never "Windows would
 * authenticate this peer". Where Windows' exact behaviour is not documented (the order of the
 * checks, what happens to a table when its socket is closed), the choices are written down below
 * and are this library's, not Windows'. It must never be shipped or loaded outside the test path.
 *
 * SOCKET = uintptr_t (the POSIX descriptor, or the Winsock handle), ULONG = uint32_t. Structs are
 * read in their Windows layout; every size, offset and Winsock number comes from
 * build/generated/layout.h (generated from assembly/layout.ts), none is copied by hand.
 *
 * WSASetSocketPeerTargetName(s, name, len, ovl, cr), the checks in order (first failure wins):
 *   0. fault injection (ptn_fail_next)                                  -> the injected error
 *   1. name == NULL                                                     -> WSAEFAULT
 *   2. s is not a socket (POSIX: beyond INT_MAX, EBADF, fstat not S_ISSOCK; Windows:
 *      INVALID_SOCKET, or getsockopt(SO_TYPE) answers WSAENOTSOCK)      -> WSAENOTSOCK
 *   3. the socket's family (POSIX: SO_DOMAIN; Windows: SO_PROTOCOL_INFOW's iAddressFamily) is not
 *      AF_INET / AF_INET6                                               -> WSAEAFNOSUPPORT (docs/reference.md §3;
 *      the reference page says WSAEINVAL here, the project decided otherwise)
 *   4. the socket's type (SO_TYPE) is not SOCK_STREAM / SOCK_DGRAM      -> WSAEINVAL
 *   5. the socket is connected (getpeername succeeds)                   -> WSAEISCONN
 *   6. len < 144                                                        -> WSAEMSGSIZE
 *   7. SecurityProtocol > 2                                             -> WSAEINVAL
 *   8. PeerTargetNameStringLen, read in the length-unit policy's unit (AUTO: UTF-16 units for
 *      DEFAULT/IPSEC, bytes for IPSEC2), gives 0 bytes or an odd byte count -> WSAEINVAL
 *   9. len < 140 + the string's bytes                                   -> WSAEMSGSIZE
 *  10. PeerAddress: SOCK_DGRAM: family not 2/23 -> WSAEAFNOSUPPORT; unspecified address or port 0
 *      -> WSAEINVAL. SOCK_STREAM: all 128 bytes zero is allowed; otherwise family not 2/23 ->
 *      WSAEAFNOSUPPORT
 *  11. the name equals the refused name (ptn_refuse_name)               -> WSAEINVAL
 *  12. stored: key (family, port, address, and scope_id for IPv6; flowinfo is not part of the
 *      key) -> (protocol, a copy of the name, a global sequence number, ptn_monotonic_ns time);
 *      the same key again replaces the entry (new sequence, time, moved to the end of the list).
 * Not checked (undocumented for Windows): the padding bytes, the bytes after the string, the name's
 * content, and whether the peer's family matches the socket's.
 *
 * WSADeleteSocketPeerTargetName(s, addr, addrLen, ovl, cr): 0 fault injection; 1 addr == NULL ->
 * WSAEFAULT; 2-5 the same socket checks as above; addrLen < 2 -> WSAEMSGSIZE; family not 2/23 ->
 * WSAEAFNOSUPPORT; addrLen < 16 (IPv4) / 28 (IPv6) -> WSAEMSGSIZE; peer not in the table ->
 * WSAEINVAL; else the entry is removed. (An all-zero stream peer, family 0, cannot be deleted.)
 *
 * On failure every function returns SOCKET_ERROR (-1) and sets the calling thread's last error
 * (WSAGetLastError: the library's own in the POSIX build, Ws2_32's in the Winsock build); a
 * success returns 0 and leaves the last error as it was, as Winsock does.
 *
 * Socket identity: the tables are keyed by the SOCKET value and remember its ptn_sock_id (POSIX:
 * the descriptor's st_dev/st_ino). When the descriptor is found to name another socket (closed and
 * reused), the old table is emptied first: this stands in for closesocket() clearing the socket's
 * state on Windows. The Winsock build keys by the SOCKET value alone (see ptn_platform.h).
 *
 * Thread safety: one lock (ptn_lock) guards every table and global; the last error and the
 * last-call record (ptn_last_bytes, ptn_last_socket) are per thread.
 *
 * Cost (POSIX): a call makes two syscalls on the descriptor (fstat, getpeername; SO_DOMAIN and
 * SO_TYPE only the first time a thread meets a socket, see tl_socket_cache) and O(1) hash-table
 * steps, so 100,000 peers on one socket stay as fast as one. (Windows: four Winsock calls.)
 */

#if !defined(_WIN32)
#define _GNU_SOURCE 1
#endif

#include "peer_target_name_conformance.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "ptn_platform.h" /* the platform layer: everything that differs between the builds */

/* The security structs are not in assembly/layout.ts (the codec never builds them); their layout,
 * from mstcpip.h: SOCKET_SECURITY_SETTINGS { SOCKET_SECURITY_PROTOCOL SecurityProtocol; ULONG
 * SecurityFlags; } and SOCKET_SECURITY_QUERY_INFO { SOCKET_SECURITY_PROTOCOL SecurityProtocol;
 * ULONG Flags; UINT64 PeerApplicationAccessTokenHandle; UINT64 PeerMachineAccessTokenHandle; }. */
#define SIZEOF_SECURITY_SETTINGS 8u
#define SIZEOF_SECURITY_QUERY_INFO 24u
#define SOCKET_SETTINGS_GUARANTEE_ENCRYPTION 0x1u /* SecurityFlags */
#define SOCKET_INFO_CONNECTION_SECURED 0x1u       /* QUERY_INFO Flags */
#define SOCKET_INFO_CONNECTION_ENCRYPTED 0x2u

/* ---- little-endian access (the Windows structs are LE whatever the host) ----------------------- */

static uint16_t rd16le(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32le(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static void wr16le(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32le(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static void wr64le(uint8_t *p, uint64_t v) { wr32le(p, (uint32_t)v); wr32le(p + 4, (uint32_t)(v >> 32)); }

/* ---- thread-local state ------------------------------------------------------------------------ */

static _Thread_local uintptr_t tl_last_socket;
static _Thread_local uint32_t tl_last_len;   /* the len argument of the last call */
static _Thread_local uint32_t tl_last_kept;  /* bytes kept in tl_last_buf */
static _Thread_local uint8_t *tl_last_buf;
static _Thread_local uint32_t tl_last_cap;

static int fail(int error) {
  ptn_set_last_error(error);
  return PTN_SOCKET_ERROR;
}

/* Keeps the exact bytes a call received (up to PTN_CONFORMANCE_LAST_BYTES_MAX). */
static void record_last_call(uintptr_t s, const void *name, uint32_t len) {
  tl_last_socket = s;
  tl_last_len = len;
  tl_last_kept = 0;
  if (name == NULL || len == 0) return;
  uint32_t keep = len < PTN_CONFORMANCE_LAST_BYTES_MAX ? len : PTN_CONFORMANCE_LAST_BYTES_MAX;
  if (keep > tl_last_cap) {
    uint32_t cap = tl_last_cap ? tl_last_cap : 256;
    while (cap < keep) cap *= 2;
    uint8_t *grown = realloc(tl_last_buf, cap);
    if (grown == NULL) return; /* nothing kept; the call itself goes on */
    tl_last_buf = grown;
    tl_last_cap = cap;
    ptn_thread_buffer(grown); /* freed when the thread ends */
  }
  memcpy(tl_last_buf, name, keep);
  tl_last_kept = keep;
}

/* ---- peer keys and per-socket tables ----------------------------------------------------------- */

typedef struct {
  uint16_t family; /* Windows value: 2, 23, or 0 for the all-zero stream peer */
  uint16_t port;   /* as stored in the struct (network order bytes, read LE: only compared) */
  uint32_t scope;  /* IPv6 scope_id; 0 for IPv4 */
  uint8_t addr[16];
} peer_key;

typedef struct peer_entry {
  peer_key key;
  uint64_t hash;
  uint32_t flowinfo; /* of the latest registration (not part of the key) */
  uint32_t protocol;
  uint16_t *name;
  uint32_t units;
  uint64_t seq;
  uint64_t time_ns;
  struct peer_entry *prev, *next; /* registration order */
} peer_entry;

typedef struct {
  uintptr_t s;     /* the SOCKET value: the key in `tables` */
  ptn_sock_id id;  /* which socket it was when the table was made (POSIX: st_dev, st_ino) */
  int has_security;
  uint32_t security_protocol;
  uint32_t security_flags;
  peer_entry **slots; /* open addressing, linear probing, power-of-two capacity */
  uint32_t capacity;
  uint32_t count;
  peer_entry *head, *tail;
} socket_table;

/* SOCKET value -> its table: open addressing, linear probing, power-of-two capacity, load at most
 * 1/2. Entries are never removed one by one (a stale table is emptied in place; ptn_reset drops
 * them all), so a probe stops at the first empty slot. */
static socket_table **tables;
static size_t tables_cap, tables_count;
static uint64_t next_seq = 1;
static uint64_t call_count;
static uint32_t max_len_seen;
static uint32_t fail_count;
static int fail_error;
static uint16_t *refused_name;
static uint32_t refused_units;
static int length_unit = PTN_LENGTH_UNIT_AUTO;
static int load_length_unit = PTN_LENGTH_UNIT_AUTO; /* what PTN_CONFORMANCE_LENGTH_UNIT set at load */
static int env_length_unit = -1;                     /* ptn_length_unit_env() */
/* The event log (ptn_log_enable): successful sets and deletes, in the order they took effect. */
static uint8_t *log_records;
static uint32_t log_cap, log_count;
static uint64_t log_dropped;

PTN_EXPORT uint64_t ptn_monotonic_ns(void) { return ptn_clock_ns(); }

/* At load (ptn_platform.h: a constructor on POSIX, DllMain on Windows): the length unit from
 * PTN_CONFORMANCE_LENGTH_UNIT. No lock: nothing else runs in the library yet. */
static void ptn_on_load(void) {
  static const char *const names[] = {"auto", "units", "bytes"}; /* PTN_LENGTH_UNIT_AUTO/UNITS/BYTES */
  char value[16];
  int got = ptn_getenv_load("PTN_CONFORMANCE_LENGTH_UNIT", value, sizeof value);
  if (got == 0 || (got == 1 && value[0] == '\0')) return; /* unset or empty: AUTO, env_length_unit -1 */
  env_length_unit = -2;
  for (int unit = 0; got == 1 && unit < 3; unit++) {
    if (strcmp(value, names[unit]) == 0) env_length_unit = unit;
  }
  if (env_length_unit == -2) {
    ptn_warn("peer_target_name_conformance: PTN_CONFORMANCE_LENGTH_UNIT is not auto, units or bytes; "
             "the length unit stays AUTO (ptn_length_unit_env() = -2)\n");
    return;
  }
  load_length_unit = length_unit = env_length_unit;
}

static uint64_t mix64(uint64_t x) { /* splitmix64 finaliser */
  x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27; x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static uint64_t key_hash(const peer_key *k) {
  uint64_t a, b;
  memcpy(&a, k->addr, 8);
  memcpy(&b, k->addr + 8, 8);
  uint64_t h = mix64(((uint64_t)k->family << 48) ^ ((uint64_t)k->port << 32) ^ k->scope);
  h = mix64(h ^ a);
  return mix64(h ^ b);
}

static int key_equal(const peer_key *x, const peer_key *y) {
  return x->family == y->family && x->port == y->port && x->scope == y->scope &&
         memcmp(x->addr, y->addr, 16) == 0;
}

/* Reads a Windows-layout sockaddr into a key. The caller checked the family (2, 23, or 0). */
static void key_from_sockaddr(const uint8_t *sa, peer_key *k, uint32_t *flowinfo) {
  memset(k, 0, sizeof *k);
  k->family = rd16le(sa + PTN_SIN_FAMILY);
  if (flowinfo) *flowinfo = 0;
  if (k->family == PTN_AF_INET) {
    k->port = rd16le(sa + PTN_SIN_PORT);
    memcpy(k->addr, sa + PTN_SIN_ADDR, 4);
  } else if (k->family == PTN_AF_INET6) {
    k->port = rd16le(sa + PTN_SIN6_PORT);
    memcpy(k->addr, sa + PTN_SIN6_ADDR, 16);
    k->scope = rd32le(sa + PTN_SIN6_SCOPE_ID);
    if (flowinfo) *flowinfo = rd32le(sa + PTN_SIN6_FLOWINFO);
  } else if (k->family != 0) {
    k->family = UINT16_MAX; /* an unknown family (only a lookup can pass one): matches nothing */
  }
}

/* Writes an entry's peer back as a 128-byte Windows-layout SOCKADDR_STORAGE. */
static void entry_to_sockaddr(const peer_entry *e, uint8_t *out) {
  memset(out, 0, PTN_SIZE_SOCKADDR_STORAGE);
  if (e->key.family == PTN_AF_INET) {
    wr16le(out + PTN_SIN_FAMILY, PTN_AF_INET);
    wr16le(out + PTN_SIN_PORT, e->key.port);
    memcpy(out + PTN_SIN_ADDR, e->key.addr, 4);
  } else if (e->key.family == PTN_AF_INET6) {
    wr16le(out + PTN_SIN6_FAMILY, PTN_AF_INET6);
    wr16le(out + PTN_SIN6_PORT, e->key.port);
    wr32le(out + PTN_SIN6_FLOWINFO, e->flowinfo);
    memcpy(out + PTN_SIN6_ADDR, e->key.addr, 16);
    wr32le(out + PTN_SIN6_SCOPE_ID, e->key.scope);
  }
}

/* Appends one event for e to the log, when it is on (under lock). */
static void log_event_locked(uint32_t op, uintptr_t s, const peer_entry *e, uint64_t time_ns) {
  if (log_cap == 0) return;
  if (log_count == log_cap) {
    log_dropped++;
    return;
  }
  uint8_t *r = log_records + (size_t)log_count++ * PTN_LOG_RECORD_SIZE;
  uint8_t sa[PTN_SIZE_SOCKADDR_STORAGE];
  memset(r, 0, PTN_LOG_RECORD_SIZE);
  wr64le(r + 0, time_ns);
  wr64le(r + 8, e->seq);
  wr64le(r + 16, (uint64_t)s);
  wr32le(r + 24, op);
  entry_to_sockaddr(e, sa);
  memcpy(r + 32, sa, 32);
}

static void entry_free(peer_entry *e) {
  free(e->name);
  free(e);
}

static void table_clear_peers(socket_table *t) {
  for (peer_entry *e = t->head, *n; e != NULL; e = n) {
    n = e->next;
    entry_free(e);
  }
  free(t->slots);
  t->slots = NULL;
  t->capacity = t->count = 0;
  t->head = t->tail = NULL;
}

static void table_free(socket_table *t) {
  if (t == NULL) return;
  table_clear_peers(t);
  free(t);
}

/* The slot holding key, or the empty slot where it would go. capacity > 0. */
static uint32_t table_probe(const socket_table *t, const peer_key *k, uint64_t h) {
  uint32_t mask = t->capacity - 1;
  uint32_t i = (uint32_t)h & mask;
  while (t->slots[i] != NULL && !(t->slots[i]->hash == h && key_equal(&t->slots[i]->key, k))) {
    i = (i + 1) & mask;
  }
  return i;
}

static peer_entry *table_find(const socket_table *t, const peer_key *k) {
  if (t == NULL || t->capacity == 0) return NULL;
  return t->slots[table_probe(t, k, key_hash(k))];
}

/* Keeps the load at most 1/2. 0, or -1 when out of memory. */
static int table_reserve(socket_table *t, uint32_t need) {
  if (t->capacity != 0 && (uint64_t)need * 2 <= t->capacity) return 0;
  uint32_t cap = t->capacity ? t->capacity : 16;
  while ((uint64_t)need * 2 > cap) {
    if (cap > (UINT32_MAX >> 1)) return -1;
    cap *= 2;
  }
  peer_entry **slots = calloc(cap, sizeof *slots);
  if (slots == NULL) return -1;
  for (uint32_t i = 0; i < t->capacity; i++) {
    peer_entry *e = t->slots[i];
    if (e == NULL) continue;
    uint32_t j = (uint32_t)e->hash & (cap - 1);
    while (slots[j] != NULL) j = (j + 1) & (cap - 1);
    slots[j] = e;
  }
  free(t->slots);
  t->slots = slots;
  t->capacity = cap;
  return 0;
}

static void list_unlink(socket_table *t, peer_entry *e) {
  if (e->prev) e->prev->next = e->next; else t->head = e->next;
  if (e->next) e->next->prev = e->prev; else t->tail = e->prev;
  e->prev = e->next = NULL;
}

static void list_append(socket_table *t, peer_entry *e) {
  e->prev = t->tail;
  e->next = NULL;
  if (t->tail) t->tail->next = e; else t->head = e;
  t->tail = e;
}

/* Removes the entry at slot i (backward-shift deletion: no tombstones, lookups stay short). */
static void table_remove_slot(socket_table *t, uint32_t i) {
  uint32_t mask = t->capacity - 1;
  peer_entry *gone = t->slots[i];
  uint32_t j = i;
  for (;;) {
    j = (j + 1) & mask;
    peer_entry *e = t->slots[j];
    if (e == NULL) break;
    uint32_t home = (uint32_t)e->hash & mask;
    /* e may move to the hole at i unless its home lies cyclically in (i, j]. */
    int stays = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      t->slots[i] = e;
      i = j;
    }
  }
  t->slots[i] = NULL;
  t->count--;
  list_unlink(t, gone);
  entry_free(gone);
}

/* The slot of s in `tables`, or the empty slot where it would go. tables_cap > 0. */
static size_t tables_probe(uintptr_t s) {
  size_t mask = tables_cap - 1;
  size_t i = (size_t)mix64((uint64_t)s) & mask;
  while (tables[i] != NULL && tables[i]->s != s) i = (i + 1) & mask;
  return i;
}

/* Room for one more table (load at most 1/2). 0, or -1 when out of memory. */
static int tables_reserve(void) {
  if (tables_cap != 0 && (tables_count + 1) * 2 <= tables_cap) return 0;
  size_t cap = tables_cap ? tables_cap * 2 : 64;
  socket_table **slots = calloc(cap, sizeof *slots);
  if (slots == NULL) return -1;
  socket_table **old = tables;
  size_t old_cap = tables_cap;
  tables = slots;
  tables_cap = cap;
  for (size_t i = 0; i < old_cap; i++) {
    if (old[i] != NULL) tables[tables_probe(old[i]->s)] = old[i];
  }
  free(old);
  return 0;
}

/* The socket's table (under lock), emptying a stale one whose socket was closed and the descriptor
 * reused (its peers and security settings go; the emptied table now belongs to the new socket).
 * create: make one when there is none. NULL when none / out of memory. */
static socket_table *table_for(uintptr_t s, const ptn_sock_id *id, int create) {
  if (tables_cap != 0) {
    socket_table *t = tables[tables_probe(s)];
    if (t != NULL) {
      if (!ptn_sock_id_equal(&t->id, id)) { /* another socket now: the old one was closed */
        table_clear_peers(t);
        t->has_security = 0;
        t->security_protocol = t->security_flags = 0;
        t->id = *id;
      }
      return t;
    }
  }
  if (!create || tables_reserve() != 0) return NULL;
  socket_table *t = calloc(1, sizeof *t);
  if (t == NULL) return NULL;
  t->s = s;
  t->id = *id;
  tables[tables_probe(s)] = t;
  tables_count++;
  return t;
}

/* ---- socket checks on the real socket (the probes are in ptn_platform.h) ----------------------- */

/* A socket's family and type are fixed for its life, so the last socket's pair is kept per thread,
 * keyed by the descriptor AND its identity as seen on this very call (POSIX: st_dev, st_ino): a
 * closed and reused descriptor names another inode and misses. The identity probe and getpeername
 * still run every call (the connection state does change). This halves the syscalls of a burst of
 * calls on one socket. Off where the identity is the value alone (PTN_SOCK_CLASS_CACHE 0). */
static _Thread_local struct {
  int valid;
  uintptr_t s;
  ptn_sock_id id;
  int domain;
  int so_type;
} tl_socket_cache;

/* Checks 2-5 (5 only when check_connected): 0, or the Winsock error. The socket type in *type
 * (PTN_SOCK_STREAM / PTN_SOCK_DGRAM). */
static int check_socket(uintptr_t s, int check_connected, int *type, ptn_sock_id *id) {
  int e = ptn_sock_identify(s, id);
  if (e) return e;
  int domain = -1;
  int so_type = -1;
  if (PTN_SOCK_CLASS_CACHE && tl_socket_cache.valid && tl_socket_cache.s == s &&
      ptn_sock_id_equal(&tl_socket_cache.id, id)) {
    domain = tl_socket_cache.domain;
    so_type = tl_socket_cache.so_type;
  } else {
    e = ptn_sock_class(s, &domain, &so_type);
    if (e) return e;
    tl_socket_cache.valid = PTN_SOCK_CLASS_CACHE;
    tl_socket_cache.s = s;
    tl_socket_cache.id = *id;
    tl_socket_cache.domain = domain;
    tl_socket_cache.so_type = so_type;
  }
  /* The platform's own AF_ and SOCK_ values (AF_INET6 is 10 on Linux, 23 on Windows). */
  if (domain != AF_INET && domain != AF_INET6) return PTN_WSAEAFNOSUPPORT;
  if (so_type == SOCK_STREAM) *type = PTN_SOCK_STREAM;
  else if (so_type == SOCK_DGRAM) *type = PTN_SOCK_DGRAM;
  else return PTN_WSAEINVAL;
  if (check_connected && ptn_sock_connected(s)) return PTN_WSAEISCONN;
  return 0;
}

/* Takes one injected fault (under lock): the error, or 0 when none is pending. */
static int take_fault_locked(void) {
  if (fail_count == 0) return 0;
  fail_count--;
  return fail_error;
}

static int all_zero(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != 0) return 0;
  return 1;
}

/* ---- the Windows-named exports ----------------------------------------------------------------- */

PTN_EXPORT int PTN_WSAAPI WSASetSocketPeerTargetName(uintptr_t s, const void *name, uint32_t len,
                                                     void *overlapped, void *completion) {
  (void)overlapped; /* the stand-in is synchronous: both are ignored, as for a non-overlapped socket */
  (void)completion;
  record_last_call(s, name, len);

  ptn_lock();
  call_count++;
  if (len > max_len_seen) max_len_seen = len;
  int injected = take_fault_locked();
  int unit = length_unit;
  ptn_unlock();
  if (injected) return fail(injected);

  if (name == NULL) return fail(PTN_WSAEFAULT);
  int type = 0;
  ptn_sock_id id;
  int e = check_socket(s, 1, &type, &id);
  if (e) return fail(e);
  if (len < PTN_SIZEOF_PEER_TARGET_NAME) return fail(PTN_WSAEMSGSIZE);

  const uint8_t *p = name;
  uint32_t protocol = rd32le(p + PTN_OFFSET_PROTOCOL);
  if (protocol > PTN_PROTOCOL_MAX) return fail(PTN_WSAEINVAL);

  uint64_t field = rd32le(p + PTN_OFFSET_STRING_LENGTH);
  int in_bytes = unit == PTN_LENGTH_UNIT_BYTES ||
                 (unit == PTN_LENGTH_UNIT_AUTO && protocol == PTN_PROTOCOL_IPSEC2);
  uint64_t string_bytes = in_bytes ? field : field * 2;
  if (string_bytes == 0 || (string_bytes & 1) != 0) return fail(PTN_WSAEINVAL);
  if ((uint64_t)len < (uint64_t)PTN_OFFSET_STRINGS + string_bytes) return fail(PTN_WSAEMSGSIZE);

  const uint8_t *peer = p + PTN_OFFSET_PEER;
  uint16_t family = rd16le(peer + PTN_SIN_FAMILY);
  int zero_stream_peer = type == PTN_SOCK_STREAM && all_zero(peer, PTN_SIZE_SOCKADDR_STORAGE);
  if (!zero_stream_peer) {
    if (family != PTN_AF_INET && family != PTN_AF_INET6) return fail(PTN_WSAEAFNOSUPPORT);
    if (type == PTN_SOCK_DGRAM) {
      int v4 = family == PTN_AF_INET;
      uint16_t port = rd16le(peer + (v4 ? PTN_SIN_PORT : PTN_SIN6_PORT));
      int unspecified = v4 ? all_zero(peer + PTN_SIN_ADDR, 4) : all_zero(peer + PTN_SIN6_ADDR, 16);
      if (port == 0 || unspecified) return fail(PTN_WSAEINVAL);
    }
  }

  uint32_t units = (uint32_t)(string_bytes / 2);
  const uint8_t *strings = p + PTN_OFFSET_STRINGS;
  uint16_t *copy = malloc((size_t)units * sizeof *copy);
  if (copy == NULL) return fail(PTN_WSAENOBUFS);
  for (uint32_t i = 0; i < units; i++) copy[i] = rd16le(strings + 2 * (size_t)i);

  peer_key key;
  uint32_t flowinfo = 0;
  key_from_sockaddr(peer, &key, &flowinfo);
  uint64_t hash = key_hash(&key);
  uint64_t now = ptn_monotonic_ns();

  ptn_lock();
  if (refused_units != 0 && refused_units == units &&
      memcmp(refused_name, copy, (size_t)units * sizeof *copy) == 0) {
    ptn_unlock();
    free(copy);
    return fail(PTN_WSAEINVAL);
  }
  socket_table *t = table_for(s, &id, 1);
  if (t == NULL || table_reserve(t, t->count + 1) != 0) {
    ptn_unlock();
    free(copy);
    return fail(PTN_WSAENOBUFS);
  }
  uint32_t slot = table_probe(t, &key, hash);
  peer_entry *entry = t->slots[slot];
  if (entry != NULL) { /* the same peer again: replace */
    free(entry->name);
    list_unlink(t, entry);
  } else {
    entry = calloc(1, sizeof *entry);
    if (entry == NULL) {
      ptn_unlock();
      free(copy);
      return fail(PTN_WSAENOBUFS);
    }
    entry->key = key;
    entry->hash = hash;
    t->slots[slot] = entry;
    t->count++;
  }
  entry->flowinfo = flowinfo;
  entry->protocol = protocol;
  entry->name = copy;
  entry->units = units;
  entry->seq = next_seq++;
  entry->time_ns = now;
  list_append(t, entry);
  log_event_locked(PTN_LOG_SET, s, entry, now);
  ptn_unlock();
  return 0;
}

PTN_EXPORT int PTN_WSAAPI WSADeleteSocketPeerTargetName(uintptr_t s, const void *peerAddr,
                                                        uint32_t peerAddrLen, void *overlapped,
                                                        void *completion) {
  (void)overlapped;
  (void)completion;
  ptn_lock();
  int injected = take_fault_locked();
  ptn_unlock();
  if (injected) return fail(injected);

  if (peerAddr == NULL) return fail(PTN_WSAEFAULT);
  int type = 0;
  ptn_sock_id id;
  int e = check_socket(s, 1, &type, &id);
  if (e) return fail(e);
  const uint8_t *sa = peerAddr;
  if (peerAddrLen < 2) return fail(PTN_WSAEMSGSIZE);
  uint16_t family = rd16le(sa + PTN_SIN_FAMILY);
  uint32_t need;
  if (family == PTN_AF_INET) need = PTN_SIZEOF_SOCKADDR_IN;
  else if (family == PTN_AF_INET6) need = PTN_SIZEOF_SOCKADDR_IN6;
  else return fail(PTN_WSAEAFNOSUPPORT);
  if (peerAddrLen < need) return fail(PTN_WSAEMSGSIZE);

  peer_key key;
  key_from_sockaddr(sa, &key, NULL);
  uint64_t hash = key_hash(&key);
  ptn_lock();
  socket_table *t = table_for(s, &id, 0);
  if (t == NULL || t->capacity == 0) {
    ptn_unlock();
    return fail(PTN_WSAEINVAL);
  }
  uint32_t slot = table_probe(t, &key, hash);
  if (t->slots[slot] == NULL) {
    ptn_unlock();
    return fail(PTN_WSAEINVAL);
  }
  log_event_locked(PTN_LOG_DELETE, s, t->slots[slot], ptn_monotonic_ns());
  table_remove_slot(t, slot);
  ptn_unlock();
  return 0;
}

PTN_EXPORT int PTN_WSAAPI WSASetSocketSecurity(uintptr_t s, const void *settings, uint32_t len,
                                               void *overlapped, void *completion) {
  (void)overlapped;
  (void)completion;
  int type = 0;
  ptn_sock_id id;
  int e = check_socket(s, 1, &type, &id); /* the page: not permitted on a connected socket */
  if (e) return fail(e);
  uint32_t protocol = PTN_PROTOCOL_DEFAULT, flags = 0;
  if (settings != NULL) { /* NULL: the default settings */
    if (len < SIZEOF_SECURITY_SETTINGS) return fail(PTN_WSAEINVAL);
    const uint8_t *p = settings;
    protocol = rd32le(p);
    flags = rd32le(p + 4);
    if (protocol > PTN_PROTOCOL_MAX) return fail(PTN_WSAEINVAL);
  }
  ptn_lock();
  socket_table *t = table_for(s, &id, 1);
  if (t == NULL) {
    ptn_unlock();
    return fail(PTN_WSAENOBUFS);
  }
  t->has_security = 1;
  t->security_protocol = protocol;
  t->security_flags = flags;
  ptn_unlock();
  return 0;
}

PTN_EXPORT int PTN_WSAAPI WSAQuerySocketSecurity(uintptr_t s, const void *queryTemplate,
                                                 uint32_t templateLen, void *info, uint32_t *infoLen,
                                                 void *overlapped, void *completion) {
  (void)queryTemplate; /* the template (which peer, which token rights) has nothing to select here */
  (void)templateLen;
  (void)overlapped;
  (void)completion;
  int type = 0;
  ptn_sock_id id;
  int e = check_socket(s, 0, &type, &id); /* a query is meant for a connected socket too */
  if (e) return fail(e);
  if (infoLen == NULL) return fail(PTN_WSAEFAULT);
  if (info == NULL || *infoLen < SIZEOF_SECURITY_QUERY_INFO) {
    *infoLen = SIZEOF_SECURITY_QUERY_INFO;
    return fail(PTN_WSAEMSGSIZE);
  }
  uint32_t protocol = PTN_PROTOCOL_DEFAULT, flags = 0;
  ptn_lock();
  socket_table *t = table_for(s, &id, 0);
  if (t != NULL && t->has_security) {
    /* Simulated: nothing is secured for real, the flags only echo that security was requested. */
    protocol = t->security_protocol;
    flags = SOCKET_INFO_CONNECTION_SECURED;
    if (t->security_flags & SOCKET_SETTINGS_GUARANTEE_ENCRYPTION) flags |= SOCKET_INFO_CONNECTION_ENCRYPTED;
  }
  ptn_unlock();
  uint8_t *out = info;
  wr32le(out, protocol);
  wr32le(out + 4, flags);
  wr64le(out + 8, 0);  /* PeerApplicationAccessTokenHandle: no token here */
  wr64le(out + 16, 0); /* PeerMachineAccessTokenHandle */
  *infoLen = SIZEOF_SECURITY_QUERY_INFO;
  return 0;
}

#if !PTN_WINDOWS /* the Winsock build leaves these to Ws2_32 (ptn_set_last_error sets its error) */
PTN_EXPORT int PTN_WSAAPI WSAGetLastError(void) { return ptn_get_last_error(); }

PTN_EXPORT void PTN_WSAAPI WSASetLastError(int error) { ptn_set_last_error(error); }
#endif

/* ---- test-only exports ------------------------------------------------------------------------- */

PTN_EXPORT int ptn_set_length_unit(int unit) {
  if (unit != PTN_LENGTH_UNIT_AUTO && unit != PTN_LENGTH_UNIT_UNITS && unit != PTN_LENGTH_UNIT_BYTES) return -1;
  ptn_lock();
  length_unit = unit;
  ptn_unlock();
  return 0;
}

PTN_EXPORT int ptn_length_unit(void) {
  ptn_lock();
  int unit = length_unit;
  ptn_unlock();
  return unit;
}

PTN_EXPORT int ptn_length_unit_env(void) { return env_length_unit; /* written once, at load */ }

/* The socket's table for a look-inside call (under lock), or NULL. */
static socket_table *table_peek(uintptr_t s) {
  ptn_sock_id id;
  if (ptn_sock_identify(s, &id) != 0) return NULL;
  return table_for(s, &id, 0);
}

PTN_EXPORT uint32_t ptn_peer_count(uintptr_t s) {
  ptn_lock();
  socket_table *t = table_peek(s);
  uint32_t n = t ? t->count : 0;
  ptn_unlock();
  return n;
}

static peer_entry *find_peer_locked(uintptr_t s, const void *sockaddr128) {
  if (sockaddr128 == NULL) return NULL;
  peer_key key;
  key_from_sockaddr(sockaddr128, &key, NULL);
  return table_find(table_peek(s), &key);
}

PTN_EXPORT int ptn_peer_lookup(uintptr_t s, const void *sockaddr128, uint16_t *nameOut, uint32_t nameCap,
                    uint64_t *seqOut, uint64_t *timeNsOut) {
  ptn_lock();
  peer_entry *e = find_peer_locked(s, sockaddr128);
  if (e == NULL) {
    ptn_unlock();
    return -1;
  }
  if (nameOut != NULL) memcpy(nameOut, e->name, (size_t)(e->units < nameCap ? e->units : nameCap) * sizeof *nameOut);
  if (seqOut != NULL) *seqOut = e->seq;
  if (timeNsOut != NULL) *timeNsOut = e->time_ns;
  int units = e->units > (uint32_t)INT_MAX ? INT_MAX : (int)e->units;
  ptn_unlock();
  return units;
}

PTN_EXPORT int ptn_peer_protocol(uintptr_t s, const void *sockaddr128) {
  ptn_lock();
  peer_entry *e = find_peer_locked(s, sockaddr128);
  int protocol = e ? (int)e->protocol : -1;
  ptn_unlock();
  return protocol;
}

PTN_EXPORT int ptn_peer_list(uintptr_t s, void *sockaddrsOut, uint32_t cap) {
  ptn_lock();
  socket_table *t = table_peek(s);
  uint32_t n = 0;
  if (t != NULL) {
    if (sockaddrsOut == NULL) {
      n = t->count;
    } else {
      uint8_t *out = sockaddrsOut;
      for (peer_entry *e = t->head; e != NULL && n < cap; e = e->next, n++) {
        entry_to_sockaddr(e, out + (size_t)n * PTN_SIZE_SOCKADDR_STORAGE);
      }
    }
  }
  ptn_unlock();
  return n > (uint32_t)INT_MAX ? INT_MAX : (int)n;
}

PTN_EXPORT uint32_t ptn_last_bytes(void *out, uint32_t cap) {
  if (out != NULL) {
    uint32_t n = tl_last_kept < cap ? tl_last_kept : cap;
    if (n) memcpy(out, tl_last_buf, n);
  }
  return tl_last_len;
}

PTN_EXPORT uintptr_t ptn_last_socket(void) { return tl_last_socket; }

PTN_EXPORT void ptn_fail_next(uint32_t count, int wsaError) {
  ptn_lock();
  fail_count = wsaError != 0 ? count : 0;
  fail_error = wsaError;
  ptn_unlock();
}

PTN_EXPORT void ptn_refuse_name(const uint16_t *units, uint32_t n) {
  uint16_t *copy = NULL;
  if (n != 0 && units != NULL) {
    copy = malloc((size_t)n * sizeof *copy);
    if (copy != NULL) memcpy(copy, units, (size_t)n * sizeof *copy);
  }
  ptn_lock();
  free(refused_name);
  refused_name = copy;
  refused_units = copy != NULL ? n : 0;
  ptn_unlock();
}

PTN_EXPORT uint64_t ptn_call_count(void) {
  ptn_lock();
  uint64_t n = call_count;
  ptn_unlock();
  return n;
}

PTN_EXPORT uint32_t ptn_max_len_seen(void) {
  ptn_lock();
  uint32_t n = max_len_seen;
  ptn_unlock();
  return n;
}

PTN_EXPORT void ptn_reset(void) {
  ptn_lock();
  for (size_t i = 0; i < tables_cap; i++) {
    table_free(tables[i]);
    tables[i] = NULL;
  }
  tables_count = 0;
  next_seq = 1;
  call_count = 0;
  max_len_seen = 0;
  fail_count = 0;
  fail_error = 0;
  free(refused_name);
  refused_name = NULL;
  refused_units = 0;
  length_unit = load_length_unit; /* the environment's, not AUTO: see the header */
  free(log_records);
  log_records = NULL;
  log_cap = log_count = 0;
  log_dropped = 0;
  ptn_unlock();
  ptn_set_last_error(0);
  tl_last_socket = 0;
  tl_last_len = 0;
  tl_last_kept = 0;
}

PTN_EXPORT int ptn_log_enable(uint32_t cap) {
  uint8_t *records = NULL;
  if (cap != 0) {
    records = calloc(cap, PTN_LOG_RECORD_SIZE);
    if (records == NULL) return -1;
  }
  ptn_lock();
  free(log_records);
  log_records = records;
  log_cap = cap;
  log_count = 0;
  log_dropped = 0;
  ptn_unlock();
  return 0;
}

PTN_EXPORT uint32_t ptn_log_read(void *out, uint32_t from, uint32_t cap) {
  ptn_lock();
  uint32_t n = 0;
  if (out == NULL) {
    n = log_count;
  } else if (from < log_count) {
    n = log_count - from < cap ? log_count - from : cap;
    memcpy(out, log_records + (size_t)from * PTN_LOG_RECORD_SIZE, (size_t)n * PTN_LOG_RECORD_SIZE);
  }
  ptn_unlock();
  return n;
}

PTN_EXPORT uint64_t ptn_log_dropped(void) {
  ptn_lock();
  uint64_t n = log_dropped;
  ptn_unlock();
  return n;
}
