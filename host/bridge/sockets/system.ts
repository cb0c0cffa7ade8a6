// The operating system's own socket calls, through koffi: Ws2_32.dll on Windows, the C library
// elsewhere. Only what a UDP socket needs before Node takes it over (socket, setsockopt, bind,
// getsockname, close). Addresses go in and out in the codec's Windows layout (family 2 / 23, port
// big-endian), and are translated here to the platform's own sockaddr.
import { constants as osConstants } from 'node:os';
import { loadKoffi, type Koffi } from '../koffi.js';
import * as L from '../../generated/layout.js';
import type { SocketHandle } from '../winsock.js';

export type AddressFamily = 'ipv4' | 'ipv6';

/** A socket's local address as getsockname reports it. */
export interface LocalAddress {
  family: AddressFamily;
  port: number;
  /** 4 or 16 bytes. */
  address: Uint8Array;
  /** IPv6 only (0 for IPv4). */
  scopeId: number;
}

/** The Node-style names of the socket errors these calls can meet, by Winsock number. */
const WINSOCK_NAMES: Record<number, string> = {
  10013: 'EACCES', 10014: 'EFAULT', 10022: 'EINVAL', 10024: 'EMFILE', 10038: 'ENOTSOCK',
  10040: 'EMSGSIZE', 10043: 'EPROTONOSUPPORT', 10044: 'ESOCKTNOSUPPORT', 10045: 'EOPNOTSUPP',
  10047: 'EAFNOSUPPORT', 10048: 'EADDRINUSE', 10049: 'EADDRNOTAVAIL', 10050: 'ENETDOWN',
  10055: 'ENOBUFS', 10056: 'EISCONN', 10093: 'WSANOTINITIALISED',
};

/** A system socket call failed: shaped like Node's own socket errors (code, errno, syscall). */
export class SystemSocketError extends Error {
  /** e.g. 'EADDRINUSE'. */
  readonly code: string;
  /** The system's number: a Winsock code on Windows, errno elsewhere. */
  readonly errno: number;
  readonly syscall: string;
  address?: string;
  port?: number;
  constructor(syscall: string, errno: number, code: string, detail?: string) {
    super(`${syscall} ${code}${detail ? ` ${detail}` : ''}`);
    this.name = 'SystemSocketError';
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
  }
}

interface Constants {
  AF_INET: number;
  AF_INET6: number;
  SOCK_DGRAM: number;
  SOL_SOCKET: number;
  SO_REUSEADDR: number;
  IPPROTO_IPV6: number;
  IPV6_V6ONLY: number;
}

/** The numbers differ by platform; Windows' are the Winsock headers', Linux's glibc's, macOS's BSD's. */
function constantsFor(platform: NodeJS.Platform): Constants {
  if (platform === 'win32') return { AF_INET: 2, AF_INET6: 23, SOCK_DGRAM: 2, SOL_SOCKET: 0xffff, SO_REUSEADDR: 4, IPPROTO_IPV6: 41, IPV6_V6ONLY: 27 };
  if (platform === 'darwin' || platform.endsWith('bsd')) return { AF_INET: 2, AF_INET6: platform === 'darwin' ? 30 : 28, SOCK_DGRAM: 2, SOL_SOCKET: 0xffff, SO_REUSEADDR: 4, IPPROTO_IPV6: 41, IPV6_V6ONLY: 27 };
  return { AF_INET: 2, AF_INET6: 10, SOCK_DGRAM: 2, SOL_SOCKET: 1, SO_REUSEADDR: 2, IPPROTO_IPV6: 41, IPV6_V6ONLY: 26 };
}

type Fn = (...args: unknown[]) => unknown;

export class SystemSockets {
  readonly windows: boolean;
  /** BSD sockaddrs start with a length byte and a one-byte family. */
  private readonly bsd: boolean;
  private readonly c: Constants;
  private readonly koffi: Koffi;
  private readonly fn: Record<'socket' | 'bind' | 'connect' | 'close' | 'getsockname' | 'setsockopt', Fn>;
  private readonly lastError: () => number;

  constructor(platform: NodeJS.Platform = process.platform) {
    this.koffi = loadKoffi();
    this.windows = platform === 'win32';
    this.bsd = platform === 'darwin' || platform.endsWith('bsd');
    this.c = constantsFor(platform);
    if (this.windows) {
      // WSAAPI is __stdcall; SOCKET is pointer-sized. Node has already called WSAStartup.
      const ws2 = this.koffi.load('ws2_32.dll');
      this.fn = {
        socket: ws2.func('uintptr_t __stdcall socket(int af, int type, int protocol)'),
        bind: ws2.func('int __stdcall bind(uintptr_t s, const uint8_t *name, int namelen)'),
        connect: ws2.func('int __stdcall connect(uintptr_t s, const uint8_t *name, int namelen)'),
        close: ws2.func('int __stdcall closesocket(uintptr_t s)'),
        getsockname: ws2.func('int __stdcall getsockname(uintptr_t s, _Out_ uint8_t *name, _Inout_ int *namelen)'),
        setsockopt: ws2.func('int __stdcall setsockopt(uintptr_t s, int level, int optname, const int *optval, int optlen)'),
      };
      const wsaGetLastError = ws2.func('int __stdcall WSAGetLastError()');
      this.lastError = () => wsaGetLastError() as number;
    } else {
      const libc = this.koffi.load(null);
      this.fn = {
        socket: libc.func('int socket(int domain, int type, int protocol)'),
        bind: libc.func('int bind(int fd, const uint8_t *addr, uint32_t addrlen)'),
        connect: libc.func('int connect(int fd, const uint8_t *addr, uint32_t addrlen)'),
        close: libc.func('int close(int fd)'),
        getsockname: libc.func('int getsockname(int fd, _Out_ uint8_t *addr, _Inout_ uint32_t *addrlen)'),
        setsockopt: libc.func('int setsockopt(int fd, int level, int optname, const int *optval, uint32_t optlen)'),
      };
      this.lastError = () => this.koffi.errno();
    }
  }

