// Async native calls on worker threads. Each call travels with its own copy of the bytes (so two
// calls in flight never share a buffer region) and its worker reads WSAGetLastError right after
// the call, on the same thread (the last error is per thread).
//
// The workers form one pool per process for each pair of libraries and thread count, shared by
// every Bridge that uses it (reference counted): a worker costs ~40 ms to start and ~50 KB of RSS
// that Node and koffi never give back when it is terminated, so open/close must not spawn threads
// each time. When the last bridge lets go, the pool lingers for an idle period (IDLE_MS, unref'd:
// it never keeps the process alive), then stops. A worker is only ever terminated once it has
// finished loading koffi and is not inside a native call (the state word, bridge-protocol.ts),
// whether the pool stops or the process exits (a process 'exit' listener waits for it).
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nativeSymbol, PROTOTYPES, type NativeFunctions, type NativeLibraries, type NativeName } from './native.js';
import { BUSY, IDLE, LOADING, STARTING, STOPPED, type WorkerData, type WorkerReply, type WorkerRequest } from './worker-protocol.js';
import type { SocketHandle } from './winsock.js';

/** A call on a bridge after close(), or an async call still pending when close() was called. */
export class BridgeClosedError extends Error {
  /** The Winsock function that was not called, when there was one. */
  readonly call: string | undefined;
  constructor(call?: string) {
    super(call ? `the bridge is closed: ${call} was not called` : 'the bridge is closed');
    this.name = 'BridgeClosedError';
    this.call = call;
  }
}

/**
 * An async call's worker thread could not serve it: the worker exited (the call may or may not
 * have reached native code), or it could not load the native functions.
 */
export class BridgeWorkerError extends Error {
  readonly call: string | undefined;
  /** The worker's exit code, when it exited. */
  readonly exitCode: number | undefined;
  constructor(message: string, details: { call?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'BridgeWorkerError';
    this.call = details.call;
    this.exitCode = details.exitCode;
  }
}

/** The native functions of a closed bridge: every one throws BridgeClosedError, nothing is called. */
export const CLOSED_NATIVE: NativeFunctions = Object.freeze(Object.fromEntries(
  (Object.keys(PROTOTYPES) as NativeName[]).map((name) => [name, () => { throw new BridgeClosedError(nativeSymbol(name)); }]),
)) as unknown as NativeFunctions;

/** How long a pool no bridge uses lingers before its threads stop. */
export const IDLE_MS = 2000;
let idleMs = IDLE_MS;
let spawned = 0;

/**
 * The worker module. Compiled, it sits next to this file (dist/host/bridge/). Under vitest this file is
 * the TypeScript source (host/bridge/), which Node 20 cannot run as a worker: then the compiled one in the
 * package's dist/host/ (npm run build).
 */
function workerUrl(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./worker.js', import.meta.url);
  const url = new URL('../../dist/host/bridge/worker.js', import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    throw new BridgeWorkerError(`the async bridge's worker module ${fileURLToPath(url)} is missing: run npm run build`);
  }
  return url;
}

/**
 * A worker inherits the parent's Node options. With --input-type among them (a script run by
 * `node --input-type=module -e`), Node refuses to load any worker file: then the options less that
 * one, or none if Node refuses those (some are allowed only per process, e.g. --expose-gc).
 */
function startWorker(url: URL, workerData: WorkerData): Worker {
  const argv = process.execArgv;
  if (!argv.some((a) => a === '--input-type' || a.startsWith('--input-type='))) return new Worker(url, { workerData });
  const execArgv: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--input-type') i++;
    else if (!argv[i].startsWith('--input-type=')) execArgv.push(argv[i]);
  }
  try {
    return new Worker(url, { workerData, execArgv });
  } catch {
    return new Worker(url, { workerData, execArgv: [] });
  }
}

interface Call {
  id: number;
  name: NativeName;
  lease: AsyncLease;
  slot: Slot;
  resolve(errno: number): void;
  reject(error: Error): void;
  /** Resolved or rejected already (close() rejects before the worker answers). */
  settled: boolean;
}

interface Slot {
  worker: Worker;
  state: Int32Array;
  phase: 'loading' | 'ready';
  /** Calls sent and not answered. */
  calls: Set<Call>;
  /** We are stopping it: its exit is no death. */
  stopping: boolean;
  exited: Promise<void>;
  error?: Error;
}

const pools = new Map<string, Pool>();
/** Every pool whose workers may still run (a stopping one included), for the exit listener. */
const live = new Set<Pool>();
let exitListener = false;

/**
 * Process exit terminates every worker. Before it does: each worker still loading koffi, or inside
 * a native call, is waited for (they take milliseconds; 5 s at most in all), and every worker is
 * marked stopped so it starts nothing new.
 */
function onProcessExit(): void {
  const deadline = Date.now() + 5000;
  for (const pool of live) for (const slot of pool.allSlots()) stopWhenSafe(slot.state, deadline);
}

