// The async bridge's worker thread (spawned by async-pool.ts): loads koffi, binds the native
// functions, says it is ready, then makes one native call per message and reads WSAGetLastError
// right after it, on this thread (the last error is per thread).
import { parentPort, workerData } from 'node:worker_threads';
import { loadKoffi } from './koffi.js';
import { bindNative, PROTOTYPES, type NativeFunctions } from './native.js';
import { BUSY, IDLE, LOADING, STARTING, STOPPED, type WorkerData, type WorkerReply, type WorkerRequest } from './worker-protocol.js';

function run(): void {
  if (!parentPort) throw new Error('bridge/worker.js runs only as the async bridge\'s worker thread');
  const port = parentPort;
  const { libraries, state } = workerData as WorkerData;
  const set = (value: number) => {
    Atomics.store(state, 0, value);
    Atomics.notify(state, 0);
  };
  const reply = (message: WorkerReply) => port.postMessage(message);
  process.on('exit', () => set(STOPPED));

  // Stopped before it began: koffi is never loaded, and the main thread terminates this thread.
  if (Atomics.compareExchange(state, 0, STARTING, LOADING) !== STARTING) return;
  let native: NativeFunctions | undefined;
  let failure: string | undefined;
  try {
    native = bindNative(loadKoffi(), libraries, PROTOTYPES) as NativeFunctions;
  } catch (error) {
    failure = String((error as Error)?.message ?? error);
  }
  set(IDLE);
  reply({ type: 'ready', failure });

  port.on('message', (message: WorkerRequest) => {
    if (message.type === 'test:exit') process.exit(message.code);
    if (message.type === 'test:throw') throw new Error('test:throw: an uncaught error in the async bridge\'s worker');
    if (message.type !== 'call') return;
    const { id, name, socket, bytes, closed } = message;
    // The bridge closed while this call waited in the queue, or the pool is stopping: skipped.
    if (!native || Atomics.load(closed, 0) !== 0 || Atomics.compareExchange(state, 0, IDLE, BUSY) !== IDLE) {
      reply({ type: 'result', id, errno: 0, skipped: true });
      return;
    }
    let errno = 0;
    try {
      if (native[name](socket, bytes, bytes.byteLength, null, null) !== 0) errno = native.lastError();
    } catch (error) {
      set(IDLE);
      reply({ type: 'result', id, errno: 0, failure: String((error as Error)?.message ?? error) });
      return;
    }
    set(IDLE);
    reply({ type: 'result', id, errno });
  });
}

run();
