// Hardening: limits, bounded memory, native safety under random calls (views into WASM memory
// that grew included), and concurrency (worker threads, concurrent async native calls).
import { Worker } from 'node:worker_threads';
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Codec, sharedCodec } from '../host/codec/codec.js';
import { resolveOptions } from '../host/codec/options.js';
import { encodePeerTargetName, encodePeerTargetNames, PeerTargetNameError } from '../host/index.js';
import { WinsockError, type Bridge } from '../host/bridge.js';
import type { Conformance } from './support/conformance.js';
import { closeAll, connectedUdp, fdOf, unixSocket } from './support/sockets.js';
import type dgram from 'node:dgram';
import type { PeerTargetNameInput } from '../host/codec/types.js';
import { useBridgeFixture } from './support/bridge-fixture.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** The memory of a Codec's WebAssembly instance (private; read for the test only). */
const wasmBytes = (codec: Codec) => (codec as unknown as { wasm: { memory: WebAssembly.Memory } }).wasm.memory.buffer.byteLength;

function inputs(count: number, names = count): PeerTargetNameInput[] {
  return Array.from({ length: count }, (_, i) => ({
    protocol: i % 3,
    peer: i % 2 ? `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:${1 + (i % 65535)}` : { address: `2001:db8::${(i % 65536).toString(16)}`, port: 500 },
    targetName: `host/peer-${i % names}.example.com`,
  }));
}

describe('limits', () => {
  it('a batch larger than WASM memory is split into chunks, never truncated', () => {
    const codec = new Codec();
    const options = resolveOptions({ maxTargetNameLength: 32767 });
    const big = Array.from({ length: 1200 }, (_, i) => ({ protocol: 1, peer: `192.0.2.${1 + (i % 250)}:${1 + i}`, targetName: String.fromCharCode(0x41 + (i % 26)).repeat(32767) }));
    const batch = codec.encodeMany(big, options);
    expect(batch.failures).toEqual([]);
    expect(batch.bytes.length).toBeGreaterThan(1200 * 65000);
    expect(wasmBytes(codec)).toBeLessThan(batch.bytes.length / 8); // the codec's memory stayed small
    for (const i of [0, 599, 1199]) {
      const record = batch.bytes.subarray(batch.offsets[i], batch.offsets[i] + batch.lengths[i]);
      expect(Buffer.from(record).equals(Buffer.from(encodePeerTargetName(big[i], { maxTargetNameLength: 32767 })))).toBe(true);
    }
  });

  it('the maximum target-name length is enforced exactly', () => {
    expect(encodePeerTargetName({ protocol: 1, peer: '1.2.3.4:5', targetName: 'x'.repeat(1024) }).length).toBe(144 + 2048);
    expect(() => encodePeerTargetName({ protocol: 1, peer: '1.2.3.4:5', targetName: 'x'.repeat(1025) })).toThrow(PeerTargetNameError);
    expect(encodePeerTargetName({ protocol: 1, peer: '1.2.3.4:5', targetName: 'x'.repeat(32767) }, { maxTargetNameLength: 32767 }).length).toBe(144 + 65534);
  });

  it('memory stays bounded across 10 million operations', () => {
    const codec = new Codec();
    const options = resolveOptions();
    const work = inputs(10_000, 500);
    const round = () => codec.encodeMany(work, options);
    for (let i = 0; i < 50; i++) round(); // warm-up: memory growth, layouts, JIT
    gc();
    const before = { wasm: wasmBytes(codec), heap: process.memoryUsage().heapUsed };
    for (let i = 0; i < 1000; i++) round(); // 10,000,000 records
    gc();
    const after = { wasm: wasmBytes(codec), heap: process.memoryUsage().heapUsed };
    expect(after.wasm).toBe(before.wasm);
    expect(after.heap - before.heap).toBeLessThan(8 * 1024 * 1024);
  }, 300_000);
});

