// Typed errors: every rule the codec or the host enforces surfaces as a PeerTargetNameError that
// names the Winsock code, the field and the value, in a message a person can act on.
import * as L from '../generated/layout.js';
import { wordReason, type ReasonContext } from './reason-messages.js';

export type { ReasonContext } from './reason-messages.js';

/** Winsock error names and numbers (docs/reference.md §3), from the shared layout. */
export const WINSOCK_ERRORS = Object.freeze({
  WSAEFAULT: L.WSAEFAULT,
  WSAEINVAL: L.WSAEINVAL,
  WSAENOTSOCK: L.WSAENOTSOCK,
  WSAEMSGSIZE: L.WSAEMSGSIZE,
  WSAEAFNOSUPPORT: L.WSAEAFNOSUPPORT,
  WSAENOBUFS: L.WSAENOBUFS,
  WSAEISCONN: L.WSAEISCONN,
});
export type WinsockErrorName = keyof typeof WINSOCK_ERRORS;

const NAME_BY_ERRNO = new Map<number, WinsockErrorName>(
  Object.entries(WINSOCK_ERRORS).map(([name, errno]) => [errno, name as WinsockErrorName]),
);

export function winsockName(errno: number): WinsockErrorName | undefined {
  return NAME_BY_ERRNO.get(errno);
}

export interface PeerTargetNameErrorDetails {
  /** The offending value, as given or as read from the buffer. */
  value?: unknown;
  /** The codec's reason number (errno * 256 + serial), when the codec raised it. */
  reason?: number;
  /** For problems found in a buffer: the bytes the problem is about. */
  offset?: number;
  length?: number;
  /** What was thrown while reading the value (a getter, a Proxy trap), when that is the problem. */
  cause?: unknown;
}

/**
 * Any value as text for a message, without running the caller's code (no toString, valueOf or
 * toJSON: those can throw, or re-enter the codec) and without throwing: primitives as String()
 * spells them (a bigint with its n), objects by their kind.
 */
export function textOf(value: unknown): string {
  switch (typeof value) {
    case 'string': return value;
    case 'bigint': return `${value}n`;
    case 'symbol': return String(value);
    case 'function': return 'a function';
    case 'object':
      if (value === null) return 'null';
      try {
        if (Array.isArray(value)) return 'an array';
      } catch {
        return 'a revoked proxy';
      }
      return 'an object';
    default: return String(value); // number, boolean, undefined
  }
}

/** Like textOf, with strings quoted (JSON.stringify of a string runs no caller code). */
export function quotedOf(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : textOf(value);
}

/** A data property's value, on the object or its prototypes (an accessor is never called). */
function dataProperty(object: object, key: string): unknown {
  for (let o: object | null = object, depth = 0; o !== null && depth < 8; o = Object.getPrototypeOf(o) as object | null, depth++) {
    const descriptor = Object.getOwnPropertyDescriptor(o, key);
    if (descriptor !== undefined) return 'value' in descriptor ? descriptor.value : undefined;
  }
  return undefined;
}

/** What a getter or trap threw, for a message (read without running the thrower's code again). */
export function thrownText(cause: unknown): string {
  try {
    if (cause !== null && typeof cause === 'object') {
      const name = dataProperty(cause, 'name');
      const message = dataProperty(cause, 'message');
      if (typeof message === 'string') return `${typeof name === 'string' ? name : 'Error'}${message ? `: ${message}` : ''}`;
    }
    return quotedOf(cause);
  } catch {
    return 'a value that cannot be shown'; // a Proxy whose traps throw
  }
}

/** A value that breaks a rule of the struct or of WSASetSocketPeerTargetName. */
export class PeerTargetNameError extends Error {
  /** The Winsock error this maps to, e.g. `'WSAEINVAL'`. */
  readonly code: WinsockErrorName;
  /** Its number, e.g. 10022. */
  readonly errno: number;
  /** The field at fault, e.g. `'peer.port'`. */
  readonly field: string;
  // Declared, not initialised: optional details exist only when they apply.
  declare readonly value?: unknown;
  declare readonly reason?: number;
  declare readonly offset?: number;
  declare readonly length?: number;

  constructor(code: WinsockErrorName, field: string, text: string, details: PeerTargetNameErrorDetails = {}) {
    super(`${code}: ${field}: ${text}`, 'cause' in details ? { cause: details.cause } : undefined);
    this.name = 'PeerTargetNameError';
    this.code = code;
    this.errno = WINSOCK_ERRORS[code];
    this.field = field;
    const self = this as { -readonly [K in keyof PeerTargetNameError]: PeerTargetNameError[K] };
    if ('value' in details) self.value = details.value;
    if (details.reason !== undefined) self.reason = details.reason;
    if (details.offset !== undefined) self.offset = details.offset;
    if (details.length !== undefined) self.length = details.length;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      errno: this.errno,
      field: this.field,
      message: this.message,
      ...(this.offset !== undefined ? { offset: this.offset, length: this.length } : {}),
    };
  }
}

/**
 * Turns a codec reason and detail into the error, with the context the host knows. The words are
 * the shared table's (reason-messages.ts), and so is the field, in SOCKET_PEER_TARGET_NAME's terms.
 */
export function reasonError(reason: number, detail: number, context: ReasonContext): PeerTargetNameError {
  const code = winsockName(reason >> L.REASON_SHIFT);
  const words = wordReason(reason, detail, context);
  if (code === undefined || words === undefined) {
    // Only a codec/host mismatch gets here; say so rather than invent a message.
    return new PeerTargetNameError('WSAEINVAL', 'codec', `unknown codec reason ${reason} (detail ${detail})`, { reason });
  }
  const [field, text, value] = words;
  return new PeerTargetNameError(code, field, text, {
    value, reason, offset: context.offset, length: context.length,
  });
}

/** An offset that is not one within a target of `total` bytes (encodePeerTargetNameInto). */
export function offsetError(offset: unknown, total: number): PeerTargetNameError {
  return new PeerTargetNameError('WSAEINVAL', 'offset', `${textOf(offset)} is not an offset within the target (0 to ${total})`, { value: offset });
}