  private error(syscall: string, detail?: string): SystemSocketError {
    const errno = this.lastError();
    return new SystemSocketError(syscall, errno, this.codeOf(errno), detail);
  }

  private codeOf(errno: number): string {
    if (this.windows) return WINSOCK_NAMES[errno] ?? `WSA${errno}`;
    const names = osErrnoNames();
    return names.get(errno) ?? `errno ${errno}`;
  }

  /** A new UDP socket of the family, not yet bound. */
  open(family: AddressFamily): SocketHandle {
    const af = family === 'ipv4' ? this.c.AF_INET : this.c.AF_INET6;
    const s = this.fn.socket(af, this.c.SOCK_DGRAM, 0) as number | bigint;
    if (this.isInvalid(s)) throw this.error('socket');
    return s;
  }

  private isInvalid(s: number | bigint): boolean {
    if (!this.windows) return Number(s) < 0;
    // INVALID_SOCKET is all ones at the pointer's width.
    const bits = BigInt(this.koffi.sizeof('uintptr_t') * 8);
    return BigInt(s) === (1n << bits) - 1n;
  }

  setOption(s: SocketHandle, level: 'socket' | 'ipv6', name: 'reuseaddr' | 'v6only', on: boolean): void {
    const lvl = level === 'socket' ? this.c.SOL_SOCKET : this.c.IPPROTO_IPV6;
    const opt = name === 'reuseaddr' ? this.c.SO_REUSEADDR : this.c.IPV6_V6ONLY;
    if (this.fn.setsockopt(s, lvl, opt, [on ? 1 : 0], 4) !== 0) throw this.error('setsockopt', name);
  }

  /** bind(), from a sockaddr in the codec's Windows layout (16 or 28 bytes used). */
  bind(s: SocketHandle, windowsSockaddr: Uint8Array): void {
    const native = this.toNative(windowsSockaddr);
    if (this.fn.bind(s, native, native.byteLength) !== 0) throw this.error('bind');
  }

  /** connect(), from a sockaddr in the codec's Windows layout (for a UDP socket: sets its peer). */
  connect(s: SocketHandle, windowsSockaddr: Uint8Array): void {
    const native = this.toNative(windowsSockaddr);
    if (this.fn.connect(s, native, native.byteLength) !== 0) throw this.error('connect');
  }

  close(s: SocketHandle): void {
    this.fn.close(s);
  }

  /** getsockname(), or undefined when the handle has no address (or is no socket). */
  localAddress(s: SocketHandle): LocalAddress | undefined {
    const buffer = new Uint8Array(128);
    const length = [buffer.byteLength];
    if (this.fn.getsockname(s, buffer, length) !== 0) return undefined;
    return this.fromNative(buffer);
  }

  /** The codec's Windows-layout sockaddr as this platform's own. */
  toNative(windowsSockaddr: Uint8Array): Uint8Array {
    const v6 = windowsSockaddr[0] === L.AF_INET6;
    const size = v6 ? L.SIZEOF_SOCKADDR_IN6 : L.SIZEOF_SOCKADDR_IN;
    const out = windowsSockaddr.slice(0, size);
    const family = v6 ? this.c.AF_INET6 : this.c.AF_INET;
    if (this.bsd) {
      out[0] = size;
      out[1] = family;
    } else {
      out[0] = family & 0xff;
      out[1] = family >>> 8;
    }
    return out;
  }

  private fromNative(sa: Uint8Array): LocalAddress | undefined {
    const family = this.bsd ? sa[1] : sa[0] | (sa[1] << 8);
    const port = (sa[2] << 8) | sa[3];
    if (family === this.c.AF_INET) return { family: 'ipv4', port, address: sa.slice(4, 8), scopeId: 0 };
    if (family === this.c.AF_INET6) {
      const scopeId = (sa[24] | (sa[25] << 8) | (sa[26] << 16) | (sa[27] << 24)) >>> 0;
      return { family: 'ipv6', port, address: sa.slice(8, 24), scopeId };
    }
    return undefined;
  }
}

let errnoNames: Map<number, string> | undefined;
function osErrnoNames(): Map<number, string> {
  if (!errnoNames) {
    errnoNames = new Map();
    for (const [name, value] of Object.entries(osConstants.errno)) errnoNames.set(value, name);
  }
  return errnoNames;
}

let shared: SystemSockets | undefined;

/** The system's socket calls for this platform, bound once. */
export function systemSockets(): SystemSockets {
  return (shared ??= new SystemSockets());
}
