// Node's own libuv, through koffi. Node exports the libuv API for native addons: on Windows from
// node.exe (koffi.load(process.execPath)), on POSIX from the executable itself (koffi.load(null)).
// It is the one public way to reach a dgram socket's SOCKET on Windows, where Node reports none
// (UDPWrap's fd is UV_EBADF there), and the same code serves every platform.
import { isMainThread } from 'node:worker_threads';
import { loadKoffi, type Koffi } from '../koffi.js';
import type { SocketHandle } from '../winsock.js';

/** libuv's uv_handle_type values (uv.h) for the handles that hold a socket. */
export const UV_NAMED_PIPE = 7;
export const UV_TCP = 12;
export const UV_UDP = 15;

/** An opaque `uv_handle_t *` (a koffi External) and its address, which identifies it between walks. */
export interface UvHandle {
  pointer: unknown;
  address: bigint;
  /** uv_handle_type. */
  type: number;
}

type Fn = (...args: unknown[]) => unknown;

/** The thread's own loop: node::GetCurrentEventLoop(v8::Isolate::GetCurrent()), mangled per ABI. */
const CURRENT_LOOP_SYMBOLS: Record<string, { isolate: string; loop: string }> = {
  // Itanium C++ ABI (Linux, macOS, the BSDs).
  itanium: { isolate: '_ZN2v87Isolate10GetCurrentEv', loop: '_ZN4node19GetCurrentEventLoopEPN2v87IsolateE' },
  // MSVC, 64-bit and 32-bit pointers.
  'msvc-64': { isolate: '?GetCurrent@Isolate@v8@@SAPEAV12@XZ', loop: '?GetCurrentEventLoop@node@@YAPEAUuv_loop_s@@PEAVIsolate@v8@@@Z' },
  'msvc-32': { isolate: '?GetCurrent@Isolate@v8@@SAPAV12@XZ', loop: '?GetCurrentEventLoop@node@@YAPAUuv_loop_s@@PAVIsolate@v8@@@Z' },
};

export class NodeLibuv {
  private readonly koffi: Koffi;
  private readonly fn: Record<'defaultLoop' | 'walk' | 'handleType' | 'fileno' | 'udpOpen', Fn>;
  private readonly currentLoopFn: (() => unknown) | undefined;
  private readonly walkCallback: unknown;
  private visited: UvHandle[] = [];
  private wanted: ReadonlySet<number> = new Set([UV_UDP]);

  constructor() {
    this.koffi = loadKoffi();
    const self = this.koffi.load(process.platform === 'win32' ? process.execPath : null);
    const walkCb = this.koffi.proto('void uv_walk_cb_ptn(void *handle, void *arg)');
    this.fn = {
      defaultLoop: self.func('void *uv_default_loop(void)'),
      walk: self.func('void uv_walk(void *loop, uv_walk_cb_ptn *cb, void *arg)'),
      handleType: self.func('int uv_handle_get_type(void *handle)'),
      fileno: self.func('int uv_fileno(void *handle, _Out_ uintptr_t *fd)'),
      udpOpen: self.func('int uv_udp_open(void *handle, uintptr_t sock)'),
    };
    this.currentLoopFn = this.bindCurrentLoop(self);
    // Registered once for the thread's life: uv_walk calls it synchronously, UDP handles only kept.
    this.walkCallback = this.koffi.register((handle: unknown) => {
      const type = this.fn.handleType(handle) as number;
      if (this.wanted.has(type)) this.visited.push({ pointer: handle, address: this.koffi.address(handle), type });
    }, this.koffi.pointer(walkCb));
  }

  private bindCurrentLoop(self: ReturnType<Koffi['load']>): (() => unknown) | undefined {
    const abi = process.platform === 'win32' ? `msvc-${this.koffi.sizeof('void *') * 8}` : 'itanium';
    const symbols = CURRENT_LOOP_SYMBOLS[abi];
    try {
      const isolate = self.func(symbols.isolate, 'void *', []);
      const loop = self.func(symbols.loop, 'void *', ['void *']);
      return () => loop(isolate());
    } catch {
      return undefined;
    }
  }

  /**
   * The calling thread's loop. The main thread's is uv_default_loop(); a worker's has to be asked
   * of Node, and undefined means this Node build does not export what that takes.
   */
  currentLoop(): unknown | undefined {
    if (this.currentLoopFn) {
      const loop = this.currentLoopFn();
      if (loop !== null) return loop;
    }
    return isMainThread ? this.fn.defaultLoop() : undefined;
  }

  /** Every UDP handle on the loop, now. */
  udpHandles(loop: unknown): UvHandle[] {
    return this.handles(loop, [UV_UDP]);
  }

  /** Every handle of these uv_handle_types on the loop, now. */
  handles(loop: unknown, types: readonly number[]): UvHandle[] {
    this.visited = [];
    this.wanted = new Set(types);
    try {
      this.fn.walk(loop, this.walkCallback, null);
      return this.visited;
    } finally {
      this.visited = [];
    }
  }

  /** The handle's SOCKET (Windows) or descriptor; undefined while it has none. */
  fileno(handle: UvHandle): SocketHandle | undefined {
    const out: (number | bigint)[] = [0];
    if (this.fn.fileno(handle.pointer, out) !== 0) return undefined;
    return out[0];
  }

  /** uv_udp_open: hands a native socket to a UDP handle. 0 or a negative libuv error code. */
  udpOpen(handle: UvHandle, socket: SocketHandle): number {
    return this.fn.udpOpen(handle.pointer, socket) as number;
  }
}

let perThread: NodeLibuv | undefined;

/** Node's libuv for this thread (koffi callbacks are per thread, so is this object). */
export function nodeLibuv(): NodeLibuv {
  return (perThread ??= new NodeLibuv());
}
