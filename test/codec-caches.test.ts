// The host's caches: the name cache (host/codec/name-cache.ts), which keeps target names that repeat
// in the codec's memory so they are not moved in again, the view cache and the one-record layout
// memo (host/codec/memory.ts). They may change how fast a record is made, never what is made: every
// answer (bytes or error) of a codec with them must be the answer of one without.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Codec } from '../host/codec/codec.js';
import { codecWasmModule, type CodecExports } from '../host/codec/loader.js';
import { NAME_CACHE_BYTES, NAME_CACHE_MAX_UNITS, NAME_NOT_CACHED, NAME_NOT_LOOKED_UP, NameCache } from '../host/codec/name-cache.js';
import { DEFAULT_OPTIONS, resolveOptions } from '../host/codec/options.js';
import { PeerTargetNameError, type PeerTargetNameInput } from '../host/index.js';

const o = DEFAULT_OPTIONS;

/** What a codec answers for one input: the record's bytes, or the error's code, field and message. */
function answer(codec: Codec, input: PeerTargetNameInput, options = o): string {
  try {
    return Buffer.from(codec.encode(input, options)).toString('hex');
  } catch (error) {
    if (!(error instanceof PeerTargetNameError)) throw error;
    return `${error.code} ${error.field}: ${error.message}`;
  }
}

/** Calls until the cache finds `name` again (that call is a lookup: it opens the next window, a hit). */
function callsUntilFound(cache: NameCache, name: string): number {
  let calls = 0;
  while (cache.find(name) === NAME_NOT_LOOKED_UP) calls++;
  return calls;
}

/** Keeps `name` in the cache the way placeOne does (packed ASCII at slot()). */
function keep(cache: NameCache, name: string): number {
  const word = cache.slot(name.length);
  cache.keep(name, word);
  return word << 2;
}

describe('NameCache', () => {
  it('finds a kept name at the offset it was packed at, and nothing else', () => {
    const cache = new NameCache(4096);
    expect(cache.find('host/a.example')).toBe(NAME_NOT_CACHED);
    const at = keep(cache, 'host/a.example');
    expect(at).toBe(4096);
    expect(cache.find('host/a.example')).toBe(at);
    // Equal text in another string object is the same name.
    expect(cache.find(['host/a', 'example'].join('.'))).toBe(at);
    expect(cache.find('host/b.example')).toBe(NAME_NOT_CACHED);
    // The next name starts at the next word after the first's bytes (14 bytes: 4 words).
    expect(keep(cache, 'host/b.example')).toBe(4096 + 16);
  });

  it('never looks up names over NAME_CACHE_MAX_UNITS, nor anything when disabled', () => {
    const cache = new NameCache(0);
    expect(cache.find('x'.repeat(NAME_CACHE_MAX_UNITS))).toBe(NAME_NOT_CACHED);
    expect(cache.find('x'.repeat(NAME_CACHE_MAX_UNITS + 1))).toBe(NAME_NOT_LOOKED_UP);
    const off = new NameCache(0, false);
    keep(off, 'host/a.example');
    expect(off.find('host/a.example')).toBe(NAME_NOT_LOOKED_UP);
  });

  it('starts afresh when the area is full: a name is never packed past its end', () => {
    const cache = new NameCache(0);
    const name = (i: number) => `host/${String(i).padStart(7, '0')}.example.com`; // 24 units: 6 words
    const fit = Math.floor(NAME_CACHE_BYTES / 24);
    for (let i = 0; i < fit; i++) {
      const at = keep(cache, name(i));
      expect(at + 24).toBeLessThanOrEqual(NAME_CACHE_BYTES);
    }
    expect(cache.find(name(0))).toBe(0);
    expect(keep(cache, name(fit))).toBe(0); // no room left: cleared, packed at the start
    expect(cache.find(name(0))).toBe(NAME_NOT_CACHED);
    expect(cache.find(name(fit))).toBe(0);
  });

  it('rests after a window of lookups that mostly missed, twice as long after each, up to 65,536 calls', () => {
    const cache = new NameCache(0);
    keep(cache, 'host/shared');
    const restLength = () => callsUntilFound(cache, 'host/shared');
    // 256 lookups of names never seen: the window fails, and the cache rests (even a kept name is
    // not found meanwhile).
    for (let i = 0; i < 256; i++) expect(cache.find(`host/peer-${i}`)).toBe(NAME_NOT_CACHED);
    const rests = [restLength()];
    for (let w = 0; w < 5; w++) {
      for (let i = 0; i < 255; i++) cache.find(`host/peer-${w}-${i}`); // one hit in the window: it fails
      rests.push(restLength());
    }
    expect(rests).toEqual([4096, 8192, 16384, 32768, 65536, 65536]);
  });

  it('rests 4096 calls again after a window that hit', () => {
    const cache = new NameCache(0);
    const at = keep(cache, 'host/shared');
    const miss = (n: number) => { for (let i = 0; i < n; i++) cache.find(`host/peer-${i}`); };
    const waitFound = () => callsUntilFound(cache, 'host/shared');
    miss(256);
    expect(waitFound()).toBe(4096);
    miss(255);
    expect(waitFound()).toBe(8192);
    // A window in which every lookup hits: the next rest is back to the first length.
    for (let i = 0; i < 255; i++) expect(cache.find('host/shared')).toBe(at);
    miss(256);
    expect(waitFound()).toBe(4096);
  });

  it('stays consulted while one lookup in eight or more hits', () => {
    const cache = new NameCache(0);
    const at = keep(cache, 'host/shared');
    for (let i = 0; i < 10 * 256; i++) {
      const found = cache.find(i % 8 === 0 ? 'host/shared' : `host/peer-${i}`);
      expect(found).toBe(i % 8 === 0 ? at : NAME_NOT_CACHED);
    }
  });
});

