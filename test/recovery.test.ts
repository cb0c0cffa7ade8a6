// A trap or an out-of-memory inside the codec is reported, and the next call succeeds on a fresh
// or intact module: nothing is left wedged.
import { describe, expect, it } from 'vitest';
import { Codec, CodecFaultError, MAX_MEMORY_BYTES } from '../host/codec/codec.js';
import { codecWasmModule, type CodecExports } from '../host/codec/loader.js';
import { DEFAULT_OPTIONS } from '../host/codec/options.js';
import { encodePeerTargetName, PeerTargetNameError } from '../host/index.js';

const input = { protocol: 'ipsec' as const, peer: '192.0.2.1:500', targetName: 'host/recovered.example' };

/**
 * A real instance's exports, except that encode_batch and encode_one point the codec past the end of
 * its memory (a real out-of-bounds trap) whenever trap() says so.
 */
function trapping(trap: () => boolean): { real: CodecExports; exports: CodecExports } {
  const real = new WebAssembly.Instance(codecWasmModule(), {}).exports as unknown as CodecExports;
  const exports: CodecExports = {
    memory: real.memory,
    heap_base: () => real.heap_base(),
    encode_peer: (...a) => real.encode_peer(...a),
    decode: (...a) => real.decode(...a),
    check: (...a) => real.check(...a),
    encode_batch: (at, count, out, status, options, max, columns, base) =>
      real.encode_batch(trap() ? 0x7ffffff0 : at, count, out, status, options, max, columns, base),
    encode_one: (at, out, options, max, detail) => real.encode_one(trap() ? 0x7ffffff0 : at, out, options, max, detail),
  };
  return { real, exports };
}

describe('recovery', () => {
  it('a real trap (out-of-bounds access) becomes CodecFaultError, and the codec is re-created', () => {
    let trapsLeft = 1; // the first encode traps
    const codec = new Codec(trapping(() => trapsLeft-- > 0).exports);
    expect(() => codec.encode(input, DEFAULT_OPTIONS)).toThrow(CodecFaultError);
    expect(() => codec.encode(input, DEFAULT_OPTIONS)).not.toThrow();
    expect(codec.encode(input, DEFAULT_OPTIONS)).toEqual(encodePeerTargetName(input));
  });

  it('after a trap, the views the bridge is handed are of the new instance\'s memory', () => {
    let trap = false;
    const { real, exports } = trapping(() => trap);
    const codec = new Codec(exports);
    const expected = encodePeerTargetName(input);
    // Views made, and cached, over the first instance's memory.
    const first = codec.encodeInPlace(input, DEFAULT_OPTIONS);
    expect(first.buffer).toBe(real.memory.buffer);
    expect(codec.checkedCopy(expected, DEFAULT_OPTIONS)?.buffer).toBe(real.memory.buffer);
    trap = true;
    expect(() => codec.encodeInPlace(input, DEFAULT_OPTIONS)).toThrow(CodecFaultError);
    // The old memory is still alive (not detached), so a stale view would silently pass old bytes.
    real.memory.buffer.slice(0); // still readable
    const again = codec.encodeInPlace(input, DEFAULT_OPTIONS);
    expect(again.buffer).not.toBe(real.memory.buffer);
    expect(Buffer.from(again).equals(Buffer.from(expected))).toBe(true);
    const checked = codec.checkedCopy(expected, DEFAULT_OPTIONS);
    expect(checked?.buffer).not.toBe(real.memory.buffer);
    expect(checked?.buffer).toBe(again.buffer);
    expect(Buffer.from(checked!).equals(Buffer.from(expected))).toBe(true);
  });

  it('asking for more memory than the limit is WSAENOBUFS, and the next call works', () => {
    const codec = new Codec();
    let error: unknown;
    try {
      codec.callWith(MAX_MEMORY_BYTES, () => 0);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PeerTargetNameError);
    expect(error).toMatchObject({ code: 'WSAENOBUFS', errno: 10055, field: 'memory' });
    expect(codec.encode(input, DEFAULT_OPTIONS)).toEqual(encodePeerTargetName(input));
  });
});
