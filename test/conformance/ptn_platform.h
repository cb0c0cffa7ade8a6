/*
 * ptn_platform.h: the ONLY platform-specific part of the conformance library (private to
 * peer_target_name_conformance.c, included once by it; everything here is static).
 *
 * The rules, tables and exports in the .c are one source for both builds; this file gives them:
 *   locking        ptn_lock / ptn_unlock           pthread mutex        | SRWLOCK
 *   last error     ptn_set_last_error (+ _get_)    thread-local int     | Ws2_32's own (so the real
 *                                                                          WSAGetLastError sees it)
 *   thread exit    ptn_thread_buffer(p)            pthread_key dtor     | FLS callback (FlsAlloc)
 *   clock          ptn_clock_ns()                  CLOCK_MONOTONIC      | QueryPerformanceCounter
 *   environment    ptn_getenv_load()               getenv               | GetEnvironmentVariableA
 *   load hook      calls ptn_on_load()             constructor          | DllMain PROCESS_ATTACH
 *   socket probes  ptn_sock_identify / _class / _connected, ptn_sock_id (below)
 *
 * Socket identity (ptn_sock_id) differs on purpose. POSIX: the descriptor plus fstat's
 * (st_dev, st_ino), so a closed and reused descriptor is noticed and its old table dropped.
 * Windows: the SOCKET value alone. There is no fstat for a socket handle, and no cheap, documented
 * per-socket identity; so a handle value that Windows reuses after closesocket() finds the old
 * socket's table. Tests on Windows call ptn_reset() between cases (or use fresh sockets while the
 * old ones are still open). For the same reason the per-thread family/type cache is off there.
 *
 * Why FLS on Windows: the last-call buffer (up to 1 MiB per thread) must be freed when a thread
 * ends, as the POSIX key destructor does. _Thread_local (emutls in mingw's libgcc) has no
 * destructor hook; an FLS callback is the kernel32 equivalent. The index is freed at
 * FreeLibrary (DllMain PROCESS_DETACH), so no callback is left pointing into an unloaded DLL.
 */
#ifndef PTN_PLATFORM_H
#define PTN_PLATFORM_H

static void ptn_on_load(void); /* in the .c: reads PTN_CONFORMANCE_LENGTH_UNIT */

#if defined(_WIN32) /* ==================================== Winsock build (mingw-w64, fwpuclnt.dll) */

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN 1
#endif
#include <winsock2.h> /* before windows.h; not ws2tcpip.h, whose mstcpip.h declares these names with Windows types */
#include <windows.h>

#define PTN_WINDOWS 1

static SRWLOCK ptn_srwlock = SRWLOCK_INIT;
static void ptn_lock(void) { AcquireSRWLockExclusive(&ptn_srwlock); }
static void ptn_unlock(void) { ReleaseSRWLockExclusive(&ptn_srwlock); }

/* The real Ws2_32 last error: the bridge reads WSAGetLastError from ws2_32.dll. (No getter: the
 * library exports no WSAGetLastError here.) */
static void ptn_set_last_error(int error) { WSASetLastError(error); }

static DWORD ptn_fls_index = FLS_OUT_OF_INDEXES;
static INIT_ONCE ptn_fls_once = INIT_ONCE_STATIC_INIT;
static VOID WINAPI ptn_fls_free(PVOID p) { free(p); }
static BOOL CALLBACK ptn_fls_init(PINIT_ONCE once, PVOID param, PVOID *context) {
  (void)once; (void)param; (void)context;
  ptn_fls_index = FlsAlloc(ptn_fls_free);
  return TRUE;
}
/* Frees p when the calling thread ends (p replaces the thread's previous buffer). */
static void ptn_thread_buffer(void *p) {
  InitOnceExecuteOnce(&ptn_fls_once, ptn_fls_init, NULL, NULL);
  if (ptn_fls_index != FLS_OUT_OF_INDEXES) (void)FlsSetValue(ptn_fls_index, p);
}

static LARGE_INTEGER ptn_qpc_freq; /* set once in DllMain (before any export can run); fixed at boot */
static uint64_t ptn_clock_ns(void) {
  LARGE_INTEGER now;
  QueryPerformanceCounter(&now);
  uint64_t c = (uint64_t)now.QuadPart, f = (uint64_t)ptn_qpc_freq.QuadPart;
  return c / f * 1000000000u + c % f * 1000000000u / f; /* split: c * 1e9 would overflow */
}