describe('the name cache in the codec', () => {
  const shared = 'host/service.corp.example.com';
  const peer = (i: number) => (i % 2 ? `[2001:db8::${(i + 1).toString(16)}]:${1000 + i}` : `10.0.${i >> 8 & 255}.${(i & 255) || 1}:${1000 + i}`);

  it('gives the same bytes and errors as a codec without it, over every kind of name', () => {
    const names = fc.oneof(
      fc.constantFrom(shared, 'host/other.example', 'host/ünïcode.example', 'host/名前.example', 'host/\ud800lone', 'host/nul\0inside', '', 'x'.repeat(NAME_CACHE_MAX_UNITS + 1), 'x'.repeat(1025),
        // Names a wrong key would confuse: case only, a long shared prefix, one a prefix of another.
        'HOST/SERVICE.CORP.EXAMPLE.COM', 'host/service.corp.example.net', 'host/service.corp.example.co', `${'p'.repeat(200)}a`, `${'p'.repeat(200)}b`),
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 12 }),
    );
    // Peer text that is not ASCII too: a kept name must still be right when the record takes the slow path.
    const peers = fc.oneof(fc.nat(5000).map(peer), fc.constantFrom('0.0.0.0:1', '10.0.0.1:0', 'not a peer', '10.0.0.１:500', 'ä.b.c.d:1', '[fe80::1%é]:500'));
    const cached = new Codec();
    const uncached = new Codec(undefined, { nameCache: false });
    const small = resolveOptions({ maxTargetNameLength: 16 });
    fc.assert(fc.property(fc.array(fc.tuple(peers, names, fc.boolean()), { minLength: 1, maxLength: 300 }), (records) => {
      for (const [p, targetName, narrow] of records) {
        const input = { protocol: 'ipsec' as const, peer: p, targetName };
        const options = narrow ? small : o;
        expect(answer(cached, input, options)).toBe(answer(uncached, input, options));
      }
    }), { numRuns: 60 });
  });

  it('keeps giving the right bytes while thousands of names come and go (the area refilled many times)', () => {
    const cached = new Codec();
    const uncached = new Codec(undefined, { nameCache: false });
    for (let i = 0; i < 20_000; i++) {
      // A few names repeating among many that never do: the cache rests and wakes, and fills up.
      const targetName = i % 3 === 0 ? `host/repeat-${i % 7}.example` : `host/once-${i}.example`;
      const input = { protocol: 'ipsec' as const, peer: peer(i), targetName };
      const a = cached.encode(input, o);
      const b = uncached.encode(input, o);
      if (!Buffer.from(a).equals(Buffer.from(b))) expect.fail(`record ${i} (${targetName}) differs`);
    }
  });

  it('survives the memory growing under it (the kept names stay where they are)', () => {
    const codec = new Codec();
    const input = { protocol: 'ipsec' as const, peer: '192.0.2.1:500', targetName: shared };
    const expected = answer(new Codec(undefined, { nameCache: false }), input);
    expect(answer(codec, input)).toBe(expected);
    expect(answer(codec, input)).toBe(expected); // from the cache
    const before = codec.wasm.memory.buffer.byteLength;
    // A batch of long names grows the memory.
    codec.encodeMany(Array.from({ length: 5000 }, (_, i) => ({ protocol: 'ipsec' as const, peer: peer(i), targetName: 'y'.repeat(1000) })), o);
    expect(codec.wasm.memory.buffer.byteLength).toBeGreaterThan(before);
    expect(answer(codec, input)).toBe(expected);
  });

  it('starts empty after a trap: a name kept by the old instance is moved in again', () => {
    let trap = false;
    const real = new WebAssembly.Instance(codecWasmModule(), {}).exports as unknown as CodecExports;
    const exports: CodecExports = {
      ...real,
      memory: real.memory,
      heap_base: () => real.heap_base(),
      encode_one: (at, out, options, max, detail) => real.encode_one(trap ? 0x7ffffff0 : at, out, options, max, detail),
    };
    const codec = new Codec(exports);
    const input = { protocol: 'ipsec' as const, peer: '192.0.2.1:500', targetName: shared };
    const expected = answer(new Codec(undefined, { nameCache: false }), input);
    expect(answer(codec, input)).toBe(expected);
    trap = true;
    expect(() => codec.encode(input, o)).toThrow(/WebAssembly codec failed/);
    trap = false;
    // The new instance's memory holds zeros where the old one kept the name: were the old cache
    // consulted, the codec would read a name of NULs.
    expect(answer(codec, input)).toBe(expected);
  });
});

