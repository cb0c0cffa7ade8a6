// Loads the codec: the .wasm travels inside the package as base64 (host/generated/codec-wasm.ts),
// so Node, browsers and every bundler get it without a file path or a fetch.
import { CODEC_WASM_BASE64 } from '../generated/codec-wasm.js';

/** The codec's C-style ABI (assembly/codec.ts). Every pointer is an offset into `memory`. */
export interface CodecExports {
  readonly memory: WebAssembly.Memory;
  heap_base(): number;
  encode_batch(input: number, count: number, out: number, status: number, options: number, maxUnits: number, columns: number, base: number): number;
  encode_peer(input: number, out: number, options: number, status: number): number;
  decode(buf: number, len: number, options: number, maxUnits: number, result: number): number;
  /** 0 when decode() would find no problem, else non-zero; writes nothing. */
  check(buf: number, len: number, options: number, maxUnits: number): number;
}

function base64Bytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// Compiled once. Asynchronously, because browsers refuse to compile modules over 4 KB synchronously
// on the main thread; top-level await keeps the public API synchronous after import.
const codecModule: WebAssembly.Module = await WebAssembly.compile(base64Bytes(CODEC_WASM_BASE64));
const firstInstance: WebAssembly.Instance = await WebAssembly.instantiate(codecModule, {});
let firstTaken = false;

/** A fresh instance with its own memory: the first one is ready at import, later ones are synchronous. */
export function instantiateCodec(): CodecExports {
  if (!firstTaken) {
    firstTaken = true;
    return firstInstance.exports as unknown as CodecExports;
  }
  return new WebAssembly.Instance(codecModule, {}).exports as unknown as CodecExports;
}

/** The compiled module, for callers that instantiate their own (e.g. one per worker). */
export function codecWasmModule(): WebAssembly.Module {
  return codecModule;
}
