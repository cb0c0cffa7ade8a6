// The bridge (Node only): hands SOCKET_PEER_TARGET_NAME bytes to the native functions
// through koffi. On Windows that is Fwpuclnt.dll and Ws2_32.dll; elsewhere, one library named by
// the caller that exports the same symbols (the package's Linux conformance library in tests).
import { loadKoffi } from './koffi.js';
import { sharedCodec, type Codec } from './codec.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { PeerTargetNameError } from './errors.js';
import { asBytes, decodedPeer, problemsOf } from './decode.js';
import { bindNative, PROTOTYPES, type NativeFunctions, type NativeLibraries } from './native.js';
import { AsyncCallPool } from './bridge-async.js';
import { WinsockError, checkSocket, type SocketHandle } from './winsock.js';
import * as L from './generated/layout.js';
import {
  encodeSocketSecuritySettings, validateSocketSecuritySettings, encodeSocketSecurityQueryTemplate,
  decodeSocketSecurityQueryInfo, type SocketSecuritySettingsInput, type SocketSecurityQueryTemplateInput,
  type SocketSecurityQueryInfo,
} from './security.js';
import type { CodecOptions, PeerInput, PeerTargetNameInput } from './types.js';


export interface BridgeOptions {
  /**
   * One shared library that exports WSASetSocketPeerTargetName, WSADeleteSocketPeerTargetName,
   * WSASetSocketSecurity, WSAQuerySocketSecurity and WSAGetLastError. Defaults to the environment
   * variable PEER_TARGET_NAME_LIBRARY; on Windows, without either, Fwpuclnt.dll and Ws2_32.dll.
   */
  library?: string;
  /** Worker threads for the async calls (default 2). */
  asyncThreads?: number;
}

/** Bytes already encoded, or the input to encode (straight into WASM memory, passed without a copy). */
export type PeerTargetNameTarget = Uint8Array | ArrayBufferView | PeerTargetNameInput;

/** No native backend here: says which platform was found and what to do. */
export class BridgeUnavailableError extends Error {
  readonly platform: string;
  readonly arch: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BridgeUnavailableError';
    this.platform = process.platform;
    this.arch = process.arch;
  }
}

function librariesFor(options: BridgeOptions): NativeLibraries & { backend: 'windows' | 'library' } {
  const library = options.library ?? process.env.PEER_TARGET_NAME_LIBRARY;
  if (library) return { backend: 'library', secureSockets: library, winsock: library };
  if (process.platform === 'win32') return { backend: 'windows', secureSockets: 'fwpuclnt.dll', winsock: 'ws2_32.dll' };
  throw new BridgeUnavailableError(
    `WSASetSocketPeerTargetName exists only on Windows (Fwpuclnt.dll), and this is ${process.platform} (${process.arch}). ` +
    'To run the same path here, build the Linux conformance library (node build/conformance.mjs) and pass ' +
    "openBridge({ library: 'build/out/libpeer_target_name_conformance.so' }) or set PEER_TARGET_NAME_LIBRARY. " +
    'The codec (encode/decode/validate) works without any of this.');
}

function koffiOrUnavailable(): unknown {
  try {
    return loadKoffi();
  } catch (cause) {
    throw new BridgeUnavailableError((cause as Error).message, { cause });
  }
}

/** Text for a peer in error messages. */
function peerText(peer: PeerInput | null | undefined): string | undefined {
  if (peer === undefined || peer === null) return undefined;
  if (typeof peer === 'string') return peer;
  return peer.address.includes(':') ? `[${peer.address}]:${peer.port}` : `${peer.address}:${peer.port}`;
}

function isInput(target: PeerTargetNameTarget): target is PeerTargetNameInput {
  return !ArrayBuffer.isView(target) && typeof target === 'object' && target !== null;
}

export class Bridge {
  /** 'windows' (Fwpuclnt.dll) or 'library' (one library named by the caller). */
  readonly backend: 'windows' | 'library';
  readonly libraries: NativeLibraries;
  private readonly native: NativeFunctions;
  private readonly codec: Codec;
  private readonly asyncThreads: number;
  private pool: AsyncCallPool | undefined;

