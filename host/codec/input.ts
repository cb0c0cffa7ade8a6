// Reading one input object: every field exactly once, in a fixed order, into a snapshot of plain
// values, before anything of the record is in the codec's memory. The caller's getters and Proxy
// traps run only in read(), so one that re-enters the codec can neither see nor change a record in
// progress. Also the errors of a record's input (host-side shape errors, and the codec's reasons
// worded with what the input held).
import * as L from '../generated/layout.js';
import { PeerTargetNameError, quotedOf, reasonError, textOf, thrownText, type ReasonContext } from './errors.js';
import { isU32 } from './numbers.js';
import { protocolNumber } from './protocols.js';
import type { ResolvedOptions, ZoneResolver } from './options.js';
import { isArrayBuffer, isSharedArrayBuffer, typedArrayKind } from './views.js';
import type { PeerObject, PeerTargetNameInput } from './types.js';

/** The FLAG_FAMILY_* bit a peer object's `family` asks for: 0 when absent, undefined when it names no family. */
export function familyFlag(family: unknown): number | undefined {
  switch (family) {
    case undefined: case null: return 0;
    case 'IPv4': case 'ipv4': case 4: case L.AF_INET: return L.FLAG_FAMILY_IPV4;
    case 'IPv6': case 'ipv6': case 6: case L.AF_INET6: return L.FLAG_FAMILY_IPV6;
    default: return undefined;
  }
}

/** The field each step of readInput() reads, for the error when a getter throws. */
const READ_FIELDS = ['protocol', 'peer', 'peer.address', 'peer.port', 'peer.family', 'peer.flowInfo', 'peer.scopeId', 'targetName'];

function notAnInput(input: unknown, got: string): PeerTargetNameError {
  return new PeerTargetNameError('WSAEFAULT', 'input', `expected an input object { protocol, peer, targetName }, got ${got}`, { value: input });
}

/** What an object that is no input object is (an array, a buffer, a view, a Map or Set); undefined otherwise. Never throws. */
function objectKind(value: object): string | undefined {
  try {
    if (Array.isArray(value)) return 'an array';
    const typed = typedArrayKind(value);
    if (typed !== undefined) return `a ${typed}`;
    if (ArrayBuffer.isView(value)) return 'a DataView';
    if (isArrayBuffer(value)) return 'an ArrayBuffer';
    if (isSharedArrayBuffer(value)) return 'a SharedArrayBuffer';
    if (value instanceof Map) return 'a Map';
    if (value instanceof Set) return 'a Set';
  } catch {
    return 'a revoked proxy';
  }
  return undefined;
}

const NUMERIC_ZONE = /^[0-9]+$/;

/**
 * The peer text with a named zone (`fe80::1%eth0`, `[fe80::1%eth0]:500`) replaced by its interface
 * index, as the host's resolver gives it; the text unchanged when the zone is numeric, empty or
 * absent (the codec's to judge). A name the resolver does not know is WSAEINVAL naming the zone.
 */
function numericZone(text: string, bracketed: boolean, resolveZone: ZoneResolver): string | PeerTargetNameError {
  const percent = text.indexOf('%');
  let end = text.length;
  if (bracketed) {
    end = text.indexOf(']', percent);
    if (end < 0) return text; // not '[address]:port': the codec says so
  }
  const zone = text.slice(percent + 1, end);
  if (zone === '' || NUMERIC_ZONE.test(zone)) return text;
  let index: unknown;
  try {
    index = resolveZone(zone);
  } catch (cause) {
    return new PeerTargetNameError('WSAEINVAL', 'peer.address',
      `the zone ${JSON.stringify(zone)} in ${JSON.stringify(text)} could not be looked up: ${thrownText(cause)}`, { value: zone, cause });
  }
  if (!isU32(index) || index === 0) {
    return new PeerTargetNameError('WSAEINVAL', 'peer.address',
      `the zone ${JSON.stringify(zone)} in ${JSON.stringify(text)} is no network interface of this host ` +
      '(a zone is an interface name, or its index, e.g. %2)', { value: zone });
  }
  return text.slice(0, percent + 1) + index + text.slice(end);
}

