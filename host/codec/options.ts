// Options shared by encode, decode and validate, checked once and packed into the codec's options word.
import * as L from '../generated/layout.js';
import { PeerTargetNameError, quotedOf, textOf, thrownText } from './errors.js';
import type { CodecOptions, LengthUnit, SocketType } from './types.js';

/** Maps a named zone (an interface name such as `eth0`) to its interface index, or undefined for none. */
export type ZoneResolver = (zone: string) => number | undefined;

export interface ResolvedOptions {
  readonly lengthUnit: LengthUnit;
  readonly socketType: SocketType;
  readonly maxTargetNameLength: number;
  /** The codec's options word: socket type bit and length-unit policy. */
  readonly word: number;
  /**
   * Named zones are translated to interface indexes with this before the codec sees the address;
   * undefined or null: a named zone is refused (WSAEINVAL), as the codec does.
   */
  readonly resolveZone?: ZoneResolver | null;
}

const UNIT_POLICY: Record<LengthUnit, number> = {
  auto: L.LENGTH_UNIT_AUTO,
  units: L.LENGTH_UNIT_UNITS,
  bytes: L.LENGTH_UNIT_BYTES,
};

/** Every ResolvedOptions this module made: passed back in (the registry, the bridge), taken as they are. */
const RESOLVED = new WeakSet<object>();

function resolve(lengthUnit: LengthUnit, socketType: SocketType, max: number, resolveZone?: ZoneResolver | null): ResolvedOptions {
  const socketBit = socketType === 'stream' ? L.OPT_SOCKET_STREAM : L.OPT_SOCKET_DGRAM;
  const resolved: ResolvedOptions = {
    lengthUnit, socketType, maxTargetNameLength: max,
    word: socketBit | (UNIT_POLICY[lengthUnit] << L.OPT_UNIT_SHIFT),
    ...(resolveZone !== undefined ? { resolveZone } : {}),
  };
  RESOLVED.add(resolved);
  return resolved;
}

export const DEFAULT_OPTIONS = resolve('auto', 'dgram', L.DEFAULT_MAX_TARGET_NAME_LENGTH);

/** The same options with a zone resolver (resolved options are never changed: a new one, made once per pair). */
const withResolver = new WeakMap<ResolvedOptions, WeakMap<ZoneResolver, ResolvedOptions>>();
export function withZoneResolver(options: ResolvedOptions, resolveZone: ZoneResolver): ResolvedOptions {
  if (options.resolveZone !== undefined) return options; // the caller chose (null: no translation)
  let byResolver = withResolver.get(options);
  if (byResolver === undefined) withResolver.set(options, byResolver = new WeakMap());
  let zoned = byResolver.get(resolveZone);
  if (zoned === undefined) {
    zoned = resolve(options.lengthUnit, options.socketType, options.maxTargetNameLength, resolveZone);
    byResolver.set(resolveZone, zoned);
  }
  return zoned;
}

/**
 * The codec options plus the host's own: `resolveZone` (not part of the public CodecOptions; the
 * bridge sets it, see host/bridge/zones.ts, and a registry or guard may be given it).
 */
export interface HostCodecOptions extends CodecOptions {
  resolveZone?: ZoneResolver | null;
}

export function resolveOptions(options?: HostCodecOptions | null): ResolvedOptions {
  if (options === undefined || options === null) return DEFAULT_OPTIONS;
  if (typeof options !== 'object') {
    throw new PeerTargetNameError('WSAEINVAL', 'options', `expected an options object, got ${typeof options}`, { value: options });
  }
  if (RESOLVED.has(options)) return options as ResolvedOptions;
  // Each option read once; a getter that throws is a typed error naming it.
  let field = 'options.lengthUnit';
  let lengthUnit: unknown, socketType: unknown, maxTargetNameLength: unknown, resolveZone: unknown;
  try {
    lengthUnit = options.lengthUnit;
    field = 'options.socketType';
    socketType = options.socketType;
    field = 'options.maxTargetNameLength';
    maxTargetNameLength = options.maxTargetNameLength;
    field = 'options.resolveZone';
    resolveZone = (options as HostCodecOptions).resolveZone;
  } catch (cause) {
    throw new PeerTargetNameError('WSAEINVAL', field, `reading it threw ${thrownText(cause)}`, { cause });
  }
  if (lengthUnit === undefined) lengthUnit = 'auto';
  if (socketType === undefined) socketType = 'dgram';
  if (maxTargetNameLength === undefined) maxTargetNameLength = L.DEFAULT_MAX_TARGET_NAME_LENGTH;
  if (typeof lengthUnit !== 'string' || !Object.hasOwn(UNIT_POLICY, lengthUnit)) {
    throw new PeerTargetNameError('WSAEINVAL', 'options.lengthUnit',
      `${quotedOf(lengthUnit)} is not a length unit: use 'auto', 'units' or 'bytes'`, { value: lengthUnit });
  }
  if (socketType !== 'dgram' && socketType !== 'stream') {
    throw new PeerTargetNameError('WSAEINVAL', 'options.socketType',
      `${quotedOf(socketType)} is not a socket type: use 'dgram' or 'stream'`, { value: socketType });
  }
  if (typeof maxTargetNameLength !== 'number' || !Number.isInteger(maxTargetNameLength) || maxTargetNameLength < 1 ||
      maxTargetNameLength > L.HARD_MAX_TARGET_NAME_LENGTH) {
    throw new PeerTargetNameError('WSAEINVAL', 'options.maxTargetNameLength',
      `${textOf(maxTargetNameLength)} is not a whole number from 1 to ${L.HARD_MAX_TARGET_NAME_LENGTH} ` +
      '(the most a Windows UNICODE_STRING holds)', { value: maxTargetNameLength });
  }
  if (resolveZone !== undefined && resolveZone !== null && typeof resolveZone !== 'function') {
    throw new PeerTargetNameError('WSAEINVAL', 'options.resolveZone',
      `expected a function from an interface name to its index, got ${textOf(resolveZone)}`, { value: resolveZone });
  }
  if (lengthUnit === 'auto' && socketType === 'dgram' && maxTargetNameLength === L.DEFAULT_MAX_TARGET_NAME_LENGTH &&
      resolveZone === undefined) {
    return DEFAULT_OPTIONS; // the common case allocates nothing
  }
  return resolve(lengthUnit as LengthUnit, socketType, maxTargetNameLength, resolveZone as ZoneResolver | null | undefined);
}
