// createSecureSocket: an ordinary dgram.Socket whose native socket was made, given
// WSASetSocketSecurity, and only then bound, the order Microsoft documents for a UDP server
// (security "immediately after socket()", before bind). Node binds in the same call that creates
// the socket (uv_udp_bind), so the socket is made here and handed to Node afterwards: on Windows
// through uv_udp_open on the dgram socket's fresh, unbound libuv handle (Node's own bind() then
// finds it bound and only starts listening); on POSIX through Node's public bind({ fd }).
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { sharedCodec } from '../../codec/codec.js';
import { resolveOptions } from '../../codec/options.js';
import { openBridge, type Bridge } from '../native-bridge.js';
import type { SocketSecuritySettingsInput } from '../../codec/security.js';
import type { SocketHandle } from '../winsock.js';
import { nodeLibuv } from './libuv.js';
import { SocketHandleError } from './socket-handle.js';
import { systemSockets, SystemSocketError } from './system.js';

export interface SecureSocketOptions {
  type: 'udp4' | 'udp6';
  /** An IP literal (no name lookup: the socket is bound before Node sees it). Default: any address. */
  address?: string;
  /** Default 0: a free port. */
  port?: number;
  /**
   * SOCKET_SECURITY_SETTINGS for WSASetSocketSecurity, called between socket() and bind(): an
   * object or encoded bytes, or null for the system's default settings (a NULL pointer). Absent:
   * the call is not made and the socket is an ordinary one.
   */
  security?: SocketSecuritySettingsInput | Uint8Array | null;
  /** The bridge that calls WSASetSocketSecurity (default: openBridge(), when `security` is given). */
  bridge?: Bridge;
  /** SO_REUSEADDR, as dgram's option. */
  reuseAddr?: boolean;
  /** IPV6_V6ONLY for udp6 (default false: dual stack, as Node's default). */
  ipv6Only?: boolean;
  recvBufferSize?: number;
  sendBufferSize?: number;
}

const STREAM = resolveOptions({ socketType: 'stream' });