/** The error for a codec reason about one record, with what its input held (never read again). */
export function recordError(reason: number, detail: number, options: ResolvedOptions, flags: number, peer: string | undefined,
  port: number, scope: number, name: string | undefined): PeerTargetNameError {
  const context: ReasonContext = { maxTargetNameLength: options.maxTargetNameLength, targetName: name };
  const kind = flags & L.FLAG_PEER_MASK;
  if (kind === L.PEER_TEXT) {
    context.peerText = peer;
  } else if (kind === L.PEER_FIELDS) {
    context.peerText = peer;
    context.peerIsObject = true;
    context.port = port;
    if (flags & L.FLAG_SCOPE_GIVEN) context.scopeId = scope;
  }
  return reasonError(reason, detail, context);
}

/**
 * The snapshot of the input read last: plain values, assigned only once every read of the input is
 * done. Fields, not a returned object: nothing is allocated on the single-record path.
 */
export class InputSnapshot {
  protocol = 0;
  /** The input record's flags word: PEER_* | FLAG_FAMILY_* | FLAG_SCOPE_GIVEN. */
  flags = 0;
  port = 0;
  flow = 0;
  scope = 0;
  /** The peer as the caller gave it (its text, or the object's address), for messages. */
  peer: string | undefined;
  /** The peer text the codec reads (a named zone translated, cut one past the longest accepted). */
  text: string | undefined;
  name = '';

