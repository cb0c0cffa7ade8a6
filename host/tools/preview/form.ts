// Build mode's form, turned into the codec's input; and a codec error, turned back into the form
// control it is about. The form only reshapes what was typed: every rule is the codec's, so the
// page can never accept what the library refuses (or the reverse).
import * as L from '../../generated/layout.js';
import type { PeerTargetNameError } from '../../codec/errors.js';
import type { CodecOptions, PeerObject, PeerTargetNameInput } from '../../codec/types.js';
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

export function inputFromState(whole: PageState): PeerTargetNameInput {
  // `[fe80::1%7]:5000` in the address box counts as its three parts even before the page splits it.
  const state = withSplitAddress(whole);
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

// ---- Address, port and zone in one box --------------------------------------------------------

/** The parts of a peer typed in the address box as the API's peer text: `192.0.2.10:4500`, `[fe80::1%7]:5000`. */
export interface SplitPeer {
  address: string;
  port?: string;
  zone?: string;
}

/**
 * Splits peer text the way the API's string form reads it: `a.b.c.d:port`, `[v6]:port`,
 * `[v6%zone]:port`, `[v6%zone]` and `v6%zone`. Undefined for anything else (a bare address
 * included), which the box keeps as typed.
 */
export function splitAddress(text: string): SplitPeer | undefined {
  const t = text.trim();
  let m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d+)$/.exec(t);
  if (m) return { address: m[1], port: m[2] };
  m = /^\[([^\]%]*:[^\]%]*)(?:%([^\]]*))?\](?::(\d+))?$/.exec(t);
  if (m) {
    const out: SplitPeer = { address: m[1] };
    if (m[2] !== undefined) out.zone = m[2];
    if (m[3] !== undefined) out.port = m[3];
    return out;
  }
  m = /^([^\s%\]]*:[^\s%\]]*)%([^\s%]+)$/.exec(t);
  if (m) return { address: m[1], zone: m[2] };
  return undefined;
}

/** The state with a combined peer in the address box spread over the address, port and zone fields. */
export function withSplitAddress(state: PageState): PageState {
  const split = splitAddress(state.address);
  if (!split) return state;
  return {
    ...state,
    address: split.address,
    port: split.port ?? state.port,
    zone: split.zone ?? state.zone,
  };
}

// ---- Every error at once ----------------------------------------------------------------------

/** A codec error and the control it is shown beside ('build' when it is about none of them). */
export interface PlacedError {
  slot: ControlId | 'build';
  error: PeerTargetNameError;
}

/** A value for a control that the codec accepts, given the rest of the form, to look past its error. */
function neutral(state: PageState, slot: ControlId, field: string): PageState {
  const v6 = state.zone.trim() !== '' || state.flow.trim() !== '' || state.address.includes(':');
  switch (slot) {
    case 'address': {
      const address = v6 ? (state.zone.trim() !== '' ? 'fe80::1' : '2001:db8::1') : '192.0.2.1';
      // "needs a peer" is about the address and the port together: fill both.
      return field === 'peer' ? { ...state, address, port: state.port.trim() === '' ? '1' : state.port } : { ...state, address };
    }
    case 'port':
      return { ...state, port: '1' };
    case 'zone':
      return { ...state, zone: '' };
    case 'flow':
      return { ...state, flow: '' };
    case 'name':
      return { ...state, name: 'x' };
    case 'protocol':
      return { ...state, protocol: 'ipsec' };
    default:
      return state;
  }
}

/**
 * Encodes the form, and when the codec refuses it, finds every problem rather than the first:
 * each refused control is set to a value the codec accepts and the rest encoded again, until the
 * codec accepts the form or names something no control holds. `encode` is the codec's
 * encodePeerTargetName (passed in so this file stays free of the WebAssembly loader).
 */
export function encodeAll(
  state: PageState,
  encode: (input: PeerTargetNameInput, options: CodecOptions) => Uint8Array,
  isCodecError: (e: unknown) => e is PeerTargetNameError,
): { bytes: Uint8Array | null; errors: PlacedError[] } {
  const errors: PlacedError[] = [];
  let attempt = withSplitAddress(state);
  const options = optionsFromState(state);
  for (let round = 0; round < 10; round++) {
    try {
      const bytes = encode(inputFromState(attempt), options);
      return { bytes: errors.length === 0 ? bytes : null, errors: sortByForm(errors) };
    } catch (e) {
      if (!isCodecError(e)) throw e;
      const slot = controlFor(e);
      if (slot === undefined || slot === 'unit' || slot === 'socket' || errors.some((p) => p.slot === slot)) {
        errors.push({ slot: slot ?? 'build', error: e });
        break;
      }
      errors.push({ slot, error: e });
      attempt = neutral(attempt, slot, e.field);
    }
  }
  return { bytes: null, errors: sortByForm(errors) };
}

/** The form's order, top to bottom: errors are listed (and read) in it. */
const FORM_ORDER: (ControlId | 'build')[] = ['protocol', 'address', 'port', 'zone', 'flow', 'name', 'unit', 'socket', 'build'];
const sortByForm = (errors: PlacedError[]) => [...errors].sort((a, b) => FORM_ORDER.indexOf(a.slot) - FORM_ORDER.indexOf(b.slot));

// ---- From bytes back to the form --------------------------------------------------------------

/** The form's fields for a decoded buffer ("edit in the form"); undefined when it holds too little. */
export function formFromDecoded(
  value: { protocol?: string | number; peer?: { address: string; port: number; scopeId: number; flowInfo: number; family: string } | null; targetName?: string },
  state: PageState,
): PageState | undefined {
  if (typeof value.protocol !== 'string' || value.targetName === undefined || value.peer === undefined) return undefined;
  const peer = value.peer;
  return {
    ...state,
    mode: 'build',
    protocol: value.protocol as PageState['protocol'],
    address: peer ? peer.address : '',
    port: peer ? String(peer.port) : '',
    zone: peer && peer.scopeId !== 0 ? String(peer.scopeId) : '',
    flow: peer && peer.flowInfo !== 0 ? String(peer.flowInfo) : '',
    name: value.targetName,
    // No peer is only valid on a stream socket.
    socket: peer ? state.socket : 'stream',
  };
}
