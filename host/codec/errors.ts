// Typed errors: every rule the codec or the host enforces surfaces as a PeerTargetNameError that
// names the Winsock code, the field and the value, in a message a person can act on.
import * as L from '../generated/layout.js';
import { addressPart, ipv4Hint, peerSyntaxHint } from './peer-hints.js';

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

/** What the host knows when it turns a codec reason into words. */
export interface ReasonContext {
  /** The peer as the caller gave it (text or address), for encode errors. */
  peerText?: string;
  /** The peer was an object, so its text is `peer.address` rather than all of `peer`. */
  peerIsObject?: boolean;
  port?: number;
  scopeId?: number;
  targetName?: string;
  maxTargetNameLength: number;
  /** For decode errors: the buffer's length and the unit the string length was read in. */
  bufferLength?: number;
  lengthUnit?: 'units' | 'bytes';
  offset?: number;
  length?: number;
}

const hex = (n: number, width: number) => '0x' + n.toString(16).padStart(width, '0');
const codePoint = (unit: number) => 'U+' + unit.toString(16).toUpperCase().padStart(4, '0');
const quote = (s: string | undefined) => JSON.stringify(s ?? '');

type Describe = (detail: number, c: ReasonContext) => [field: string, text: string, value?: unknown];

/** ADDRESS_SYNTAX in words: what is wrong with dotted IPv4 text (host/codec/peer-hints.ts), else that names are not resolved. */
function addressSyntax(peerText: string | undefined, isObject: boolean): string {
  const hint = peerText === undefined ? undefined : ipv4Hint(isObject ? peerText : addressPart(peerText));
  return `${quote(peerText)} is not an IPv4 or IPv6 address${hint !== undefined ? `: ${hint}` : ' (host names are not resolved)'}`;
}

