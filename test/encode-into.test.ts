// encodePeerTargetNameInto: the same bytes as encodePeerTargetName, written into the caller's
// region at an offset, nothing else touched; typed errors for a bad target, offset or room.
import { describe, expect, it } from 'vitest';
import { encodePeerTargetName, encodePeerTargetNameInto } from '../host/index.js';
import { codecErrorOf } from './support/errors.js';

const input = { protocol: 'ipsec' as const, peer: '[2001:db8::1]:500', targetName: 'host/into.example' };

describe('encodePeerTargetNameInto', () => {
  it('writes exactly the record at the offset and returns its length', () => {
    const expected = encodePeerTargetName(input);
    const region = new Uint8Array(expected.length + 20).fill(0xaa);
    const n = encodePeerTargetNameInto(region, 7, input);
    expect(n).toBe(expected.length);
    expect(Buffer.from(region.subarray(7, 7 + n)).equals(Buffer.from(expected))).toBe(true);
    expect([...region.subarray(0, 7)].every((b) => b === 0xaa)).toBe(true);
    expect([...region.subarray(7 + n)].every((b) => b === 0xaa)).toBe(true);
  });

  it('overwrites stale bytes of a reused region (every byte of the record is written)', () => {
    const region = new Uint8Array(1024).fill(0xff);
    for (const peer of ['192.0.2.1:80', { address: 'fe80::1', port: 9, scopeId: 3 }]) {
      const one = { ...input, peer };
      const n = encodePeerTargetNameInto(region, 0, one);
      expect(Buffer.from(region.subarray(0, n)).equals(Buffer.from(encodePeerTargetName(one)))).toBe(true);
    }
  });

  it('a region too short is WSAEMSGSIZE and is left as it was', () => {
    const region = new Uint8Array(150).fill(0x55);
    const e = codecErrorOf(() => encodePeerTargetNameInto(region, 10, input));
    expect(e.code).toBe('WSAEMSGSIZE');
    expect(e.field).toBe('target');
    expect([...region].every((b) => b === 0x55)).toBe(true);
  });

  it('refuses what is not a Uint8Array, and offsets that are not within it', () => {
    expect(codecErrorOf(() => encodePeerTargetNameInto(new Uint16Array(200) as never, 0, input)).code).toBe('WSAEFAULT');
    expect(codecErrorOf(() => encodePeerTargetNameInto(null as never, 0, input)).code).toBe('WSAEFAULT');
    const region = new Uint8Array(400);
    for (const offset of [-1, 1.5, 401, Number.NaN, '0' as never]) {
      const e = codecErrorOf(() => encodePeerTargetNameInto(region, offset, input));
      expect(e.code).toBe('WSAEINVAL');
      expect(e.field).toBe('offset');
    }
  });

  it('an offset past the end is judged once the input is read: an input error comes first, the target stays untouched', () => {
    const region = new Uint8Array(400).fill(0x55);
    const bad = { ...input, peer: '192.0.2.1:0' };
    expect(codecErrorOf(() => encodePeerTargetNameInto(region, 401, bad)).field).toBe('peer.port');
    const e = codecErrorOf(() => encodePeerTargetNameInto(region, 401, input));
    expect([e.code, e.field]).toEqual(['WSAEINVAL', 'offset']);
    expect(e.message).toContain('401 is not an offset within the target (0 to 400)');
    // At the very end: a valid offset, but no room.
    expect(codecErrorOf(() => encodePeerTargetNameInto(region, 400, input)).code).toBe('WSAEMSGSIZE');
    expect(region.every((b) => b === 0x55)).toBe(true);
  });

  it('input errors are the same typed errors encodePeerTargetName throws', () => {
    const bad = { ...input, peer: '192.0.2.256:500' };
    const region = new Uint8Array(400);
    expect(codecErrorOf(() => encodePeerTargetNameInto(region, 0, bad)).message).toBe(codecErrorOf(() => encodePeerTargetName(bad)).message);
  });
});
