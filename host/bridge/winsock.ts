// What a failed native call raises: the Winsock error WSAGetLastError gave, on the thread that
// made the call, with the call, the socket and the peer it was about.
import { textOf, winsockName, type WinsockErrorName } from '../codec/errors.js';
import * as L from '../generated/layout.js';

export type SocketHandle = number | bigint;

/** What each documented error means for these calls (docs/reference.md §3, the seed's reference page). */
const MEANINGS: Record<WinsockErrorName, string> = {
  WSAEFAULT: 'no buffer, or a bad pointer, was passed',
  WSAEINVAL: 'an invalid parameter: the socket is not SOCK_STREAM/SOCK_DGRAM, or for a connectionless socket the peer address or port is zero, or the target name is refused',
  WSAENOTSOCK: 'the handle is not a socket',
  WSAEMSGSIZE: 'the buffer is too small for the struct it claims to hold',
  WSAEAFNOSUPPORT: 'the address family is neither AF_INET nor AF_INET6',
  WSAENOBUFS: 'no buffer space is available',
  WSAEISCONN: 'the socket is already connected: name the peer before WSAConnect or the first WSASendTo',
};

export interface WinsockErrorDetails {
  call: string;
  socket: SocketHandle;
  /** The peer the call was about, as text, when there was one. */
  peer?: string;
}

/** A handle as text: a number or bigint as String() spells it, anything else by textOf. */
const socketText = (socket: unknown) => (typeof socket === 'number' || typeof socket === 'bigint' ? String(socket) : textOf(socket));

export class WinsockError extends Error {
  /** e.g. `'WSAEISCONN'`; `'WSA' + errno` for a code this package does not name. */
  readonly code: WinsockErrorName | `WSA${number}`;
  readonly errno: number;
  /** The native function that failed, e.g. `'WSASetSocketPeerTargetName'`. */
  readonly call: string;
  readonly socket: SocketHandle;
  readonly peer?: string;

  constructor(errno: number, details: WinsockErrorDetails) {
    const name = winsockName(errno);
    const code = name ?? (`WSA${errno}` as const);
    const about = details.peer !== undefined ? `, peer ${details.peer}` : '';
    const meaning = name ? MEANINGS[name] : 'an error this package does not document';
    // textOf: a socket that is not one may be anything (Object.create(null), a throwing valueOf).
    super(`${code} (${errno}): ${details.call}(socket ${socketText(details.socket)}${about}) failed: ${meaning}`);
    this.name = 'WinsockError';
    this.code = code;
    this.errno = errno;
    this.call = details.call;
    this.socket = details.socket;
    if (details.peer !== undefined) this.peer = details.peer;
  }
}

/**
 * A handle koffi can pass as a pointer-sized SOCKET, or a WSAENOTSOCK error before any call: for
 * anything else whatever it is (a symbol, Object.create(null), a revoked Proxy); nothing of the
 * value's own code runs.
 */
export function checkSocket(socket: unknown, call: string): SocketHandle {
  if (typeof socket === 'bigint' ? socket >= 0n && socket < 1n << 64n :
    typeof socket === 'number' && Number.isSafeInteger(socket) && socket >= 0) {
    return socket as SocketHandle;
  }
  throw new WinsockError(L.WSAENOTSOCK, { call, socket: socket as SocketHandle });
}
