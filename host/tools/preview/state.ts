// The page's whole state, and its round trip through the URL's hash, so that a struct can be shared
// as a link. The hash (not the query) because it never leaves the browser: a pasted buffer is not
// sent to whoever hosts the page.
import type { LengthUnit, ProtocolName, SocketType } from '../../codec/types.js';

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

// The order here is the order in the link.
const BUILD_KEYS = ['protocol', 'address', 'port', 'zone', 'flow', 'name'] as const;

function oneOf<T extends string>(allowed: readonly T[], value: string | null, fallback: T): T {
  return value !== null && (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}

// ---- Escaping: exact for every UTF-16 string ----------------------------------------------------
//
// encodeURIComponent throws on a lone surrogate and URLSearchParams turns one into U+FFFD, so a
// name the codec must refuse (an unpaired surrogate) would come back from a link as a different,
// valid name. Here every code point is escaped as UTF-8, and a lone surrogate as the three bytes
// UTF-8's scheme gives its code point (WTF-8: `%ED%A0%80` for U+D800), which no valid UTF-8 text
// contains, so reading it back is unambiguous.

const hex2 = (b: number) => '%' + b.toString(16).toUpperCase().padStart(2, '0');

/** Percent-escapes `text` exactly, lone surrogates included (see above). */
export function escapeComponent(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(text.slice(i, i + 2));
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += hex2(0xe0 | (c >> 12)) + hex2(0x80 | ((c >> 6) & 0x3f)) + hex2(0x80 | (c & 0x3f));
    } else {
      out += encodeURIComponent(text[i]);
    }
  }
  return out;
}

/** A part of the link that could not be read as written: kept as it is, and reported. */
export interface BrokenEscape {
  /** The escape as it stands in the link, e.g. `%E4%B8` or `%2`. */
  raw: string;
  /** Where it starts in the parameter's value (0-based, in the link's text). */
  index: number;
  why: string;
}

/**
 * Reverses escapeComponent (and reads `+` as a space, as older links wrote it). A `%` that does not
 * start a complete escape, or escapes that are not UTF-8 (nor a lone surrogate), are kept verbatim
 * and listed in `broken`: never silently replaced.
 */
export function unescapeComponent(text: string): { text: string; broken: BrokenEscape[] } {
  const broken: BrokenEscape[] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '+') {
      out += ' ';
      i++;
      continue;
    }
    if (c !== '%') {
      out += c;
      i++;
      continue;
    }
    // A run of %XX escapes: decode it as UTF-8 (surrogate code points allowed, see above).
    const bytes: number[] = [];
    const at: number[] = [];
    let j = i;
    while (j < text.length && text[j] === '%' && /^[0-9a-fA-F]{2}$/.test(text.slice(j + 1, j + 3))) {
      bytes.push(parseInt(text.slice(j + 1, j + 3), 16));
      at.push(j);
      j += 3;
    }
    if (bytes.length === 0) {
      const raw = text.slice(i, i + 3);
      broken.push({ raw, index: i, why: `"${raw}" is not an escape: % must be followed by two hex digits` });
      out += '%';
      i++;
      continue;
    }
    let k = 0;
    while (k < bytes.length) {
      const b = bytes[k];
      const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
      let cp = need === 0 ? b : need === 1 ? b & 0x1f : need === 2 ? b & 0x0f : b & 0x07;
      let ok = need >= 0 && k + need < bytes.length;
      for (let n = 1; ok && n <= need; n++) {
        const cont = bytes[k + n];
        if ((cont & 0xc0) !== 0x80) ok = false;
        else cp = (cp << 6) | (cont & 0x3f);
      }
      if (ok && ((need === 2 && cp < 0x800) || (need === 3 && (cp < 0x10000 || cp > 0x10ffff)))) ok = false;
      if (!ok) {
        // Keep the bytes of this broken sequence as they were written: the lead and its
        // continuation bytes, as far as they go.
        let end = k + 1;
        while (end < bytes.length && end <= k + Math.max(need, 0) && (bytes[end] & 0xc0) === 0x80) end++;
        const raw = text.slice(at[k], at[end - 1] + 3);
        const why = need < 0 ? `"${raw}" is not UTF-8 (${hex2(b)} cannot start a character)`
          : k + need >= bytes.length && end - k <= need ? `"${raw}" is an incomplete UTF-8 sequence`
            : `"${raw}" is not valid UTF-8`;
        broken.push({ raw, index: at[k], why });
        out += raw;
        k = end;
        continue;
      }
      out += String.fromCodePoint(cp);
      k += need + 1;
    }
    i = j;
  }
  return { text: out, broken };
}