  /**
   * Reads one input exactly once (protocol, peer and its fields, targetName, in that order) into
   * the snapshot, checks its shape, and translates a named zone when the options say how. Returns
   * the host-side error for inputs of the wrong shape (which the codec never sees): a getter that
   * throws is WSAEFAULT naming the field it guards, with what it threw as the cause.
   */
  read(input: unknown, resolveZone: ZoneResolver | null | undefined): PeerTargetNameError | undefined {
    if (input === null || typeof input !== 'object') return notAnInput(input, input === null ? 'null' : typeof input);
    // Every read first, into locals.
    let step = 0;
    let p: unknown, peer: unknown, address: unknown, port: unknown, family: unknown, flowInfo: unknown, scopeId: unknown, name: unknown;
    try {
      p = (input as PeerTargetNameInput).protocol;
      step = 1;
      peer = (input as PeerTargetNameInput).peer;
      if (peer !== null && typeof peer === 'object') {
        step = 2;
        address = (peer as PeerObject).address;
        step = 3;
        port = (peer as PeerObject).port;
        step = 4;
        family = (peer as PeerObject).family;
        step = 5;
        flowInfo = (peer as PeerObject).flowInfo;
        step = 6;
        scopeId = (peer as PeerObject).scopeId;
      }
      step = 7;
      name = (input as PeerTargetNameInput).targetName;
    } catch (cause) {
      return new PeerTargetNameError('WSAEFAULT', READ_FIELDS[step], `reading it threw ${thrownText(cause)}`, { cause });
    }
    // Then the checks, on plain values (messages never run the caller's code: textOf, quotedOf).
    let protocol: number;
    if (typeof p === 'string') {
      protocol = protocolNumber(p);
    } else {
      protocol = isU32(p) ? p : -1;
    }
    if (protocol < 0) {
      // Not an input object at all (an array, a buffer, a Map) rather than a bad protocol.
      const kind = p === undefined ? objectKind(input) : undefined;
      if (kind !== undefined) return notAnInput(input, kind);
      return new PeerTargetNameError('WSAEINVAL', 'protocol',
        `${quotedOf(p)} is not a protocol: use 'default', 'ipsec', 'ipsec2' or 0-2`, { value: p });
    }
    let flags: number;
    let text: string | undefined;
    let portNumber = 0;
    let flow = 0;
    let scope = 0;
    if (peer === undefined || peer === null) {
      flags = L.PEER_NONE;
    } else if (typeof peer === 'string') {
      flags = L.PEER_TEXT;
      text = peer;
    } else if (typeof peer === 'object') {
      if (typeof address !== 'string') {
        return new PeerTargetNameError('WSAEINVAL', 'peer.address', `expected an IP address string, got ${typeof address}`, { value: address });
      }
      if (!isU32(port)) {
        const text = typeof port === 'string'
          ? `port must be a number, got the string '${port}' (${port} is not a port: a port is a number from 1 to 65535)`
          : `${textOf(port)} is not a port: a port is 1 to 65535`;
        return new PeerTargetNameError('WSAEINVAL', 'peer.port', text, { value: port });
      }
      const flag = familyFlag(family);
      if (flag === undefined) {
        return new PeerTargetNameError('WSAEAFNOSUPPORT', 'peer.family',
          `${quotedOf(family)} is not an address family: use 'IPv4' or 'IPv6'`, { value: family });
      }
      if (flowInfo === undefined) flowInfo = 0;
      if (!isU32(flowInfo)) {
        return new PeerTargetNameError('WSAEINVAL', 'peer.flowInfo', `${textOf(flowInfo)} is not a 32-bit unsigned flow label`, { value: flowInfo });
      }
      if (scopeId !== undefined && !isU32(scopeId)) {
        return new PeerTargetNameError('WSAEINVAL', 'peer.scopeId', `${textOf(scopeId)} is not a 32-bit unsigned interface index`, { value: scopeId });
      }
      flags = L.PEER_FIELDS | flag | (scopeId !== undefined ? L.FLAG_SCOPE_GIVEN : 0);
      portNumber = port;
      flow = flowInfo;
      scope = scopeId ?? 0;
      text = address;
    } else {
      return new PeerTargetNameError('WSAEINVAL', 'peer',
        `expected 'address:port' or { address, port }, got ${typeof peer}`, { value: peer });
    }
    if (typeof name !== 'string') {
      return new PeerTargetNameError('WSAEINVAL', 'targetName', `expected a string, got ${typeof name}`, { value: name });
    }
    let codecText = text;
    if (resolveZone && text !== undefined && text.indexOf('%') >= 0) {
      const numeric = numericZone(text, flags === L.PEER_TEXT, resolveZone);
      if (typeof numeric !== 'string') return numeric;
      codecText = numeric;
    }
    // Peer text is moved in up to one character past the longest the codec accepts, so it can say so.
    if (codecText !== undefined && codecText.length > L.MAX_PEER_TEXT_LENGTH + 1) codecText = codecText.slice(0, L.MAX_PEER_TEXT_LENGTH + 1);
    // The snapshot, last: nothing of the caller's runs after this.
    this.protocol = protocol;
    this.flags = flags;
    this.port = portNumber;
    this.flow = flow;
    this.scope = scope;
    this.peer = text;
    this.text = codecText;
    this.name = name;
    return undefined;
  }

  /** Writes the snapshot's numeric fields into the input record at u32 index r (strings: see strings.ts). */
  write(u32: Uint32Array, r: number): void {
    u32[r + L.W_IN_PROTOCOL] = this.protocol;
    u32[r + L.W_IN_FLAGS] = this.flags;
    u32[r + L.W_IN_PORT] = this.port;
    u32[r + L.W_IN_FLOWINFO] = this.flow;
    u32[r + L.W_IN_SCOPE_ID] = this.scope;
    u32[r + L.W_IN_NAME_LENGTH] = this.name.length;
  }

  /**
   * The peer of the input read last (by encode, encodeInPlace or encodePeer), as text for a
   * message: as given, or `address:port` (`[address]:port` for IPv6) for an object. From the
   * snapshot: the caller's object is not read again.
   */
  peerText(): string | undefined {
    const kind = this.flags & L.FLAG_PEER_MASK;
    const peer = this.peer;
    if (kind === L.PEER_NONE || peer === undefined) return undefined;
    if (kind === L.PEER_TEXT) return peer;
    return peer.includes(':') ? `[${peer}]:${this.port}` : `${peer}:${this.port}`;
  }

  /** The error for a codec reason about the snapshot's record. */
  error(reason: number, detail: number, options: ResolvedOptions): PeerTargetNameError {
    return recordError(reason, detail, options, this.flags, this.peer, this.port, this.scope, this.name);
  }
}
