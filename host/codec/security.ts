// The other Secure Socket Extensions structs a real caller handles around
// WSASetSocketPeerTargetName: SOCKET_SECURITY_SETTINGS[_IPSEC] for WSASetSocketSecurity, and
// SOCKET_SECURITY_QUERY_TEMPLATE / SOCKET_SECURITY_QUERY_INFO for WSAQuerySocketSecurity. Byte-exact
// with the mingw-w64 headers on x64 and x86 (which agree; assembly/layout.ts). The rules live in
// the WebAssembly codec (assembly/security.ts); this file checks shapes, turns names into numbers
// and codec reasons into PeerTargetNameErrors with fields such as 'settings.flags'.
import * as L from '../generated/layout.js';
import { sharedCodec } from './codec.js';
import type { CodecExports } from './loader.js';
import { PeerTargetNameError, quotedOf, reasonError, thrownText, winsockName } from './errors.js';
import { wordReason, type ReasonContext, type StructName } from './reason-messages.js';
import { allowedFlags, INFO_FLAGS, IPSEC_FLAGS, SETTINGS_FLAGS, type FlagTable } from './security-flags.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { lengthOf, typedArrayKind } from './views.js';
import { asBytes, decodedPeer, problemsOf, protocolName } from './decode.js';
import { isU32 } from './numbers.js';
import { protocolNumber } from './protocols.js';
import { checkBeyondCopy } from './beyond-copy.js';
import { unitsTextOfBytes } from './units-text.js';
import type { CodecOptions, DecodedPeer, PeerInput, ProtocolInput, ProtocolName } from './types.js';

/** The codec's exports for these structs (assembly/security.ts, re-exported by assembly/codec.ts). */
interface SecurityExports extends CodecExports {
  encode_security_settings(rec: number, out: number, status: number): number;
  encode_query_template(protocol: number, peer: number, mask: number, out: number, status: number): number;
  decode_security_settings(buf: number, len: number, res: number): number;
  decode_query_info(buf: number, len: number, res: number): number;
}

/** sizeof(SOCKET_SECURITY_SETTINGS): 8. */
export const SIZEOF_SOCKET_SECURITY_SETTINGS = L.SIZEOF_SECURITY_SETTINGS;
/** sizeof(SOCKET_SECURITY_SETTINGS_IPSEC): 88; an encoded one is 88 + the strings' bytes. */
export const SIZEOF_SOCKET_SECURITY_SETTINGS_IPSEC = L.SIZEOF_SECURITY_SETTINGS_IPSEC;
/** sizeof(SOCKET_SECURITY_QUERY_TEMPLATE): 144. */
export const SIZEOF_SOCKET_SECURITY_QUERY_TEMPLATE = L.SIZEOF_SECURITY_QUERY_TEMPLATE;
/** sizeof(SOCKET_SECURITY_QUERY_INFO): 24. */
export const SIZEOF_SOCKET_SECURITY_QUERY_INFO = L.SIZEOF_SECURITY_QUERY_INFO;

// ---- flags -----------------------------------------------------------------------------------

// The tables are security-flags.ts's: the reason table words unknown bits with them too.
const flagMap = (table: FlagTable) => Object.freeze(Object.fromEntries(table.map(([name, , bit]) => [name, bit])));
/** SecurityFlags of SOCKET_SECURITY_SETTINGS[_IPSEC], by their mstcpip.h names. */
export const SOCKET_SETTINGS_FLAGS = flagMap(SETTINGS_FLAGS);
/** IpsecFlags of SOCKET_SECURITY_SETTINGS_IPSEC (the last three are Win7+ Windows SDK values). */
export const SOCKET_SETTINGS_IPSEC_FLAGS = flagMap(IPSEC_FLAGS);
/** Flags of SOCKET_SECURITY_QUERY_INFO. */
export const SOCKET_INFO_FLAGS = flagMap(INFO_FLAGS);

/** Any value, shown in a message without throwing (JSON.stringify throws on a bigint). */
function show(v: unknown): string {
  // Through the internal slots and textOf: nothing of the caller's code runs to say what a value is.
  return typedArrayKind(v) === 'Uint8Array' ? `${lengthOf(v as Uint8Array)} bytes` : quotedOf(v);
}

