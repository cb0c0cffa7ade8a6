// The bar for validatePeerTargetName and decodePeerTargetName: a hand-written TypeScript reader of
// SOCKET_PEER_TARGET_NAME with the same rules (default options: dgram, auto length unit, names of
// 1 to 1024 units) and the same answers. Byte loads straight from the Uint8Array (no DataView, no
// per-call views), stopping at the first problem; decode builds the very object the package
// returns (IPv6 text and the name's string by the package's own helpers, so both pay the same for them).
import * as L from '../../generated/layout.js';
import { formatIPv6 } from '../../codec/address.js';
import { unitsTextOfBytes } from '../../codec/units-text.js';
import type { DecodedPeerTargetName } from '../../codec/types.js';

const MAX_UNITS = L.DEFAULT_MAX_TARGET_NAME_LENGTH;
const PROTOCOLS = ['default', 'ipsec', 'ipsec2'] as const;

const u32le = (b: Uint8Array, at: number) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;

/** True when b[from, to) is all zero. */
function zeros(b: Uint8Array, from: number, to: number): boolean {
  let z = 0;
  for (let i = from; i < to; i++) z |= b[i];
  return z === 0;
}

/** The name's unit count when the buffer passes every rule, else -1. */
function verdict(b: Uint8Array): number {
  const len = b.length;
  if (len < L.SIZEOF_PEER_TARGET_NAME) return -1;
  if ((b[1] | b[2] | b[3] | b[4] | b[5] | b[6] | b[7]) !== 0 || b[0] > L.PROTOCOL_MAX) return -1;
  const p = L.OFFSET_PEER;
  const family = b[p] | (b[p + 1] << 8);
  if ((b[p + 2] | b[p + 3]) === 0) return -1; // port 0: no dgram peer
  let used: number;
  if (family === L.AF_INET) {
    if ((b[p + 4] | b[p + 5] | b[p + 6] | b[p + 7]) === 0) return -1;
    used = L.SIN_ZERO;
  } else if (family === L.AF_INET6) {
    const a = p + L.SIN6_ADDR;
    if (zeros(b, a, a + 10) && (b[a + 12] | b[a + 13] | b[a + 14] | b[a + 15]) === 0 &&
      ((b[a + 10] | b[a + 11]) === 0 || (b[a + 10] & b[a + 11]) === 0xff)) return -1;
    used = L.SIZEOF_SOCKADDR_IN6;
  } else {
    return -1;
  }
  if (!zeros(b, p + used, p + L.SIZE_SOCKADDR_STORAGE)) return -1;
  const raw = u32le(b, L.OFFSET_STRING_LENGTH);
  let n = raw;
  if (b[0] === L.PROTOCOL_IPSEC2) {
    if (raw & 1) return -1;
    n = raw >>> 1;
  }
  if (n === 0 || n > MAX_UNITS || L.OFFSET_STRINGS + 2 * n > len) return -1;
  const s = L.OFFSET_STRINGS;
  for (let i = 0; i < n; i++) {
    const c = b[s + 2 * i] | (b[s + 2 * i + 1] << 8);
    if (c === 0) return -1;
    if ((c & 0xf800) === 0xd800) {
      if (c >= 0xdc00 || i + 1 >= n) return -1;
      const next = b[s + 2 * i + 2] | (b[s + 2 * i + 3] << 8);
      if ((next & 0xfc00) !== 0xdc00) return -1;
      i++;
    }
  }
  return zeros(b, s + 2 * n, len) ? n : -1;
}

/** validate's answer: true when the buffer passes every rule. */
export function jsValidate(bytes: Uint8Array): boolean {
  return verdict(bytes) >= 0;
}

/** decode's answer, or a throw for a buffer with a problem. */
export function jsDecode(b: Uint8Array): DecodedPeerTargetName {
  const n = verdict(b);
  if (n < 0) throw new Error('invalid SOCKET_PEER_TARGET_NAME');
  const p = L.OFFSET_PEER;
  const port = (b[p + 2] << 8) | b[p + 3];
  let peer: DecodedPeerTargetName['peer'];
  if (b[p] === L.AF_INET) {
    const a = p + L.SIN_ADDR;
    peer = { family: 'ipv4', address: `${b[a]}.${b[a + 1]}.${b[a + 2]}.${b[a + 3]}`, port, flowInfo: 0, scopeId: 0 };
  } else {
    const a = p + L.SIN6_ADDR;
    peer = {
      family: 'ipv6', address: formatIPv6(b, a), port,
      flowInfo: ((b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]) >>> 0,
      scopeId: u32le(b, p + L.SIN6_SCOPE_ID),
    };
  }
  // The units as one string by the package's own helper (eight per fromCharCode call, any alignment).
  const name = unitsTextOfBytes(b, L.OFFSET_STRINGS, n);
  return {
    protocol: PROTOCOLS[b[0]],
    peer,
    targetName: name,
    stringLength: u32le(b, L.OFFSET_STRING_LENGTH),
    lengthUnit: b[0] === L.PROTOCOL_IPSEC2 ? 'bytes' : 'units',
    totalLength: b.length,
  };
}