// ---- The hash ---------------------------------------------------------------------------------

/** What reading a link found wrong with it, in words; the page shows these. */
export interface HashReport {
  state: PageState;
  problems: string[];
}

const KNOWN_KEYS = new Set(['mode', ...BUILD_KEYS, 'hex', 'unit', 'socket']);

/** Reads a hash (`#mode=build&protocol=ipsec&...`), saying what it could not read as written. */
export function readHash(hash: string): HashReport {
  const problems: string[] = [];
  const values = new Map<string, string>();
  const body = hash.replace(/^#/, '');
  let at = 1; // the '#'
  for (const pair of body === '' ? [] : body.split('&')) {
    const eq = pair.indexOf('=');
    const key = unescapeComponent(eq < 0 ? pair : pair.slice(0, eq)).text;
    const raw = eq < 0 ? '' : pair.slice(eq + 1);
    const value = unescapeComponent(raw);
    for (const b of value.broken) {
      problems.push(`${key}: ${b.why}, at character ${at + eq + 1 + b.index + 1} of the link's #…; kept as written, not decoded`);
    }
    if (key !== '' && !KNOWN_KEYS.has(key)) problems.push(`${key}: not something this page keeps in a link; ignored`);
    else if (key !== '') values.set(key, value.text);
    at += pair.length + 1;
  }
  const text = (key: string, fallback: string) => values.get(key) ?? fallback;
  const choose = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const v = values.get(key);
    if (v !== undefined && !(allowed as readonly string[]).includes(v)) {
      problems.push(`${key}=${JSON.stringify(v)} is not one of ${allowed.join(', ')}; using ${fallback}`);
    }
    return oneOf(allowed, v ?? null, fallback);
  };
  // Only what the link says is taken from it: anything absent takes its default.
  const state: PageState = {
    mode: choose('mode', MODES, DEFAULT_STATE.mode),
    protocol: choose('protocol', PROTOCOLS, DEFAULT_STATE.protocol),
    address: text('address', DEFAULT_STATE.address),
    port: text('port', DEFAULT_STATE.port),
    zone: text('zone', DEFAULT_STATE.zone),
    flow: text('flow', DEFAULT_STATE.flow),
    name: text('name', DEFAULT_STATE.name),
    hex: text('hex', DEFAULT_STATE.hex),
    unit: choose('unit', UNITS, DEFAULT_STATE.unit),
    socket: choose('socket', SOCKETS, DEFAULT_STATE.socket),
  };
  return { state, problems };
}

/** Reads a hash; anything absent or unknown takes its default (readHash also says what was wrong). */
export function parseState(hash: string): PageState {
  return readHash(hash).state;
}

/**
 * The hash for a state: the mode, both modes' fields (so switching modes and reloading loses
 * nothing; an empty address means something, so every build field is written), and the options.
 */
export function serializeState(state: PageState): string {
  const parts = [`mode=${state.mode}`];
  for (const key of BUILD_KEYS) parts.push(`${key}=${escapeComponent(state[key])}`);
  if (state.hex !== '') parts.push(`hex=${escapeComponent(state.hex)}`);
  parts.push(`unit=${state.unit}`, `socket=${state.socket}`);
  return '#' + parts.join('&');
}
