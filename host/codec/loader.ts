// Loads the codec: the .wasm travels inside the package as base64 (host/generated/codec-wasm.ts),
// so Node, browsers and every bundler get it without a file path or a fetch.
//
// No top-level await (a module that awaits cannot be require()d, nor bundled for es2020 or as an
// IIFE). The module is compiled on first use instead, synchronously, which Node, Deno, Bun and web
// workers always allow. A browser's main thread refuses to compile or instantiate a module over
// 4 KB synchronously (this one is ~10 KB): there, `await ready()` first, which compiles and
// instantiates asynchronously; a call that needs the codec before that throws CodecNotReadyError.
import { CODEC_WASM_BASE64 } from '../generated/codec-wasm.js';

/** The codec's C-style ABI (assembly/codec.ts). Every pointer is an offset into `memory`. */
export interface CodecExports {
  readonly memory: WebAssembly.Memory;
  heap_base(): number;
  encode_batch(input: number, count: number, out: number, status: number, options: number, maxUnits: number, columns: number, base: number): number;
  encode_one(input: number, out: number, options: number, maxUnits: number, detail: number): number;
  encode_peer(input: number, out: number, options: number, status: number): number;
  decode(buf: number, len: number, options: number, maxUnits: number, result: number): number;
  /** 0 when decode() would find no problem, else non-zero; writes nothing. */
  check(buf: number, len: number, options: number, maxUnits: number): number;
}

/**
 * The codec was needed before it could be loaded: this platform (a browser's main thread) does not
 * compile WebAssembly synchronously. `await ready()` once, before the first call.
 */
export class CodecNotReadyError extends Error {
  readonly code = 'ERR_CODEC_NOT_READY';
  constructor(options?: { cause?: unknown }) {
    super(
      "peer-target-name: the codec's WebAssembly is not compiled yet, and this platform (a browser's main thread) " +
        "does not compile it synchronously. Call `await ready()` (import { ready } from 'peer-target-name') once " +
        'before the first encode, decode, validate or inspect.',
      options,
    );
    this.name = 'CodecNotReadyError';
  }
}

function base64Bytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

let codecModule: WebAssembly.Module | undefined;
/** An instance made ahead, asynchronously (by ready(), or refilled after one was taken). */
let spare: WebAssembly.Instance | undefined;
/** Set once this platform refused a synchronous compile or instantiation. */
let syncRefused = false;
let loading: Promise<void> | undefined;

/** Chromium's refusal is a RangeError ("...is disallowed on the main thread, if the buffer size is larger than 4KB"). */
const isSyncRefusal = (e: unknown): boolean => e instanceof RangeError && /main thread|4 ?KB/i.test(e.message);

function compiledSync(): WebAssembly.Module {
  if (codecModule) return codecModule;
  if (syncRefused) throw new CodecNotReadyError();
  try {
    codecModule = new WebAssembly.Module(base64Bytes(CODEC_WASM_BASE64));
  } catch (cause) {
    if (!isSyncRefusal(cause)) throw cause;
    syncRefused = true;
    throw new CodecNotReadyError({ cause });
  }
  return codecModule;
}

/** Makes the next spare instance in the background where instances cannot be made synchronously. */
function refill(): void {
  if (!syncRefused || spare || loading) return;
  void ready().catch(() => undefined); // a failure here surfaces at the next ready() or call
}

/**
 * Compiles the codec's WebAssembly asynchronously and makes an instance ready. Needed only where
 * synchronous compilation is refused (a browser's main thread: modules over 4 KB); harmless and
 * cheap everywhere else. Resolves when encode/decode/validate/inspect can be called.
 */
export function ready(): Promise<void> {
  if (spare || (codecModule && !syncRefused)) return Promise.resolve();
  loading ??= (async () => {
    try {
      if (codecModule) {
        spare = await WebAssembly.instantiate(codecModule, {});
      } else {
        const made = await WebAssembly.instantiate(base64Bytes(CODEC_WASM_BASE64), {});
        codecModule = made.module;
        spare = made.instance;
      }
    } finally {
      loading = undefined;
    }
  })();
  return loading;
}

/**
 * A fresh instance with its own memory, made synchronously.
 * @throws CodecNotReadyError where the platform refuses synchronous compilation and ready() has not
 * finished (a browser's main thread).
 */
export function instantiateCodec(): CodecExports {
  if (spare) {
    const instance = spare;
    spare = undefined;
    refill();
    return instance.exports as unknown as CodecExports;
  }
  const module = compiledSync();
  if (!syncRefused) {
    try {
      return new WebAssembly.Instance(module, {}).exports as unknown as CodecExports;
    } catch (cause) {
      if (!isSyncRefusal(cause)) throw cause;
      syncRefused = true;
      refill();
      throw new CodecNotReadyError({ cause });
    }
  }
  refill();
  throw new CodecNotReadyError();
}

/** The compiled module, for callers that instantiate their own (e.g. one per worker); Node only. */
export function codecWasmModule(): WebAssembly.Module {
  return compiledSync();
}
