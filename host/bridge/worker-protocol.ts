// What the async bridge's pool (async-pool.ts) and its worker threads (worker.ts) share:
// the messages, and the state word through which the two sides agree on when a worker may be
// terminated. A worker must never be stopped while it loads koffi (koffi's addon init, cut short,
// ends in napi_throw and a process abort) or while it is inside a native call.
import type { NativeLibraries, NativeName } from './native.js';
import type { SocketHandle } from './winsock.js';

/**
 * The worker's state word (one Int32 in a SharedArrayBuffer). Changes, and who makes them:
 *   STARTING -> LOADING  worker, by compare-and-swap: it loads koffi only if nobody stopped it first
 *   LOADING  -> IDLE     worker, once koffi is loaded and the functions bound (or that failed)
 *   IDLE     -> BUSY     worker, by compare-and-swap, around each native call; BUSY -> IDLE after it
 *   STARTING|IDLE -> STOPPED  main thread, by compare-and-swap, before it terminates the worker
 *   any      -> STOPPED  worker, when it exits by itself
 * The main thread waits while the word is LOADING or BUSY; those last milliseconds.
 */
export const STARTING = 0;
export const LOADING = 1;
export const IDLE = 2;
export const BUSY = 3;
export const STOPPED = 4;

export interface WorkerData {
  libraries: NativeLibraries;
  /** The state word, Int32Array over a SharedArrayBuffer. */
  state: Int32Array;
}

export type WorkerRequest =
  | {
    type: 'call';
    id: number;
    name: NativeName;
    socket: SocketHandle;
    /** This call's own copy of the bytes. */
    bytes: Uint8Array;
    /** The calling bridge's "closed" flag (shared): once set, queued calls are skipped, not made. */
    closed: Int32Array;
  }
  /** Test hooks: the worker exits with this code, or throws from its message handler. */
  | { type: 'test:exit'; code: number }
  | { type: 'test:throw' };

export type WorkerReply =
  | { type: 'ready'; failure?: string }
  | { type: 'result'; id: number; errno: number; skipped?: boolean; failure?: string };
