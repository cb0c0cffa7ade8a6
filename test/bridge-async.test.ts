// The async bridge's worker pool (host/bridge/async-pool.ts, host/bridge/worker.ts): a real worker
// module; one pool per process shared by every bridge; close() that rejects what is pending, lets
// nothing queued reach native code, and never terminates a worker while it loads koffi (which
// aborted the process: FATAL ERROR napi_throw, exit 134); dead workers fail their calls fast and
// are replaced; calls after close() throw BridgeClosedError; memory bounded over open/close cycles.
// The worker module is the compiled one in dist/ (npm run build first), also under vitest.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type dgram from 'node:dgram';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openBridge, BridgeClosedError, BridgeWorkerError, WinsockError, type Bridge } from '../host/bridge.js';
import { asyncPoolInternals, IDLE_MS } from '../host/bridge/async-pool.js';
import { encodePeerTargetName } from '../host/index.js';
import { loadConformance, type Conformance } from './support/conformance.js';
import { boundUdp, closeAll, fdOf } from './support/sockets.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST_HOST = new URL('../dist/host/', import.meta.url);
const SET = 'WSASetSocketPeerTargetName';

let native: Conformance;
let udp: dgram.Socket;
let fd: number;
const opened: Bridge[] = [];

function open(asyncThreads = 2): Bridge {
  const bridge = openBridge({ library: native.path, asyncThreads });
  opened.push(bridge);
  return bridge;
}

const input = (i: number, name = `host/async-${i}`) => ({ protocol: 'ipsec' as const, peer: { address: '10.20.0.1', port: 1 + i }, targetName: name });

/** The call settles within `ms`, or the test fails (a hung call). */
function settlesWithin<T>(promise: Promise<T>, ms = 10_000): Promise<PromiseSettledResult<T>> {
  return Promise.race([
    Promise.allSettled([promise]).then(([r]) => r),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`a call still pending after ${ms} ms`)), ms).unref()),
  ]);
}

beforeAll(async () => {
  native = loadConformance();
  udp = await boundUdp('udp4');
  fd = fdOf(udp);
});
afterAll(() => closeAll(udp));
beforeEach(async () => {
  native.reset();
  await asyncPoolInternals.stopAll();
  asyncPoolInternals.setIdleMs(IDLE_MS);
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((b) => b.close()));
  await asyncPoolInternals.stopAll();
  asyncPoolInternals.setIdleMs(IDLE_MS);
});

describe('the worker module', () => {
  it('is a file of its own next to the bridge in dist/host, and refuses to run except as the pool\'s worker', () => {
    const file = fileURLToPath(new URL('bridge/worker.js', DIST_HOST));
    expect(existsSync(file)).toBe(true);
    const direct = spawnSync(process.execPath, [file], { encoding: 'utf8' });
    expect(direct.status).not.toBe(0);
    expect(direct.stderr).toContain('runs only as the async bridge\'s worker thread');
  });
});

