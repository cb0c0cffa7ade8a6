// The buffer field by field, as Windows will read it: the CLI's table and the preview page's
// colouring both come from here, so the two can never disagree about where a field lies.
import * as L from '../generated/layout.js';
import { PROTOCOL_NAMES } from './protocols.js';
import { toHex } from './hex.js';
import { formatIPv4, formatIPv6 } from './address.js';
import type { RawDecode } from './codec.js';
import type { PeerTargetNameError } from './errors.js';

export type FieldKind = 'field' | 'padding' | 'string' | 'tail';

export interface FieldRow {
  /** First byte of the field in the buffer. */
  offset: number;
  /** Bytes the field takes in the buffer (less than its declared size if the buffer is cut short). */
  size: number;
  /** The C name, e.g. `PeerAddress.sin6_scope_id`. */
  field: string;
  /** What the bytes mean, in words. */
  value: string;
  /** The field's bytes in lowercase hex. */
  hex: string;
  kind: FieldKind;
  /** Winsock codes of the problems that touch these bytes. */
  problems: string[];
}


function zeroOr(bytes: Uint8Array, words = 'zero'): string {
  return bytes.every((b) => b === 0) ? words : 'NOT ZERO';
}

export function describeFields(bytes: Uint8Array, raw: RawDecode, problems: readonly PeerTargetNameError[]): FieldRow[] {
  const rows: FieldRow[] = [];
  const add = (offset: number, declared: number, field: string, kind: FieldKind, value: (b: Uint8Array) => string) => {
    if (offset >= bytes.length) return;
    const size = Math.min(declared, bytes.length - offset);
    const b = bytes.subarray(offset, offset + size);
    const cut = size < declared ? ` (cut short: ${size} of ${declared} bytes)` : '';
    const touching = problems
      .filter((p) => p.offset !== undefined && p.offset < offset + size && p.offset + Math.max(1, p.length ?? 0) > offset)
      .map((p) => p.code);
    rows.push({ offset, size, field, value: (size < declared ? '?' : value(b)) + cut, hex: toHex(b), kind, problems: touching });
  };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  add(L.OFFSET_PROTOCOL, 4, 'SecurityProtocol', 'field', () => {
    const p = dv.getUint32(L.OFFSET_PROTOCOL, true);
    return `${p} (${PROTOCOL_NAMES[p] ?? 'not a SOCKET_SECURITY_PROTOCOL'})`;
  });
  add(L.OFFSET_PADDING, L.SIZE_PADDING, 'padding', 'padding', (b) => zeroOr(b, 'zero (alignment of PeerAddress)'));

  const peer = L.OFFSET_PEER;
  const family = raw.family;
  if (bytes.length >= peer + 2 && family === L.AF_INET) {
    add(peer + L.SIN_FAMILY, 2, 'PeerAddress.sin_family', 'field', () => `${L.AF_INET} (AF_INET)`);
    add(peer + L.SIN_PORT, 2, 'PeerAddress.sin_port', 'field', () => `${dv.getUint16(peer + L.SIN_PORT, false)} (big-endian)`);
    add(peer + L.SIN_ADDR, 4, 'PeerAddress.sin_addr', 'field', (b) => formatIPv4(b));
    add(peer + L.SIN_ZERO, 8, 'PeerAddress.sin_zero', 'padding', (b) => zeroOr(b));
    add(peer + L.SIZEOF_SOCKADDR_IN, L.SIZE_SOCKADDR_STORAGE - L.SIZEOF_SOCKADDR_IN, 'PeerAddress (rest of SOCKADDR_STORAGE)', 'padding', (b) => zeroOr(b));
  } else if (bytes.length >= peer + 2 && family === L.AF_INET6) {
    add(peer + L.SIN6_FAMILY, 2, 'PeerAddress.sin6_family', 'field', () => `${L.AF_INET6} (AF_INET6, Windows' number)`);
    add(peer + L.SIN6_PORT, 2, 'PeerAddress.sin6_port', 'field', () => `${dv.getUint16(peer + L.SIN6_PORT, false)} (big-endian)`);
    add(peer + L.SIN6_FLOWINFO, 4, 'PeerAddress.sin6_flowinfo', 'field', () => `${dv.getUint32(peer + L.SIN6_FLOWINFO, false)} (big-endian)`);
    add(peer + L.SIN6_ADDR, 16, 'PeerAddress.sin6_addr', 'field', (b) => formatIPv6(b));
    add(peer + L.SIN6_SCOPE_ID, 4, 'PeerAddress.sin6_scope_id', 'field', () => `${dv.getUint32(peer + L.SIN6_SCOPE_ID, true)} (little-endian interface index)`);
    add(peer + L.SIZEOF_SOCKADDR_IN6, L.SIZE_SOCKADDR_STORAGE - L.SIZEOF_SOCKADDR_IN6, 'PeerAddress (rest of SOCKADDR_STORAGE)', 'padding', (b) => zeroOr(b));
  } else if (bytes.length > peer) {
    const allZero = bytes.subarray(peer, peer + L.SIZE_SOCKADDR_STORAGE).every((b) => b === 0);
    if (allZero) {
      add(peer, L.SIZE_SOCKADDR_STORAGE, 'PeerAddress', 'field', () => 'all zero (no peer: allowed for a stream socket only)');
    } else {
      add(peer, 2, 'PeerAddress.ss_family', 'field', () => `${dv.getUint16(peer, true)} (not AF_INET or AF_INET6)`);
      add(peer + 2, L.SIZE_SOCKADDR_STORAGE - 2, 'PeerAddress (unknown family)', 'field', () => 'not interpreted');
    }
  }

  add(L.OFFSET_STRING_LENGTH, 4, 'PeerTargetNameStringLen', 'field', () => {
    const n = raw.stringLength;
    return `${n} (${raw.lengthUnit === 'bytes' ? 'bytes' : 'UTF-16 units'}: ${raw.nameUnits} unit${raw.nameUnits === 1 ? '' : 's'})`;
  });
  const nameBytes = Math.min(2 * raw.nameUnits, Math.max(0, bytes.length - L.OFFSET_STRINGS));
  if (nameBytes > 0) {
    add(L.OFFSET_STRINGS, nameBytes, 'AllStrings', 'string', () => `${JSON.stringify(raw.name)} (UTF-16LE)`);
  }
  const tail = L.OFFSET_STRINGS + nameBytes;
  if (tail < bytes.length && nameBytes === 2 * raw.nameUnits) {
    add(tail, bytes.length - tail, 'tail', 'tail', (b) => zeroOr(b, b.length >= 2 ? 'zero (NUL terminator and padding)' : 'zero'));
  }
  return rows;
}
