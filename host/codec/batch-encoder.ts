// The batch encoder: many records in one pass, in chunks. Each chunk's inputs are read once (the
// caller's code runs only then, before anything of the chunk is in the codec's memory) into input
// records in a private mirror and one joined string of their peer texts and names; the mirror is
// copied in with one set(), and the strings with ONE TextEncoder.encodeInto call. When that string
// was pure ASCII (encodeInto read and wrote exactly one byte per UTF-16 unit) every piece's byte
// offset is its unit offset, and the codec widens the names to UTF-16 itself (FLAG_NAME_ASCII). Any
// other chunk (a non-ASCII character anywhere, a lone surrogate) is moved again unit by unit with
// charCodeAt, so what the codec sees never depends on the path taken.
import * as L from '../generated/layout.js';
import { PeerTargetNameError, thrownText } from './errors.js';
import { recordError, type InputSnapshot } from './input.js';
import { TEXT_SLOT, type ChunkLayout, type CodecMemory } from './memory.js';
import type { ResolvedOptions, ZoneResolver } from './options.js';
import { placeSlow } from './strings.js';
import type { PeerTargetNameInput } from './types.js';

/**
 * Memory for a batch's output that need not be zeroed first, where the platform has it (Node's
 * Buffer.allocUnsafeSlow: no zero fill, and no fresh pages to fault in when the allocator recycles
 * a freed region), else a plain zeroed ArrayBuffer. Every byte of it is written before the caller
 * sees it (the records, their padding, and zeros past the last record), so nothing stale can leak.
 */
const unsafeAlloc = (globalThis as { Buffer?: { allocUnsafeSlow?(size: number): { buffer: ArrayBuffer; byteOffset: number } } }).Buffer?.allocUnsafeSlow;
function outputRegion(size: number): Uint8Array {
  if (unsafeAlloc !== undefined) {
    const b = unsafeAlloc(size);
    if (b.byteOffset === 0 && b.buffer.byteLength === size) return new Uint8Array(b.buffer, 0, size);
  }
  return new Uint8Array(size);
}

/** One encoder for every codec; encodeInto is what moves a chunk's strings in one call. */
const textEncoder: TextEncoder | undefined = typeof TextEncoder === 'function' ? new TextEncoder() : undefined;
const bulkText = textEncoder !== undefined && typeof textEncoder.encodeInto === 'function';
/** What readChunk() read of one chunk, for writeChunk() and the chunk's errors. */
interface ChunkRead {
  written: number;
  /** Every record's peer text and name, back to back. */
  joined: string;
  /** Bytes the records take if all succeed. */
  bytes: number;
  /** Where `joined` starts in the codec's memory: the records' string offsets count from it. */
  textBase: number;
  /** The caller's peer text, by record, where the codec's was cut or had its zone translated. */
  given: Map<number, string> | undefined;
}

export interface BatchResult {
  bytes: Uint8Array;
  offsets: Uint32Array;
  lengths: Uint32Array;
  failures: { index: number; error: PeerTargetNameError }[];
}

export class BatchEncoder {
  /** Bytes the last chunk's records take if all succeed (sizes the batch output). */
  private chunkBytes = 0;

  constructor(private readonly m: CodecMemory, private readonly snap: InputSnapshot) {}

  private readChunk(inputs: readonly PeerTargetNameInput[], base: number, end: number, textBase: number, maxUnits: number,
    mirror: Uint32Array, slots: Int32Array, failures: { index: number; error: PeerTargetNameError }[],
    resolveZone: ZoneResolver | null | undefined): ChunkRead {
    const snap = this.snap;
    let written = 0;
    let bytes = 0;
    let joined = '';
    let at = textBase;
    let given: Map<number, string> | undefined;
    for (let i = base; i < end; i++) {
      let input: unknown;
      try {
        input = inputs[i];
      } catch (cause) {
        failures.push({ index: i, error: new PeerTargetNameError('WSAEFAULT', 'input', `reading inputs[${i}] threw ${thrownText(cause)}`, { cause }) });
        continue;
      }
      const error = snap.read(input, resolveZone);
      if (error) {
        failures.push({ index: i, error });
        continue;
      }
      const r = written * L.WORDS_INPUT;
      snap.write(mirror, r);
      const text = snap.text;
      const name = snap.name;
      if (text !== undefined) {
        mirror[r + L.W_IN_ADDRESS_PTR] = at;
        mirror[r + L.W_IN_ADDRESS_LENGTH] = text.length;
        joined += text;
        at += text.length;
        // Cut or zone-translated: keep the caller's text for a message.
        if (text !== snap.peer) (given ??= new Map()).set(written, snap.peer!);
      }
      if (name.length <= maxUnits) {
        mirror[r + L.W_IN_FLAGS] |= L.FLAG_NAME_ASCII;
        mirror[r + L.W_IN_NAME_PTR] = at;
        joined += name;
        at += name.length;
        bytes += (L.SIZEOF_PEER_TARGET_NAME + 2 * name.length + 7) & ~7;
      } else {
        mirror[r + L.W_IN_NAME_PTR] = 0; // never read: the codec rejects the name on its length alone
      }
      slots[written++] = i;
    }
    return { written, joined, bytes, textBase, given };
  }

