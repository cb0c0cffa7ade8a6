// The codec's WebAssembly memory: one instance, the views over its memory, growth, and recovery
// from a trap. Every other part of the host side (one record, the batch encoder, decode/check, the
// security structs) works through one CodecMemory.
//
// Memory, from the module's heap base up:
//   result   the decode result record (SIZEOF_RESULT)
//   names    target names that repeat (name-cache.ts)
//   work     per call: input records | status records | peer texts | spilled names | output
import * as L from '../generated/layout.js';
import { instantiateCodec, type CodecExports } from './loader.js';
import { PeerTargetNameError } from './errors.js';
import { NAME_CACHE_BYTES, NameCache } from './name-cache.js';

const PAGE = 65536;
/** A batch is encoded in chunks whose worst case fits this many bytes of work memory. */
const CHUNK_BUDGET = 1 << 20;
export const MAX_CHUNK_RECORDS = 4096;
/** Peer text is copied up to one character past the longest the codec accepts, so it can say so. */
export const TEXT_SLOT = (L.MAX_PEER_TEXT_LENGTH + 1 + 7) & ~7;
/** The codec's memory never grows past this; past it a call fails with WSAENOBUFS. */
export const MAX_MEMORY_BYTES = 64 * 1024 * 1024;

export const align8 = (n: number) => (n + 7) & ~7;

/** Switches for measuring what a cache buys (the bench); every codec the API uses has the defaults. */
export interface CodecTuning {
  /** Cache the views handed out and copied from (default true). */
  viewCache?: boolean;
  /** Keep target names that repeat in the codec's memory (default true). */
  nameCache?: boolean;
  /** Keep the last one-record layout instead of making one per call (default true). */
  layoutMemo?: boolean;
}

/** A failure of the codec itself (a trap): the instance was replaced, the call may be retried. */
export class CodecFaultError extends Error {
  constructor(cause: unknown) {
    super(`the WebAssembly codec failed (${cause instanceof Error ? cause.message : String(cause)}); ` +
      'it has been re-created and the next call starts afresh', { cause });
    this.name = 'CodecFaultError';
  }
}

function outOfMemory(needed: number): PeerTargetNameError {
  return new PeerTargetNameError('WSAENOBUFS', 'memory',
    `the codec would need ${needed} bytes of WebAssembly memory, over its limit of ${MAX_MEMORY_BYTES}`,
    { value: needed });
}

/** Where one chunk's areas start in the work region. */
export interface ChunkLayout {
  records: number;
  input: number;
  status: number;
  /** The offset and length columns (encode_batch's `columns`): 2 × records u32. */
  columns: number;
  text: number;
  spill: number;
  out: number;
  end: number;
}

/**
 * Views of `length` bytes at one offset of the codec's memory, each made once: a subarray() costs
 * more than checking a record (about 30 ns on Node), and the bridge hands native code one such view
 * per call. The views are of one whole-memory view `u8`; when the codec has a new one (its memory
 * grew, or the instance was replaced), every view made before is dropped.
 */
export class ViewCache {
  /** `cached` false: a fresh subarray() every call (the bench's "caches" rows measure the difference). */
  constructor(private readonly cached = true) {}

  private source: Uint8Array | undefined;
  private at = -1;
  private readonly views = new Map<number, Uint8Array>();
  // The last view returned: most calls ask for the same length again.
  private lastLength = -1;
  private last: Uint8Array | undefined;

  get(u8: Uint8Array, at: number, length: number): Uint8Array {
    if (!this.cached) return u8.subarray(at, at + length);
    if (u8 !== this.source || at !== this.at) {
      this.views.clear();
      this.source = u8;
      this.at = at;
      this.lastLength = -1;
    } else if (length === this.lastLength) {
      return this.last!;
    }
    let view = this.views.get(length);
    if (view === undefined) {
      if (this.views.size >= 1024) this.views.clear(); // bounded whatever lengths come
      view = u8.subarray(at, at + length);
      this.views.set(length, view);
    }
    this.lastLength = length;
    this.last = view;
    return view;
  }

  /** Lets go of every view (after a trap: they would keep the old instance's memory alive). */
  clear(): void {
    this.views.clear();
    this.source = undefined;
    this.last = undefined;
    this.lastLength = -1;
  }
}

export class CodecMemory {
  wasm!: CodecExports;
  buffer: ArrayBuffer | undefined;
  /** buffer's byteLength (0 before the first reserve()). */
  private capacity = 0;
  u8!: Uint8Array;
  u16!: Uint16Array;
  u32!: Uint32Array;
  i32!: Int32Array;
  /** Where the decode result record is. */
  result = 0;
  /** Where the work region starts. */
  workStart = 0;
  /** Bytes of the current chunk's spill area in use. */
  spillUsed = 0;
  /** The one-record layout of the last call, and the name limit it was made for. */
  private single: ChunkLayout | undefined;
  private singleMax = -1;
  /** Caches of views into this memory, dropped with it. */
  readonly recordViews: ViewCache;
  readonly checkedViews: ViewCache;
  /** Target names kept in this memory (a new cache with each instance: the old one's bytes are gone). */
  names!: NameCache;
  private readonly nameCache: boolean;
  private readonly layoutMemo: boolean;