  /** Use openBridge(). */
  constructor(options: BridgeOptions = {}) {
    const { backend, ...libraries } = librariesFor(options);
    const koffi = koffiOrUnavailable() as Parameters<typeof bindNative>[0];
    let native: NativeFunctions;
    try {
      native = bindNative(koffi, libraries, PROTOTYPES) as NativeFunctions;
    } catch (cause) {
      throw new BridgeUnavailableError(`could not bind the native functions on ${process.platform} (${process.arch}): ${(cause as Error).message}`, { cause });
    }
    this.backend = backend;
    this.libraries = libraries;
    this.native = native;
    this.codec = sharedCodec();
    this.asyncThreads = options.asyncThreads ?? 2;
  }

  /**
   * Checks bytes before they may reach native code: a live, non-empty view (koffi would pass NULL
   * for a detached one) whose contents validate. Returns what to pass: the checked copy inside the
   * codec's memory (Codec.checkedCopy), valid until the next codec call.
   */
  private checkedBytes(target: ArrayBufferView, options: ResolvedOptions, call: string): Uint8Array {
    const bytes = asBytes(target);
    return this.codec.checkedCopy(bytes, options) ?? this.refuse(bytes, options, call);
  }

  /** The error for bytes that failed the lean check: decoded in full to name the problem. */
  private refuse(bytes: Uint8Array, options: ResolvedOptions, call: string): never {
    if (bytes.byteLength === 0) {
      throw new PeerTargetNameError('WSAEFAULT', 'bytes',
        `an empty or detached view cannot be passed to ${call} (koffi would pass NULL)`, { value: bytes });
    }
    throw problemsOf(this.codec.decode(bytes, options), options)[0];
  }

  private fail(call: string, socket: SocketHandle, peer: string | undefined): never {
    // Read right after the call, on the thread that made it.
    const errno = this.native.lastError();
    throw new WinsockError(errno, { call, socket, peer });
  }

  /**
   * WSASetSocketPeerTargetName: names the security principal that must answer for a peer. Call it
   * before WSAConnect, or for a dgram socket before the first send to that peer.
   * @throws PeerTargetNameError before any native call for bad input; WinsockError when the call fails.
   */
  setPeerTargetName(socket: SocketHandle, target: PeerTargetNameTarget, options?: CodecOptions): void {
    const call = 'WSASetSocketPeerTargetName';
    const handle = checkSocket(socket, call);
    const resolved = resolveOptions(options);
    // Either way the view is into WASM memory, and nothing runs between here and the call.
    const input = !(target instanceof Uint8Array) && isInput(target);
    const bytes = input ? this.codec.encodeInPlace(target, resolved) : this.checkedBytes(target, resolved, call);
    const rc = this.native.setPeerTargetName(handle, bytes, bytes.byteLength, null, null);
    // The peer's text only for the error (making it on every call would cost more than the check).
    if (rc !== 0) this.fail(call, handle, input ? peerText(target.peer) : this.peerOf(bytes, resolved));
  }

  /**
   * @internal For a record this package's codec encoded moments ago (PeerRegistry: a batch's bytes,
   * or a single record still in the codec's memory): checked for liveness and length, not decoded
   * again. `peer` names the peer in a WinsockError (text as is, or the caller's peer object).
   */
  setEncodedRecord(socket: SocketHandle, record: Uint8Array, peer: PeerInput): void {
    const call = 'WSASetSocketPeerTargetName';
    const handle = checkSocket(socket, call);
    if (record.byteLength < L.SIZEOF_PEER_TARGET_NAME) {
      throw new PeerTargetNameError('WSAEFAULT', 'bytes', `a ${record.byteLength}-byte view cannot be a record (detached?)`, { value: record });
    }
    const rc = this.native.setPeerTargetName(handle, record, record.byteLength, null, null);
    if (rc !== 0) this.fail(call, handle, peerText(peer));
  }

  /** Async WSASetSocketPeerTargetName on a worker thread: its own copy of the bytes, its own last error. */
  async setPeerTargetNameAsync(socket: SocketHandle, target: PeerTargetNameTarget, options?: CodecOptions): Promise<void> {
    const call = 'WSASetSocketPeerTargetName';
    const handle = checkSocket(socket, call);
    const resolved = resolveOptions(options);
    const bytes = isInput(target)
      ? this.codec.encode(target, resolved)
      : this.checkedBytes(target, resolved, call).slice();
    this.pool ??= new AsyncCallPool(this.libraries, this.asyncThreads);
    const errno = await this.pool.call('setPeerTargetName', handle, bytes);
    if (errno !== 0) {
      throw new WinsockError(errno, { call, socket: handle, peer: isInput(target) ? peerText(target.peer) : this.peerOf(bytes, resolved) });
    }
  }