/* Copies the variable into buf (cap bytes); 0 when unset, -1 when longer than buf. */
static int ptn_getenv_load(const char *name, char *buf, size_t cap) {
  DWORD n = GetEnvironmentVariableA(name, buf, (DWORD)cap); /* the live environment, not msvcrt's copy */
  if (n == 0) return 0;
  return n < cap ? 1 : -1;
}

/* One stderr line, through kernel32 only (safe under the loader lock). */
static void ptn_warn(const char *text) {
  HANDLE h = GetStdHandle(STD_ERROR_HANDLE);
  DWORD written;
  if (h != NULL && h != INVALID_HANDLE_VALUE) (void)WriteFile(h, text, (DWORD)strlen(text), &written, NULL);
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved);
BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved) {
  (void)instance;
  if (reason == DLL_PROCESS_ATTACH) {
    QueryPerformanceFrequency(&ptn_qpc_freq); /* never fails since Windows XP */
    ptn_on_load();
  }
  /* FreeLibrary (reserved NULL): free the FLS index, which runs the callback for the buffers still
   * held. At process exit (reserved non-NULL) nothing is freed: the process is going away. */
  if (reason == DLL_PROCESS_DETACH && reserved == NULL && ptn_fls_index != FLS_OUT_OF_INDEXES) {
    FlsFree(ptn_fls_index);
    ptn_fls_index = FLS_OUT_OF_INDEXES;
  }
  return TRUE;
}

/* Winsock must be started for getsockopt to answer at all. The caller's process has done so if it
 * holds a real socket; this makes a bogus handle in a process that never did get WSAENOTSOCK, not
 * WSANOTINITIALISED. Not from DllMain (WSAStartup may load DLLs); never cleaned up (a test DLL). */
static INIT_ONCE ptn_wsa_once = INIT_ONCE_STATIC_INIT;
static BOOL CALLBACK ptn_wsa_init(PINIT_ONCE once, PVOID param, PVOID *context) {
  (void)once; (void)param; (void)context;
  WSADATA data;
  (void)WSAStartup(MAKEWORD(2, 2), &data);
  return TRUE;
}

typedef struct { int unused; } ptn_sock_id; /* the SOCKET value alone is the identity (see above) */
static int ptn_sock_id_equal(const ptn_sock_id *a, const ptn_sock_id *b) { (void)a; (void)b; return 1; }
#define PTN_SOCK_CLASS_CACHE 0 /* a reused handle value could not be told apart */

/* Every probe restores the caller's last error: a successful export leaves it as it was, and a
 * probe that "fails" as expected (getpeername on an unconnected socket) must not leak WSAENOTCONN. */

/* 0 when s is a socket, else WSAENOTSOCK (INVALID_SOCKET, or SO_TYPE answers WSAENOTSOCK) or
 * WSAEINVAL (any other failure). */
static int ptn_sock_identify(uintptr_t s, ptn_sock_id *id) {
  id->unused = 0;
  if ((SOCKET)s == INVALID_SOCKET) return PTN_WSAENOTSOCK;
  InitOnceExecuteOnce(&ptn_wsa_once, ptn_wsa_init, NULL, NULL);
  int saved = WSAGetLastError();
  int so_type = 0, optlen = (int)sizeof so_type;
  int r = getsockopt((SOCKET)s, SOL_SOCKET, SO_TYPE, (char *)&so_type, &optlen);
  int error = r == 0 ? 0 : WSAGetLastError() == WSAENOTSOCK ? PTN_WSAENOTSOCK : PTN_WSAEINVAL;
  WSASetLastError(saved);
  return error;
}

/* The socket's address family (SO_PROTOCOL_INFOW's iAddressFamily: Windows has no SO_DOMAIN, and
 * getsockname fails before bind) and SO_TYPE. 0, or the Winsock error. */
static int ptn_sock_class(uintptr_t s, int *domain, int *so_type) {
  int saved = WSAGetLastError();
  WSAPROTOCOL_INFOW info;
  int infolen = (int)sizeof info, typelen = (int)sizeof *so_type, error = 0;
  memset(&info, 0, sizeof info);
  if (getsockopt((SOCKET)s, SOL_SOCKET, SO_PROTOCOL_INFOW, (char *)&info, &infolen) != 0 ||
      getsockopt((SOCKET)s, SOL_SOCKET, SO_TYPE, (char *)so_type, &typelen) != 0) {
    error = WSAGetLastError() == WSAENOTSOCK ? PTN_WSAENOTSOCK : PTN_WSAEINVAL;
  }
  *domain = info.iAddressFamily;
  WSASetLastError(saved);
  return error;
}

