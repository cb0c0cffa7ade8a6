// Hex text in and out, for the CLI, the preview page and tests.
import { PeerTargetNameError } from './errors.js';

const DIGITS = '0123456789abcdef';

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += DIGITS[bytes[i] >> 4] + DIGITS[bytes[i] & 15];
  return out;
}

/**
 * Reads hex as people paste it: whitespace, a leading 0x, and ':' or '-' between bytes are
 * ignored (as are C-style `0x12, 0x34` lists); anything else is an error naming where it is.
 */
export function fromHex(text: string): Uint8Array {
  if (typeof text !== 'string') {
    throw new PeerTargetNameError('WSAEFAULT', 'hex', `expected hex text, got ${typeof text}`, { value: text });
  }
  const clean = text.replace(/0x/gi, '').replace(/[\s:,\-]/g, '');
  const bad = clean.search(/[^0-9a-fA-F]/);
  if (bad >= 0) {
    throw new PeerTargetNameError('WSAEINVAL', 'hex', `${JSON.stringify(clean[bad])} is not a hex digit (at ${bad} after removing separators)`, { value: text });
  }
  if (clean.length % 2 !== 0) {
    throw new PeerTargetNameError('WSAEINVAL', 'hex', `${clean.length} hex digits is an odd count: bytes take two each`, { value: text });
  }
  const bytes = new Uint8Array(clean.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(clean.substr(i * 2, 2), 16);
  return bytes;
}