function checkOptions(options: SecureSocketOptions): { address: string; port: number } {
  if (options === null || typeof options !== 'object') throw new TypeError('createSecureSocket expects an options object');
  const { type, port = 0 } = options;
  if (type !== 'udp4' && type !== 'udp6') throw new TypeError(`options.type must be 'udp4' or 'udp6', not ${JSON.stringify(type)}`);
  const address = options.address ?? (type === 'udp4' ? '0.0.0.0' : '::');
  const version = isIP(address.replace(/%.*$/, ''));
  if (version !== (type === 'udp4' ? 4 : 6)) {
    throw new TypeError(`options.address must be an IPv${type === 'udp4' ? 4 : 6} literal for ${type} (the socket is bound before Node could look a name up), not ${JSON.stringify(address)}`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`options.port must be an integer from 0 to 65535, not ${String(port)}`);
  return { address, port };
}

/** Makes, secures and binds the native socket; closes it if any step fails. */
function nativeSocket(options: SecureSocketOptions, address: string, port: number): SocketHandle {
  const system = systemSockets();
  const v6 = options.type === 'udp6';
  const native = system.open(v6 ? 'ipv6' : 'ipv4');
  try {
    if (options.reuseAddr) system.setOption(native, 'socket', 'reuseaddr', true);
    if (v6) system.setOption(native, 'ipv6', 'v6only', options.ipv6Only === true);
    if (options.security !== undefined) (options.bridge ?? openBridge()).setSocketSecurity(native, options.security);
    const storage = sharedCodec().encodePeer({ address, port }, STREAM);
    try {
      system.bind(native, storage);
    } catch (error) {
      if (error instanceof SystemSocketError) Object.assign(error, { address, port });
      throw error;
    }
  } catch (error) {
    system.close(native);
    throw error;
  }
  return native;
}

/** nativeSocket() for a dgram socket made just before: closes that socket too if it fails. */
function nativeSocketFor(socket: dgram.Socket, options: SecureSocketOptions, address: string, port: number): SocketHandle {
  try {
    return nativeSocket(options, address, port);
  } catch (error) {
    socket.close();
    throw error;
  }
}

function dgramOptions(options: SecureSocketOptions): dgram.SocketOptions {
  const out: dgram.SocketOptions = { type: options.type };
  if (options.recvBufferSize !== undefined) out.recvBufferSize = options.recvBufferSize;
  if (options.sendBufferSize !== undefined) out.sendBufferSize = options.sendBufferSize;
  return out;
}

/** Windows: the dgram socket's own libuv handle takes the native socket before Node's bind(). */
interface Adopted {
  socket: dgram.Socket;
  /** Node's bind(); it may emit 'listening' before it returns (bind({ fd }) does). */
  bind(): void;
}

function adoptOnWindows(options: SecureSocketOptions, address: string, port: number): Adopted {
  const libuv = nodeLibuv();
  const loop = libuv.currentLoop();
  if (loop === undefined) {
    throw new SocketHandleError('no-loop', "this worker thread's event loop cannot be found; call createSecureSocket() on the main thread");
  }
  // The handle libuv made for the new dgram.Socket is the UDP handle that was not there before.
  const before = new Set(libuv.udpHandles(loop).map((h) => h.address));
  const socket = dgram.createSocket(dgramOptions(options));
  const fresh = libuv.udpHandles(loop).filter((h) => !before.has(h.address));
  if (fresh.length !== 1) {
    socket.close();
    throw new SocketHandleError('not-found', `creating the dgram socket added ${fresh.length} UDP handles to the loop, not 1: its handle cannot be told for certain`);
  }
  const native = nativeSocketFor(socket, options, address, port);
  const rc = libuv.udpOpen(fresh[0], native);
  if (rc !== 0) {
    systemSockets().close(native);
    socket.close();
    throw new SystemSocketError('uv_udp_open', rc, `libuv error ${rc}`);
  }
  // libuv owns the socket now: socket.close() closes it, once. Node's bind finds it bound.
  return { socket, bind: () => socket.bind({ address, port, exclusive: true }) };
}

/** POSIX: Node's public way to adopt a descriptor. */
function adoptOnPosix(options: SecureSocketOptions, address: string, port: number): Adopted {
  // First: createSocket validates Node's own options (buffer sizes) and may throw, before the
  // native socket exists.
  const socket = dgram.createSocket(dgramOptions(options));
  const native = nativeSocketFor(socket, options, address, port);
  return {
    socket,
    bind() {
      try {
        socket.bind({ fd: Number(native), exclusive: true });
      } catch (error) {
        // Not adopted (refused before uv_udp_open, or it failed): still ours to close. Adopted (a
        // later step threw, e.g. a buffer size libuv refuses): socket.close() closes it, once.
        if (!holdsDescriptor(socket)) systemSockets().close(native);
        throw error;
      }
    },
  };
}

/** Whether Node's handle has a socket: address() (getsockname on it) works only then. */
function holdsDescriptor(socket: dgram.Socket): boolean {
  try {
    socket.address();
    return true;
  } catch {
    return false;
  }
}

/**
 * A dgram.Socket whose native socket had WSASetSocketSecurity before it was bound. Resolves once
 * it is listening; from then on it is an ordinary Node socket (send, 'message', address(), close()).
 * @throws TypeError/RangeError for bad options; PeerTargetNameError for bad security settings;
 *   WinsockError when WSASetSocketSecurity fails; SystemSocketError (code, errno, syscall) when
 *   socket() or bind() fails; SocketHandleError where Node's handle cannot be found.
 */
export async function createSecureSocket(options: SecureSocketOptions): Promise<dgram.Socket> {
  const { address, port } = checkOptions(options);
  const { socket, bind } = process.platform === 'win32' ? adoptOnWindows(options, address, port) : adoptOnPosix(options, address, port);
  try {
    await new Promise<void>((resolve, reject) => {
      const listening = () => { socket.off('error', failed); resolve(); };
      const failed = (error: Error) => { socket.off('listening', listening); reject(error); };
      socket.once('listening', listening);
      socket.once('error', failed);
      bind();
    });
  } catch (error) {
    socket.close();
    throw error;
  }
  return socket;
}