describe('every cache switched off', () => {
  it('gives the answers of the shipped codec: bytes, errors, in-place views and checked copies', () => {
    const shipped = new Codec();
    const tuned = [
      new Codec(undefined, { viewCache: false }),
      new Codec(undefined, { nameCache: false }),
      new Codec(undefined, { layoutMemo: false }),
      new Codec(undefined, { viewCache: false, nameCache: false, layoutMemo: false }),
    ];
    const small = resolveOptions({ maxTargetNameLength: 20 });
    for (let i = 0; i < 3000; i++) {
      const targetName = i % 5 === 0 ? `host/once-${i}.example` : `host/shared-${i % 3}.example`;
      const p = i % 97 === 0 ? '0.0.0.0:1' : `10.1.${i >> 8 & 255}.${(i & 255) || 1}:${500 + i}`;
      const input = { protocol: 'ipsec2' as const, peer: p, targetName };
      const options = i % 7 === 0 ? small : o;
      const expected = answer(shipped, input, options);
      for (const codec of tuned) {
        expect(answer(codec, input, options)).toBe(expected);
        if (!expected.startsWith('WSA')) {
          const bytes = Buffer.from(codec.encodeInPlace(input, options));
          expect(bytes.toString('hex')).toBe(expected);
          expect(Buffer.from(codec.checkedCopy(bytes, options)!).equals(bytes)).toBe(true);
        }
      }
    }
  });
});

describe('the name cache and the caller\'s strings', () => {
  it('keeps a copy of a name, not the large string it was sliced from', async () => {
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const cache = new NameCache(0);
    gc();
    const baseline = process.memoryUsage().heapUsed;
    (() => {
      // A name sliced from an 8 MiB string: V8 keeps the parent alive for as long as the slice lives.
      const parent = 'host/' + 'x'.repeat(8 * 1024 * 1024);
      keep(cache, parent.slice(0, 40));
    })();
    gc();
    gc();
    expect(process.memoryUsage().heapUsed - baseline).toBeLessThan(4 * 1024 * 1024);
    expect(cache.find('host/' + 'x'.repeat(35))).toBe(0);
  });
});
