// The page's whole state, and its round trip through the URL's hash, so that a struct can be shared
// as a link. The hash (not the query) because it never leaves the browser: a pasted buffer is not
// sent to whoever hosts the page.
import type { LengthUnit, ProtocolName, SocketType } from '../types.js';

export type Mode = 'build' | 'inspect';

export interface PageState {
  mode: Mode;
  // Build mode: the form's fields, as typed (the codec judges them, not this file).
  protocol: ProtocolName;
  address: string;
  port: string;
  /** sin6_scope_id: an interface index (a named zone is passed on for the codec to refuse). */
  zone: string;
  /** sin6_flowinfo. */
  flow: string;
  name: string;
  // Inspect mode: the pasted text, as typed.
  hex: string;
  // Both modes: the codec's options.
  unit: LengthUnit;
  socket: SocketType;
}

/** What a fresh page shows: the README's example. */
export const DEFAULT_STATE: Readonly<PageState> = Object.freeze({
  mode: 'build',
  protocol: 'ipsec',
  address: '192.0.2.10',
  port: '4500',
  zone: '',
  flow: '',
  name: 'host/server.example.com',
  hex: '',
  unit: 'auto',
  socket: 'dgram',
});

const MODES: readonly Mode[] = ['build', 'inspect'];
const PROTOCOLS: readonly ProtocolName[] = ['default', 'ipsec', 'ipsec2'];
const UNITS: readonly LengthUnit[] = ['auto', 'units', 'bytes'];
const SOCKETS: readonly SocketType[] = ['dgram', 'stream'];

// Short keys keep shared links readable; the order here is the order in the link.
const BUILD_KEYS = ['protocol', 'address', 'port', 'zone', 'flow', 'name'] as const;

function oneOf<T extends string>(allowed: readonly T[], value: string | null, fallback: T): T {
  return value !== null && (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}

/** Reads a hash (`#mode=build&protocol=ipsec&...`); anything absent or unknown takes its default. */
export function parseState(hash: string): PageState {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const text = (key: string, fallback: string) => params.get(key) ?? fallback;
  const mode = oneOf(MODES, params.get('mode'), DEFAULT_STATE.mode);
  // A link that names inspect mode but no bytes, or build mode but no fields, still opens on the
  // defaults of that mode's other fields: only what the link says is taken from it.
  return {
    mode,
    protocol: oneOf(PROTOCOLS, params.get('protocol'), DEFAULT_STATE.protocol),
    address: text('address', DEFAULT_STATE.address),
    port: text('port', DEFAULT_STATE.port),
    zone: text('zone', DEFAULT_STATE.zone),
    flow: text('flow', DEFAULT_STATE.flow),
    name: text('name', DEFAULT_STATE.name),
    hex: text('hex', DEFAULT_STATE.hex),
    unit: oneOf(UNITS, params.get('unit'), DEFAULT_STATE.unit),
    socket: oneOf(SOCKETS, params.get('socket'), DEFAULT_STATE.socket),
  };
}

/** The hash for a state: the current mode's fields only (all of them: an empty address means something). */
export function serializeState(state: PageState): string {
  const params = new URLSearchParams();
  params.set('mode', state.mode);
  if (state.mode === 'build') {
    for (const key of BUILD_KEYS) params.set(key, state[key]);
  } else {
    params.set('hex', state.hex);
  }
  params.set('unit', state.unit);
  params.set('socket', state.socket);
  return '#' + params.toString();
}
