// Build mode's form, turned into the codec's input; and a codec error, turned back into the form
// control it is about. The form only reshapes what was typed: every rule is the codec's, so the
// page can never accept what the library refuses (or the reverse).
import * as L from '../generated/layout.js';
import type { PeerTargetNameError } from '../errors.js';
import type { CodecOptions, PeerObject, PeerTargetNameInput } from '../types.js';
import type { PageState } from './state.js';

/** The ids of the controls a codec error can point at. */
export type ControlId = 'protocol' | 'address' | 'port' | 'zone' | 'flow' | 'name' | 'unit' | 'socket';

/** Decimal (or 0x hex for a flow label) becomes a number; anything else goes through as typed. */
function numberOrText(text: string, allowHex = false): number {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t);
  if (allowHex && /^0x[0-9a-f]+$/i.test(t)) return Number(t);
  // Not a number: the codec refuses it and its message quotes what was typed.
  return t as unknown as number;
}

export function inputFromState(state: PageState): PeerTargetNameInput {
  const address = state.address.trim();
  const zone = state.zone.trim();
  const noPeer = address === '' && state.port.trim() === '' && zone === '' && state.flow.trim() === '';
  const input: PeerTargetNameInput = { protocol: state.protocol, targetName: state.name };
  if (noPeer) {
    // All zero PeerAddress: a stream socket may, a dgram socket may not (the codec says so).
    input.peer = null;
    return input;
  }
  // An object, not 'a:port' text, so that the codec's error names the exact part (peer.port,
  // peer.scopeId, ...) and the page can put it next to that input.
  const peer: PeerObject = {
    // A numeric zone is sin6_scope_id; a named one is handed over in the address (`%eth0`) for the
    // codec to refuse with its own words.
    address: zone !== '' && !/^\d+$/.test(zone) ? `${address}%${zone}` : address,
    // An empty port is 0: allowed for a stream socket, refused for dgram.
    port: state.port.trim() === '' ? 0 : numberOrText(state.port),
  };
  if (zone !== '' && /^\d+$/.test(zone)) peer.scopeId = Number(zone);
  if (state.flow.trim() !== '') peer.flowInfo = numberOrText(state.flow, true);
  input.peer = peer;
  return input;
}

export function optionsFromState(state: PageState): CodecOptions {
  return { lengthUnit: state.unit, socketType: state.socket };
}

const ZONE_REASONS = new Set([L.REASON_ZONE_NAMED, L.REASON_ZONE_RANGE, L.REASON_ZONE_CONFLICT]);

/** The control an encode error names; undefined when it is about no single control. */
export function controlFor(error: PeerTargetNameError): ControlId | undefined {
  if (error.reason !== undefined && ZONE_REASONS.has(error.reason)) return 'zone';
  switch (error.field) {
    case 'protocol':
      return 'protocol';
    case 'peer':
    case 'peer.address':
    case 'peer.family':
      return 'address';
    case 'peer.port':
      return 'port';
    case 'peer.scopeId':
      return 'zone';
    case 'peer.flowInfo':
      return 'flow';
    case 'targetName':
      return 'name';
    case 'options.lengthUnit':
      return 'unit';
    case 'options.socketType':
      return 'socket';
    default:
      return undefined;
  }
}

/** "WSAEINVAL: peer.port: port 0 is …" → "port 0 is …": the page shows code and field apart. */
export function errorText(error: PeerTargetNameError): string {
  const prefix = `${error.code}: ${error.field}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}