static int ptn_sock_connected(uintptr_t s) {
  int saved = WSAGetLastError();
  struct sockaddr_storage peer;
  int peerlen = (int)sizeof peer;
  int connected = getpeername((SOCKET)s, (struct sockaddr *)&peer, &peerlen) == 0;
  WSASetLastError(saved);
  return connected;
}

#else /* ======================================================= POSIX build (Linux, macOS: .so) */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PTN_WINDOWS 0

static pthread_mutex_t ptn_mutex = PTHREAD_MUTEX_INITIALIZER;
static void ptn_lock(void) { pthread_mutex_lock(&ptn_mutex); }
static void ptn_unlock(void) { pthread_mutex_unlock(&ptn_mutex); }

/* The library's own per-thread last error, exported as WSAGetLastError / WSASetLastError. */
static _Thread_local int tl_last_error;
static void ptn_set_last_error(int error) { tl_last_error = error; }
static int ptn_get_last_error(void) { return tl_last_error; }

static pthread_key_t ptn_buffer_key;
static pthread_once_t ptn_buffer_key_once = PTHREAD_ONCE_INIT;
static void ptn_buffer_key_free(void *p) { free(p); }
static void ptn_buffer_key_create(void) { (void)pthread_key_create(&ptn_buffer_key, ptn_buffer_key_free); }
/* Frees p when the calling thread ends (p replaces the thread's previous buffer). */
static void ptn_thread_buffer(void *p) {
  pthread_once(&ptn_buffer_key_once, ptn_buffer_key_create);
  (void)pthread_setspecific(ptn_buffer_key, p);
}

static uint64_t ptn_clock_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Copies the variable into buf (cap bytes); 0 when unset, -1 when longer than buf. */
static int ptn_getenv_load(const char *name, char *buf, size_t cap) {
  const char *v = getenv(name);
  if (v == NULL) return 0;
  size_t n = strlen(v);
  if (n >= cap) return -1;
  memcpy(buf, v, n + 1);
  return 1;
}

static void ptn_warn(const char *text) { fputs(text, stderr); }

__attribute__((constructor)) static void ptn_constructor(void) { ptn_on_load(); }

/* The descriptor's (st_dev, st_ino): a reused descriptor names another inode. */
typedef struct { dev_t dev; ino_t ino; } ptn_sock_id;
static int ptn_sock_id_equal(const ptn_sock_id *a, const ptn_sock_id *b) {
  return a->dev == b->dev && a->ino == b->ino;
}
#define PTN_SOCK_CLASS_CACHE 1

/* 0 when s is a socket (beyond INT_MAX, EBADF, fstat not S_ISSOCK -> WSAENOTSOCK). */
static int ptn_sock_identify(uintptr_t s, ptn_sock_id *id) {
  struct stat st;
  if (s > (uintptr_t)INT_MAX) return PTN_WSAENOTSOCK;
  if (fstat((int)s, &st) != 0 || !S_ISSOCK(st.st_mode)) return PTN_WSAENOTSOCK;
  id->dev = st.st_dev;
  id->ino = st.st_ino;
  return 0;
}

/* The socket's family (SO_DOMAIN) and SO_TYPE. 0, or the Winsock error. */
static int ptn_sock_class(uintptr_t s, int *domain, int *so_type) {
  int fd = (int)s;
#ifdef SO_DOMAIN
  socklen_t optlen = sizeof *domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, domain, &optlen) != 0) {
    return errno == ENOTSOCK || errno == EBADF ? PTN_WSAENOTSOCK : PTN_WSAEINVAL;
  }
#else /* macOS: no SO_DOMAIN; the local address carries the family even before bind */
  struct sockaddr_storage local;
  socklen_t locallen = sizeof local;
  memset(&local, 0, sizeof local);
  if (getsockname(fd, (struct sockaddr *)&local, &locallen) != 0) {
    return errno == ENOTSOCK || errno == EBADF ? PTN_WSAENOTSOCK : PTN_WSAEINVAL;
  }
  *domain = local.ss_family;
#endif
  socklen_t typelen = sizeof *so_type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, so_type, &typelen) != 0) {
    return errno == ENOTSOCK || errno == EBADF ? PTN_WSAENOTSOCK : PTN_WSAEINVAL;
  }
  return 0;
}

static int ptn_sock_connected(uintptr_t s) {
  struct sockaddr_storage peer;
  socklen_t peerlen = sizeof peer;
  return getpeername((int)s, (struct sockaddr *)&peer, &peerlen) == 0;
}

#endif

#endif
