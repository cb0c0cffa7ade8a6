// The host side of the codec: owns one WebAssembly instance and lays out its memory, copies inputs
// in, calls the codec and turns its status records into bytes or typed errors.
//
// Moving the JS strings into WebAssembly memory is most of the cost of an encode (SPEC §6), so a
// batch moves them in bulk: each chunk's peer texts and target names are joined into one string
// and written with ONE TextEncoder.encodeInto call; when that string was pure ASCII (encodeInto
// read and wrote exactly one byte per UTF-16 unit) every piece's byte offset is its unit offset,
// and the codec widens the names to UTF-16 itself (FLAG_NAME_ASCII). Any other chunk (a non-ASCII
// character anywhere, a lone surrogate) is moved again unit by unit with charCodeAt, exactly as
// before, so what the codec sees never depends on the path taken.
//
// Memory, from the module's heap base up:
//   result   the decode result record (SIZEOF_RESULT)
//   names    an arena of interned target names (UTF-16), reset when it fills
//   work     per call: input records | status records | peer texts | spilled names | output
import * as L from '../generated/layout.js';
import { instantiateCodec, type CodecExports } from './loader.js';
import { PeerTargetNameError, quotedOf, reasonError, textOf, thrownText, type ReasonContext } from './errors.js';
import type { ResolvedOptions, ZoneResolver } from './options.js';
import { bufferOf, isArrayBuffer, isSharedArrayBuffer, lengthOf, offsetOf, typedArrayKind } from './views.js';
import type { PeerInput, PeerObject, PeerTargetNameInput } from './types.js';

const PAGE = 65536;
const NAME_ARENA_BYTES = 256 * 1024;
/** Names longer than this are never interned: they would crowd out the names that repeat. */
const MAX_INTERNED_UNITS = 1024;
/** A batch is encoded in chunks whose worst case fits this many bytes of work memory. */
const CHUNK_BUDGET = 1 << 20;
const MAX_CHUNK_RECORDS = 4096;
/** Peer text is copied up to one character past the longest the codec accepts, so it can say so. */
const TEXT_SLOT = (L.MAX_PEER_TEXT_LENGTH + 1 + 7) & ~7;
/** Decode copies at most this much; any byte past it can only be tail, checked in place. */
const DECODE_COPY_LIMIT = L.OFFSET_STRINGS + 2 * L.HARD_MAX_TARGET_NAME_LENGTH + 4;
/** The codec's memory never grows past this; past it a call fails with WSAENOBUFS. */
export const MAX_MEMORY_BYTES = 64 * 1024 * 1024;

const align8 = (n: number) => (n + 7) & ~7;

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

/**
 * Views of `length` bytes at one offset of the codec's memory, each made once: a subarray() costs
 * more than checking a record (about 30 ns on Node), and the bridge hands native code one such view
 * per call. The views are of one whole-memory view `u8`; when the codec has a new one (its memory
 * grew, or the instance was replaced), every view made before is dropped.
 */
class ViewCache {
  private source: Uint8Array | undefined;
  private at = -1;
  private readonly views = new Map<number, Uint8Array>();
  // The last view returned: most calls ask for the same length again.
  private lastLength = -1;
  private last: Uint8Array | undefined;