  constructor(wasm: CodecExports, tuning: CodecTuning = {}) {
    this.recordViews = new ViewCache(tuning.viewCache ?? true);
    this.checkedViews = new ViewCache(tuning.viewCache ?? true);
    this.nameCache = tuning.nameCache ?? true;
    this.layoutMemo = tuning.layoutMemo ?? true;
    this.adopt(wasm);
  }

  private adopt(wasm: CodecExports): void {
    this.wasm = wasm;
    this.result = align8(wasm.heap_base());
    const names = align8(this.result + L.SIZEOF_RESULT);
    this.names = new NameCache(names, this.nameCache);
    this.workStart = names + NAME_CACHE_BYTES;
    this.single = undefined;
    this.singleMax = -1;
    this.buffer = undefined;
    this.capacity = 0;
    this.recordViews.clear();
    this.checkedViews.clear();
    this.reserve(0);
  }

  /** Replaces the instance after a trap: nothing of the old memory is trusted again. */
  recover(cause: unknown): never {
    this.adopt(instantiateCodec());
    throw new CodecFaultError(cause);
  }

  /** Makes the work region at least `bytes` long and the views current. */
  reserve(bytes: number): void {
    // Only this class grows the memory, so the views are current unless it has to grow now (the
    // detached check is a cheap guard; memory.buffer and byteLength are accessor calls, kept off
    // the hot path).
    if (this.workStart + bytes <= this.capacity && this.u8.byteLength !== 0) return;
    const needed = this.workStart + bytes;
    const memory = this.wasm.memory;
    if (needed > memory.buffer.byteLength) {
      if (needed > MAX_MEMORY_BYTES) throw outOfMemory(needed);
      try {
        memory.grow(Math.ceil((needed - memory.buffer.byteLength) / PAGE));
      } catch {
        throw outOfMemory(needed);
      }
    }
    if (memory.buffer !== this.buffer) {
      // Growing detaches every old view: take new ones.
      const current = memory.buffer;
      this.buffer = current;
      this.capacity = current.byteLength;
      this.u8 = new Uint8Array(current);
      this.u16 = new Uint16Array(current);
      this.u32 = new Uint32Array(current);
      this.i32 = new Int32Array(current);
    }
  }

  /** The layout for chunks of up to `records` inputs whose names are at most maxUnits long. */
  layout(maxUnits: number, records: number): ChunkLayout {
    const input = this.workStart;
    const status = align8(input + records * L.SIZEOF_INPUT);
    const columns = status + records * L.SIZEOF_STATUS;
    const text = columns + records * 8;
    const spill = text + records * TEXT_SLOT;
    const out = align8(spill + records * 2 * maxUnits);
    const end = out + records * align8(L.SIZEOF_PEER_TARGET_NAME + 2 * maxUnits);
    this.reserve(end - input);
    return { records, input, status, columns, text, spill, out, end };
  }

  /** The one-record layout: the last call's again when its name limit is the same (no object per call). */
  singleLayout(maxUnits: number): ChunkLayout {
    const single = this.single;
    if (single !== undefined && maxUnits === this.singleMax) {
      this.reserve(single.end - this.workStart);
      return single;
    }
    const lay = this.layout(maxUnits, 1);
    if (this.layoutMemo) {
      this.single = lay;
      this.singleMax = maxUnits;
    }
    return lay;
  }

  /** How many records one chunk holds for names of at most maxUnits. */
  chunkRecords(maxUnits: number): number {
    const worst = L.SIZEOF_INPUT + L.SIZEOF_STATUS + TEXT_SLOT + 2 * maxUnits +
      align8(L.SIZEOF_PEER_TARGET_NAME + 2 * maxUnits);
    return Math.max(1, Math.min(MAX_CHUNK_RECORDS, Math.floor(CHUNK_BUDGET / worst)));
  }

  /** Starts a chunk (or a single record): an empty spill area. */
  startChunk(): void {
    this.spillUsed = 0;
  }

  /** Runs a call into the codec; a trap re-creates the instance (CodecFaultError). */
  run<T>(call: () => T): T {
    try {
      return call();
    } catch (cause) {
      if (cause instanceof PeerTargetNameError) throw cause;
      return this.recover(cause);
    }
  }

  /** encode_one, with a trap turned into CodecFaultError (no closure: this is the hot path). */
  encodeOne(input: number, out: number, word: number, maxUnits: number, detail: number): number {
    try {
      return this.wasm.encode_one(input, out, word, maxUnits, detail);
    } catch (cause) {
      return this.recover(cause);
    }
  }

  /** encode_batch, with a trap turned into CodecFaultError (no closure: this is the hot path). */
  encodeBatch(input: number, count: number, out: number, status: number, word: number, maxUnits: number, columns: number, base: number): number {
    try {
      return this.wasm.encode_batch(input, count, out, status, word, maxUnits, columns, base);
    } catch (cause) {
      return this.recover(cause);
    }
  }
}
