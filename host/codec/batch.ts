// The result of encoding many records in one call: one region of bytes, each record at an
// 8-byte aligned offset (SOCKADDR_STORAGE's alignment), and a typed error for each that failed.
import type { PeerTargetNameError } from './errors.js';

export interface BatchFailure {
  /** Index of the input that failed. */
  index: number;
  error: PeerTargetNameError;
}

export class PeerTargetNameBatch {
  /** All encoded records, back to back at 8-byte aligned offsets. */
  readonly bytes: Uint8Array;
  /** Per input: where its record starts in `bytes` (0 for a failed one: see `lengths`). */
  readonly offsets: Uint32Array;
  /** Per input: its record's length, 144 + 2n, or 0 when it failed. */
  readonly lengths: Uint32Array;
  /** The inputs that failed, in input order. */
  readonly failures: readonly BatchFailure[];

  constructor(bytes: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, failures: readonly BatchFailure[]) {
    this.bytes = bytes;
    this.offsets = offsets;
    this.lengths = lengths;
    this.failures = failures;
  }

  /** How many inputs the batch had. */
  get count(): number {
    return this.offsets.length;
  }

  /** True when every input was encoded. */
  get ok(): boolean {
    return this.failures.length === 0;
  }

  /** Input i's record as a view into `bytes`, or undefined if it failed. */
  record(index: number): Uint8Array | undefined {
    const length = this.lengths[index];
    if (!length) return undefined;
    const offset = this.offsets[index];
    return this.bytes.subarray(offset, offset + length);
  }

  /** Input i's error, or undefined if it was encoded. */
  error(index: number): PeerTargetNameError | undefined {
    if (this.lengths[index] || index < 0 || index >= this.count) return undefined;
    return this.failures.find((f) => f.index === index)?.error;
  }

  /** Each input's record (or undefined where it failed), in input order. */
  *[Symbol.iterator](): IterableIterator<Uint8Array | undefined> {
    for (let i = 0; i < this.count; i++) yield this.record(i);
  }
}
