// Reading buffers made by anyone: decode (strict), validate (never throws) and inspect (lenient,
// with every problem and a field-by-field view).
import * as L from '../generated/layout.js';
import { PeerTargetNameError, reasonError } from './errors.js';
import { formatIPv4, formatIPv6 } from './address.js';
import { viewBytes } from './views.js';
import { describeFields, type FieldRow } from './fields.js';
import { protocolName } from './protocols.js';
import type { RawDecode } from './codec.js';
import type { ResolvedOptions } from './options.js';
import type { DecodedPeer, DecodedPeerTargetName, ProtocolName } from './types.js';

export { protocolName } from './protocols.js';

/**
 * Any binary the caller may hold, as a Uint8Array over the same bytes (no copy). A detached (or
 * out-of-bounds) view or buffer, and anything that is not binary, is WSAEFAULT naming `bytes`:
 * never a TypeError (see host/codec/views.ts).
 */
export function asBytes(bytes: unknown): Uint8Array {
  const view = viewBytes(bytes);
  if (typeof view !== 'string') return view;
  if (bytes === null || bytes === undefined) {
    throw new PeerTargetNameError('WSAEFAULT', 'bytes', `no buffer (${String(bytes)})`, { value: bytes });
  }
  if (view === 'detached') {
    throw new PeerTargetNameError('WSAEFAULT', 'bytes',
      'the buffer is detached (transferred to another thread, or a WebAssembly memory that grew): there are no bytes to read', { value: bytes });
  }
  if (view === 'unreadable') {
    throw new PeerTargetNameError('WSAEFAULT', 'bytes', 'the view cannot be read (out of bounds of its resizable buffer?)', { value: bytes });
  }
  throw new PeerTargetNameError('WSAEFAULT', 'bytes',
    `expected a Uint8Array, Buffer, ArrayBuffer or other ArrayBufferView, got ${typeof bytes}`, { value: bytes });
}

export function decodedPeer(raw: RawDecode): DecodedPeer | null {
  if (raw.family === L.AF_INET) {
    return { family: 'ipv4', address: formatIPv4(raw.address), port: raw.port, flowInfo: 0, scopeId: 0 };
  }
  if (raw.family === L.AF_INET6) {
    return { family: 'ipv6', address: formatIPv6(raw.address), port: raw.port, flowInfo: raw.flowInfo, scopeId: raw.scopeId };
  }
  return null;
}

/** Every problem the codec found, as typed errors, first byte first. */
export function problemsOf(raw: RawDecode, options: ResolvedOptions): PeerTargetNameError[] {
  const peer = decodedPeer(raw);
  return raw.problems.map((p) => reasonError(p.reason, p.detail, {
    maxTargetNameLength: options.maxTargetNameLength,
    bufferLength: raw.length,
    lengthUnit: raw.lengthUnit,
    peerText: peer?.address,
    offset: p.offset,
    length: p.length,
  }));
}

/** A decoded object from a buffer with no problems. */
export function decodedObject(raw: RawDecode): DecodedPeerTargetName {
  return {
    protocol: protocolName(raw.protocol) as ProtocolName,
    peer: decodedPeer(raw),
    targetName: raw.name,
    stringLength: raw.stringLength,
    lengthUnit: raw.lengthUnit,
    totalLength: raw.length,
  };
}

export interface InspectedPeerTargetName {
  /** Whatever the buffer is long enough to hold; fields it cannot hold are absent. */
  value: Partial<Omit<DecodedPeerTargetName, 'protocol'>> & { protocol?: ProtocolName | number };
  /** Every problem found, first byte first; empty for a valid buffer. */
  problems: PeerTargetNameError[];
  /** The buffer field by field, padding and tail included. */
  fields: FieldRow[];
}

export function inspectedObject(bytes: Uint8Array, raw: RawDecode, options: ResolvedOptions): InspectedPeerTargetName {
  const problems = problemsOf(raw, options);
  const value: InspectedPeerTargetName['value'] = { totalLength: raw.length };
  if (raw.present & L.PRESENT_PROTOCOL) value.protocol = protocolName(raw.protocol) ?? raw.protocol;
  if (raw.present & L.PRESENT_PEER) value.peer = decodedPeer(raw);
  if (raw.present & L.PRESENT_STRING_LENGTH) {
    value.stringLength = raw.stringLength;
    value.lengthUnit = raw.lengthUnit;
    value.targetName = raw.name;
  }
  return { value, problems, fields: describeFields(bytes, raw, problems) };
}
