// socketHandle(socket): the SOCKET (Windows) or descriptor (POSIX) behind a bound dgram.Socket,
// found the same way everywhere through Node's exported libuv: walk the thread's loop, take each
// UDP handle's uv_fileno, and keep the one whose getsockname is this socket's address(). Nothing
// private of Node's is read (no `_handle`, no symbol-keyed state).
import type dgram from 'node:dgram';
import { isMainThread } from 'node:worker_threads';
import { sharedCodec } from '../../codec/codec.js';
import { resolveOptions } from '../../codec/options.js';
import { nodeLibuv } from './libuv.js';
import { systemSockets, type LocalAddress } from './system.js';
import type { SocketHandle } from '../winsock.js';

export type SocketHandleProblem = 'not-bound' | 'no-loop' | 'not-found' | 'ambiguous' | 'unsupported';

/** The socket's native handle cannot be told for certain: never a guess. */
export class SocketHandleError extends Error {
  readonly problem: SocketHandleProblem;
  constructor(problem: SocketHandleProblem, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SocketHandleError';
    this.problem = problem;
  }
}

const STREAM = resolveOptions({ socketType: 'stream' });

/** What getsockname must say for this socket: its address() in the same terms. */
function expectedAddress(socket: dgram.Socket): LocalAddress {
  let local: { address: string; port: number; family: string };
  try {
    local = socket.address();
  } catch (cause) {
    // Node says the same for a socket not yet bound and one already closed.
    throw new SocketHandleError('not-bound', 'the socket is not bound (or already closed): call socketHandle() after it emits \'listening\' and before close()', { cause });
  }
  // Node may name a zone (fe80::1%eth0); the address bytes and the port identify the socket.
  const address = local.address.replace(/%.*$/, '');
  const storage = sharedCodec().encodePeer({ address, port: local.port }, STREAM);
  const v6 = local.family === 'IPv6' || (local.family as unknown) === 6;
  return {
    family: v6 ? 'ipv6' : 'ipv4',
    port: local.port,
    address: v6 ? storage.slice(8, 24) : storage.slice(4, 8),
    scopeId: 0,
  };
}

function sameAddress(a: LocalAddress, b: LocalAddress): boolean {
  if (a.family !== b.family || a.port !== b.port || a.address.length !== b.address.length) return false;
  for (let i = 0; i < a.address.length; i++) if (a.address[i] !== b.address[i]) return false;
  return true;
}

/**
 * The native handle of a bound dgram socket: a SOCKET on Windows, a file descriptor elsewhere,
 * ready for Bridge calls. Works on the main thread and, where Node exports its loop lookup, on a
 * worker for the worker's own sockets.
 * @throws SocketHandleError when the socket is not bound, or its handle cannot be told for certain.
 */
export function socketHandle(socket: dgram.Socket): SocketHandle {
  const want = expectedAddress(socket);
  let libuv;
  try {
    libuv = nodeLibuv();
  } catch (cause) {
    throw new SocketHandleError('unsupported', `Node's libuv could not be reached through koffi on ${process.platform} (${process.arch}): ${(cause as Error).message}`, { cause });
  }
  const loop = libuv.currentLoop();
  if (loop === undefined) {
    throw new SocketHandleError('no-loop',
      `this worker thread's event loop cannot be found (this Node build exports no node::GetCurrentEventLoop), ` +
      'and the main thread\'s would give another thread\'s sockets. Call socketHandle() on the main thread, ' +
      'or pass the handle you got there (DgramGuard option `handle`).');
  }
  const system = systemSockets();
  const matches: SocketHandle[] = [];
  for (const handle of libuv.udpHandles(loop)) {
    const native = libuv.fileno(handle);
    if (native === undefined) continue;
    const got = system.localAddress(native);
    if (got && sameAddress(got, want)) matches.push(native);
  }
  if (matches.length === 1) return matches[0];
  // The address as Node spells it (zone included), for the message only.
  const { address } = socket.address();
  const where = `${want.family === 'ipv6' ? `[${address}]` : address}:${want.port}`;
  if (matches.length === 0) {
    throw new SocketHandleError('not-found',
      `no UDP handle on this thread's loop is bound to ${where}${isMainThread ? '' : ' (a socket made on another thread lives on that thread\'s loop)'}`);
  }
  throw new SocketHandleError('ambiguous',
    `${matches.length} UDP sockets on this thread are bound to ${where} (reuseAddr): which one is this socket's cannot be told, ` +
    'so no handle is returned. Give each socket its own address or port, or pass the handle (DgramGuard option `handle`).');
}