function flagsIn(value: unknown, table: FlagTable, field: string): number {
  if (value === undefined || value === null) return 0;
  if (isU32(value)) return value; // unknown bits are the codec's to reject
  let array = false;
  try {
    array = Array.isArray(value);
  } catch {
    // a revoked Proxy: not an array of names
  }
  if (array) {
    let bits = 0;
    const names = value as readonly unknown[];
    const count = read(names, 'length', field) as number;
    for (let i = 0; i < count; i++) {
      const name = read(names, String(i), field);
      const entry = table.find(([full, short]) => name === full || name === short);
      if (entry === undefined) {
        throw new PeerTargetNameError('WSAEINVAL', field,
          `${show(name)} (at index ${i}) is not a flag here; use ${allowedFlags(table)}`, { value: name });
      }
      bits |= entry[2];
    }
    return bits >>> 0;
  }
  throw new PeerTargetNameError('WSAEINVAL', field,
    `expected a 32-bit unsigned flag word or an array of flag names, got ${show(value)}`, { value });
}

function flagNames(bits: number, table: FlagTable): string[] {
  return table.filter(([, , bit]) => (bits & bit) !== 0).map(([name]) => name);
}

// ---- protocols, GUIDs, strings ---------------------------------------------------------------

function protocolIn(p: unknown, field: string): number {
  const named = protocolNumber(p);
  if (named >= 0) return named;
  if (isU32(p)) return p; // 3 and up are the codec's to reject
  throw new PeerTargetNameError('WSAEINVAL', field,
    `${show(p)} is not a protocol: use 'default', 'ipsec', 'ipsec2' or 0-2`, { value: p });
}

const GUID_TEXT = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i;
const ZERO_GUID: Uint8Array = new Uint8Array(L.SIZEOF_GUID);

/**
 * A GUID as 16 bytes in memory order: Data1 (u32), Data2 and Data3 (u16) little-endian, Data4 as
 * written. Takes 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx' (braces optional) or 16 raw bytes.
 */
function guidIn(value: unknown, field: string): Uint8Array {
  if (value === undefined || value === null) return ZERO_GUID;
  // 16 bytes: a copy, taken now (read once, like every other field).
  if (typedArrayKind(value) === 'Uint8Array' && lengthOf(value as Uint8Array) === L.SIZEOF_GUID) return new Uint8Array(value as Uint8Array);
  const text = typeof value === 'string' && value.startsWith('{') && value.endsWith('}') ? value.slice(1, -1) : value;
  const m = typeof text === 'string' ? GUID_TEXT.exec(text) : null;
  if (m === null) {
    throw new PeerTargetNameError('WSAEINVAL', field,
      `${show(value)} is not a GUID: use 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx' ` +
      '(hex, braces optional) or 16 bytes in memory order', { value });
  }
  const bytes = new Uint8Array(L.SIZEOF_GUID);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, parseInt(m[1], 16), true);
  view.setUint16(4, parseInt(m[2], 16), true);
  view.setUint16(6, parseInt(m[3], 16), true);
  const data4 = m[4] + m[5];
  for (let i = 0; i < 8; i++) bytes[8 + i] = parseInt(data4.substr(2 * i, 2), 16);
  return bytes;
}

