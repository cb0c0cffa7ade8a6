// encodePeerTargetNameInto: the zero-allocation single-record path. The record is encoded in the
// codec's memory and copied into the caller's region; nothing else is allocated.
import { sharedCodec } from './codec.js';
import { resolveOptions } from './options.js';
import { offsetError, PeerTargetNameError, textOf } from './errors.js';
import { lengthOf, typedArrayKind } from './views.js';
import type { CodecOptions, PeerTargetNameInput } from './types.js';

/**
 * Encodes one SOCKET_PEER_TARGET_NAME into `target` at `offset` (the same 144 + 2n bytes
 * encodePeerTargetName returns) and returns its length. Only those bytes are written; on any error
 * the target is left as it was.
 * @throws PeerTargetNameError WSAEFAULT when target is no Uint8Array (or is detached), WSAEINVAL for
 * an offset that is not an integer within the target, WSAEMSGSIZE when the record does not fit,
 * and every error encodePeerTargetName throws. The offset's type is checked first, its range
 * against the target's length once the input has been read (so an input error comes first).
 */
export function encodePeerTargetNameInto(target: Uint8Array, offset: number, input: PeerTargetNameInput, options?: CodecOptions): number {
  if (typedArrayKind(target) !== 'Uint8Array') {
    throw new PeerTargetNameError('WSAEFAULT', 'target', `expected a Uint8Array, got ${target === null ? 'null' : typeof target === 'object' ? textOf(target) : typeof target}`, { value: target });
  }
  // Whether it lies within the target is checked against the target's length after the input is read.
  if (typeof offset !== 'number' || (offset >>> 0) !== offset) throw offsetError(offset, lengthOf(target));
  return sharedCodec().encodeTo(target, offset, input, resolveOptions(options));
}