  /**
   * Writes a chunk read by readChunk() into the chunk layout: the records in one copy, all strings
   * in one bulk move when they are ASCII (see the top of this file).
   */
  private writeChunk(chunk: ChunkRead, lay: ChunkLayout, mirror: Uint32Array, maxUnits: number): void {
    const m = this.m;
    const { written, joined } = chunk;
    if (lay.text !== chunk.textBase) {
      // The layout moved while the chunk was read (a getter re-created the instance): shift the offsets.
      const shift = lay.text - chunk.textBase;
      for (let k = 0; k < written; k++) {
        const r = k * L.WORDS_INPUT;
        if ((mirror[r + L.W_IN_FLAGS] & L.FLAG_PEER_MASK) !== L.PEER_NONE) mirror[r + L.W_IN_ADDRESS_PTR] += shift;
        if (mirror[r + L.W_IN_NAME_LENGTH] <= maxUnits) mirror[r + L.W_IN_NAME_PTR] += shift;
      }
      chunk.textBase = lay.text;
    }
    const u32 = m.u32;
    u32.set(written === mirror.length / L.WORDS_INPUT ? mirror : mirror.subarray(0, written * L.WORDS_INPUT), lay.input >>> 2);
    const length = joined.length;
    let ascii = false;
    if (bulkText && length > 0) {
      const moved = textEncoder!.encodeInto(joined, m.u8.subarray(lay.text, lay.text + length));
      ascii = moved.read === length && moved.written === length;
    }
    if (!ascii && length > 0) {
      // Not one byte per unit somewhere: move every string in again, unit by unit. Each is read
      // back out of the joined string (where its record says it went).
      for (let k = 0; k < written; k++) {
        const r = (lay.input >>> 2) + k * L.WORDS_INPUT;
        const textFrom = u32[r + L.W_IN_ADDRESS_PTR] - lay.text;
        const text = (u32[r + L.W_IN_FLAGS] & L.FLAG_PEER_MASK) === L.PEER_NONE ? undefined : joined.slice(textFrom, textFrom + u32[r + L.W_IN_ADDRESS_LENGTH]);
        const nameFrom = u32[r + L.W_IN_NAME_PTR] - lay.text;
        const name = u32[r + L.W_IN_NAME_LENGTH] <= maxUnits ? joined.slice(nameFrom, nameFrom + u32[r + L.W_IN_NAME_LENGTH]) : undefined;
        placeSlow(m, r, text, name, lay.text + k * TEXT_SLOT, lay.spill, maxUnits);
      }
    }
    this.chunkBytes = chunk.bytes;
  }

  /** The error for a codec reason about record k of a chunk, from what readChunk() kept. */
  private chunkError(chunk: ChunkRead, mirror: Uint32Array, k: number, reason: number, detail: number, options: ResolvedOptions): PeerTargetNameError {
    const r = k * L.WORDS_INPUT;
    const flags = mirror[r + L.W_IN_FLAGS];
    const from = (at: number) => at - chunk.textBase;
    const peer = (flags & L.FLAG_PEER_MASK) === L.PEER_NONE ? undefined
      : chunk.given?.get(k) ?? chunk.joined.slice(from(mirror[r + L.W_IN_ADDRESS_PTR]), from(mirror[r + L.W_IN_ADDRESS_PTR]) + mirror[r + L.W_IN_ADDRESS_LENGTH]);
    const units = mirror[r + L.W_IN_NAME_LENGTH];
    const name = units <= options.maxTargetNameLength ? chunk.joined.slice(from(mirror[r + L.W_IN_NAME_PTR]), from(mirror[r + L.W_IN_NAME_PTR]) + units) : undefined;
    return recordError(reason, detail, options, flags, peer, mirror[r + L.W_IN_PORT], mirror[r + L.W_IN_SCOPE_ID], name);
  }

