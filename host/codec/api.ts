// peer-target-name: build, check and read SOCKET_PEER_TARGET_NAME buffers for
// WSASetSocketPeerTargetName. Works unchanged in Node and in browsers; the WebAssembly codec
// ships inside the package.
import { sharedCodec } from './codec.js';
import { resolveOptions } from './options.js';
import { PeerTargetNameBatch } from './batch.js';
import { asBytes, decodedObject, inspectedObject, problemsOf, type InspectedPeerTargetName } from './decode.js';
import { PeerTargetNameError, textOf } from './errors.js';
import type { CodecOptions, DecodedPeerTargetName, PeerTargetNameInput } from './types.js';

export type * from './types.js';
export { PeerTargetNameError, WINSOCK_ERRORS, type WinsockErrorName } from './errors.js';
export { CodecFaultError } from './codec.js';
export { ready, CodecNotReadyError } from './loader.js';
export { PeerTargetNameBatch, type BatchFailure } from './batch.js';
export type { FieldRow, FieldKind } from './fields.js';
export type { InspectedPeerTargetName } from './decode.js';
export { toHex, fromHex } from './hex.js';
export {
  SIZEOF_PEER_TARGET_NAME, OFFSET_PEER, OFFSET_STRING_LENGTH, OFFSET_STRINGS, AF_INET, AF_INET6,
  DEFAULT_MAX_TARGET_NAME_LENGTH, HARD_MAX_TARGET_NAME_LENGTH,
} from '../generated/layout.js';
export {
  encodeSocketSecuritySettings, decodeSocketSecuritySettings, validateSocketSecuritySettings,
  encodeSocketSecurityQueryTemplate, decodeSocketSecurityQueryTemplate,
  encodeSocketSecurityQueryInfo, decodeSocketSecurityQueryInfo,
  SIZEOF_SOCKET_SECURITY_SETTINGS, SIZEOF_SOCKET_SECURITY_SETTINGS_IPSEC,
  SIZEOF_SOCKET_SECURITY_QUERY_TEMPLATE, SIZEOF_SOCKET_SECURITY_QUERY_INFO,
  SOCKET_SETTINGS_FLAGS, SOCKET_SETTINGS_IPSEC_FLAGS, SOCKET_INFO_FLAGS,
  type SocketSecuritySettingsInput, type SocketSecurityIpsecInput, type DecodedSocketSecuritySettings,
  type DecodedSocketSecurityIpsec, type SocketSecurityQueryTemplateInput,
  type DecodedSocketSecurityQueryTemplate, type SocketSecurityQueryInfo, type SocketSecurityQueryInfoInput,
  type SecurityValidationResult,
} from './security.js';

/**
 * Encodes one SOCKET_PEER_TARGET_NAME: exactly the bytes to pass to WSASetSocketPeerTargetName,
 * 144 + 2n long (n = the name's UTF-16 units), the name NUL-terminated inside the buffer.
 * @throws PeerTargetNameError naming the field, the value and the Winsock code.
 */
export function encodePeerTargetName(input: PeerTargetNameInput, options?: CodecOptions): Uint8Array {
  return sharedCodec().encode(input, resolveOptions(options));
}

/**
 * Encodes many records in one pass (what a server registering thousands of peers wants). A record
 * that fails is reported in `failures` and does not fail the batch: each input is read once, and
 * one whose getter throws fails only its own record.
 * @throws PeerTargetNameError WSAEFAULT naming `inputs` when `inputs` is not an array (an
 * iterable or array-like is not taken either); bad options.
 */
export function encodePeerTargetNames(inputs: readonly PeerTargetNameInput[], options?: CodecOptions): PeerTargetNameBatch {
  let array: boolean;
  try {
    array = Array.isArray(inputs);
  } catch {
    array = false; // a revoked Proxy
  }
  if (!array) {
    throw new PeerTargetNameError('WSAEFAULT', 'inputs',
      `expected an array of input objects { protocol, peer, targetName }, got ${inputs === null ? 'null' : objectText(inputs)}`, { value: inputs });
  }
  const { bytes, offsets, lengths, failures } = sharedCodec().encodeMany(inputs, resolveOptions(options));
  return new PeerTargetNameBatch(bytes, offsets, lengths, failures);
}

/** A value for a message: primitives by their type, objects by what textOf says of them. */
function objectText(value: unknown): string {
  return typeof value === 'object' || typeof value === 'function' ? textOf(value) : `a ${typeof value}`;
}

/**
 * Decodes a buffer made by anyone, after checking every rule.
 * @throws PeerTargetNameError for the first problem (see validatePeerTargetName for all of them).
 */
export function decodePeerTargetName(bytes: Uint8Array | ArrayBuffer | ArrayBufferView, options?: CodecOptions): DecodedPeerTargetName {
  const resolved = resolveOptions(options);
  const view = asBytes(bytes);
  const codec = sharedCodec();
  const valid = codec.decodeValid(view, resolved); // check(), then the fields: no problem list
  if (valid !== undefined) return valid;
  const raw = codec.decode(view, resolved);
  if (raw.problems.length > 0) throw problemsOf(raw, resolved)[0];
  return decodedObject(raw);
}

export type ValidationResult =
  | { ok: true }
  | { ok: false; error: PeerTargetNameError; errors: PeerTargetNameError[] };

/** Checks a buffer without throwing: the first problem, and all of them, first byte first. */
export function validatePeerTargetName(bytes: Uint8Array | ArrayBuffer | ArrayBufferView, options?: CodecOptions): ValidationResult {
  let errors: PeerTargetNameError[];
  try {
    const resolved = resolveOptions(options);
    const view = asBytes(bytes);
    const codec = sharedCodec();
    if (codec.passes(view, resolved)) return { ok: true }; // check(): nothing else is built for a valid buffer
    errors = problemsOf(codec.decode(view, resolved), resolved);
  } catch (error) {
    if (!(error instanceof Error && error.name === 'PeerTargetNameError')) throw error;
    errors = [error as PeerTargetNameError];
  }
  return errors.length === 0 ? { ok: true } : { ok: false, error: errors[0], errors };
}

/** Decodes whatever a buffer holds, however broken, with every problem and a field-by-field view. */
export function inspectPeerTargetName(bytes: Uint8Array | ArrayBuffer | ArrayBufferView, options?: CodecOptions): InspectedPeerTargetName {
  const resolved = resolveOptions(options);
  const view = asBytes(bytes);
  return inspectedObject(view, sharedCodec().decode(view, resolved), resolved);
}