  /** WSADeleteSocketPeerTargetName: forgets the name for a peer (its sockaddr is built by the codec). */
  deletePeerTargetName(socket: SocketHandle, peer: PeerInput, options?: CodecOptions): void {
    const call = 'WSADeleteSocketPeerTargetName';
    const handle = checkSocket(socket, call);
    const storage = this.codec.encodePeer(peer, resolveOptions(options));
    // Pass exactly the sockaddr's own size, as Windows' callers do.
    const size = storage[0] === L.AF_INET ? L.SIZEOF_SOCKADDR_IN : L.SIZEOF_SOCKADDR_IN6;
    const rc = this.native.deletePeerTargetName(handle, storage.subarray(0, size), size, null, null);
    if (rc !== 0) this.fail(call, handle, peerText(peer));
  }

  /**
   * WSASetSocketSecurity: turns on security for the socket, as a real caller does before naming
   * peers. `settings` is SOCKET_SECURITY_SETTINGS(_IPSEC) as an object or as encoded bytes; absent
   * or null passes NULL (the default security settings).
   */
  setSocketSecurity(socket: SocketHandle, settings?: SocketSecuritySettingsInput | Uint8Array | null): void {
    const call = 'WSASetSocketSecurity';
    const handle = checkSocket(socket, call);
    let bytes: Uint8Array | null = null;
    if (settings instanceof Uint8Array) {
      if (settings.byteLength === 0) {
        throw new PeerTargetNameError('WSAEFAULT', 'bytes', `an empty or detached view cannot be passed to ${call} (koffi would pass NULL)`, { value: settings });
      }
      const checked = validateSocketSecuritySettings(settings);
      if (!checked.ok) throw checked.error;
      bytes = settings;
    } else if (settings !== undefined && settings !== null) {
      bytes = encodeSocketSecuritySettings(settings);
    }
    const rc = this.native.setSocketSecurity(handle, bytes, bytes?.byteLength ?? 0, null, null);
    if (rc !== 0) this.fail(call, handle, undefined);
  }

  /**
   * WSAQuerySocketSecurity: what security the socket has with a peer. The template is optional
   * (NULL asks about the socket as a whole).
   */
  querySocketSecurity(socket: SocketHandle, template?: SocketSecurityQueryTemplateInput | null, options?: Pick<CodecOptions, 'socketType'>): SocketSecurityQueryInfo {
    const call = 'WSAQuerySocketSecurity';
    const handle = checkSocket(socket, call);
    const query = template ? encodeSocketSecurityQueryTemplate(template, options) : null;
    // SOCKET_SECURITY_QUERY_INFO; the native side may say it needs more (the IPSEC2 form).
    let info = new Uint8Array(L.SIZEOF_SECURITY_QUERY_INFO);
    const infoLength = new Uint32Array([info.byteLength]);
    let rc = this.native.querySocketSecurity(handle, query, query?.byteLength ?? 0, info, infoLength, null, null);
    if (rc !== 0 && this.native.lastError() === L.WSAEMSGSIZE && infoLength[0] > info.byteLength) {
      info = new Uint8Array(infoLength[0]);
      rc = this.native.querySocketSecurity(handle, query, query?.byteLength ?? 0, info, infoLength, null, null);
    }
    if (rc !== 0) this.fail(call, handle, template ? peerText(template.peer) : undefined);
    return decodeSocketSecurityQueryInfo(info.subarray(0, Math.min(infoLength[0], info.byteLength)));
  }

  /** Decoded peer text of checked bytes, for error messages. */
  private peerOf(bytes: Uint8Array, options: ResolvedOptions): string | undefined {
    const peer = decodedPeer(this.codec.decode(bytes, options));
    return peer ? peerText(peer) : undefined;
  }

  /** Stops the async worker threads (the sync calls keep working). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }
}

/**
 * Loads the native functions. Throws BridgeUnavailableError, naming the platform and what to do,
 * where there are none; the codec works regardless.
 */
export function openBridge(options: BridgeOptions = {}): Bridge {
  return new Bridge(options);
}