describe('native safety', () => {
  let native: Conformance;
  let bridge: Bridge;
  let udp: dgram.Socket;
  useBridgeFixture(['udp4'], (f) => ({ native, bridge, udp4: udp } = f));

  it('over thousands of random calls, native code never receives a length other than the buffer\'s, nor a dead view', () => {
    let seed = 12345;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    const fd = fdOf(udp);
    let memory = new WebAssembly.Memory({ initial: 1, maximum: 200 });
    let passed = 0;
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      const record = encodePeerTargetName({ protocol: rand(3), peer: `127.0.${rand(256)}.${1 + rand(254)}:${1 + rand(65535)}`, targetName: 'host/'.padEnd(1 + rand(300), 'q') });
      let view: Uint8Array;
      const kind = rand(5);
      if (kind === 0) {
        view = record;
      } else {
        // A view into a WebAssembly memory, which sometimes grows (detaching it) before the call.
        if (memory.buffer.byteLength > 150 * 65536) memory = new WebAssembly.Memory({ initial: 1, maximum: 200 });
        const at = rand(1000) * 8;
        view = new Uint8Array(memory.buffer, at, record.length + (kind === 4 ? rand(3) * 2 : 0));
        view.set(record);
        if (kind === 2) memory.grow(1);
        if (kind === 3) view = view.subarray(0, Math.max(0, record.length - 1 - rand(60)));
      }
      const calls = native.callCount();
      try {
        bridge.setPeerTargetName(fd, view);
      } catch (error) {
        expect(error).toBeInstanceOf(PeerTargetNameError);
        expect(native.callCount()).toBe(calls); // refused before the native call
        refused++;
        continue;
      }
      passed++;
      const received = native.lastBytes();
      expect(received.length).toBe(view.byteLength);
      expect(Buffer.from(received).equals(Buffer.from(view))).toBe(true);
    }
    expect(passed).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(500);
  });

  it('bytes are checked in a copy and that copy is what native code receives, also after the codec\'s memory grew', () => {
    const fd = fdOf(udp);
    const input = (i: number): PeerTargetNameInput => ({ protocol: 1, peer: `192.0.2.${1 + i}:${500 + i}`, targetName: `host/grow-${i}.example` });
    const record = (i: number) => encodePeerTargetName(input(i));
    const sent = (i: number, target: Uint8Array | PeerTargetNameInput) => {
      bridge.setPeerTargetName(fd, target);
      return Buffer.from(native.lastBytes()).equals(Buffer.from(record(i)));
    };
    const caller = record(0);
    expect(sent(0, caller)).toBe(true);
    expect(sent(1, input(1))).toBe(true);
    // The same buffer, broken since: checked again, refused before any native call.
    caller[8] = 0xff; // sa_family 255
    const calls0 = native.callCount();
    expect(() => bridge.setPeerTargetName(fd, caller)).toThrow(expect.objectContaining({ code: 'WSAEAFNOSUPPORT', field: 'peer.family' }));
    expect(native.callCount()).toBe(calls0);
    // Names of 32,767 units make the shared codec grow its memory: views made before are detached.
    const before = wasmBytes(sharedCodec());
    encodePeerTargetNames(Array.from({ length: 64 }, (_, i) => ({ protocol: 1, peer: `10.0.0.${1 + i}:1`, targetName: 'g'.repeat(32767) })), { maxTargetNameLength: 32767 });
    expect(wasmBytes(sharedCodec())).toBeGreaterThan(before);
    const calls = native.callCount();
    for (let i = 2; i < 6; i++) {
      expect(sent(i, record(i))).toBe(true);
      expect(sent(i, input(i))).toBe(true);
    }
    expect(Number(native.callCount()) - Number(calls)).toBe(8);
  });

  it('a thousand concurrent async calls each report their own last error', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ptn-async-'));
    const file = openSync(join(tmp, 'file'), 'w');
    const unix = await unixSocket(join(tmp, 'sock'));
    const conn = await connectedUdp();
    const good = fdOf(udp);
    // Four handles, four outcomes, interleaved so that neighbours on a worker differ.
    const handles = [good, file, fdOf(unix.server), fdOf(conn.socket)];
    const expected = [undefined, 'WSAENOTSOCK', 'WSAEAFNOSUPPORT', 'WSAEISCONN'];
    try {
      const results = await Promise.allSettled(Array.from({ length: 1000 }, (_, i) =>
        bridge.setPeerTargetNameAsync(handles[i % 4], { protocol: 1, peer: { address: '10.7.0.1', port: 1 + i }, targetName: `host/${i}` })));
      results.forEach((r, i) => {
        const code = expected[i % 4];
        if (code === undefined) expect(r.status).toBe('fulfilled');
        else {
          expect(r.status).toBe('rejected');
          const error = (r as PromiseRejectedResult).reason;
          expect(error).toBeInstanceOf(WinsockError);
          expect(error).toMatchObject({ code, socket: handles[i % 4], peer: `10.7.0.1:${1 + i}` });
        }
      });
      expect(native.peerCount(good)).toBe(250);
    } finally {
      closeSync(file);
      closeAll(unix.client, unix.server, conn.socket, conn.peer);
      rmSync(tmp, { recursive: true });
    }
  });
});

describe('concurrency', () => {
  it('the codec in several worker threads at once produces the same bytes as in one', async () => {
    const work = inputs(5000, 700);
    const expected = Buffer.from(encodePeerTargetNames(work).bytes).toString('hex');
    const index = new URL('../dist/host/index.js', import.meta.url).href;
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.index).then((P) => {
        let out = '';
        for (let round = 0; round < 3; round++) {
          const parts = [];
          for (const input of workerData.work) {
            const b = P.encodePeerTargetName(input);
            const padded = new Uint8Array((b.length + 7) & ~7);
            padded.set(b);
            parts.push(Buffer.from(padded).toString('hex'));
          }
          out = parts.join('');
        }
        parentPort.postMessage(out);
      });`;
    const results = await Promise.all(Array.from({ length: 4 }, () => new Promise<string>((resolve, reject) => {
      const worker = new Worker(source, { eval: true, workerData: { index, work } });
      worker.once('message', (m: string) => { resolve(m); void worker.terminate(); });
      worker.once('error', reject);
    })));
    for (const r of results) expect(r).toBe(expected);
  });
});