/** Main thread: STARTING or IDLE -> STOPPED, waiting through LOADING and BUSY (until the deadline). */
function stopWhenSafe(state: Int32Array, deadline: number): boolean {
  for (;;) {
    const seen = Atomics.load(state, 0);
    if (seen === STOPPED) return true;
    if (seen === STARTING || seen === IDLE) {
      if (Atomics.compareExchange(state, 0, seen, STOPPED) === seen) return true;
      continue;
    }
    const left = deadline - Date.now();
    if (left <= 0) return false;
    Atomics.wait(state, 0, seen, Math.min(left, 50));
  }
}

/** The same, without blocking the event loop (a pool stopping while the process goes on). */
async function stopWhenSafeAsync(slot: Slot): Promise<void> {
  let exited = false;
  void slot.exited.then(() => { exited = true; });
  for (;;) {
    const seen = Atomics.load(slot.state, 0);
    if (seen === STOPPED || exited) return;
    if ((seen === STARTING || seen === IDLE) && Atomics.compareExchange(slot.state, 0, seen, STOPPED) === seen) return;
    if (seen === LOADING || seen === BUSY) await Promise.race([slot.exited, new Promise((r) => setTimeout(r, 2))]);
  }
}

class Pool {
  private readonly slots: Slot[] = [];
  private readonly calls = new Map<number, Call>();
  private refs = 0;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped: Promise<void> | undefined;
  /** Why no worker can take a call, once none is left. */
  private failure: BridgeWorkerError | undefined;
  private nextId = 1;

  constructor(readonly key: string, private readonly libraries: NativeLibraries, threads: number) {
    if (!exitListener) {
      process.on('exit', onProcessExit);
      exitListener = true;
    }
    const url = workerUrl();
    live.add(this);
    for (let i = 0; i < threads; i++) this.slots.push(this.spawn(url));
  }

  allSlots(): readonly Slot[] {
    return this.slots;
  }

  private spawn(url: URL = workerUrl()): Slot {
    const state = new Int32Array(new SharedArrayBuffer(4));
    const workerData: WorkerData = { libraries: this.libraries, state };
    const worker = startWorker(url, workerData);
    spawned++;
    let exited!: () => void;
    const slot: Slot = { worker, state, phase: 'loading', calls: new Set(), stopping: false, exited: new Promise((r) => { exited = r; }) };
    worker.unref(); // idle workers never keep the process alive; calls in flight ref them
    worker.on('message', (m: WorkerReply) => this.onMessage(slot, m));
    worker.on('error', (error) => { slot.error = error; });
    worker.once('exit', (code) => {
      exited();
      this.onExit(slot, code);
    });
    return slot;
  }

  acquire(): void {
    this.refs++;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** The last release stops the pool after the idle period, or at once (awaited) with idle 0. */
  release(): Promise<void> {
    if (--this.refs > 0) return Promise.resolve();
    if (idleMs <= 0) return this.stop();
    this.idleTimer = setTimeout(() => void this.stop(), idleMs);
    this.idleTimer.unref();
    return Promise.resolve();
  }

  call(lease: AsyncLease, name: NativeName, socket: SocketHandle, bytes: Uint8Array): Promise<number> {
    let slot: Slot | undefined;
    for (const s of this.slots) if (!slot || s.calls.size < slot.calls.size) slot = s;
    if (!slot || this.stopped) {
      const error = this.failure ?? new BridgeWorkerError('the async bridge has no worker thread left');
      return Promise.reject(new BridgeWorkerError(error.message, { call: nativeSymbol(name), exitCode: error.exitCode, cause: error }));
    }
    const target = slot;
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      const call: Call = { id, name, lease, slot: target, resolve, reject, settled: false };
      this.calls.set(id, call);
      lease.calls.add(call);
      if (target.calls.size === 0) target.worker.ref();
      target.calls.add(call);
      const request: WorkerRequest = { type: 'call', id, name, socket, bytes, closed: lease.closedFlag };
      target.worker.postMessage(request);
    });
  }

  /** A call is over (answered, or its worker is gone): forget it, and settle it if nobody has. */
  private finish(call: Call, outcome: { errno: number } | { error: Error }): void {
    this.calls.delete(call.id);
    call.slot.calls.delete(call);
    if (call.slot.calls.size === 0) call.slot.worker.unref();
    call.lease.finished(call);
    if (call.settled) return;
    call.settled = true;
    if ('error' in outcome) call.reject(outcome.error);
    else call.resolve(outcome.errno);
  }

  private onMessage(slot: Slot, message: WorkerReply): void {
    if (message.type === 'ready') {
      if (message.failure === undefined) {
        slot.phase = 'ready';
        return;
      }
      // This worker cannot make calls: its calls fail, and it stops (it is idle now).
      this.failure = new BridgeWorkerError(`the async bridge's worker thread could not load the native functions: ${message.failure}`);
      this.remove(slot);
      for (const call of [...slot.calls]) this.finish(call, { error: this.withCall(this.failure, call) });
      slot.stopping = true;
      void stopWhenSafeAsync(slot).then(() => slot.worker.terminate());
      return;
    }
    const call = this.calls.get(message.id);
    if (!call) return;
    if (message.failure !== undefined) {
      this.finish(call, { error: new BridgeWorkerError(`native call failed on its worker thread: ${message.failure}`, { call: nativeSymbol(call.name) }) });
    } else if (message.skipped) {
      this.finish(call, { error: new BridgeClosedError(nativeSymbol(call.name)) });
    } else {
      this.finish(call, { errno: message.errno });
    }
  }

  private withCall(error: BridgeWorkerError, call: Call): BridgeWorkerError {
    return new BridgeWorkerError(error.message, { call: nativeSymbol(call.name), exitCode: error.exitCode, cause: error.cause });
  }

  private remove(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
  }

  /** A worker exited. Unless we stopped it, its calls fail now, and a worker that was ready is replaced. */
  private onExit(slot: Slot, code: number): void {
    this.remove(slot);
    if (!slot.stopping) {
      const why = slot.error ? `: ${slot.error.message}` : '';
      const error = new BridgeWorkerError(
        `the async bridge's worker thread exited with code ${code}${why}; the call may or may not have reached native code`,
        { exitCode: code, cause: slot.error });
      if (slot.phase === 'loading') this.failure = error;
      for (const call of [...slot.calls]) this.finish(call, { error: this.withCall(error, call) });
      if (slot.phase === 'ready' && !this.stopped) {
        try {
          this.slots.push(this.spawn());
        } catch (cause) {
          this.failure = new BridgeWorkerError(`the async bridge could not replace a worker thread: ${(cause as Error).message}`, { cause });
        }
      }
    }
    for (const call of [...slot.calls]) this.finish(call, { error: new BridgeClosedError(nativeSymbol(call.name)) });
  }

  /** Stops every worker, each once it is safe to (not loading koffi, not inside a native call). */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      if (pools.get(this.key) === this) pools.delete(this.key);
      const slots = [...this.slots];
      for (const slot of slots) slot.stopping = true;
      await Promise.all(slots.map(async (slot) => {
        await stopWhenSafeAsync(slot);
        await slot.worker.terminate();
      }));
      live.delete(this);
    })();
    return this.stopped;
  }

  get workerCount(): number {
    return this.slots.length;
  }

  workers(): Worker[] {
    return this.slots.map((s) => s.worker);
  }
}