/** GUID text, lower case without braces; null for the zero GUID ("ignored for a GUID of zero"). */
function guidText(bytes: Uint8Array): string | null {
  if (bytes.every((b) => b === 0)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  const h = (n: number, w: number) => n.toString(16).padStart(w, '0');
  const data4 = Array.from(bytes.subarray(8, 16), (b) => h(b, 2)).join('');
  return `${h(view.getUint32(0, true), 8)}-${h(view.getUint16(4, true), 4)}-${h(view.getUint16(6, true), 4)}-` +
    `${data4.slice(0, 4)}-${data4.slice(4)}`;
}

/** The three strings of AllStrings, in order: [input key, label in messages]. */
const CREDENTIALS = [['userName', 'user name'], ['domainName', 'domain name'], ['password', 'password']] as const;

function stringIn(value: unknown, field: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  throw new PeerTargetNameError('WSAEINVAL', field, `expected a string, got ${typeof value}`);
}

// ---- errors ----------------------------------------------------------------------------------

/** What an error message knows beyond the reason: which struct, and for decodes where. */
interface SecurityContext {
  /** 'settings', 'template' or 'info': the first part of every field name. */
  prefix: string;
  struct: StructName;
  bufferLength?: number;
  offset?: number;
  length?: number;
}

const FIELD_NAMES = new Map<number, string>([
  [L.SEC_FIELD_PROTOCOL, 'protocol'],
  [L.SEC_FIELD_FLAGS, 'flags'],
  [L.SEC_FIELD_IPSEC_FLAGS, 'ipsec.ipsecFlags'],
  [L.SEC_FIELD_USER_NAME, 'ipsec.userName'],
  [L.SEC_FIELD_DOMAIN_NAME, 'ipsec.domainName'],
  [L.SEC_FIELD_PASSWORD, 'ipsec.password'],
  [L.SEC_FIELD_RESERVED, 'ipsec.reserved'],
  [L.SEC_FIELD_PADDING, 'ipsec.padding'],
  [L.SEC_FIELD_LENGTH, 'length'],
  [L.SEC_FIELD_TAIL, 'tail'],
  [L.SEC_FIELD_PEER, 'peer'],
]);

/**
 * A codec reason about one of these structs as an error. The words come from the one reason table
 * (reason-messages.ts), told which struct and, for a credential, which string: only its label,
 * never its content. The field is the one the codec names, under the struct's prefix.
 */
function securityError(reason: number, detail: number, field: number, c: SecurityContext): PeerTargetNameError {
  const code = winsockName(reason >> L.REASON_SHIFT);
  const name = FIELD_NAMES.get(field);
  const context: ReasonContext = {
    struct: c.struct,
    credential: CREDENTIALS[field - L.SEC_FIELD_USER_NAME]?.[1],
    // The IPsec struct's string lengths count bytes.
    lengthUnit: 'bytes',
    bufferLength: c.bufferLength, offset: c.offset, length: c.length,
  };
  const words = wordReason(reason, detail, context);
  if (code === undefined || words === undefined || name === undefined) {
    // Only a codec/host mismatch gets here; say so rather than invent a message.
    return new PeerTargetNameError('WSAEINVAL', `${c.prefix}.codec`,
      `unknown codec reason ${reason} (detail ${detail}, field ${field})`, { reason });
  }
  // Counts and indexes are safe to show; a credential's content never is: the value is the detail.
  return new PeerTargetNameError(code, `${c.prefix}.${name}`, words[1], {
    value: detail, reason, offset: c.offset, length: c.length,
  });
}

/** The same error under a field prefixed with its struct, e.g. 'peer.port' -> 'template.peer.port'. */
function prefixed(error: PeerTargetNameError, prefix: string): PeerTargetNameError {
  const head = `${error.code}: ${error.field}: `;
  const text = error.message.startsWith(head) ? error.message.slice(head.length) : error.message;
  return new PeerTargetNameError(error.code, `${prefix}.${error.field}`, text, {
    ...('value' in error ? { value: error.value } : {}),
    reason: error.reason, offset: error.offset, length: error.length,
  });
}

function notAnObject(field: string, shape: string, value: unknown): PeerTargetNameError {
  return new PeerTargetNameError('WSAEFAULT', field,
    `expected an object ${shape}, got ${value === null ? 'null' : typeof value}`, { value });
}

/** One field of a caller's object, read once; a getter or trap that throws is WSAEFAULT naming it. */
function read(object: object, key: string, prefix: string): unknown {
  try {
    return (object as Record<string, unknown>)[key];
  } catch (cause) {
    throw new PeerTargetNameError('WSAEFAULT', `${prefix}.${key}`, `reading it threw ${thrownText(cause)}`, { cause });
  }
}

const align8 = (n: number) => (n + 7) & ~7;

interface RawProblem { reason: number; detail: number; offset: number; length: number; field: number }

/** Reads the codec's security result record: its problems, and a DataView for the fields. */
function readProblems(view: DataView, res: number): RawProblem[] {
  const count = view.getUint32(res + L.SR_PROBLEM_COUNT, true);
  const problems: RawProblem[] = [];
  for (let k = 0; k < count; k++) {
    const p = res + L.SR_PROBLEMS + k * L.SIZEOF_SEC_PROBLEM;
    problems.push({
      reason: view.getInt32(p + L.SPB_REASON, true),
      detail: view.getUint32(p + L.SPB_DETAIL, true),
      offset: view.getUint32(p + L.SPB_OFFSET, true),
      length: view.getUint32(p + L.SPB_LENGTH, true),
      field: view.getUint32(p + L.SPB_FIELD, true),
    });
  }
  return problems;
}

function errorsOf(problems: RawProblem[], c: SecurityContext): PeerTargetNameError[] {
  return problems.map((p) => securityError(p.reason, p.detail, p.field, { ...c, offset: p.offset, length: p.length }));
}

/** Like validatePeerTargetName's result: the first problem, and all of them. */
export type SecurityValidationResult =
  | { ok: true }
  | { ok: false; error: PeerTargetNameError; errors: PeerTargetNameError[] };

function validation(errors: PeerTargetNameError[]): SecurityValidationResult {
  return errors.length === 0 ? { ok: true } : { ok: false, error: errors[0], errors };
}

// ---- SOCKET_SECURITY_SETTINGS[_IPSEC] ------------------------------------------------------------

export interface SocketSecurityIpsecInput {
  /** IpsecFlags: a number, or names such as 'skip-filter-instantiation'. */
  ipsecFlags?: number | readonly string[];
  /** AuthipMMPolicyKey: GUID text (braces optional) or 16 bytes in memory order; absent = zero (ignored). */
  mmPolicyKey?: string | Uint8Array;
  /** AuthipQMPolicyKey, as mmPolicyKey. */
  qmPolicyKey?: string | Uint8Array;
  /** Credentials, concatenated in AllStrings; each may be empty (absent). Lengths are stored in bytes. */
  userName?: string;
  domainName?: string;
  password?: string;
}

export interface SocketSecuritySettingsInput {
  protocol: ProtocolInput;
  /** SecurityFlags: a number, or names such as 'guarantee-encryption' / 'SOCKET_SETTINGS_ALLOW_INSECURE'. */
  flags?: number | readonly string[];
  /** Present: encode SOCKET_SECURITY_SETTINGS_IPSEC (88 + 2n bytes); absent: SOCKET_SECURITY_SETTINGS (8). */
  ipsec?: SocketSecurityIpsecInput | null;
}

export interface DecodedSocketSecurityIpsec {
  ipsecFlags: number;
  ipsecFlagNames: string[];
  /** Lower-case GUID text, or null for the zero GUID. */
  mmPolicyKey: string | null;
  qmPolicyKey: string | null;
  userName: string;
  domainName: string;
  password: string;
}

export interface DecodedSocketSecuritySettings {
  protocol: ProtocolName;
  flags: number;
  flagNames: string[];
  /** null for the 8-byte SOCKET_SECURITY_SETTINGS. */
  ipsec: DecodedSocketSecurityIpsec | null;
  totalLength: number;
}

const SETTINGS_CONTEXT: SecurityContext = { prefix: 'settings', struct: 'SOCKET_SECURITY_SETTINGS' };
const IPSEC_CONTEXT: SecurityContext = { prefix: 'settings', struct: 'SOCKET_SECURITY_SETTINGS_IPSEC' };
const TEMPLATE_CONTEXT: SecurityContext = { prefix: 'template', struct: 'SOCKET_SECURITY_QUERY_TEMPLATE' };

/**
 * Encodes the buffer for WSASetSocketSecurity: SOCKET_SECURITY_SETTINGS (8 bytes), or with `ipsec`
 * SOCKET_SECURITY_SETTINGS_IPSEC (88 + 2n bytes; UserName, DomainName and Password concatenated,
 * their lengths in bytes, the 4 bytes past them zero).
 * @throws PeerTargetNameError with a field such as 'settings.flags' or 'settings.ipsec.password'.
 */
export function encodeSocketSecuritySettings(settings: SocketSecuritySettingsInput): Uint8Array {
  if (settings === null || typeof settings !== 'object') {
    throw notAnObject('settings', '{ protocol, flags?, ipsec? }', settings);
  }
  // Every field is read once, and all of them before the codec's memory is touched (a getter that
  // re-enters the codec reaches nothing in progress).
  const protocol = protocolIn(read(settings, 'protocol', 'settings'), 'settings.protocol');
  const flags = flagsIn(read(settings, 'flags', 'settings'), SETTINGS_FLAGS, 'settings.flags');
  const ipsec = read(settings, 'ipsec', 'settings');
  let form = L.SETTINGS_FORM_BASIC;
  let ipsecFlags = 0;
  let mm = ZERO_GUID;
  let qm = ZERO_GUID;
  let strings: string[] = ['', '', ''];
  if (ipsec !== undefined && ipsec !== null) {
    if (typeof ipsec !== 'object') throw notAnObject('settings.ipsec', '{ ipsecFlags?, mmPolicyKey?, ... }', ipsec);
    form = L.SETTINGS_FORM_IPSEC;
    ipsecFlags = flagsIn(read(ipsec, 'ipsecFlags', 'settings.ipsec'), IPSEC_FLAGS, 'settings.ipsec.ipsecFlags');
    mm = guidIn(read(ipsec, 'mmPolicyKey', 'settings.ipsec'), 'settings.ipsec.mmPolicyKey');
    qm = guidIn(read(ipsec, 'qmPolicyKey', 'settings.ipsec'), 'settings.ipsec.qmPolicyKey');
    strings = CREDENTIALS.map(([key]) => stringIn(read(ipsec, key, 'settings.ipsec'), `settings.ipsec.${key}`));
  }
  // A string over the limit is never copied: the codec rejects it on its length alone.
  const copied = strings.map((s) => (s.length <= L.MAX_CREDENTIAL_STRING_LENGTH ? s.length : 0));
  const units = copied.reduce((a, b) => a + b, 0);
  const status = align8(L.SIZEOF_SEC_INPUT);
  const text = status + L.SIZEOF_SEC_STATUS;
  const out = align8(text + 2 * units);
  const end = out + align8(L.SIZEOF_SECURITY_SETTINGS_IPSEC + 2 * units);
  return sharedCodec().callWith(end, (wasm, at, memory) => {
    const view = new DataView(memory.buffer);
    memory.fill(0, at, at + L.SIZEOF_SEC_INPUT);
    view.setUint32(at + L.SEC_IN_PROTOCOL, protocol, true);
    view.setUint32(at + L.SEC_IN_FLAGS, flags, true);
    view.setUint32(at + L.SEC_IN_FORM, form, true);
    view.setUint32(at + L.SEC_IN_IPSEC_FLAGS, ipsecFlags, true);
    memory.set(mm, at + L.SEC_IN_MM_POLICY_KEY);
    memory.set(qm, at + L.SEC_IN_QM_POLICY_KEY);
    let p = at + text;
    strings.forEach((s, i) => {
      const ref = at + L.SEC_IN_STRINGS + i * L.SIZEOF_SEC_STRING;
      view.setUint32(ref + L.SEC_STRING_PTR, p, true);
      view.setUint32(ref + L.SEC_STRING_LENGTH, s.length, true);
      for (let k = 0; k < copied[i]; k++) view.setUint16(p + 2 * k, s.charCodeAt(k), true);
      p += 2 * copied[i];
    });
    const size = (wasm as SecurityExports).encode_security_settings(at, at + out, at + status);
    const reason = view.getInt32(at + status + L.SEC_ST_REASON, true);
    if (reason !== 0) {
      throw securityError(reason, view.getUint32(at + status + L.SEC_ST_DETAIL, true),
        view.getUint32(at + status + L.SEC_ST_FIELD, true), form === L.SETTINGS_FORM_IPSEC ? IPSEC_CONTEXT : SETTINGS_CONTEXT);
    }
    return memory.slice(at + out, at + out + size);
  });
}

/** The longest a valid settings buffer can be; past it every byte can only be tail. */
const SETTINGS_COPY_LIMIT = L.SIZEOF_SECURITY_SETTINGS_IPSEC + 3 * 2 * L.MAX_CREDENTIAL_STRING_LENGTH;

interface RawSettings {
  form: number;
  protocol: number;
  flags: number;
  ipsecFlags: number;
  mm: Uint8Array;
  qm: Uint8Array;
  stringLengths: number[];
  errors: PeerTargetNameError[];
}

function readSettings(input: unknown): { bytes: Uint8Array; raw: RawSettings } {
  const bytes = asBytes(input);
  const length = bytes.length;
  const copied = Math.min(length, SETTINGS_COPY_LIMIT);
  const buf = align8(L.SIZEOF_SEC_RESULT);
  const raw = sharedCodec().callWith(buf + copied + 8, (wasm, at, memory) => {
    // A view into the codec's own memory would overlap the work region: copy it out first.
    memory.set(bytes.buffer === memory.buffer ? bytes.slice(0, copied) : bytes.subarray(0, copied), at + buf);
    (wasm as SecurityExports).decode_security_settings(at + buf, copied, at);
    const view = new DataView(memory.buffer);
    const problems = readProblems(view, at);
    const stringLengths = [0, 1, 2].map((i) => view.getUint32(at + L.SR_STRING_LENGTHS + 4 * i, true));
    const total = stringLengths.reduce((a, b) => a + b, 0);
    if (copied < length) {
      // Only an over-long claim reaches past the copy: judge "beyond the buffer" and the tail on
      // the real buffer.
      checkBeyondCopy(bytes, copied, L.SSI_STRINGS + total, problems, (p) => ({ ...p, field: L.SEC_FIELD_TAIL }));
    }
    const form = view.getUint32(at + L.SR_FORM, true);
    const context = form === L.SETTINGS_FORM_IPSEC ? IPSEC_CONTEXT : SETTINGS_CONTEXT;
    return {
      form,
      protocol: view.getUint32(at + L.SR_PROTOCOL, true),
      flags: view.getUint32(at + L.SR_FLAGS, true),
      ipsecFlags: view.getUint32(at + L.SR_IPSEC_FLAGS, true),
      mm: memory.slice(at + L.SR_MM_POLICY_KEY, at + L.SR_MM_POLICY_KEY + 16),
      qm: memory.slice(at + L.SR_QM_POLICY_KEY, at + L.SR_QM_POLICY_KEY + 16),
      stringLengths,
      errors: errorsOf(problems, { ...context, bufferLength: length }),
    };
  });
  return { bytes, raw };
}

/**
 * Decodes a SOCKET_SECURITY_SETTINGS (exactly 8 bytes) or SOCKET_SECURITY_SETTINGS_IPSEC (anything
 * longer) made by anyone, after checking every rule.
 * @throws PeerTargetNameError for the first problem (validateSocketSecuritySettings lists all).
 */
export function decodeSocketSecuritySettings(bytes: Uint8Array | ArrayBuffer | ArrayBufferView): DecodedSocketSecuritySettings {
  const { bytes: view, raw } = readSettings(bytes);
  if (raw.errors.length > 0) throw raw.errors[0];
  let ipsec: DecodedSocketSecurityIpsec | null = null;
  if (raw.form === L.SETTINGS_FORM_IPSEC) {
    let at = L.SSI_STRINGS;
    const [userName, domainName, password] = raw.stringLengths.map((n) => {
      const s = unitsTextOfBytes(view, at, n >>> 1);
      at += n;
      return s;
    });
    ipsec = {
      ipsecFlags: raw.ipsecFlags,
      ipsecFlagNames: flagNames(raw.ipsecFlags, IPSEC_FLAGS),
      mmPolicyKey: guidText(raw.mm),
      qmPolicyKey: guidText(raw.qm),
      userName, domainName, password,
    };
  }
  return {
    protocol: protocolName(raw.protocol) as ProtocolName,
    flags: raw.flags,
    flagNames: flagNames(raw.flags, SETTINGS_FLAGS),
    ipsec,
    totalLength: view.length,
  };
}

/** Checks a settings buffer without throwing: the first problem, and all of them. */
export function validateSocketSecuritySettings(bytes: Uint8Array | ArrayBuffer | ArrayBufferView): SecurityValidationResult {
  try {
    return validation(readSettings(bytes).raw.errors);
  } catch (error) {
    if (error instanceof PeerTargetNameError) return validation([error]);
    throw error;
  }
}

// ---- SOCKET_SECURITY_QUERY_TEMPLATE -------------------------------------------------------------

export interface SocketSecurityQueryTemplateInput {
  protocol: ProtocolInput;
  /** The peer, as for encodePeerTargetName; absent (all-zero PeerAddress) only for a stream socket. */
  peer?: PeerInput | null;
  /** PeerTokenAccessMask, an ACCESS_MASK for the peer tokens returned (e.g. TOKEN_QUERY 0x8); 0 = no tokens. */
  peerTokenAccessMask?: number;
}

export interface DecodedSocketSecurityQueryTemplate {
  protocol: ProtocolName;
  peer: DecodedPeer | null;
  peerTokenAccessMask: number;
  totalLength: number;
}

type SocketTypeOption = Pick<CodecOptions, 'socketType'>;

/**
 * Encodes SOCKET_SECURITY_QUERY_TEMPLATE (144 bytes) for WSAQuerySocketSecurity. The peer goes
 * through the same codec path as SOCKET_PEER_TARGET_NAME's, under the same rules (options.socketType,
 * default 'dgram': a dgram peer must be a real address and port).
 * @throws PeerTargetNameError with a field such as 'template.peer.port'.
 */
export function encodeSocketSecurityQueryTemplate(template: SocketSecurityQueryTemplateInput, options?: SocketTypeOption | ResolvedOptions): Uint8Array {
  if (template === null || typeof template !== 'object') {
    throw notAnObject('template', '{ protocol, peer?, peerTokenAccessMask? }', template);
  }
  const resolved = resolveOptions(options);
  // Each field read once, all before the codec's memory is touched.
  const protocol = protocolIn(read(template, 'protocol', 'template'), 'template.protocol');
  const mask = read(template, 'peerTokenAccessMask', 'template') ?? 0;
  if (!isU32(mask)) {
    throw new PeerTargetNameError('WSAEINVAL', 'template.peerTokenAccessMask',
      `${show(mask)} is not an ACCESS_MASK (a 32-bit unsigned integer)`, { value: mask });
  }
  const given = read(template, 'peer', 'template') as PeerInput | null | undefined;
  const codec = sharedCodec();
  let peer: Uint8Array;
  if (given === undefined || given === null) {
    if (resolved.socketType !== 'stream') {
      throw prefixed(reasonError(L.REASON_PEER_MISSING, 0, { maxTargetNameLength: resolved.maxTargetNameLength }), 'template');
    }
    peer = new Uint8Array(L.SIZE_SOCKADDR_STORAGE);
  } else {
    try {
      peer = codec.encodePeer(given, resolved).slice(); // a view valid until the next call
    } catch (error) {
      throw error instanceof PeerTargetNameError ? prefixed(error, 'template') : error;
    }
  }
  const status = L.SIZE_SOCKADDR_STORAGE;
  const out = status + L.SIZEOF_SEC_STATUS;
  return codec.callWith(out + L.SIZEOF_SECURITY_QUERY_TEMPLATE, (wasm, at, memory) => {
    memory.set(peer, at);
    const size = (wasm as SecurityExports).encode_query_template(protocol, at, mask, at + out, at + status);
    const view = new DataView(memory.buffer);
    const reason = view.getInt32(at + status + L.SEC_ST_REASON, true);
    if (reason !== 0) {
      throw securityError(reason, view.getUint32(at + status + L.SEC_ST_DETAIL, true), view.getUint32(at + status + L.SEC_ST_FIELD, true),
        TEMPLATE_CONTEXT);
    }
    return memory.slice(at + out, at + out + size);
  });
}

/**
 * Decodes a SOCKET_SECURITY_QUERY_TEMPLATE after checking every rule. Its first 136 bytes are laid
 * out as SOCKET_PEER_TARGET_NAME's (static-asserted in test/golden/security-golden.c), so they are
 * checked by that struct's decoder, behind a one-unit stand-in name. Bytes past 144 (the IPSEC2
 * template's extra members) are not read.
 * @throws PeerTargetNameError with a field such as 'template.peer' or 'template.padding'.
 */
export function decodeSocketSecurityQueryTemplate(
  bytes: Uint8Array | ArrayBuffer | ArrayBufferView, options?: SocketTypeOption,
): DecodedSocketSecurityQueryTemplate {
  const view = asBytes(bytes);
  const resolved = resolveOptions({ socketType: resolveOptions(options).socketType, lengthUnit: 'units' });
  const length = view.length;
  // The host checks these two rules itself (the codec reads the template as a SOCKET_PEER_TARGET_NAME);
  // they are worded by the same table as the codec's.
  if (length < L.SIZEOF_SECURITY_QUERY_TEMPLATE) {
    throw securityError(L.REASON_BUFFER_SHORT, length, L.SEC_FIELD_LENGTH, { ...TEMPLATE_CONTEXT, offset: 0, length });
  }
  const shim = new Uint8Array(L.SIZEOF_PEER_TARGET_NAME + 2);
  shim.set(view.subarray(0, L.SQT_TOKEN_ACCESS_MASK));
  shim[L.OFFSET_STRING_LENGTH] = 1;
  shim[L.OFFSET_STRINGS] = 0x78; // 'x'
  const raw = sharedCodec().decode(shim, resolved);
  const problems = problemsOf(raw, resolved)
    .filter((p) => (p.offset ?? 0) < L.SQT_TOKEN_ACCESS_MASK)
    .map((p) => prefixed(p, 'template'));
  if (problems.length > 0) throw problems[0];
  if (length === L.SIZEOF_SECURITY_QUERY_TEMPLATE) {
    const at = view.subarray(L.SQT_TOKEN_ACCESS_MASK + 4).findIndex((b) => b !== 0);
    if (at >= 0) {
      const offset = L.SQT_TOKEN_ACCESS_MASK + 4 + at;
      throw securityError(L.REASON_TAIL_NONZERO, view[offset], L.SEC_FIELD_TAIL,
        { ...TEMPLATE_CONTEXT, offset, length: length - offset });
    }
  }
  return {
    protocol: protocolName(raw.protocol) as ProtocolName,
    peer: decodedPeer(raw),
    peerTokenAccessMask: new DataView(view.buffer, view.byteOffset, length).getUint32(L.SQT_TOKEN_ACCESS_MASK, true),
    totalLength: length,
  };
}

// ---- SOCKET_SECURITY_QUERY_INFO -----------------------------------------------------------------

export interface SocketSecurityQueryInfo {
  protocol: ProtocolName;
  flags: number;
  flagNames: string[];
  /** Handles in the caller's process (0 when none was asked for), as UINT64. */
  peerApplicationAccessTokenHandle: bigint;
  peerMachineAccessTokenHandle: bigint;
}

export interface SocketSecurityQueryInfoInput {
  protocol: ProtocolInput;
  flags?: number | readonly string[];
  peerApplicationAccessTokenHandle?: bigint | number;
  peerMachineAccessTokenHandle?: bigint | number;
}

const INFO_CONTEXT: SecurityContext = { prefix: 'info', struct: 'SOCKET_SECURITY_QUERY_INFO' };

function readInfo(bytes: Uint8Array): SocketSecurityQueryInfo & { errors: PeerTargetNameError[] } {
  // The codec reads the 24 bytes only: SOCKET_SECURITY_QUERY_INFO_IPSEC2 extends the struct past them.
  const copied = Math.min(bytes.length, L.SIZEOF_SECURITY_QUERY_INFO);
  const buf = align8(L.SIZEOF_SEC_RESULT);
  return sharedCodec().callWith(buf + L.SIZEOF_SECURITY_QUERY_INFO, (wasm, at, memory) => {
    memory.set(bytes.buffer === memory.buffer ? bytes.slice(0, copied) : bytes.subarray(0, copied), at + buf);
    (wasm as SecurityExports).decode_query_info(at + buf, copied, at);
    const view = new DataView(memory.buffer);
    const flags = view.getUint32(at + L.SR_FLAGS, true);
    return {
      protocol: protocolName(view.getUint32(at + L.SR_PROTOCOL, true)) as ProtocolName,
      flags,
      flagNames: flagNames(flags, INFO_FLAGS),
      peerApplicationAccessTokenHandle: view.getBigUint64(at + L.SR_APPLICATION_TOKEN, true),
      peerMachineAccessTokenHandle: view.getBigUint64(at + L.SR_MACHINE_TOKEN, true),
      errors: errorsOf(readProblems(view, at), { ...INFO_CONTEXT, bufferLength: bytes.length }),
    };
  });
}

/**
 * Decodes the SOCKET_SECURITY_QUERY_INFO that WSAQuerySocketSecurity filled (24 bytes or more).
 * @throws PeerTargetNameError with a field such as 'info.flags' or 'info.length'.
 */
export function decodeSocketSecurityQueryInfo(bytes: Uint8Array | ArrayBuffer | ArrayBufferView): SocketSecurityQueryInfo {
  const { errors, ...info } = readInfo(asBytes(bytes));
  if (errors.length > 0) throw errors[0];
  return info;
}

function handleIn(value: unknown, field: string): bigint {
  if (value === undefined || value === null) return 0n;
  if (typeof value === 'bigint' && value >= 0n && value <= 0xffffffffffffffffn) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  throw new PeerTargetNameError('WSAEINVAL', field,
    `${show(value)} is not a UINT64 handle (a bigint from 0 to 2^64-1, or a safe non-negative integer)`, { value });
}

/**
 * Encodes a SOCKET_SECURITY_QUERY_INFO (24 bytes), as WSAQuerySocketSecurity would fill it: for
 * conformance fakes and tests. The bytes pass the same checks as decodeSocketSecurityQueryInfo.
 */
export function encodeSocketSecurityQueryInfo(info: SocketSecurityQueryInfoInput): Uint8Array {
  if (info === null || typeof info !== 'object') {
    throw notAnObject('info', '{ protocol, flags?, peerApplicationAccessTokenHandle?, peerMachineAccessTokenHandle? }', info);
  }
  const bytes = new Uint8Array(L.SIZEOF_SECURITY_QUERY_INFO);
  const view = new DataView(bytes.buffer);
  view.setUint32(L.SQI_PROTOCOL, protocolIn(read(info, 'protocol', 'info'), 'info.protocol'), true);
  view.setUint32(L.SQI_FLAGS, flagsIn(read(info, 'flags', 'info'), INFO_FLAGS, 'info.flags'), true);
  view.setBigUint64(L.SQI_APPLICATION_TOKEN,
    handleIn(read(info, 'peerApplicationAccessTokenHandle', 'info'), 'info.peerApplicationAccessTokenHandle'), true);
  view.setBigUint64(L.SQI_MACHINE_TOKEN, handleIn(read(info, 'peerMachineAccessTokenHandle', 'info'), 'info.peerMachineAccessTokenHandle'), true);
  const { errors } = readInfo(bytes);
  if (errors.length > 0) throw errors[0];
  return bytes;
}
