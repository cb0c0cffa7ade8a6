// The bridge (Node only): hands SOCKET_PEER_TARGET_NAME bytes to the native functions
// through koffi. On Windows that is Fwpuclnt.dll and Ws2_32.dll; elsewhere, one library named by
// the caller that exports the same symbols (the package's Linux conformance library in tests).
import { loadKoffi } from './koffi.js';
import { sharedCodec, type Codec } from '../codec/codec.js';
import { resolveOptions, type ResolvedOptions } from '../codec/options.js';
import { PeerTargetNameError } from '../codec/errors.js';
import { asBytes, problemsOf } from '../codec/decode.js';
import { peerText, sockaddrText } from '../codec/peer-text.js';
import { withHostZones } from './zones.js';
import { isArrayBuffer, isSharedArrayBuffer } from '../codec/views.js';
import { bindNativeOnce, type NativeFunctions, type NativeLibraries } from './native.js';
import { BridgeClosedError, CLOSED_NATIVE, openAsyncLease, type AsyncLease } from './async-pool.js';
import { WinsockError, checkSocket, type SocketHandle } from './winsock.js';
import * as L from '../generated/layout.js';
import {
  encodeSocketSecuritySettings, validateSocketSecuritySettings, encodeSocketSecurityQueryTemplate,
  decodeSocketSecurityQueryInfo, decodeSocketSecurityQueryTemplate, type SocketSecuritySettingsInput, type SocketSecurityQueryTemplateInput,
  type SocketSecurityQueryInfo,
} from '../codec/security.js';
import type { CodecOptions, PeerInput, PeerTargetNameInput } from '../codec/types.js';


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
    'To run the same path here, build the Linux conformance library (a stand-in for Fwpuclnt.dll; needs a C compiler): ' +
    "`npx peer-target-name conformance build` prints its path; then pass openBridge({ library: '<that path>' }) " +
    'or set PEER_TARGET_NAME_LIBRARY=<that path>. The codec (encode/decode/validate) works without any of this.');
}

function koffiOrUnavailable(): unknown {
  try {
    return loadKoffi();
  } catch (cause) {
    throw new BridgeUnavailableError((cause as Error).message, { cause });
  }
}

/**
 * The peer of an encoded query template, for an error message (the caller's template is not read
 * again), spelled as every WinsockError.peer is (peerText).
 */
function templatePeerText(query: Uint8Array): string | undefined {
  try {
    const peer = decodeSocketSecurityQueryTemplate(query, { socketType: 'stream' }).peer;
    return peer ? peerText(peer.address, peer.port, peer.scopeId) : undefined;
  } catch {
    return undefined;
  }
}

/** An input object to encode, rather than bytes (any view, an ArrayBuffer or SharedArrayBuffer). */
function isInput(target: PeerTargetNameTarget): target is PeerTargetNameInput {
  return typeof target === 'object' && target !== null && !ArrayBuffer.isView(target) &&
    !isArrayBuffer(target) && !isSharedArrayBuffer(target);
}

export class Bridge {
  /** 'windows' (Fwpuclnt.dll) or 'library' (one library named by the caller). */
  readonly backend: 'windows' | 'library';
  readonly libraries: NativeLibraries;
  /** The bound functions; after close(), CLOSED_NATIVE (each throws BridgeClosedError, calls nothing). */
  private native: NativeFunctions;
  private readonly codec: Codec;
  private readonly asyncThreads: number;
  /** This bridge's share of the process-wide async worker pool, taken on the first async call. */
  private lease: AsyncLease | undefined;
  private closed = false;