/**
 * One bridge's share of a pool: its calls, and its "closed" flag, which the workers read before
 * each call so that nothing queued runs natively once the bridge is closed.
 */
export class AsyncLease {
  readonly calls = new Set<Call>();
  readonly closedFlag = new Int32Array(new SharedArrayBuffer(4));
  private closing: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  constructor(private readonly pool: Pool) {
    pool.acquire();
  }

  /** Runs one call; resolves with 0 or the errno WSAGetLastError gave on the worker's thread. */
  call(name: NativeName, socket: SocketHandle, bytes: Uint8Array): Promise<number> {
    if (this.closing) return Promise.reject(new BridgeClosedError(nativeSymbol(name)));
    return this.pool.call(this, name, socket, bytes);
  }

  /** @internal */
  finished(call: Call): void {
    this.calls.delete(call);
    if (this.calls.size === 0) this.drained?.();
  }

  /**
   * Rejects every pending call with BridgeClosedError at once; resolves when no call of this
   * lease is queued or running on a worker any more (queued ones are skipped, not made), and the
   * pool has been let go.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      Atomics.store(this.closedFlag, 0, 1);
      for (const call of this.calls) {
        if (call.settled) continue;
        call.settled = true;
        call.reject(new BridgeClosedError(nativeSymbol(call.name)));
      }
      if (this.calls.size > 0) await new Promise<void>((resolve) => { this.drained = resolve; });
      await this.pool.release();
    })();
    return this.closing;
  }
}

/** A lease on the process-wide pool for these libraries and this many threads (made on first use). */
export function openAsyncLease(libraries: NativeLibraries, threads: number): AsyncLease {
  const count = Math.max(1, Math.floor(threads) || 1);
  const key = `${libraries.secureSockets}\0${libraries.winsock}\0${count}`;
  let pool = pools.get(key);
  if (!pool) {
    pool = new Pool(key, libraries, count);
    pools.set(key, pool);
  }
  return new AsyncLease(pool);
}

/** @internal Test hooks: the pools' workers, the idle period, counts. */
export const asyncPoolInternals = {
  /** Sets the idle period (0: the last close() stops the pool and waits for it); returns the old one. */
  setIdleMs(ms: number): number {
    const old = idleMs;
    idleMs = ms;
    return old;
  },
  stats(): { pools: number; live: number; workers: number; spawned: number } {
    let workers = 0;
    for (const pool of live) workers += pool.workerCount;
    return { pools: pools.size, live: live.size, workers, spawned };
  },
  /** The workers of every pool in use or lingering. */
  workers(): Worker[] {
    return [...pools.values()].flatMap((pool) => pool.workers());
  },
  /** Sends a test message to a worker ('test:exit' or 'test:throw'). */
  send(worker: Worker, message: WorkerRequest): void {
    worker.postMessage(message);
  },
  /** Stops every pool now (each worker once it is safe to). */
  async stopAll(): Promise<void> {
    await Promise.all([...live].map((pool) => pool.stop()));
  },
};
