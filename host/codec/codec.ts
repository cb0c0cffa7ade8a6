// The host side of the codec, one object per WebAssembly instance: it owns the memory (memory.ts)
// and the snapshot of the input read last (input.ts), and hands each job to its part:
//   one-record.ts     encodePeerTargetName, ...Into, the bridge's in-place record, a sockaddr alone
//   batch-encoder.ts  encodePeerTargetNames
//   reader.ts         decode, check
//   memory.ts         growth, views, trap recovery (callWith, for the other structs' codecs)
import { instantiateCodec, type CodecExports } from './loader.js';
import { BatchEncoder, type BatchResult } from './batch-encoder.js';
import { InputSnapshot } from './input.js';
import { CodecMemory, type CodecTuning } from './memory.js';
import { RecordWriter } from './one-record.js';
import { CodecReader, type RawDecode } from './reader.js';
import type { ResolvedOptions } from './options.js';
import type { DecodedPeerTargetName, PeerInput, PeerTargetNameInput } from './types.js';

export { CodecFaultError, MAX_MEMORY_BYTES, type CodecTuning } from './memory.js';
export { familyFlag } from './input.js';
export type { RawDecode } from './reader.js';

export class Codec {
  private readonly memory: CodecMemory;
  private readonly snapshot = new InputSnapshot();
  private readonly writer: RecordWriter;
  private readonly batch: BatchEncoder;
  private readonly reader: CodecReader;

  constructor(wasm: CodecExports = instantiateCodec(), tuning?: CodecTuning) {
    this.memory = new CodecMemory(wasm, tuning);
    this.writer = new RecordWriter(this.memory, this.snapshot);
    this.batch = new BatchEncoder(this.memory, this.snapshot);
    this.reader = new CodecReader(this.memory);
  }

  /** The current instance's exports (replaced after a trap). */
  get wasm(): CodecExports {
    return this.memory.wasm;
  }

  /** Encodes one record into a fresh Uint8Array of exactly 144 + 2n bytes. */
  encode(input: PeerTargetNameInput, options: ResolvedOptions): Uint8Array {
    return this.writer.encode(input, options);
  }

  /** Encodes one record into target at offset; returns its length (WSAEMSGSIZE when it does not fit). */
  encodeTo(target: Uint8Array, offset: number, input: PeerTargetNameInput, options: ResolvedOptions): number {
    return this.writer.encodeTo(target, offset, input, options);
  }

  /**
   * Encodes one record and returns a view of it inside the codec's memory, valid until the next
   * call on this codec (the bridge hands it to native code without a copy).
   */
  encodeInPlace(input: PeerTargetNameInput, options: ResolvedOptions): Uint8Array {
    return this.writer.encodeInPlace(input, options);
  }

  /** Writes only a sockaddr (for WSADeleteSocketPeerTargetName); returns a view valid until the next call. */
  encodePeer(peer: PeerInput, options: ResolvedOptions): Uint8Array {
    return this.writer.encodePeer(peer, options);
  }

  /**
   * Encodes many records: the bytes of all that succeed, each at an 8-byte aligned offset, and one
   * error per record that failed.
   */
  encodeMany(inputs: readonly PeerTargetNameInput[], options: ResolvedOptions): BatchResult {
    return this.batch.encodeMany(inputs, options);
  }

  /**
   * The peer of the input read last (by encode, encodeInPlace or encodePeer), as text for a
   * message: as given, or `address:port` (`[address]:port` for IPv6) for an object. From the
   * snapshot: the caller's object is not read again.
   */
  snapshotPeerText(): string | undefined {
    return this.snapshot.peerText();
  }

  /**
   * For codecs of the other structs (host/codec/security.ts): reserves `bytes` of work memory and runs
   * `call` with the exports, where the work region starts and a byte view of the whole memory,
   * valid only inside `call`. A trap re-creates the instance (CodecFaultError), as for every call here.
   */
  callWith<T>(bytes: number, call: (wasm: CodecExports, at: number, memory: Uint8Array) => T): T {
    const m = this.memory;
    m.reserve(bytes);
    return m.run(() => call(m.wasm, m.workStart, m.u8));
  }

  /** The bridge's check of caller bytes: a private, checked copy, or undefined (see reader.ts). */
  checkedCopy(bytes: Uint8Array, options: ResolvedOptions): Uint8Array | undefined {
    return this.reader.checkedCopy(bytes, options);
  }

  /** The private copy the last checkedCopy() refused (once), for its error. */
  takeRefused(): Uint8Array | undefined {
    return this.reader.takeRefused();
  }

  /** True when the codec's check() passes the bytes (decode() would find no problem). */
  passes(bytes: Uint8Array, options: ResolvedOptions): boolean {
    return this.reader.passes(bytes, options);
  }

  /** decode()'s answer for bytes check() passes; undefined otherwise. */
  decodeValid(bytes: Uint8Array, options: ResolvedOptions): DecodedPeerTargetName | undefined {
    return this.reader.decodeValid(bytes, options);
  }

  /** Decodes any bytes into raw fields and every problem found, in byte order. */
  decode(bytes: Uint8Array, options: ResolvedOptions): RawDecode {
    return this.reader.decode(bytes, options);
  }
}

let shared: Codec | undefined;

/** The codec instance behind the module-level API functions. */
export function sharedCodec(): Codec {
  return (shared ??= new Codec());
}