  /** Use openBridge(). */
  constructor(options: BridgeOptions = {}) {
    const { backend, ...libraries } = librariesFor(options);
    const koffi = koffiOrUnavailable() as Parameters<typeof bindNativeOnce>[0];
    let native: NativeFunctions;
    try {
      // Bound once per process for these libraries, and shared (see bindNativeOnce).
      native = bindNativeOnce(koffi, libraries);
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
   * Checks bytes before they may reach native code: a live (asBytes: a detached view or buffer is
   * WSAEFAULT), non-empty view (koffi would pass NULL) whose contents validate. Returns what to
   * pass: a private copy made first and checked after (Codec.checkedCopy), of the same length.
   */
  private checkedBytes(target: ArrayBufferView | ArrayBufferLike, options: ResolvedOptions, call: string): Uint8Array {
    const bytes = asBytes(target);
    return this.codec.checkedCopy(bytes, options) ?? this.refuse(bytes, options, call);
  }

  /**
   * The error for bytes that failed the lean check: the very copy that failed, decoded in full to
   * name the problem (never the caller's buffer again: another thread may have changed it since).
   */
  private refuse(bytes: Uint8Array, options: ResolvedOptions, call: string): never {
    const refused = this.codec.takeRefused();
    if (refused === undefined) {
      throw new PeerTargetNameError('WSAEFAULT', 'bytes',
        `an empty or detached view cannot be passed to ${call} (koffi would pass NULL)`, { value: bytes });
    }
    // check() and decode() agree on every buffer (the fuzzer's property); should they ever not,
    // this is still a typed error, never `undefined`.
    throw problemsOf(this.codec.decode(refused, options), options)[0] ??
      new PeerTargetNameError('WSAEINVAL', 'bytes', `the codec's check refused these bytes for ${call}`, { value: refused });
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
    // An input object is read once, into the codec's snapshot, then encoded into WASM memory; bytes
    // are copied, then checked (a small copy is in WASM memory too). Nothing runs between here and
    // the call. A named zone is translated to its interface index on this path (host/bridge/zones.ts).
    const input = !(target instanceof Uint8Array) && isInput(target);
    const bytes = input ? this.codec.encodeInPlace(target, withHostZones(resolved)) : this.checkedBytes(target, resolved, call);
    const rc = this.native.setPeerTargetName(handle, bytes, bytes.byteLength, null, null);
    // The peer's text only for the error, from the very bytes passed (sockaddrText: every path spells it alike).
    if (rc !== 0) this.fail(call, handle, sockaddrText(bytes, L.OFFSET_PEER));
  }

  /**
   * @internal For a record this package's codec encoded moments ago (PeerRegistry: a batch's bytes,
   * or a single record still in the codec's memory): checked for liveness and length, not decoded
   * again. A WinsockError names the peer from the record's own PeerAddress.
   */
  setEncodedRecord(socket: SocketHandle, record: Uint8Array): void {
    const call = 'WSASetSocketPeerTargetName';
    const handle = checkSocket(socket, call);
    if (record.byteLength < L.SIZEOF_PEER_TARGET_NAME) {
      throw new PeerTargetNameError('WSAEFAULT', 'bytes', `a ${record.byteLength}-byte view cannot be a record (detached?)`, { value: record });
    }
    const rc = this.native.setPeerTargetName(handle, record, record.byteLength, null, null);
    if (rc !== 0) this.fail(call, handle, sockaddrText(record, L.OFFSET_PEER));
  }

  /**
   * Async WSASetSocketPeerTargetName on a worker thread: its own copy of the bytes, its own last error.
   * @throws (rejects with) BridgeClosedError after close(), or when close() is called before the
   * call is made; BridgeWorkerError when its worker thread exits (the call may or may not have been made).
   */
  async setPeerTargetNameAsync(socket: SocketHandle, target: PeerTargetNameTarget, options?: CodecOptions): Promise<void> {
    const call = 'WSASetSocketPeerTargetName';
    if (this.closed) throw new BridgeClosedError(call);
    const handle = checkSocket(socket, call);
    const resolved = withHostZones(resolveOptions(options));
    const input = isInput(target);
    const bytes = input
      ? this.codec.encode(target, resolved)
      : this.checkedBytes(target, resolved, call).slice();
    this.lease ??= openAsyncLease(this.libraries, this.asyncThreads);
    const errno = await this.lease.call('setPeerTargetName', handle, bytes);
    // The peer from this call's own copy of the bytes: the caller's object is not read again.
    if (errno !== 0) throw new WinsockError(errno, { call, socket: handle, peer: sockaddrText(bytes, L.OFFSET_PEER) });
  }

  /** WSADeleteSocketPeerTargetName: forgets the name for a peer (its sockaddr is built by the codec). */
  deletePeerTargetName(socket: SocketHandle, peer: PeerInput, options?: CodecOptions): void {
    const call = 'WSADeleteSocketPeerTargetName';
    const handle = checkSocket(socket, call);
    // The peer read once (the codec's snapshot), a named zone translated as for setPeerTargetName.
    const storage = this.codec.encodePeer(peer, withHostZones(resolveOptions(options)));
    // Pass exactly the sockaddr's own size, as Windows' callers do.
    const size = storage[0] === L.AF_INET ? L.SIZEOF_SOCKADDR_IN : L.SIZEOF_SOCKADDR_IN6;
    const rc = this.native.deletePeerTargetName(handle, storage.subarray(0, size), size, null, null);
    if (rc !== 0) this.fail(call, handle, sockaddrText(storage));
  }

  /**
   * WSASetSocketSecurity: turns on security for the socket, as a real caller does before naming
   * peers. `settings` is SOCKET_SECURITY_SETTINGS(_IPSEC) as an object or as encoded bytes (any
   * view, or an ArrayBuffer); absent or null passes NULL (the default security settings). Bytes are
   * copied first and the copy is checked and passed: native code gets exactly what was checked.
   */
  setSocketSecurity(socket: SocketHandle, settings?: SocketSecuritySettingsInput | Uint8Array | ArrayBufferView | ArrayBuffer | null): void {
    const call = 'WSASetSocketSecurity';
    const handle = checkSocket(socket, call);
    let bytes: Uint8Array | null = null;
    if (typeof settings === 'object' && settings !== null &&
        (ArrayBuffer.isView(settings) || isArrayBuffer(settings) || isSharedArrayBuffer(settings))) {
      // asBytes: a detached view or buffer is WSAEFAULT. new Uint8Array(view): a private copy,
      // through the internal slots (a shared buffer another thread writes is read once, here).
      const copy = new Uint8Array(asBytes(settings));
      if (copy.byteLength === 0) {
        throw new PeerTargetNameError('WSAEFAULT', 'bytes', `an empty or detached view cannot be passed to ${call} (koffi would pass NULL)`, { value: settings });
      }
      const checked = validateSocketSecuritySettings(copy);
      if (!checked.ok) throw checked.error;
      bytes = copy;
    } else if (settings !== undefined && settings !== null) {
      bytes = encodeSocketSecuritySettings(settings as SocketSecuritySettingsInput);
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
    // The template read once; its peer's named zone translated as for setPeerTargetName.
    const query = template ? encodeSocketSecurityQueryTemplate(template, withHostZones(resolveOptions(options))) : null;
    // SOCKET_SECURITY_QUERY_INFO; the native side may say it needs more (the IPSEC2 form).
    let info = new Uint8Array(L.SIZEOF_SECURITY_QUERY_INFO);
    const infoLength = new Uint32Array([info.byteLength]);
    let rc = this.native.querySocketSecurity(handle, query, query?.byteLength ?? 0, info, infoLength, null, null);
    if (rc !== 0 && this.native.lastError() === L.WSAEMSGSIZE && infoLength[0] > info.byteLength) {
      info = new Uint8Array(infoLength[0]);
      rc = this.native.querySocketSecurity(handle, query, query?.byteLength ?? 0, info, infoLength, null, null);
    }
    if (rc !== 0) this.fail(call, handle, query ? templatePeerText(query) : undefined);
    return decodeSocketSecurityQueryInfo(info.subarray(0, Math.min(infoLength[0], info.byteLength)));
  }

  /**
   * Closes the bridge: every later call, sync or async, throws BridgeClosedError (a sync one
   * synchronously, without calling anything native); every async call still pending rejects with
   * it at once. Resolves when none of this bridge's async calls is queued or running on a worker
   * thread any more (queued ones are skipped). The worker threads are shared by every bridge of the
   * process (async-pool.ts) and stop once no bridge has used them for a while. Idempotent.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.native = CLOSED_NATIVE;
    const lease = this.lease;
    await lease?.close();
  }
}

/**
 * Loads the native functions. Throws BridgeUnavailableError, naming the platform and what to do,
 * where there are none; the codec works regardless.
 */
export function openBridge(options: BridgeOptions = {}): Bridge {
  return new Bridge(options);
}
