// Writing one record: the input read into the snapshot, its strings moved in, the kernel run on a
// one-record layout, and the record handed out as a fresh array, a copy into the caller's region,
// or a view of the codec's memory (for the bridge). Also a sockaddr alone (encodePeer).
import * as L from '../generated/layout.js';
import { PeerTargetNameError, offsetError } from './errors.js';
import type { CodecMemory } from './memory.js';
import type { InputSnapshot } from './input.js';
import { placeOne, placeSlow } from './strings.js';
import type { ResolvedOptions } from './options.js';
import { lengthOf } from './views.js';
import type { PeerInput, PeerTargetNameInput } from './types.js';

export class RecordWriter {
  /** The length of the record the last encodeOne() wrote. */
  private length = 0;

  constructor(private readonly m: CodecMemory, private readonly snap: InputSnapshot) {}

  /** Encodes one record in the one-record layout; returns where it starts (its length: this.length). */
  private encodeOne(input: PeerTargetNameInput, options: ResolvedOptions): number {
    const m = this.m;
    const snap = this.snap;
    const maxUnits = options.maxTargetNameLength;
    // The input is read (the caller's code runs) before the codec's memory is touched.
    const error = snap.read(input, options.resolveZone);
    if (error) throw error;
    m.startChunk();
    const lay = m.singleLayout(maxUnits);
    const r = lay.input >>> 2;
    snap.write(m.u32, r);
    placeOne(m, snap, r, lay, maxUnits);
    const detail = lay.status + L.ST_DETAIL;
    const length = m.encodeOne(lay.input, lay.out, options.word, maxUnits, detail);
    if (length < 0) throw snap.error(-length, m.u32[detail >>> 2], options);
    this.length = length;
    return lay.out;
  }

  /** One record into a fresh Uint8Array of exactly 144 + 2n bytes. */
  encode(input: PeerTargetNameInput, options: ResolvedOptions): Uint8Array {
    const at = this.encodeOne(input, options);
    // The caller owns the result outright (its own ArrayBuffer, offset 0: code that reads
    // bytes.buffer must not see other records), so a fresh array, not a pool. Made by the
    // Uint8Array constructor from the record's view (about 5% under new Uint8Array(n) + set(), which
    // zero-fills first; slice() takes a slower path in V8).
    return new Uint8Array(this.m.recordViews.get(this.m.u8, at, this.length));
  }

  /**
   * One record into target[offset, offset + length); returns its length. Nothing is allocated.
   * `offset` is a non-negative integer (the caller checks its type); its range is checked against
   * the target's length as it is once the input has been read: past the end is WSAEINVAL, a target
   * too short for the record WSAEMSGSIZE, and either leaves the target untouched.
   */
  encodeTo(target: Uint8Array, offset: number, input: PeerTargetNameInput, options: ResolvedOptions): number {
    const at = this.encodeOne(input, options);
    const length = this.length;
    // Read once, after the input (a getter may have shrunk a resizable buffer).
    const total = lengthOf(target);
    if (offset > total) throw offsetError(offset, total);
    const room = total - offset;
    if (room < length) {
      throw new PeerTargetNameError('WSAEMSGSIZE', 'target',
        `the record is ${length} bytes, but the target holds ${room} from offset ${offset}`, { value: room });
    }
    // set() copies through a clone when the target is a view of this very memory.
    target.set(this.m.recordViews.get(this.m.u8, at, length), offset);
    return length;
  }

  /**
   * One record as a view inside the codec's memory, valid until the next call on this codec (the
   * bridge hands it to native code without a copy).
   */
  encodeInPlace(input: PeerTargetNameInput, options: ResolvedOptions): Uint8Array {
    const at = this.encodeOne(input, options);
    return this.m.recordViews.get(this.m.u8, at, this.length);
  }

  /** Only a sockaddr (for WSADeleteSocketPeerTargetName); a view valid until the next call. */
  encodePeer(peer: PeerInput, options: ResolvedOptions): Uint8Array {
    const m = this.m;
    const snap = this.snap;
    // The peer is read (the caller's code runs) before the codec's memory is touched.
    const error = snap.read({ protocol: 0, peer, targetName: 'x' }, options.resolveZone);
    if (error) throw error;
    m.startChunk();
    const lay = m.layout(options.maxTargetNameLength, 1);
    const r = lay.input >>> 2;
    snap.write(m.u32, r);
    placeSlow(m, r, snap.text, snap.name, lay.text, lay.spill, options.maxTargetNameLength);
    const reason = m.run(() => m.wasm.encode_peer(lay.input, lay.out, options.word, lay.status));
    if (reason !== 0) throw snap.error(reason, m.u32[(lay.status >>> 2) + L.W_ST_DETAIL], options);
    return m.u8.subarray(lay.out, lay.out + L.SIZE_SOCKADDR_STORAGE);
  }
}
