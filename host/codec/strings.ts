// Moving a record's strings into the codec's memory: the peer text as ASCII bytes, the target name
// as UTF-16 units (in the chunk's spill area), or both as ASCII bytes that the codec widens itself
// (FLAG_NAME_ASCII).
import * as L from '../generated/layout.js';
import type { ChunkLayout, CodecMemory } from './memory.js';
import type { InputSnapshot } from './input.js';
import { NAME_NOT_CACHED } from './name-cache.js';

/** Puts a name's units in this chunk's spill area and returns where. */
function placeName(m: CodecMemory, name: string, spill: number): number {
  const n = name.length;
  const at = spill + m.spillUsed;
  m.spillUsed += 2 * n;
  const u16 = m.u16;
  const base = at >>> 1;
  for (let i = 0; i < n; i++) u16[base + i] = name.charCodeAt(i);
  return at;
}

/** Copies ASCII peer text; anything else becomes 0xff, which no address contains. */
function placeText(m: CodecMemory, text: string, at: number): number {
  const n = text.length;
  const u8 = m.u8;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    u8[at + i] = c < 0x80 ? c : 0xff;
  }
  return n;
}

/** Moves one record's strings in unit by unit: text into its slot, the name into the spill area. */
export function placeSlow(m: CodecMemory, r: number, text: string | undefined, name: string | undefined, textAt: number, spill: number, maxUnits: number): void {
  const u32 = m.u32;
  if (text !== undefined) {
    u32[r + L.W_IN_ADDRESS_PTR] = textAt;
    u32[r + L.W_IN_ADDRESS_LENGTH] = placeText(m, text, textAt);
  }
  u32[r + L.W_IN_FLAGS] &= ~L.FLAG_NAME_ASCII;
  // A name over the limit (or undefined: not kept) is never read: the codec rejects it on its length alone.
  u32[r + L.W_IN_NAME_PTR] = name !== undefined && name.length <= maxUnits ? placeName(m, name, spill) : 0;
}

/**
 * Writes s's UTF-16 units as bytes, four to a 32-bit store, from word w of the memory (the last word
 * padded with zeros); returns every unit OR-ed together (under 0x80: the bytes are the units). A
 * unit over 0xff spills into its neighbours' bytes, but then the OR says so and the caller moves
 * the string again unit by unit.
 */
function packBytes(u32: Uint32Array, w: number, s: string): number {
  const n = s.length;
  let all = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const a = s.charCodeAt(i);
    const b = s.charCodeAt(i + 1);
    const c = s.charCodeAt(i + 2);
    const d = s.charCodeAt(i + 3);
    all |= a | b | c | d;
    u32[w++] = a | (b << 8) | (c << 16) | (d << 24);
  }
  if (i < n) {
    let last = 0;
    for (let shift = 0; i < n; i++, shift += 8) {
      const c = s.charCodeAt(i);
      all |= c;
      last |= c << shift;
    }
    u32[w] = last;
  }
  return all;
}

/**
 * Moves one record's strings in: text and name as bytes, four per store, when both are ASCII (the
 * codec widens the name itself, FLAG_NAME_ASCII), else unit by unit (placeSlow). The name starts at
 * the first word after the text, or is not moved at all when the name cache has it (its bytes are
 * already in the memory), or is packed into the cache's area, and kept there if it and the text
 * turn out ASCII. For strings this short a charCodeAt loop beats TextEncoder.encodeInto (a native
 * call per record), and no joined string is built.
 */
export function placeOne(m: CodecMemory, snap: InputSnapshot, r: number, lay: ChunkLayout, maxUnits: number): void {
  const text = snap.text;
  const name = snap.name;
  if (name.length <= maxUnits) {
    const u32 = m.u32;
    let w = lay.text >>> 2; // the text area is 8-aligned
    let all = 0;
    if (text !== undefined) {
      all = packBytes(u32, w, text);
      w += (text.length + 3) >>> 2;
    }
    const names = m.names;
    let nameAt = names.find(name);
    const offered = nameAt === NAME_NOT_CACHED;
    if (nameAt < 0) {
      const word = offered ? names.slot(name.length) : w;
      all |= packBytes(u32, word, name);
      nameAt = word << 2;
    }
    if (all < 0x80) {
      if (text !== undefined) {
        u32[r + L.W_IN_ADDRESS_PTR] = lay.text;
        u32[r + L.W_IN_ADDRESS_LENGTH] = text.length;
      }
      u32[r + L.W_IN_FLAGS] |= L.FLAG_NAME_ASCII;
      u32[r + L.W_IN_NAME_PTR] = nameAt;
      if (offered) names.keep(name, nameAt >>> 2);
      return;
    }
  }
  placeSlow(m, r, text, name, lay.text, lay.spill, maxUnits);
}
