// Async native calls on worker threads. Each call travels with its own copy of the bytes (so two
// calls in flight never share a buffer region) and its worker reads WSAGetLastError right after
// the call, on the same thread (the last error is per thread).
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { bindNative, PROTOTYPES, type NativeLibraries, type NativeName } from './native.js';
import type { SocketHandle } from './winsock.js';

// The worker is plain JavaScript built from bindNative's own source, so the declarations are the
// very same as the main thread's and no separate file has to be found at run time.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const bindNative = ${bindNative.toString()};
const koffi = require(workerData.koffiPath);
const native = bindNative(koffi, workerData.libraries, workerData.prototypes);
parentPort.on('message', ({ id, name, socket, bytes }) => {
  let errno = 0;
  try {
    if (native[name](socket, bytes, bytes.byteLength, null, null) !== 0) errno = native.lastError();
  } catch (error) {
    parentPort.postMessage({ id, errno: 0, failure: String(error && error.message || error) });
    return;
  }
  parentPort.postMessage({ id, errno });
});
`;

interface Pending {
  resolve(errno: number): void;
  reject(error: Error): void;
}

export class AsyncCallPool {
  private readonly workers: Worker[] = [];
  private readonly load: number[] = [];
  private readonly pending = new Map<number, Pending & { worker: number }>();
  private nextId = 1;

  constructor(libraries: NativeLibraries, threads: number) {
    const koffiPath = createRequire(import.meta.url).resolve('koffi');
    for (let i = 0; i < Math.max(1, threads); i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { koffiPath, libraries, prototypes: PROTOTYPES } });
      worker.on('message', (m: { id: number; errno: number; failure?: string }) => this.settle(m));
      worker.on('error', (error) => this.failAll(i, error));
      worker.unref(); // idle workers never keep the process alive; calls in flight ref them
      this.workers.push(worker);
      this.load.push(0);
    }
  }

  /** Runs one call; resolves with 0 or the errno WSAGetLastError gave on the worker's thread. */
  call(name: NativeName, socket: SocketHandle, bytes: Uint8Array): Promise<number> {
    let w = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.load[i] < this.load[w]) w = i;
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: w });
      if (this.load[w]++ === 0) this.workers[w].ref();
      this.workers[w].postMessage({ id, name, socket, bytes });
    });
  }

  private done(worker: number): void {
    if (--this.load[worker] === 0) this.workers[worker].unref();
  }

  private settle({ id, errno, failure }: { id: number; errno: number; failure?: string }): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.done(p.worker);
    if (failure !== undefined) p.reject(new Error(`native call failed on its worker thread: ${failure}`));
    else p.resolve(errno);
  }

  private failAll(worker: number, error: Error): void {
    for (const [id, p] of this.pending) {
      if (p.worker !== worker) continue;
      this.pending.delete(id);
      this.done(worker);
      p.reject(error);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
