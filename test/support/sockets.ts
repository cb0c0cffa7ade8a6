// Real sockets on loopback for the bridge tests: their POSIX descriptors are the handles.
// Descriptors are found the public way, as the package does: dgram sockets through socketHandle(),
// stream sockets and servers through Node's exported libuv (walk the thread's loop, uv_fileno) and
// libc's getsockname/getpeername. Nothing private of Node's (`_handle`, symbol keys) is read.
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { socketHandle } from '../../host/bridge.js';
import { loadKoffi } from '../../host/bridge/koffi.js';
import { nodeLibuv, UV_NAMED_PIPE, UV_TCP } from '../../host/bridge/sockets/libuv.js';

/** A socket's address as libc reports it (Linux sockaddr layout). */
export type SockAddr =
  | { family: 'ipv4' | 'ipv6'; address: string; port: number }
  | { family: 'unix'; path: string }
  | { family: 'other'; value: number };

/** libc through koffi (koffi.load(null): the process's own C library). Linux only. */
export interface Libc {
  /** getsockname, or undefined when it fails. */
  sockName(fd: number | bigint): SockAddr | undefined;
  /** getpeername, or undefined when it fails (not connected, not a socket). */
  peerName(fd: number | bigint): SockAddr | undefined;
  /** fcntl(fd, F_GETFD): the flags, or -errno. */
  fdFlags(fd: number): number;
  close(fd: number): number;
  /** dup2(from, to): `to` names what `from` names (closing what `to` named). */
  dup2(from: number, to: number): number;
}

let libcCache: Libc | undefined;

export function libc(): Libc {
  if (libcCache) return libcCache;
  if (process.platform !== 'linux') throw new Error('the test support libc helper reads the Linux sockaddr layout');
  const koffi = loadKoffi();
  const c = koffi.load(null);
  const getsockname = c.func('int getsockname(int fd, _Out_ uint8_t *addr, _Inout_ uint32_t *addrlen)');
  const getpeername = c.func('int getpeername(int fd, _Out_ uint8_t *addr, _Inout_ uint32_t *addrlen)');
  const fcntl = c.func('int fcntl(int fd, int cmd, ...)');
  const close = c.func('int close(int fd)');
  const dup2 = c.func('int dup2(int oldfd, int newfd)');
  const ask = (fn: (...args: unknown[]) => unknown, fd: number | bigint): SockAddr | undefined => {
    const buffer = new Uint8Array(128);
    const length = [buffer.byteLength];
    if (fn(Number(fd), buffer, length) !== 0) return undefined;
    return parseSockaddr(buffer, length[0]);
  };
  libcCache = {
    sockName: (fd) => ask(getsockname, fd),
    peerName: (fd) => ask(getpeername, fd),
    fdFlags(fd) {
      const rc = fcntl(fd, 1 /* F_GETFD */) as number;
      return rc < 0 ? -koffi.errno() : rc;
    },
    close: (fd) => close(fd) as number,
    dup2: (from, to) => dup2(from, to) as number,
  };
  return libcCache;
}

export const EBADF = 9;

/** Linux: AF_UNIX 1 (sun_path at 2), AF_INET 2, AF_INET6 10; ports big-endian. */
function parseSockaddr(sa: Uint8Array, length: number): SockAddr {
  const family = sa[0] | (sa[1] << 8);
  const port = (sa[2] << 8) | sa[3];
  if (family === 2) return { family: 'ipv4', address: sa.slice(4, 8).join('.'), port };
  if (family === 10) {
    const groups = Array.from({ length: 8 }, (_, i) => ((sa[8 + 2 * i] << 8) | sa[9 + 2 * i]).toString(16));
    return { family: 'ipv6', address: canonicalIp(groups.join(':')), port };
  }
  if (family === 1) {
    let path = Buffer.from(sa.subarray(2, Math.min(length, sa.length))).toString('utf8');
    if (!path.startsWith('\0')) path = path.replace(/\0.*$/s, ''); // an unnamed socket: ''
    return { family: 'unix', path };
  }
  return { family: 'other', value: family };
}

/** One spelling per address (IPv6 through the URL parser's canonical form; no zone). */
function canonicalIp(address: string): string {
  const bare = address.replace(/%.*$/, '');
  return bare.includes(':') ? new URL(`http://[${bare}]`).hostname.slice(1, -1) : bare;
}

function isInet(sa: SockAddr | undefined, address: string | undefined, port: number | undefined): boolean {
  return sa !== undefined && (sa.family === 'ipv4' || sa.family === 'ipv6') && address !== undefined &&
    sa.port === port && sa.address === canonicalIp(address);
}

