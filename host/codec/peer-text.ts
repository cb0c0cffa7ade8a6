// A peer as text in messages (WinsockError.peer, the registry's errors): the one spelling used on
// every path, so that the same peer reads the same whether it was given as text, as an rinfo, as
// bytes, or registered by PeerRegistry or DgramGuard. It is the sockaddr as the native call got it:
// `192.0.2.1:500`, `[2001:db8::1]:500`, `[fe80::1%7]:500` (canonical address text, RFC 5952 for
// IPv6; the scope id as a numeric zone when it is not 0; no flow info).
import * as L from '../generated/layout.js';
import { formatIPv4, formatIPv6 } from './address.js';

/**
 * A peer's canonical address text (as formatIPv4/formatIPv6 write it), port and scope id as the
 * one peer text. IPv6 when the address holds a ':'.
 */
export function peerText(address: string, port: number, scopeId = 0): string {
  if (!address.includes(':')) return `${address}:${port}`;
  return `[${address}${scopeId ? `%${scopeId >>> 0}` : ''}]:${port}`;
}

/**
 * The peer text of the sockaddr at `at` in `bytes` (a PeerAddress: 0 within a sockaddr, or
 * L.OFFSET_PEER within a SOCKET_PEER_TARGET_NAME record); undefined when it is neither AF_INET nor
 * AF_INET6 (no peer, e.g. a stream socket's all-zero PeerAddress) or the view is too short.
 */
export function sockaddrText(bytes: Uint8Array, at = 0): string | undefined {
  if (bytes.byteLength < at + 2) return undefined;
  const family = bytes[at] | (bytes[at + 1] << 8);
  const port = (bytes[at + L.SIN_PORT] << 8) | bytes[at + L.SIN_PORT + 1];
  if (family === L.AF_INET && bytes.byteLength >= at + L.SIZEOF_SOCKADDR_IN) {
    return peerText(formatIPv4(bytes, at + L.SIN_ADDR), port);
  }
  if (family === L.AF_INET6 && bytes.byteLength >= at + L.SIZEOF_SOCKADDR_IN6) {
    const s = at + L.SIN6_SCOPE_ID;
    const scopeId = (bytes[s] | (bytes[s + 1] << 8) | (bytes[s + 2] << 16) | (bytes[s + 3] << 24)) >>> 0;
    return peerText(formatIPv6(bytes, at + L.SIN6_ADDR), port, scopeId);
  }
  return undefined;
}