  /**
   * Encodes many records: the bytes of all that succeed, each at an 8-byte aligned offset, and one
   * error per record that failed.
   */
  encodeMany(inputs: readonly PeerTargetNameInput[], options: ResolvedOptions): BatchResult {
    const m = this.m;
    let count: number;
    try {
      count = inputs.length; // read once (a Proxy's trap may throw)
    } catch (cause) {
      throw new PeerTargetNameError('WSAEFAULT', 'inputs', `reading its length threw ${thrownText(cause)}`, { cause });
    }
    const maxUnits = options.maxTargetNameLength;
    const offsets = new Uint32Array(count);
    const lengths = new Uint32Array(count);
    const failures: { index: number; error: PeerTargetNameError }[] = [];
    const perChunk = m.chunkRecords(maxUnits);
    const slots = new Int32Array(Math.min(perChunk, count));
    // This call's own: a getter that runs a batch of its own cannot reach it.
    const mirror = new Uint32Array(Math.min(perChunk, count) * L.WORDS_INPUT);
    // The output is sized after the first chunk, from its records' sizes (a second pass over the
    // inputs would cost a second round of cache misses on every input), and grown if need be.
    let out: Uint8Array | undefined;
    let outUsed = 0;
    let hostFailed = false;
    for (let base = 0; base < count; base += perChunk) {
      const end = Math.min(count, base + perChunk);
      const before = failures.length;
      const chunk = this.readChunk(inputs, base, end, m.layout(maxUnits, perChunk).text, maxUnits, mirror, slots, failures, options.resolveZone);
      const written = chunk.written;
      if (failures.length !== before) hostFailed = true;
      m.startChunk();
      const lay = m.layout(maxUnits, perChunk);
      this.writeChunk(chunk, lay, mirror, maxUnits);
      const used = m.encodeBatch(lay.input, written, lay.out, lay.status, options.word, maxUnits, lay.columns, outUsed);
      if (out === undefined) {
        // With one alignment unit per record to spare: later names are often a little longer
        // (peer-9 … peer-99999); growing would copy everything encoded so far.
        out = outputRegion(Math.max(used, Math.ceil((this.chunkBytes / (end - base) + L.RECORD_ALIGN) * count)));
      } else if (outUsed + used > out.length) {
        // The later records' names are longer than the first chunk's: grow by half again at least.
        const grown = outputRegion(Math.max(out.length + (out.length >>> 1), outUsed + used + ((count - end) * (used / (end - base)))));
        grown.set(out.subarray(0, outUsed));
        out = grown;
      }
      out.set(m.u8.subarray(lay.out, lay.out + used), outUsed);
      const u32 = m.u32;
      const i32 = m.i32;
      const c = lay.columns >>> 2;
      const chunkLengths = u32.subarray(c + written, c + 2 * written);
      if (written === end - base && chunkLengths.indexOf(0) < 0) {
        // Every record of the chunk reached the codec and succeeded: the columns are the answer.
        offsets.set(u32.subarray(c, c + written), base);
        lengths.set(chunkLengths, base);
        outUsed += used;
        continue;
      }
      for (let k = 0; k < written; k++) {
        const s = (lay.status >>> 2) + k * L.WORDS_STATUS;
        const index = slots[k];
        const reason = i32[s + L.W_ST_REASON];
        if (reason === 0) {
          offsets[index] = outUsed + u32[s + L.W_ST_OFFSET];
          lengths[index] = u32[s + L.W_ST_LENGTH];
        } else {
          failures.push({ index, error: this.chunkError(chunk, mirror, k, reason, u32[s + L.W_ST_DETAIL], options) });
        }
      }
      outUsed += used;
    }
    if (hostFailed) failures.sort((a, b) => a.index - b.index);
    out ??= new Uint8Array(0);
    // Past the last record (room for records that failed): zeros, never what the memory held before.
    if (outUsed < out.length) out.fill(0, outUsed);
    return { bytes: out.subarray(0, outUsed), offsets, lengths, failures };
  }

}