describe('close()', () => {
  it('rejects every pending call with BridgeClosedError at once, and none of them reaches native code', async () => {
    asyncPoolInternals.setIdleMs(0);
    expect(asyncPoolInternals.stats().workers).toBe(0); // cold: the workers load koffi while we close
    const bridge = open(3);
    const calls0 = Number(native.callCount());
    const calls = Array.from({ length: 300 }, (_, i) => settlesWithin(bridge.setPeerTargetNameAsync(fd, input(i))));
    const closing = bridge.close();
    const results = await Promise.all(calls);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(BridgeClosedError);
      expect((r as PromiseRejectedResult).reason).toMatchObject({ name: 'BridgeClosedError', call: SET });
    }
    await closing;
    // Queued calls were skipped on the workers, not made; and nothing runs after close() resolved.
    expect(Number(native.callCount()) - calls0).toBe(0);
    expect(native.peerCount(fd)).toBe(0);
    // With no idle period, the last close() stopped the pool: every thread gone, once it had loaded.
    expect(asyncPoolInternals.stats()).toMatchObject({ workers: 0, live: 0, pools: 0 });
  });

  it('after close(), every call throws BridgeClosedError (sync ones synchronously) and nothing native runs; other bridges keep working', async () => {
    const bridge = open();
    const other = open();
    await bridge.setPeerTargetNameAsync(fd, input(1));
    bridge.setPeerTargetName(fd, input(2));
    expect(native.peerCount(fd)).toBe(2);
    const closing = bridge.close(); // not awaited yet: closed from this moment
    const calls0 = Number(native.callCount());
    const record = encodePeerTargetName(input(3));
    const sync: [string, () => unknown][] = [
      ['setPeerTargetName (object)', () => bridge.setPeerTargetName(fd, input(3))],
      ['setPeerTargetName (bytes)', () => bridge.setPeerTargetName(fd, record)],
      ['setEncodedRecord', () => bridge.setEncodedRecord(fd, record)],
      ['deletePeerTargetName', () => bridge.deletePeerTargetName(fd, { address: '10.20.0.1', port: 2 })],
      ['setSocketSecurity', () => bridge.setSocketSecurity(fd)],
      ['querySocketSecurity', () => bridge.querySocketSecurity(fd)],
    ];
    for (const [what, call] of sync) {
      let thrown: unknown;
      try {
        call();
      } catch (error) {
        thrown = error;
      }
      expect(thrown, what).toBeInstanceOf(BridgeClosedError);
    }
    const later = bridge.setPeerTargetNameAsync(fd, input(5));
    expect(later).toBeInstanceOf(Promise); // an async call rejects, it does not throw
    await expect(later).rejects.toBeInstanceOf(BridgeClosedError);
    await closing;
    await expect(bridge.close()).resolves.toBeUndefined(); // idempotent
    expect(Number(native.callCount())).toBe(calls0);
    expect(native.peerCount(fd)).toBe(2);
    // The native functions and the worker pool are shared: the other bridge is untouched.
    other.setPeerTargetName(fd, input(6));
    await other.setPeerTargetNameAsync(fd, input(7));
    expect(native.peerCount(fd)).toBe(4);
  });

  it('close() while the workers still load koffi waits for them, then stops every thread (20 cycles, 2-4 threads)', async () => {
    asyncPoolInternals.setIdleMs(0);
    const spawned0 = asyncPoolInternals.stats().spawned;
    let threads = 0;
    for (let cycle = 0; cycle < 20; cycle++) {
      const bridge = open(2 + (cycle % 3));
      threads += 2 + (cycle % 3);
      const calls = [1, 2, 3].map((i) => settlesWithin(bridge.setPeerTargetNameAsync(fd, input(i))));
      // Close at once, or a few milliseconds into the workers' start (while they load koffi).
      if (cycle % 2) await new Promise((r) => setTimeout(r, cycle));
      await bridge.close();
      expect(asyncPoolInternals.stats()).toMatchObject({ workers: 0, live: 0 });
      for (const r of await Promise.all(calls)) {
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(BridgeClosedError);
      }
    }
    expect(asyncPoolInternals.stats().spawned - spawned0).toBe(threads);
  });
});

