// Options shared by encode, decode and validate, checked once and packed into the codec's options word.
import * as L from './generated/layout.js';
import { PeerTargetNameError } from './errors.js';
import type { CodecOptions, LengthUnit, SocketType } from './types.js';

export interface ResolvedOptions {
  readonly lengthUnit: LengthUnit;
  readonly socketType: SocketType;
  readonly maxTargetNameLength: number;
  /** The codec's options word: socket type bit and length-unit policy. */
  readonly word: number;
}

const UNIT_POLICY: Record<LengthUnit, number> = {
  auto: L.LENGTH_UNIT_AUTO,
  units: L.LENGTH_UNIT_UNITS,
  bytes: L.LENGTH_UNIT_BYTES,
};

function resolve(lengthUnit: LengthUnit, socketType: SocketType, max: number): ResolvedOptions {
  const socketBit = socketType === 'stream' ? L.OPT_SOCKET_STREAM : L.OPT_SOCKET_DGRAM;
  return {
    lengthUnit, socketType, maxTargetNameLength: max,
    word: socketBit | (UNIT_POLICY[lengthUnit] << L.OPT_UNIT_SHIFT),
  };
}

export const DEFAULT_OPTIONS = resolve('auto', 'dgram', L.DEFAULT_MAX_TARGET_NAME_LENGTH);

export function resolveOptions(options?: CodecOptions | null): ResolvedOptions {
  if (options === undefined || options === null) return DEFAULT_OPTIONS;
  if (typeof options !== 'object') {
    throw new PeerTargetNameError('WSAEINVAL', 'options', `expected an options object, got ${typeof options}`, { value: options });
  }
  const { lengthUnit = 'auto', socketType = 'dgram', maxTargetNameLength = L.DEFAULT_MAX_TARGET_NAME_LENGTH } = options;
  if (!Object.hasOwn(UNIT_POLICY, lengthUnit)) {
    throw new PeerTargetNameError('WSAEINVAL', 'options.lengthUnit',
      `${JSON.stringify(lengthUnit)} is not a length unit: use 'auto', 'units' or 'bytes'`, { value: lengthUnit });
  }
  if (socketType !== 'dgram' && socketType !== 'stream') {
    throw new PeerTargetNameError('WSAEINVAL', 'options.socketType',
      `${JSON.stringify(socketType)} is not a socket type: use 'dgram' or 'stream'`, { value: socketType });
  }
  if (!Number.isInteger(maxTargetNameLength) || maxTargetNameLength < 1 ||
      maxTargetNameLength > L.HARD_MAX_TARGET_NAME_LENGTH) {
    throw new PeerTargetNameError('WSAEINVAL', 'options.maxTargetNameLength',
      `${String(maxTargetNameLength)} is not a whole number from 1 to ${L.HARD_MAX_TARGET_NAME_LENGTH} ` +
      '(the most a Windows UNICODE_STRING holds)', { value: maxTargetNameLength });
  }
  if (lengthUnit === 'auto' && socketType === 'dgram' && maxTargetNameLength === L.DEFAULT_MAX_TARGET_NAME_LENGTH) {
    return DEFAULT_OPTIONS; // the common case allocates nothing
  }
  return resolve(lengthUnit, socketType, maxTargetNameLength);
}

/** The unit PeerTargetNameStringLen is counted in for a protocol under a policy (SPEC §2). */
export function unitFor(lengthUnit: LengthUnit, protocol: number): 'units' | 'bytes' {
  if (lengthUnit !== 'auto') return lengthUnit;
  return protocol === L.PROTOCOL_IPSEC2 ? 'bytes' : 'units';
}