// One entry per codec reason: the field it is about and the words. The code comes from the reason.
const REASONS = new Map<number, Describe>([
  [L.REASON_PROTOCOL_RANGE, (d) => ['protocol',
    `${d} is not a SOCKET_SECURITY_PROTOCOL: use 0 (default), 1 (ipsec) or 2 (ipsec2)`, d]],
  [L.REASON_PEER_MISSING, () => ['peer',
    'a dgram socket needs a peer address and port; only a stream socket may leave PeerAddress all zero']],
  [L.REASON_PEER_SYNTAX, (_d, c) => ['peer',
    `${quote(c.peerText)} is not 'address:port'${peerSyntaxHint(c.peerText ?? '')}`, c.peerText]],
  [L.REASON_PEER_TEXT_TOO_LONG, (d, c) => [c.peerIsObject ? 'peer.address' : 'peer',
    `${c.peerText?.length ?? d} characters is longer than any IP address and port can be (${L.MAX_PEER_TEXT_LENGTH} at most)`, c.peerText]],
  [L.REASON_ADDRESS_SYNTAX, (_d, c) => ['peer.address', addressSyntax(c.peerText, c.peerIsObject === true), c.peerText]],
  [L.REASON_ZONE_NAMED, (_d, c) => ['peer.address',
    `${quote(c.peerText)} has a named zone; only a numeric zone (an interface index, e.g. %7) fits in sin6_scope_id`,
    c.peerText]],
  [L.REASON_ZONE_RANGE, (_d, c) => ['peer.address',
    `the zone in ${quote(c.peerText)} is larger than 4294967295, the largest sin6_scope_id`, c.peerText]],
  [L.REASON_ZONE_CONFLICT, (d, c) => ['peer.scopeId',
    `scopeId ${c.scopeId} disagrees with the zone %${d} in the address ${quote(c.peerText)}`, c.scopeId]],
  [L.REASON_FLOWINFO_ON_IPV4, (d) => ['peer.flowInfo',
    `flowInfo ${d} is given for an IPv4 address; sockaddr_in has no flow information`, d]],
  [L.REASON_SCOPE_ON_IPV4, (d) => ['peer.scopeId',
    `scopeId ${d} is given for an IPv4 address; sockaddr_in has no scope id`, d]],
  [L.REASON_ADDRESS_UNSPECIFIED, (_d, c) => ['peer.address',
    `${c.peerText !== undefined ? quote(c.peerText) + ' is' : 'PeerAddress holds'} the unspecified address; ` +
    'a dgram peer must be an address one can send to', c.peerText]],
  [L.REASON_PORT_ZERO, () => ['peer.port', 'port 0 is not a valid peer port', 0]],
  [L.REASON_PORT_RANGE, (d, c) => ['peer.port',
    `${c.port !== undefined ? `port ${c.port}` : `the port in ${quote(c.peerText)}`} is out of range: a port is 1 to 65535`,
    c.port ?? c.peerText]],
  [L.REASON_FAMILY_MISMATCH, (d, c) => ['peer.family',
    `${quote(c.peerText)} is an ${d === L.AF_INET ? 'IPv4' : 'IPv6'} address, not of the family given`, c.peerText]],
  [L.REASON_FAMILY_UNSUPPORTED, (d) => ['peer.family',
    `address family ${d} is neither AF_INET (${L.AF_INET}) nor AF_INET6 (${L.AF_INET6}, Windows' number)`, d]],
  [L.REASON_NAME_EMPTY, () => ['targetName', 'the target name is empty; an SPN such as host/server.example.com is needed', '']],
  [L.REASON_NAME_NUL, (d) => ['targetName',
    `U+0000 at index ${d}: a target name cannot hold a NUL (Windows would read it as the end)`, d]],
  [L.REASON_NAME_SURROGATE, (d, c) => ['targetName',
    `unpaired surrogate${c.targetName !== undefined ? ' ' + codePoint(c.targetName.charCodeAt(d)) : ''} at index ${d}: ` +
    'a target name must be well-formed UTF-16', d]],
  [L.REASON_NAME_TOO_LONG, (d, c) => ['targetName',
    `${d} UTF-16 units is longer than the maximum of ${c.maxTargetNameLength} (option maxTargetNameLength)`, d]],
  [L.REASON_STRING_LENGTH_ODD, (d) => ['stringLength',
    `${d} is odd, but it counts bytes here and a UTF-16 string has an even number of bytes`, d]],
  [L.REASON_STRING_BEYOND_BUFFER, (d, c) => ['stringLength',
    `PeerTargetNameStringLen ${d} (${c.lengthUnit}) needs ` +
    `${L.OFFSET_STRINGS + (c.lengthUnit === 'bytes' ? d : d * 2)} bytes, but the buffer has ${c.bufferLength}`, d]],
  [L.REASON_BUFFER_SHORT, (d) => ['length',
    `${d} bytes is shorter than sizeof(SOCKET_PEER_TARGET_NAME), ${L.SIZEOF_PEER_TARGET_NAME}`, d]],
  [L.REASON_PADDING_NONZERO, (d, c) => ['padding',
    `byte ${c.offset} is ${hex(d, 2)}; the padding after SecurityProtocol must be zero`, d]],
  [L.REASON_PEER_SLACK_NONZERO, (d, c) => ['peer',
    `byte ${c.offset} is ${hex(d, 2)}; PeerAddress must be zero beyond its sockaddr (and in sin_zero)`, d]],
  [L.REASON_TAIL_NONZERO, (d, c) => ['tail',
    `byte ${c.offset} is ${hex(d, 2)}; the bytes after the target name must be zero (its NUL terminator)`, d]],
]);

/** Turns a codec reason and detail into the error, with the context the host knows. */
export function reasonError(reason: number, detail: number, context: ReasonContext): PeerTargetNameError {
  const code = winsockName(reason >> L.REASON_SHIFT);
  const describe = REASONS.get(reason);
  if (code === undefined || describe === undefined) {
    // Only a codec/host mismatch gets here; say so rather than invent a message.
    return new PeerTargetNameError('WSAEINVAL', 'codec', `unknown codec reason ${reason} (detail ${detail})`, { reason });
  }
  const [field, text, value] = describe(detail, context);
  return new PeerTargetNameError(code, field, text, {
    value, reason, offset: context.offset, length: context.length,
  });
}