describe('a worker that dies', () => {
  const kill = {
    exit: (w: import('node:worker_threads').Worker) => asyncPoolInternals.send(w, { type: 'test:exit', code: 7 }),
    throw: (w: import('node:worker_threads').Worker) => asyncPoolInternals.send(w, { type: 'test:throw' }),
  };

  it.each(['exit', 'throw'] as const)('(%s) fails the calls queued on it fast with BridgeWorkerError, and is replaced', async (how) => {
    const bridge = open(1);
    await bridge.setPeerTargetNameAsync(fd, input(0)); // the worker is up
    const [worker] = asyncPoolInternals.workers();
    const spawned0 = asyncPoolInternals.stats().spawned;
    kill[how](worker);
    // Queued behind the message that kills the worker: they never run, and must not hang.
    const doomed = [1, 2, 3].map((i) => settlesWithin(bridge.setPeerTargetNameAsync(fd, input(i))));
    for (const r of await Promise.all(doomed)) {
      expect(r.status).toBe('rejected');
      const error = (r as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(BridgeWorkerError);
      expect(error).toMatchObject({ name: 'BridgeWorkerError', call: SET, exitCode: how === 'exit' ? 7 : 1 });
      if (how === 'throw') expect(error.message).toContain('test:throw');
    }
    // A new worker took its place: calls work again, on another thread.
    await bridge.setPeerTargetNameAsync(fd, input(9));
    expect(asyncPoolInternals.stats()).toMatchObject({ workers: 1, spawned: spawned0 + 1 });
    expect(asyncPoolInternals.workers()[0]).not.toBe(worker);
    expect(native.peerCount(fd)).toBe(2); // input(0) and input(9); none of the doomed ones
    // Its errors still come from its own thread's last error.
    native.failNext(1, 10047);
    await expect(bridge.setPeerTargetNameAsync(fd, input(10))).rejects.toMatchObject({ code: 'WSAEAFNOSUPPORT' });
  });

  it('(terminated from outside) with calls in flight: each settles, none hangs, and the pool goes on', async () => {
    const bridge = open(2);
    await Promise.all([1, 2, 3, 4].map((i) => bridge.setPeerTargetNameAsync(fd, input(i))));
    const workers = asyncPoolInternals.workers();
    const inFlight = Array.from({ length: 40 }, (_, i) => settlesWithin(bridge.setPeerTargetNameAsync(fd, input(100 + i))));
    const terminated = workers.map((w) => w.terminate());
    for (const r of await Promise.all(inFlight)) {
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(BridgeWorkerError);
    }
    await Promise.all(terminated);
    await bridge.setPeerTargetNameAsync(fd, input(200));
    expect(asyncPoolInternals.stats().workers).toBe(2);
    expect(asyncPoolInternals.workers().some((w) => workers.includes(w))).toBe(false);
  });
});

describe('each call', () => {
  it('keeps its own copy of the bytes: the caller\'s buffer, changed right after the call, does not reach native code', async () => {
    const bridge = open(2);
    await bridge.setPeerTargetNameAsync(fd, input(0)); // warm
    const first = encodePeerTargetName(input(1, 'host/first'));
    const second = encodePeerTargetName(input(1, 'host/other'));
    expect(first.byteLength).toBe(second.byteLength);
    const buffer = new Uint8Array(first);
    const call = bridge.setPeerTargetNameAsync(fd, buffer);
    buffer.set(second); // the worker has not run yet
    await call;
    const storage = new Uint8Array(128);
    storage.set(first.subarray(8, 136)); // the peer's sockaddr
    expect(native.lookup(fd, storage)?.name).toBe('host/first');
  });

  it('reports an error as WinsockError with the code read on its worker\'s thread', async () => {
    const bridge = open(2);
    native.failNext(1, 10047);
    await expect(bridge.setPeerTargetNameAsync(fd, input(1))).rejects.toSatisfy((e) =>
      e instanceof WinsockError && e.code === 'WSAEAFNOSUPPORT' && e.peer === '10.20.0.1:2');
  });
});

/** A script for a child process (ESM); the dist/host URL, the library and arguments in PTN_CHILD. */
const child = (body: string) => `
const { distHost, library, args } = JSON.parse(process.env.PTN_CHILD);
const { openBridge, socketHandle } = await import(distHost + 'bridge.js');
const { asyncPoolInternals } = await import(distHost + 'bridge/async-pool.js');
const dgram = await import('node:dgram');
const socket = dgram.createSocket('udp4');
await new Promise((r) => socket.bind(0, '127.0.0.1', r));
const fd = socketHandle(socket);
const input = (i) => ({ protocol: 1, peer: { address: '10.30.0.1', port: 1 + (i % 60000) }, targetName: 'host/x' });
${body}`;

/** Runs a child script from a file (or with `node --input-type=module -e`, as `eval` says). */
function runChild(body: string, args: string[], options: { nodeArgs?: string[]; eval?: boolean } = {}) {
  let script: string[];
  if (options.eval) script = ['--input-type=module', '-e', child(body)];
  else {
    const file = join(scratch, `child-${scripts++}.mjs`);
    writeFileSync(file, child(body));
    script = [file];
  }
  const env = { ...process.env, PTN_CHILD: JSON.stringify({ distHost: DIST_HOST.href, library: native.path, args }) };
  return run(process.execPath, [...options.nodeArgs ?? [], ...script], { cwd: ROOT, env, timeout: 60_000 });
}
let scripts = 0;
let scratch: string;
beforeAll(() => { scratch = mkdtempSync(join(tmpdir(), 'ptn-bridge-async-')); });
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('child processes', () => {
  it('a script run by node --input-type=module -e makes async calls too (its workers do not inherit --input-type)', async () => {
    const { stdout } = await runChild(`
const bridge = openBridge({ library, asyncThreads: 2 });
await Promise.all([1, 2, 3, 4].map((i) => bridge.setPeerTargetNameAsync(fd, input(i))));
await bridge.close();
console.log('done', asyncPoolInternals.stats().spawned);
socket.close();
`, [], { eval: true, nodeArgs: ['--expose-gc'] });
    expect(stdout.trim()).toBe('done 2');
  });
});

describe('open/close cycles', () => {
  it('1,000 cycles share one pool (2 threads spawned in all) and memory stays bounded', async () => {
    // Measured on Linux x64: after 200 warm-up cycles, 1,000 cycles grow the heap by ~0.1 MB and
    // RSS by ~2-5 MB (malloc's arenas filling; it levels off near 10 MB by 10,000 cycles). The
    // bounds: heap < 2 MB, RSS < 16 MB. A pool per bridge spawned 2,000 threads for this, took
    // ~50 s, and grew RSS by ~43 KB a cycle (43 MB), which koffi and Node never give back.
    const { stdout } = await runChild(`
const cycle = async (i) => {
  const bridge = openBridge({ library, asyncThreads: 2 });
  await bridge.setPeerTargetNameAsync(fd, input(i));
  await bridge.close();
};
const memory = () => { globalThis.gc(); globalThis.gc(); return process.memoryUsage(); };
for (let i = 0; i < 200; i++) await cycle(i);
const before = memory();
const start = Date.now();
for (let i = 0; i < 1000; i++) await cycle(i);
const after = memory();
console.log(JSON.stringify({ ms: Date.now() - start, rss: after.rss - before.rss, heap: after.heapUsed - before.heapUsed, ...asyncPoolInternals.stats() }));
socket.close();
`, [], { nodeArgs: ['--expose-gc'] });
    const result = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(result).toMatchObject({ spawned: 2, workers: 2, pools: 1 });
    expect(result.heap).toBeLessThan(2 * 1024 * 1024);
    expect(result.rss).toBeLessThan(16 * 1024 * 1024);
    expect(result.ms).toBeLessThan(30_000);
  });
});

describe('exit', () => {
  it('of the process or a thread while its workers load koffi, or close() then exit, never aborts the process (16 child processes, all exit 0)', async () => {
    // A scenario: open a bridge with 2-4 async threads, start calls, and 15-45 ms later (while the
    // workers load koffi) exit, or close with no idle period, then exit. 8 children run one
    // scenario on their main thread (process exit); 8 run four at once, each on a thread of its own
    // that exits (a thread's exit terminates its workers the same way). Before the fix, process
    // exit aborted about 1 child in 40 (FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw,
    // SIGABRT / exit 134: 5 of 120 standalone), and four threads' exits 1 child in 5 (8 of 40): a
    // worker was terminated inside koffi's addon init. This test failed 5 runs out of 5 before the fix.
    const body = `
const { Worker, isMainThread, workerData } = await import('node:worker_threads');
const [threads, delay, mode] = isMainThread ? args.map((a, i) => i < 2 ? Number(a) : a) : workerData;
if (mode === 'threads') {
  await Promise.all(Array.from({ length: 4 }, (_, i) => new Promise((resolve, reject) => {
    const thread = new Worker(new URL(import.meta.url), { workerData: [4, 15 + ((i * 11 + delay) % 31), 'exit'] });
    thread.on('exit', resolve);
    thread.on('error', reject);
  })));
  console.log('exiting');
  process.exit(0);
}
if (mode === 'close') asyncPoolInternals.setIdleMs(0);
const bridge = openBridge({ library, asyncThreads: threads });
// 'await': the workers do work in such a child (one call made on a worker thread, then exit).
if (mode === 'await') await bridge.setPeerTargetNameAsync(fd, input(0));
for (let i = 0; i < 8; i++) bridge.setPeerTargetNameAsync(fd, input(i)).catch((e) => { if (e.name !== 'BridgeClosedError') console.error(e); });
await new Promise((r) => setTimeout(r, delay));
if (mode === 'close') await bridge.close();
if (isMainThread) console.log('exiting');
process.exit(0);
`;
    const jobs = Array.from({ length: 16 }, (_, i) => [
      String([4, 2, 3, 4][i % 4]), String(15 + ((i * 7) % 31)),
      i === 0 ? 'await' : i % 2 ? 'threads' : i % 3 === 0 ? 'close' : 'exit']);
    const outcomes: { args: string[]; code: number | string; stderr: string; stdout: string }[] = [];
    const next = async (): Promise<void> => {
      const args = jobs.shift();
      if (!args) return;
      try {
        const { stdout, stderr } = await runChild(body, args);
        outcomes.push({ args, code: 0, stdout, stderr });
      } catch (error) {
        const e = error as { code?: number; signal?: string; stdout?: string; stderr?: string };
        outcomes.push({ args, code: e.code ?? e.signal ?? 'unknown', stdout: e.stdout ?? '', stderr: e.stderr ?? '' });
      }
      return next();
    };
    await Promise.all([next(), next()]);
    const failed = outcomes.filter((o) => o.code !== 0 || !o.stdout.includes('exiting') || o.stderr.includes('FATAL'));
    expect(failed.map((o) => `${o.args.join(' ')}: exit ${o.code} ${o.stderr.slice(0, 300)}`)).toEqual([]);
    expect(outcomes).toHaveLength(16);
  });
});