function isPath(sa: SockAddr | undefined, path: string): boolean {
  return sa !== undefined && sa.family === 'unix' && sa.path === path;
}

/** An AF_UNIX socket's role, which Node does not tell publicly: the server's path, and which end. */
export interface UnixRole {
  path: string;
  /** true: accepted by the server listening on `path`; false: connected to it. */
  accepted: boolean;
}
const unixRoles = new WeakMap<net.Socket, UnixRole>();

/**
 * The descriptor behind a Node socket or server, bound / listening / connected. Exactly one
 * descriptor on this thread's loop must fit what the socket says of itself, or this throws (never
 * a guess). An AF_UNIX net.Socket needs its role: made by unixSocket(), or given as `unix`.
 */
export function fdOf(thing: dgram.Socket | net.Server | net.Socket, unix?: UnixRole): number {
  if (thing instanceof dgram.Socket) return Number(socketHandle(thing));
  const c = libc();
  let fits: (fd: number) => boolean;
  let what: string;
  if (thing instanceof net.Server) {
    const address = thing.address();
    if (address === null) throw new Error('the server is not listening');
    if (typeof address === 'string') {
      what = `a unix server on ${address}`;
      fits = (fd) => isPath(c.sockName(fd), address) && c.peerName(fd) === undefined;
    } else {
      what = `a TCP server on ${address.address}:${address.port}`;
      fits = (fd) => isInet(c.sockName(fd), address.address, address.port) && c.peerName(fd) === undefined;
    }
  } else if (thing.remoteAddress !== undefined) {
    const { localAddress, localPort, remoteAddress, remotePort } = thing;
    what = `a TCP socket ${localAddress}:${localPort} -> ${remoteAddress}:${remotePort}`;
    fits = (fd) => isInet(c.sockName(fd), localAddress, localPort) && isInet(c.peerName(fd), remoteAddress, remotePort);
  } else {
    const role = unix ?? unixRoles.get(thing);
    if (!role) throw new Error('not a connected TCP socket; for an AF_UNIX socket pass its role ({ path, accepted })');
    what = `${role.accepted ? 'an accepted' : 'a client'} unix socket of ${role.path}`;
    fits = role.accepted
      ? (fd) => isPath(c.sockName(fd), role.path) && c.peerName(fd) !== undefined
      : (fd) => isPath(c.peerName(fd), role.path);
  }
  const libuv = nodeLibuv();
  const loop = libuv.currentLoop();
  if (loop === undefined) throw new Error('this thread\'s loop cannot be found');
  const matches: number[] = [];
  for (const handle of libuv.handles(loop, [UV_TCP, UV_NAMED_PIPE])) {
    const fd = libuv.fileno(handle);
    if (fd !== undefined && fits(Number(fd))) matches.push(Number(fd));
  }
  if (matches.length !== 1) throw new Error(`${matches.length} descriptors on this thread's loop fit ${what} (want exactly 1)`);
  return matches[0];
}

export async function boundUdp(type: 'udp4' | 'udp6' = 'udp4'): Promise<dgram.Socket> {
  const socket = dgram.createSocket(type);
  socket.bind(0, type === 'udp4' ? '127.0.0.1' : '::1');
  await once(socket, 'listening');
  return socket;
}

/** A listening TCP socket: a SOCK_STREAM descriptor that is not connected. */
export async function listeningTcp(): Promise<net.Server> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** A UDP socket connected to another one: WSAEISCONN territory. */
export async function connectedUdp(): Promise<{ socket: dgram.Socket; peer: dgram.Socket }> {
  const peer = await boundUdp();
  const socket = await boundUdp();
  socket.connect(peer.address().port, '127.0.0.1');
  await once(socket, 'connect');
  return { socket, peer };
}

/** An AF_UNIX stream socket pair end: not AF_INET/AF_INET6. */
export async function unixSocket(path: string): Promise<{ server: net.Server; client: net.Socket }> {
  const server = net.createServer();
  server.on('connection', (accepted: net.Socket) => unixRoles.set(accepted, { path, accepted: true }));
  server.listen(path);
  await once(server, 'listening');
  const client = net.connect(path);
  unixRoles.set(client, { path, accepted: false });
  await once(client, 'connect');
  return { server, client };
}

export function closeAll(...things: (dgram.Socket | net.Server | net.Socket | undefined)[]): void {
  for (const t of things) {
    try {
      if (t instanceof net.Socket) t.destroy();
      else t?.close();
    } catch {
      // already closed
    }
  }
}