  get(u8: Uint8Array, at: number, length: number): Uint8Array {
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

/** The u32 words of one input record. */
const INPUT_WORDS = L.SIZEOF_INPUT >>> 2;

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

/** Where one chunk's areas start in the work region. */
interface ChunkLayout {
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

// (v >>> 0) === v holds exactly for the integers 0 to 2^32 - 1 (and -0, which Number.isInteger accepts too).
const isU32 = (v: unknown): v is number => typeof v === 'number' && (v >>> 0) === v;

/** The FLAG_FAMILY_* bit a peer object's `family` asks for: 0 when absent, undefined when it names no family. */
export function familyFlag(family: unknown): number | undefined {
  switch (family) {
    case undefined: case null: return 0;
    case 'IPv4': case 'ipv4': case 4: case L.AF_INET: return L.FLAG_FAMILY_IPV4;
    case 'IPv6': case 'ipv6': case 6: case L.AF_INET6: return L.FLAG_FAMILY_IPV6;
    default: return undefined;
  }
}

/** The field each step of readInput() reads, for the error when a getter throws. */
const READ_FIELDS = ['protocol', 'peer', 'peer.address', 'peer.port', 'peer.family', 'peer.flowInfo', 'peer.scopeId', 'targetName'];

function notAnInput(input: unknown, got: string): PeerTargetNameError {
  return new PeerTargetNameError('WSAEFAULT', 'input', `expected an input object { protocol, peer, targetName }, got ${got}`, { value: input });
}

/** What an object that is no input object is (an array, a buffer, a view, a Map or Set); undefined otherwise. Never throws. */
function objectKind(value: object): string | undefined {
  try {
    if (Array.isArray(value)) return 'an array';
    const typed = typedArrayKind(value);
    if (typed !== undefined) return `a ${typed}`;
    if (ArrayBuffer.isView(value)) return 'a DataView';
    if (isArrayBuffer(value)) return 'an ArrayBuffer';
    if (isSharedArrayBuffer(value)) return 'a SharedArrayBuffer';
    if (value instanceof Map) return 'a Map';
    if (value instanceof Set) return 'a Set';
  } catch {
    return 'a revoked proxy';
  }
  return undefined;
}

const NUMERIC_ZONE = /^[0-9]+$/;

/**
 * The peer text with a named zone (`fe80::1%eth0`, `[fe80::1%eth0]:500`) replaced by its interface
 * index, as the host's resolver gives it; the text unchanged when the zone is numeric, empty or
 * absent (the codec's to judge). A name the resolver does not know is WSAEINVAL naming the zone.
 */
function numericZone(text: string, bracketed: boolean, resolveZone: ZoneResolver): string | PeerTargetNameError {
  const percent = text.indexOf('%');
  let end = text.length;
  if (bracketed) {
    end = text.indexOf(']', percent);
    if (end < 0) return text; // not '[address]:port': the codec says so
  }
  const zone = text.slice(percent + 1, end);
  if (zone === '' || NUMERIC_ZONE.test(zone)) return text;
  let index: unknown;
  try {
    index = resolveZone(zone);
  } catch (cause) {
    return new PeerTargetNameError('WSAEINVAL', 'peer.address',
      `the zone ${JSON.stringify(zone)} in ${JSON.stringify(text)} could not be looked up: ${thrownText(cause)}`, { value: zone, cause });
  }
  if (!isU32(index) || index === 0) {
    return new PeerTargetNameError('WSAEINVAL', 'peer.address',
      `the zone ${JSON.stringify(zone)} in ${JSON.stringify(text)} is no network interface of this host ` +
      '(a zone is an interface name, or its index, e.g. %2)', { value: zone });
  }
  return text.slice(0, percent + 1) + index + text.slice(end);
}

/** The error for a codec reason about one record, with what its input held (never read again). */
function recordError(reason: number, detail: number, options: ResolvedOptions, flags: number, peer: string | undefined,
  port: number, scope: number, name: string | undefined): PeerTargetNameError {
  const context: ReasonContext = { maxTargetNameLength: options.maxTargetNameLength, targetName: name };
  const kind = flags & L.FLAG_PEER_MASK;
  if (kind === L.PEER_TEXT) {
    context.peerText = peer;
  } else if (kind === L.PEER_FIELDS) {
    context.peerText = peer;
    context.peerIsObject = true;
    context.port = port;
    if (flags & L.FLAG_SCOPE_GIVEN) context.scopeId = scope;
  }
  return reasonError(reason, detail, context);
}

/** The raw fields a decode call leaves in the result record. */
export interface RawDecode {
  length: number;
  present: number;
  protocol: number;
  family: number;
  port: number;
  flowInfo: number;
  scopeId: number;
  address: Uint8Array;
  stringLength: number;
  lengthUnit: 'units' | 'bytes';
  nameUnits: number;
  /** The units the buffer actually holds, as a string (lone surrogates kept as they are). */
  name: string;
  problems: { reason: number; detail: number; offset: number; length: number }[];
}

export class Codec {
  private wasm!: CodecExports;
  private buffer: ArrayBuffer | undefined;
  private u8!: Uint8Array;
  private u16!: Uint16Array;
  private u32!: Uint32Array;
  private i32!: Int32Array;
  private result = 0;
  private arenaStart = 0;
  private arenaUsed = 0;
  private workStart = 0;
  private names = new Map<string, number>();
  private spillUsed = 0;
  private layouts = new Map<number, ChunkLayout>();
  /** The one-record layout of the last call, and the name limit it was made for. */
  private single: ChunkLayout | undefined;
  private singleMax = -1;
  // The snapshot of the input read last (readInput): plain values, assigned only once every read
  // of the input is done. The caller's getters and Proxy traps run inside readInput and nowhere
  // else, before anything of the record is in the codec's memory, so one that re-enters the codec
  // can neither see nor change a record in progress. Fields, not a returned object: nothing is
  // allocated on the single-record path.
  private snapProtocol = 0;
  /** The input record's flags word: PEER_* | FLAG_FAMILY_* | FLAG_SCOPE_GIVEN. */
  private snapFlags = 0;
  private snapPort = 0;
  private snapFlow = 0;
  private snapScope = 0;
  /** The peer as the caller gave it (its text, or the object's address), for messages. */
  private snapPeer: string | undefined;
  /** The peer text the codec reads (a named zone translated, cut one past the longest accepted). */
  private fieldText: string | undefined;
  private fieldName = '';
  /** Bytes the last chunk's records take if all succeed (sizes the batch output). */
  private chunkBytes = 0;
  /** The private copy of the bytes the last checkedCopy() refused, for its error. */
  private refused: Uint8Array | undefined;
  /** The views encodeInPlace() and checkedCopy() return (each valid until the next call). */
  private readonly recordViews = new ViewCache();
  private readonly checkedViews = new ViewCache();
  /** The one-record layout's text area, for placeOne()'s encodeInto. */
  private readonly textViews = new ViewCache();

  constructor(wasm: CodecExports = instantiateCodec()) {
    this.adopt(wasm);
  }

  private adopt(wasm: CodecExports): void {
    this.wasm = wasm;
    this.result = align8(wasm.heap_base());
    this.arenaStart = align8(this.result + L.SIZEOF_RESULT);
    this.arenaUsed = 0;
    this.workStart = this.arenaStart + NAME_ARENA_BYTES;
    this.names.clear();
    this.layouts.clear();
    this.single = undefined;
    this.singleMax = -1;
    this.buffer = undefined;
    for (const views of [this.recordViews, this.checkedViews, this.textViews]) views.clear();
    this.reserve(0);
  }

  /** Replaces the instance after a trap: nothing of the old memory is trusted again. */
  private recover(cause: unknown): never {
    this.adopt(instantiateCodec());
    throw new CodecFaultError(cause);
  }

  /** Makes the work region at least `bytes` long and the views current. */
  private reserve(bytes: number): void {
    const needed = this.workStart + bytes;
    // Only this class grows the memory, so the views are current unless it has to grow now (the
    // detached check is a cheap guard; memory.buffer is an accessor call, kept off the hot path).
    const buffer = this.buffer;
    if (buffer !== undefined && needed <= buffer.byteLength && this.u8.byteLength !== 0) return;
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
      this.u8 = new Uint8Array(current);
      this.u16 = new Uint16Array(current);
      this.u32 = new Uint32Array(current);
      this.i32 = new Int32Array(current);
    }
  }

  /** The layout for chunks of up to `records` inputs whose names are at most maxUnits long. */
  private layout(maxUnits: number, records: number): ChunkLayout {
    const key = maxUnits * (MAX_CHUNK_RECORDS + 1) + records;
    let lay = this.layouts.get(key);
    if (lay === undefined) {
      const input = this.workStart;
      const status = align8(input + records * L.SIZEOF_INPUT);
      const columns = status + records * L.SIZEOF_STATUS;
      const text = columns + records * 8;
      const spill = text + records * TEXT_SLOT;
      const out = align8(spill + records * 2 * maxUnits);
      const end = out + records * align8(L.SIZEOF_PEER_TARGET_NAME + 2 * maxUnits);
      lay = { records, input, status, columns, text, spill, out, end };
      this.layouts.set(key, lay);
    }
    this.reserve(lay.end - this.workStart);
    return lay;
  }

  /** The one-record layout, without a map lookup when the name limit is the last call's. */
  private singleLayout(maxUnits: number): ChunkLayout {
    if (maxUnits !== this.singleMax || this.single === undefined) {
      this.single = this.layout(maxUnits, 1);
      this.singleMax = maxUnits;
    } else {
      this.reserve(this.single.end - this.workStart);
    }
    return this.single;
  }

  /** How many records one chunk holds for names of at most maxUnits. */
  private chunkRecords(maxUnits: number): number {
    const worst = L.SIZEOF_INPUT + L.SIZEOF_STATUS + TEXT_SLOT + 2 * maxUnits +
      align8(L.SIZEOF_PEER_TARGET_NAME + 2 * maxUnits);
    return Math.max(1, Math.min(MAX_CHUNK_RECORDS, Math.floor(CHUNK_BUDGET / worst)));
  }

  /** Puts a name's units in memory and returns where: interned in the arena, or spilled for this chunk. */
  private placeName(name: string, spill: number): number {
    const known = this.names.get(name);
    if (known !== undefined) return known;
    const n = name.length;
    let at: number;
    if (n <= MAX_INTERNED_UNITS && this.arenaUsed + 2 * n <= NAME_ARENA_BYTES) {
      at = this.arenaStart + this.arenaUsed;
      this.arenaUsed += align8(2 * n);
      this.names.set(name, at);
    } else {
      at = spill + this.spillUsed;
      this.spillUsed += 2 * n;
    }
    const u16 = this.u16;
    const base = at >>> 1;
    for (let i = 0; i < n; i++) u16[base + i] = name.charCodeAt(i);
    return at;
  }

  /** Copies ASCII peer text; anything else becomes 0xff, which no address contains. */
  private placeText(text: string, at: number): number {
    const n = text.length;
    const u8 = this.u8;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      u8[at + i] = c < 0x80 ? c : 0xff;
    }
    return n;
  }

  /**
   * Reads one input exactly once (protocol, peer and its fields, targetName, in that order) into
   * the snapshot, checks its shape, and translates a named zone when the options say how. Returns
   * the host-side error for inputs of the wrong shape (which the codec never sees): a getter that
   * throws is WSAEFAULT naming the field it guards, with what it threw as the cause.
   */
  private readInput(input: unknown, resolveZone: ZoneResolver | null | undefined): PeerTargetNameError | undefined {
    if (input === null || typeof input !== 'object') return notAnInput(input, input === null ? 'null' : typeof input);
    // Every read first, into locals.
    let step = 0;
    let p: unknown, peer: unknown, address: unknown, port: unknown, family: unknown, flowInfo: unknown, scopeId: unknown, name: unknown;
    try {
      p = (input as PeerTargetNameInput).protocol;
      step = 1;
      peer = (input as PeerTargetNameInput).peer;
      if (peer !== null && typeof peer === 'object') {
        step = 2;
        address = (peer as PeerObject).address;
        step = 3;
        port = (peer as PeerObject).port;
        step = 4;
        family = (peer as PeerObject).family;
        step = 5;
        flowInfo = (peer as PeerObject).flowInfo;
        step = 6;
        scopeId = (peer as PeerObject).scopeId;
      }
      step = 7;
      name = (input as PeerTargetNameInput).targetName;
    } catch (cause) {
      return new PeerTargetNameError('WSAEFAULT', READ_FIELDS[step], `reading it threw ${thrownText(cause)}`, { cause });
    }
    // Then the checks, on plain values (messages never run the caller's code: textOf, quotedOf).
    let protocol: number;
    if (typeof p === 'string') {
      protocol = p === 'ipsec' ? L.PROTOCOL_IPSEC : p === 'ipsec2' ? L.PROTOCOL_IPSEC2 : p === 'default' ? L.PROTOCOL_DEFAULT : -1;
    } else {
      protocol = isU32(p) ? p : -1;
    }
    if (protocol < 0) {
      // Not an input object at all (an array, a buffer, a Map) rather than a bad protocol.
      const kind = p === undefined ? objectKind(input) : undefined;
      if (kind !== undefined) return notAnInput(input, kind);
      return new PeerTargetNameError('WSAEINVAL', 'protocol',
        `${quotedOf(p)} is not a protocol: use 'default', 'ipsec', 'ipsec2' or 0-2`, { value: p });
    }
    let flags: number;
    let text: string | undefined;
    let portNumber = 0;
    let flow = 0;
    let scope = 0;
    if (peer === undefined || peer === null) {
      flags = L.PEER_NONE;
    } else if (typeof peer === 'string') {
      flags = L.PEER_TEXT;
      text = peer;
    } else if (typeof peer === 'object') {
      if (typeof address !== 'string') {
        return new PeerTargetNameError('WSAEINVAL', 'peer.address', `expected an IP address string, got ${typeof address}`, { value: address });
      }
      if (!isU32(port)) {
        return new PeerTargetNameError('WSAEINVAL', 'peer.port', `${textOf(port)} is not a port: a port is 1 to 65535`, { value: port });
      }
      const flag = familyFlag(family);
      if (flag === undefined) {
        return new PeerTargetNameError('WSAEAFNOSUPPORT', 'peer.family',
          `${quotedOf(family)} is not an address family: use 'IPv4' or 'IPv6'`, { value: family });
      }
      if (flowInfo === undefined) flowInfo = 0;
      if (!isU32(flowInfo)) {
        return new PeerTargetNameError('WSAEINVAL', 'peer.flowInfo', `${textOf(flowInfo)} is not a 32-bit unsigned flow label`, { value: flowInfo });
      }
      if (scopeId !== undefined && !isU32(scopeId)) {
        return new PeerTargetNameError('WSAEINVAL', 'peer.scopeId', `${textOf(scopeId)} is not a 32-bit unsigned interface index`, { value: scopeId });
      }
      flags = L.PEER_FIELDS | flag | (scopeId !== undefined ? L.FLAG_SCOPE_GIVEN : 0);
      portNumber = port;
      flow = flowInfo;
      scope = scopeId ?? 0;
      text = address;
    } else {
      return new PeerTargetNameError('WSAEINVAL', 'peer',
        `expected 'address:port' or { address, port }, got ${typeof peer}`, { value: peer });
    }
    if (typeof name !== 'string') {
      return new PeerTargetNameError('WSAEINVAL', 'targetName', `expected a string, got ${typeof name}`, { value: name });
    }
    let codecText = text;
    if (resolveZone && text !== undefined && text.indexOf('%') >= 0) {
      const numeric = numericZone(text, flags === L.PEER_TEXT, resolveZone);
      if (typeof numeric !== 'string') return numeric;
      codecText = numeric;
    }
    // Peer text is moved in up to one character past the longest the codec accepts, so it can say so.
    if (codecText !== undefined && codecText.length > L.MAX_PEER_TEXT_LENGTH + 1) codecText = codecText.slice(0, L.MAX_PEER_TEXT_LENGTH + 1);
    // The snapshot, last: nothing of the caller's runs after this.
    this.snapProtocol = protocol;
    this.snapFlags = flags;
    this.snapPort = portNumber;
    this.snapFlow = flow;
    this.snapScope = scope;
    this.snapPeer = text;
    this.fieldText = codecText;
    this.fieldName = name;
    return undefined;
  }

  /** Writes the snapshot's numeric fields into the input record at u32 index r (strings: placeOne/placeSlow). */
  private writeSnapshot(u32: Uint32Array, r: number): void {
    u32[r] = this.snapProtocol;
    u32[r + 1] = this.snapFlags;
    u32[r + 4] = this.snapPort;
    u32[r + 5] = this.snapFlow;
    u32[r + 6] = this.snapScope;
    u32[r + 8] = this.fieldName.length;
  }

  /**
   * The peer of the input read last (by encode, encodeInPlace or encodePeer), as text for a
   * message: as given, or `address:port` (`[address]:port` for IPv6) for an object. From the
   * snapshot: the caller's object is not read again.
   */
  snapshotPeerText(): string | undefined {
    const kind = this.snapFlags & L.FLAG_PEER_MASK;
    const peer = this.snapPeer;
    if (kind === L.PEER_NONE || peer === undefined) return undefined;
    if (kind === L.PEER_TEXT) return peer;
    return peer.includes(':') ? `[${peer}]:${this.snapPort}` : `${peer}:${this.snapPort}`;
  }

  /** Moves one record's strings in unit by unit: text into its slot, the name interned or spilled. */
  private placeSlow(r: number, text: string | undefined, name: string | undefined, textAt: number, spill: number, maxUnits: number): void {
    const u32 = this.u32;
    if (text !== undefined) {
      u32[r + 2] = textAt;
      u32[r + 3] = this.placeText(text, textAt);
    }
    u32[r + 1] &= ~L.FLAG_NAME_ASCII;
    // A name over the limit (or undefined: not kept) is never read: the codec rejects it on its length alone.
    u32[r + 7] = name !== undefined && name.length <= maxUnits ? this.placeName(name, spill) : 0;
  }

  /**
   * Moves one record's strings in: text and name joined and written with one encodeInto when both
   * are ASCII (as a batch chunk is, see the top of this file), else unit by unit.
   */
  private placeOne(r: number, lay: ChunkLayout, maxUnits: number): void {
    const text = this.fieldText;
    const name = this.fieldName;
    if (bulkText && name.length <= maxUnits) {
      const joined = text === undefined ? name : text + name;
      const length = joined.length;
      // Into all of [text, out): a cached view (a subarray per call would cost a tenth of the
      // call); what non-ASCII text writes there is overwritten by placeSlow() below.
      const moved = textEncoder!.encodeInto(joined, this.textViews.get(this.u8, lay.text, lay.out - lay.text));
      if (moved.read === length && moved.written === length) {
        const u32 = this.u32;
        const textLength = text === undefined ? 0 : text.length;
        if (text !== undefined) {
          u32[r + 2] = lay.text;
          u32[r + 3] = textLength;
        }
        u32[r + 1] |= L.FLAG_NAME_ASCII;
        u32[r + 7] = lay.text + textLength;
        return;
      }
    }
    this.placeSlow(r, text, name, lay.text, lay.spill, maxUnits);
  }

  /** The error for a codec reason about the snapshot's record. */
  private snapshotError(reason: number, detail: number, options: ResolvedOptions): PeerTargetNameError {
    return recordError(reason, detail, options, this.snapFlags, this.snapPeer, this.snapPort, this.snapScope, this.fieldName);
  }

  private run<T>(call: () => T): T {
    try {
      return call();
    } catch (cause) {
      if (cause instanceof PeerTargetNameError) throw cause;
      return this.recover(cause);
    }
  }

  /** encode_batch, with a trap turned into CodecFaultError (no closure: this is the hot path). */
  private encodeBatch(input: number, count: number, out: number, status: number, word: number, maxUnits: number, columns: number, base: number): number {
    try {
      return this.wasm.encode_batch(input, count, out, status, word, maxUnits, columns, base);
    } catch (cause) {
      return this.recover(cause);
    }
  }

  /** Encodes one record into a fresh Uint8Array of exactly 144 + 2n bytes. */
  encode(input: PeerTargetNameInput, options: ResolvedOptions): Uint8Array {
    const at = this.encodeOne(input, options);
    // The caller owns the result outright (its own ArrayBuffer, offset 0: code that reads
    // bytes.buffer must not see other records), so slice, not a pool. An ArrayBuffer costs about
    // a microsecond on Node; encodePeerTargetNames amortises it over a whole batch.
    return this.u8.slice(at, at + this.u32[(this.single!.status >>> 2) + 1]);
  }

  /**
   * Encodes one record and returns a view of it inside the codec's memory, valid until the next
   * call on this codec (the bridge hands it to native code without a copy).
   */
  encodeInPlace(input: PeerTargetNameInput, options: ResolvedOptions): Uint8Array {
    const at = this.encodeOne(input, options);
    return this.recordViews.get(this.u8, at, this.u32[(this.single!.status >>> 2) + 1]);
  }

  /** Encodes one record in the one-record layout; returns where it starts (its length is in the status). */
  private encodeOne(input: PeerTargetNameInput, options: ResolvedOptions): number {
    const maxUnits = options.maxTargetNameLength;
    // The input is read (the caller's code runs) before the codec's memory is touched.
    const error = this.readInput(input, options.resolveZone);
    if (error) throw error;
    this.startChunk();
    const lay = this.singleLayout(maxUnits);
    const r = lay.input >>> 2;
    this.writeSnapshot(this.u32, r);
    this.placeOne(r, lay, maxUnits);
    this.encodeBatch(lay.input, 1, lay.out, lay.status, options.word, maxUnits, 0, 0);
    const s = lay.status >>> 2;
    const reason = this.i32[s + 2];
    if (reason !== 0) throw this.snapshotError(reason, this.u32[s + 3], options);
    return lay.out;
  }

  private startChunk(): void {
    this.spillUsed = 0;
    // Past three quarters full, start the arena afresh: cheaper than tracking what is still used.
    if (this.arenaUsed > (NAME_ARENA_BYTES * 3) >>> 2) {
      this.names.clear();
      this.arenaUsed = 0;
    }
  }

  /**
   * Reads inputs[base, end) once each, into `mirror` (input records in the codec's format, their
   * string offsets from `textBase`) and one joined string of all their texts and names: the
   * caller's code (getters, Proxy traps) runs only here, while nothing of this chunk is in the
   * codec's memory yet. Host-side failures go to `failures`; slots[k] is the input index of record k.
   */
  private readChunk(inputs: readonly PeerTargetNameInput[], base: number, end: number, textBase: number, maxUnits: number,
    mirror: Uint32Array, slots: Int32Array, failures: { index: number; error: PeerTargetNameError }[],
    resolveZone: ZoneResolver | null | undefined): ChunkRead {
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
      const error = this.readInput(input, resolveZone);
      if (error) {
        failures.push({ index: i, error });
        continue;
      }
      const r = written * INPUT_WORDS;
      this.writeSnapshot(mirror, r);
      const text = this.fieldText;
      const name = this.fieldName;
      if (text !== undefined) {
        mirror[r + 2] = at;
        mirror[r + 3] = text.length;
        joined += text;
        at += text.length;
        // Cut or zone-translated: keep the caller's text for a message.
        if (text !== this.snapPeer) (given ??= new Map()).set(written, this.snapPeer!);
      }
      if (name.length <= maxUnits) {
        mirror[r + 1] |= L.FLAG_NAME_ASCII;
        mirror[r + 7] = at;
        joined += name;
        at += name.length;
        bytes += (L.SIZEOF_PEER_TARGET_NAME + 2 * name.length + 7) & ~7;
      } else {
        mirror[r + 7] = 0; // never read: the codec rejects the name on its length alone
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
    const { written, joined } = chunk;
    if (lay.text !== chunk.textBase) {
      // The layout moved while the chunk was read (a getter re-created the instance): shift the offsets.
      const shift = lay.text - chunk.textBase;
      for (let k = 0; k < written; k++) {
        const r = k * INPUT_WORDS;
        if ((mirror[r + 1] & L.FLAG_PEER_MASK) !== L.PEER_NONE) mirror[r + 2] += shift;
        if (mirror[r + 8] <= maxUnits) mirror[r + 7] += shift;
      }
      chunk.textBase = lay.text;
    }
    const u32 = this.u32;
    u32.set(written === mirror.length / INPUT_WORDS ? mirror : mirror.subarray(0, written * INPUT_WORDS), lay.input >>> 2);
    const length = joined.length;
    let ascii = false;
    if (bulkText && length > 0) {
      const moved = textEncoder!.encodeInto(joined, this.u8.subarray(lay.text, lay.text + length));
      ascii = moved.read === length && moved.written === length;
    }
    if (!ascii && length > 0) {
      // Not one byte per unit somewhere: move every string in again, unit by unit. Each is read
      // back out of the joined string (where its record says it went).
      for (let k = 0; k < written; k++) {
        const r = (lay.input >>> 2) + k * INPUT_WORDS;
        const textFrom = u32[r + 2] - lay.text;
        const text = (u32[r + 1] & L.FLAG_PEER_MASK) === L.PEER_NONE ? undefined : joined.slice(textFrom, textFrom + u32[r + 3]);
        const nameFrom = u32[r + 7] - lay.text;
        const name = u32[r + 8] <= maxUnits ? joined.slice(nameFrom, nameFrom + u32[r + 8]) : undefined;
        this.placeSlow(r, text, name, lay.text + k * TEXT_SLOT, lay.spill, maxUnits);
      }
    }
    this.chunkBytes = chunk.bytes;
  }

  /** The error for a codec reason about record k of a chunk, from what readChunk() kept. */
  private chunkError(chunk: ChunkRead, mirror: Uint32Array, k: number, reason: number, detail: number, options: ResolvedOptions): PeerTargetNameError {
    const r = k * INPUT_WORDS;
    const flags = mirror[r + 1];
    const from = (at: number) => at - chunk.textBase;
    const peer = (flags & L.FLAG_PEER_MASK) === L.PEER_NONE ? undefined
      : chunk.given?.get(k) ?? chunk.joined.slice(from(mirror[r + 2]), from(mirror[r + 2]) + mirror[r + 3]);
    const units = mirror[r + 8];
    const name = units <= options.maxTargetNameLength ? chunk.joined.slice(from(mirror[r + 7]), from(mirror[r + 7]) + units) : undefined;
    return recordError(reason, detail, options, flags, peer, mirror[r + 4], mirror[r + 6], name);
  }

  /**
   * Encodes many records: the bytes of all that succeed, each at an 8-byte aligned offset, and one
   * error per record that failed.
   */
  encodeMany(inputs: readonly PeerTargetNameInput[], options: ResolvedOptions): {
    bytes: Uint8Array; offsets: Uint32Array; lengths: Uint32Array; failures: { index: number; error: PeerTargetNameError }[];
  } {
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
    const perChunk = this.chunkRecords(maxUnits);
    const slots = new Int32Array(Math.min(perChunk, count));
    // This call's own: a getter that runs a batch of its own cannot reach it.
    const mirror = new Uint32Array(Math.min(perChunk, count) * INPUT_WORDS);
    // The output is sized after the first chunk, from its records' sizes (a second pass over the
    // inputs would cost a second round of cache misses on every input), and grown if need be.
    let out: Uint8Array | undefined;
    let outUsed = 0;
    let hostFailed = false;
    for (let base = 0; base < count; base += perChunk) {
      const end = Math.min(count, base + perChunk);
      const before = failures.length;
      const chunk = this.readChunk(inputs, base, end, this.layout(maxUnits, perChunk).text, maxUnits, mirror, slots, failures, options.resolveZone);
      const written = chunk.written;
      if (failures.length !== before) hostFailed = true;
      this.startChunk();
      const lay = this.layout(maxUnits, perChunk);
      this.writeChunk(chunk, lay, mirror, maxUnits);
      const used = this.encodeBatch(lay.input, written, lay.out, lay.status, options.word, maxUnits, lay.columns, outUsed);
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
      out.set(this.u8.subarray(lay.out, lay.out + used), outUsed);
      const u32 = this.u32;
      const i32 = this.i32;
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
        const s = (lay.status >>> 2) + k * (L.SIZEOF_STATUS >>> 2);
        const index = slots[k];
        const reason = i32[s + 2];
        if (reason === 0) {
          offsets[index] = outUsed + u32[s];
          lengths[index] = u32[s + 1];
        } else {
          failures.push({ index, error: this.chunkError(chunk, mirror, k, reason, u32[s + 3], options) });
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

  /** Writes only a sockaddr (for WSADeleteSocketPeerTargetName); returns a view valid until the next call. */
  encodePeer(peer: PeerInput, options: ResolvedOptions): Uint8Array {
    // The peer is read (the caller's code runs) before the codec's memory is touched.
    const error = this.readInput({ protocol: 0, peer, targetName: 'x' }, options.resolveZone);
    if (error) throw error;
    this.startChunk();
    const lay = this.layout(options.maxTargetNameLength, 1);
    const r = lay.input >>> 2;
    this.writeSnapshot(this.u32, r);
    this.placeSlow(r, this.fieldText, this.fieldName, lay.text, lay.spill, options.maxTargetNameLength);
    const reason = this.run(() => this.wasm.encode_peer(lay.input, lay.out, options.word, lay.status));
    if (reason !== 0) throw this.snapshotError(reason, this.u32[(lay.status >>> 2) + 3], options);
    return this.u8.subarray(lay.out, lay.out + L.SIZE_SOCKADDR_STORAGE);
  }

  /**
   * For codecs of the other structs (host/codec/security.ts): reserves `bytes` of work memory and runs
   * `call` with the exports, where the work region starts and a byte view of the whole memory,
   * valid only inside `call`. A trap re-creates the instance (CodecFaultError), as for every call here.
   */
  callWith<T>(bytes: number, call: (wasm: CodecExports, at: number, memory: Uint8Array) => T): T {
    this.reserve(bytes);
    return this.run(() => call(this.wasm, this.workStart, this.u8));
  }

  /**
   * The bridge's check of caller bytes before they may reach native code, per call. Returns the
   * bytes to pass: a private copy, made first and then checked, so native code receives exactly the
   * bytes that were checked even if the caller's buffer is shared with another thread that writes
   * to it. A buffer of up to DECODE_COPY_LIMIT bytes (every valid record, unless padded with zeros
   * beyond) is copied into the codec's memory and checked there by the codec's check() (decode()'s
   * verdict, without building the decoded fields); that copy is valid until the next call on this
   * codec. A longer one is copied into a fresh Uint8Array of the same length, outside the codec's
   * memory, and that copy is decoded. Returns undefined for an empty view, or when the copy has a
   * problem: takeRefused() then hands over that very copy, for the error.
   */
  checkedCopy(bytes: Uint8Array, options: ResolvedOptions): Uint8Array | undefined {
    this.refused = undefined;
    const length = lengthOf(bytes); // the internal length: an own `length` property cannot lie
    if (length === 0) return undefined;
    if (length > DECODE_COPY_LIMIT) {
      const copy = new Uint8Array(bytes); // copies through the internal slots, never the caller's code
      if (this.decode(copy, options).problems.length === 0) return copy;
      this.refused = copy;
      return undefined;
    }
    // A view into this memory would be detached if reserve() grows it: copy it out first.
    if (bufferOf(bytes) === this.buffer) bytes = new Uint8Array(bytes);
    this.reserve(length + 8);
    const at = this.workStart;
    const u8 = this.u8;
    u8.set(bytes, at);
    let verdict: number;
    try {
      verdict = this.wasm.check(at, length, options.word, options.maxTargetNameLength);
    } catch (cause) {
      return this.recover(cause);
    }
    if (verdict === 0) return this.checkedViews.get(u8, at, length);
    this.refused = u8.slice(at, at + length); // what failed, kept for the error
    return undefined;
  }

  /**
   * The private copy the last checkedCopy() refused (once): decode it for the error, never the
   * caller's buffer again, which another thread may have changed since.
   */
  takeRefused(): Uint8Array | undefined {
    const refused = this.refused;
    this.refused = undefined;
    return refused;
  }

  /** Decodes any bytes into raw fields and every problem found, in byte order. */
  decode(bytes: Uint8Array, options: ResolvedOptions): RawDecode {
    // A view into this codec's own memory would be detached if reserve() grows it.
    if (bufferOf(bytes) === this.buffer) bytes = new Uint8Array(bytes);
    const length = lengthOf(bytes);
    const copied = Math.min(length, DECODE_COPY_LIMIT);
    this.reserve(copied + 8);
    const at = this.workStart;
    // Through the internal slots: no subarray(), which a subclass could redirect.
    if (copied > 0) this.u8.set(copied === length ? bytes : new Uint8Array(bufferOf(bytes), offsetOf(bytes), copied), at);
    const count = this.run(() => this.wasm.decode(at, copied, options.word, options.maxTargetNameLength, this.result));
    const u32 = this.u32;
    const r = this.result >>> 2;
    const problems: RawDecode['problems'] = [];
    for (let k = 0; k < count; k++) {
      const p = r + ((L.RES_PROBLEMS + k * L.SIZEOF_PROBLEM) >>> 2);
      problems.push({ reason: this.i32[p], detail: u32[p + 1], offset: u32[p + 2], length: u32[p + 3] });
    }
    const nameUnits = u32[r + (L.RES_NAME_UNITS >>> 2)];
    if (copied < length) this.checkBeyondCopy(bytes, copied, nameUnits, problems);
    const available = u32[r + (L.RES_NAME_AVAILABLE >>> 2)];
    const nameAt = (at + L.OFFSET_STRINGS) >>> 1;
    let name = '';
    for (let i = 0; i < available; i += 4096) {
      name += String.fromCharCode(...this.u16.subarray(nameAt + i, nameAt + Math.min(available, i + 4096)));
    }
    return {
      length,
      present: u32[r + (L.RES_PRESENT >>> 2)],
      protocol: u32[r + (L.RES_PROTOCOL >>> 2)],
      family: u32[r + (L.RES_FAMILY >>> 2)],
      port: u32[r + (L.RES_PORT >>> 2)],
      flowInfo: u32[r + (L.RES_FLOWINFO >>> 2)],
      scopeId: u32[r + (L.RES_SCOPE_ID >>> 2)],
      address: this.u8.slice(this.result + L.RES_ADDRESS, this.result + L.RES_ADDRESS + 16),
      stringLength: u32[r + (L.RES_STRING_LENGTH >>> 2)],
      lengthUnit: u32[r + (L.RES_LENGTH_UNIT >>> 2)] === L.LENGTH_UNIT_BYTES ? 'bytes' : 'units',
      nameUnits,
      name,
      problems,
    };
  }

  /**
   * The codec saw only the first DECODE_COPY_LIMIT bytes of a longer buffer. Every byte past it is
   * tail (no valid name reaches that far), so check those in place and drop the codec's "string
   * beyond buffer" if the real buffer does hold the claimed string.
   */
  private checkBeyondCopy(bytes: Uint8Array, copied: number, nameUnits: number, problems: RawDecode['problems']): void {
    const nameEnd = L.OFFSET_STRINGS + 2 * nameUnits;
    const beyond = problems.findIndex((p) => p.reason === L.REASON_STRING_BEYOND_BUFFER);
    if (beyond >= 0 && nameEnd <= bytes.length) problems.splice(beyond, 1);
    if (problems.some((p) => p.reason === L.REASON_TAIL_NONZERO)) return;
    for (let i = Math.max(copied, nameEnd); i < bytes.length; i++) {
      if (bytes[i] !== 0) {
        problems.push({ reason: L.REASON_TAIL_NONZERO, detail: bytes[i], offset: i, length: bytes.length - i });
        return;
      }
    }
  }
}

let shared: Codec | undefined;

/** The codec instance behind the module-level API functions. */
export function sharedCodec(): Codec {
  return (shared ??= new Codec());
}
