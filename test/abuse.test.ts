// Issue 12, findings 4, 5 and 6: the package's promises kept under abuse.
//  4. Native code receives exactly bytes that were checked, in a private copy checked after it was
//     made; input objects are read once, into a snapshot, before anything is encoded.
//  5. Bad values of every odd kind (detached buffers, strange sockets, throwing getters, a batch
//     that is not an array) are typed errors, never TypeErrors.
//  6. A named zone (Node's rinfo on Linux: fe80::1%eth0) is translated to its interface index on
//     the bridge's path, so link-local IPv6 peers can be answered.
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import {
  encodePeerTargetName, encodePeerTargetNames, decodePeerTargetName, validatePeerTargetName,
  inspectPeerTargetName, PeerTargetNameError, encodeSocketSecuritySettings, encodeSocketSecurityQueryTemplate,
  decodeSocketSecurityQueryTemplate, decodeSocketSecuritySettings, validateSocketSecuritySettings,
  decodeSocketSecurityQueryInfo,
} from '../host/index.js';
import { openBridge, WinsockError, type Bridge } from '../host/bridge.js';
import { PeerRegistry, type PeerRegistryOptions } from '../host/bridge/registry.js';
import { hostZoneIndex } from '../host/bridge/zones.js';
import type { Conformance } from './support/conformance.js';
import { fdOf } from './support/sockets.js';
import type dgram from 'node:dgram';
import type { PeerTargetNameInput } from '../host/codec/types.js';
import { useBridgeFixture } from './support/bridge-fixture.js';

const good: PeerTargetNameInput = { protocol: 'ipsec', peer: '10.0.0.1:5000', targetName: 'host/outer.example' };

/** What `run` threw (or a marker that it threw nothing). */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return 'nothing thrown';
}

/** Detaches an ArrayBuffer (as transferring it to another thread does). */
function detach(buffer: ArrayBuffer): void {
  structuredClone(buffer, { transfer: [buffer] });
}

type NativeFunction = (...args: unknown[]) => number;
/**
 * Replaces one of a bridge's bound native functions (private; the bound table may be shared by
 * every bridge of the process, so this bridge gets its own copy of it): `wrap` receives the real one.
 */
function spyNative(bridge: Bridge, name: string, wrap: (real: NativeFunction) => NativeFunction): void {
  const holder = bridge as unknown as { native: Record<string, NativeFunction> };
  holder.native = { ...holder.native, [name]: wrap(holder.native[name]) };
}

/**
 * An input whose every field is a getter that counts its reads; `onRead(field)` runs inside the
 * getter, before it returns the value.
 */
function countedInput(values: { protocol: unknown; peer: unknown; targetName: unknown }, onRead: (field: string) => void = () => {}) {
  const reads: Record<string, number> = {};
  const counted = (target: Record<string, unknown>, prefix: string) => {
    const out = {};
    for (const [key, value] of Object.entries(target)) {
      Object.defineProperty(out, key, {
        enumerable: true,
        get() {
          const field = prefix + key;
          reads[field] = (reads[field] ?? 0) + 1;
          onRead(field);
          return value !== null && typeof value === 'object' ? counted(value as Record<string, unknown>, `${field}.`) : value;
        },
      });
    }
    return out;
  };
  return { input: counted(values as Record<string, unknown>, '') as PeerTargetNameInput, reads };
}

/** Bridges of a test's own (their native functions watched), closed at the end. */
const owned: Bridge[] = [];
function ownBridge(): Bridge {
  const own = openBridge({ library: native.path });
  owned.push(own);
  return own;
}

let native: Conformance;
let bridge: Bridge;
let udp4: dgram.Socket;
let udp6: dgram.Socket;

useBridgeFixture(['udp4', 'udp6'], (f) => ({ native, bridge, udp4, udp6 } = f));
afterAll(async () => {
  for (const own of owned) await own.close();
});

describe('finding 4: native code receives exactly bytes that were checked', () => {
  it('4.1 setSocketSecurity passes a private copy of the caller\'s settings, checked after it was made', () => {
    const caller = encodeSocketSecuritySettings({ protocol: 'ipsec', flags: ['guarantee-encryption'] });
    const own = ownBridge();
    let passed: Uint8Array | undefined;
    let seen: number[] = [];
    spyNative(own, 'setSocketSecurity', (real) => (socket, bytes, length, ...rest) => {
      passed = bytes as Uint8Array;
      // Another thread writes the caller's buffer just before native code reads it.
      caller[0] = 7;
      seen = [...(bytes as Uint8Array)];
      return real(socket, bytes, length, ...rest);
    });
    own.setSocketSecurity(fdOf(udp4), caller);
    expect(passed).not.toBe(caller);
    expect(passed!.buffer).not.toBe(caller.buffer);
    expect(seen[0]).toBe(1); // what was checked: protocol ipsec
    expect(seen.length).toBe(caller.length);
    // A copy is checked, not the caller's buffer: broken since, it is refused before any native call.
    const calls = native.callCount();
    expect(thrown(() => own.setSocketSecurity(fdOf(udp4), caller))).toMatchObject({ name: 'PeerTargetNameError', code: 'WSAEINVAL', field: 'settings.protocol' });
    expect(native.callCount()).toBe(calls);
  });

  it('4.2 a view over 64 KiB is passed as a private checked copy of the same length, not as the caller\'s buffer', () => {
    const record = encodePeerTargetName(good);
    const caller = new Uint8Array(70_000); // the record, then zeros: valid under the strict rules
    caller.set(record);
    const own = ownBridge();
    let passed: Uint8Array | undefined;
    let length = 0;
    let tail = -1;
    spyNative(own, 'setPeerTargetName', (real) => (socket, bytes, len, ...rest) => {
      passed = bytes as Uint8Array;
      length = len as number;
      caller[0] = 2; // protocol ipsec2, after the check
      caller[69_999] = 0xee; // a non-zero tail, after the check
      tail = (bytes as Uint8Array)[69_999];
      return real(socket, bytes, len, ...rest);
    });
    own.setPeerTargetName(fdOf(udp4), caller);
    expect(passed).not.toBe(caller);
    expect(passed!.buffer).not.toBe(caller.buffer);
    expect(length).toBe(70_000);
    expect(passed!.byteLength).toBe(70_000);
    expect(tail).toBe(0);
    expect(native.lastBytes()[0]).toBe(1);
  });

  it('4.3 a SharedArrayBuffer rewritten by another thread: every refusal is a typed error about the copy that failed, never undefined', async () => {
    const shared = new SharedArrayBuffer(256);
    const view = new Uint8Array(shared, 0, 190);
    view.set(encodePeerTargetName({ protocol: 1, peer: '127.0.0.1:9', targetName: 'host/a.example.com' }));
    const control = new Int32Array(new SharedArrayBuffer(8));
    // Flips the protocol byte between 1 (valid) and 3 (refused) as fast as it can.
    const worker = new Worker(`
      const { workerData } = require('node:worker_threads');
      const bytes = new Uint8Array(workerData.shared);
      const control = new Int32Array(workerData.control);
      Atomics.store(control, 1, 1);
      Atomics.notify(control, 1);
      for (let i = 0; Atomics.load(control, 0) === 0; i++) Atomics.store(bytes, 0, (i & 1) ? 1 : 3);`, { eval: true, workerData: { shared, control: control.buffer } });
    try {
      const started = Atomics.waitAsync(control, 1, 0); // the worker flipping already
      if (started.async) await started.value;
      const fd = fdOf(udp4);
      let passed = 0;
      let refused = 0;
      for (let i = 0; i < 4000; i++) {
        const error = thrown(() => bridge.setPeerTargetName(fd, view));
        if (error === 'nothing thrown') {
          passed++;
          expect(native.lastBytes()[0]).toBe(1);
        } else {
          refused++;
          expect(error).toBeInstanceOf(PeerTargetNameError);
          expect(error).toMatchObject({ code: 'WSAEINVAL', field: 'protocol', value: 3 });
        }
      }
      expect(passed).toBeGreaterThan(100);
      expect(refused).toBeGreaterThan(100);
    } finally {
      Atomics.store(control, 0, 1);
      await worker.terminate();
    }
  });

  it('4.4 a targetName getter that encodes re-entrantly cannot reach the outer record (encode, batch, bridge)', () => {
    const nested = () => encodePeerTargetName({ protocol: 'ipsec2', peer: '[2001:db8::6]:6000', targetName: 'host/inner-' + 'z'.repeat(40) });
    const nestedBatch = () => encodePeerTargetNames([{ protocol: 2, peer: '192.0.2.99:6000', targetName: 'host/inner' }, { protocol: 0, peer: '[::1]:7', targetName: 'host/inner2' }]);
    const reentrant = (base: PeerTargetNameInput, inner: () => unknown): PeerTargetNameInput => ({
      protocol: base.protocol,
      peer: base.peer,
      get targetName() {
        inner();
        return base.targetName;
      },
    });
    const expected = encodePeerTargetName(good);
    expect(Buffer.from(encodePeerTargetName(reentrant(good, nested)))).toEqual(Buffer.from(expected));
    expect(Buffer.from(encodePeerTargetName(reentrant(good, nestedBatch)))).toEqual(Buffer.from(expected));

    const plain = Array.from({ length: 6 }, (_, i): PeerTargetNameInput => ({ protocol: i % 3, peer: `10.0.${i}.1:${5000 + i}`, targetName: `host/peer-${i}` }));
    const batch = encodePeerTargetNames(plain.map((input, i) => (i % 2 ? reentrant(input, i === 3 ? nestedBatch : nested) : input)));
    expect(batch.failures).toEqual([]);
    plain.forEach((input, i) => expect(Buffer.from(batch.record(i)!)).toEqual(Buffer.from(encodePeerTargetName(input))));

    bridge.setPeerTargetName(fdOf(udp4), reentrant(good, nested));
    expect(Buffer.from(native.lastBytes())).toEqual(Buffer.from(expected));
  });

  it('4.5 a peer getter that encodes re-entrantly cannot reach deletePeerTargetName\'s sockaddr nor a query template', () => {
    const fd = fdOf(udp4);
    bridge.setPeerTargetName(fd, good);
    expect(native.peerCount(fd)).toBe(1);
    const peer = {
      get address() {
        encodePeerTargetName({ protocol: 2, peer: '192.0.2.200:6000', targetName: 'host/inner' });
        return '10.0.0.1';
      },
      port: 5000,
    };
    bridge.deletePeerTargetName(fd, peer);
    expect(native.peerCount(fd)).toBe(0);
    const template = encodeSocketSecurityQueryTemplate({ protocol: 'ipsec', peer });
    expect(decodeSocketSecurityQueryTemplate(template).peer).toMatchObject({ address: '10.0.0.1', port: 5000 });
  });

  it('4.6 every field of an input object is read exactly once: encode, batch, bridge, and their error paths', () => {
    const values = { protocol: 'ipsec', peer: { address: '10.0.0.1', port: 5000, family: 'IPv4' }, targetName: 'host/once' };
    const once = { protocol: 1, peer: 1, 'peer.address': 1, 'peer.port': 1, 'peer.family': 1, targetName: 1 };
    const a = countedInput(values);
    encodePeerTargetName(a.input);
    expect(a.reads).toMatchObject(once);
    const b = countedInput(values);
    encodePeerTargetNames([good, b.input, good]);
    expect(b.reads).toMatchObject(once);
    const c = countedInput(values);
    bridge.setPeerTargetName(fdOf(udp4), c.input);
    expect(c.reads).toMatchObject(once);
    // Error paths: a codec refusal, and a native failure naming the peer.
    const d = countedInput({ ...values, peer: 'localhost:80' });
    expect(thrown(() => encodePeerTargetName(d.input))).toMatchObject({ field: 'peer.address' });
    expect(d.reads).toMatchObject({ protocol: 1, peer: 1, targetName: 1 });
    const e = countedInput({ ...values, peer: { address: '10.0.0.1', port: 0 } });
    encodePeerTargetNames([e.input]);
    expect(e.reads).toMatchObject({ protocol: 1, peer: 1, 'peer.address': 1, 'peer.port': 1, targetName: 1 });
    native.failNext(1, 10055);
    const f = countedInput(values);
    expect(thrown(() => bridge.setPeerTargetName(fdOf(udp4), f.input))).toMatchObject({ name: 'WinsockError', peer: '10.0.0.1:5000' });
    expect(f.reads).toMatchObject(once);
  });

  it('4.7 getters whose values change between reads: the error and the bytes follow the first read', () => {
    let peerReads = 0;
    const flipping = { protocol: 1, get peer() { return peerReads++ === 0 ? 'localhost:80' : '10.0.0.1:5000'; }, targetName: 'host/flip' };
    const error = thrown(() => encodePeerTargetName(flipping));
    expect(error).toBeInstanceOf(PeerTargetNameError);
    expect((error as Error).message).toContain('"localhost:80"');
    let nameReads = 0;
    const names = { protocol: 1, peer: '10.0.0.1:5000', get targetName() { return nameReads++ === 0 ? 'host/first' : 'x\u0000'; } };
    const batch = encodePeerTargetNames([names]);
    expect(batch.failures).toEqual([]);
    expect(decodePeerTargetName(batch.record(0)!).targetName).toBe('host/first');
  });
});

describe('finding 5: typed errors, never TypeErrors', () => {
  const record = () => encodePeerTargetName(good);
  const detached = {
    ArrayBuffer: () => { const r = record(); const ab = r.buffer as ArrayBuffer; detach(ab); return ab; },
    Uint8Array: () => { const r = record(); detach(r.buffer as ArrayBuffer); return r; },
    DataView: () => { const r = record(); const dv = new DataView(r.buffer); detach(r.buffer as ArrayBuffer); return dv; },
    Uint16Array: () => { const r = record(); const u16 = new Uint16Array(r.buffer); detach(r.buffer as ArrayBuffer); return u16; },
  };

  it.each(Object.keys(detached))('5.1 a detached %s: decode and inspect throw WSAEFAULT, validate returns it', (kind) => {
    const make = detached[kind as keyof typeof detached];
    const fault = { name: 'PeerTargetNameError', code: 'WSAEFAULT', errno: 10014, field: 'bytes' };
    expect(thrown(() => decodePeerTargetName(make()))).toMatchObject(fault);
    expect(thrown(() => inspectPeerTargetName(make()))).toMatchObject(fault);
    const result = validatePeerTargetName(make());
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatchObject(fault);
    // The other structs' readers share the same door.
    expect(thrown(() => decodeSocketSecuritySettings(make()))).toMatchObject(fault);
    expect(validateSocketSecuritySettings(make())).toMatchObject({ ok: false, error: fault });
    expect(thrown(() => decodeSocketSecurityQueryInfo(make()))).toMatchObject(fault);
    expect(thrown(() => decodeSocketSecurityQueryTemplate(make()))).toMatchObject(fault);
  });

  it.each(Object.keys(detached))('5.2 a detached %s to the bridge is WSAEFAULT before any native call', (kind) => {
    const make = detached[kind as keyof typeof detached];
    const calls = native.callCount();
    expect(thrown(() => bridge.setPeerTargetName(fdOf(udp4), make() as Uint8Array))).toMatchObject({ name: 'PeerTargetNameError', code: 'WSAEFAULT', field: 'bytes' });
    expect(thrown(() => bridge.setSocketSecurity(fdOf(udp4), make() as Uint8Array))).toMatchObject({ name: 'PeerTargetNameError', code: 'WSAEFAULT' });
    expect(native.callCount()).toBe(calls);
  });

  const oddSockets: [string, () => unknown][] = [
    ['Object.create(null)', () => Object.create(null)],
    ['a symbol', () => Symbol('socket')],
    ['an object whose valueOf throws', () => ({ valueOf() { throw new Error('no'); }, toString() { throw new Error('no'); } })],
    ['a revoked proxy', () => { const p = Proxy.revocable({}, {}); p.revoke(); return p.proxy; }],
    ['NaN', () => NaN],
    ['-0.5', () => -0.5],
    ['2^64 as a bigint', () => 1n << 64n],
  ];
  it.each(oddSockets)('5.3 a socket given as %s is WinsockError WSAENOTSOCK, for every call', async (_name, make) => {
    const calls = native.callCount();
    const notSock = { name: 'WinsockError', code: 'WSAENOTSOCK', errno: 10038 };
    const s = make() as number;
    expect(thrown(() => bridge.setPeerTargetName(s, good))).toMatchObject(notSock);
    expect(thrown(() => bridge.setPeerTargetName(s, record()))).toMatchObject(notSock);
    expect(thrown(() => bridge.deletePeerTargetName(s, '10.0.0.1:5000'))).toMatchObject(notSock);
    expect(thrown(() => bridge.setSocketSecurity(s))).toMatchObject(notSock);
    expect(thrown(() => bridge.querySocketSecurity(s))).toMatchObject(notSock);
    expect(thrown(() => bridge.setEncodedRecord(s, record()))).toMatchObject(notSock);
    await expect(bridge.setPeerTargetNameAsync(s, good)).rejects.toMatchObject(notSock);
    expect(thrown(() => new WinsockError(10038, { call: 'x', socket: s }).message)).toBe('nothing thrown');
    expect(native.callCount()).toBe(calls);
  });

  it('5.4 encodePeerTargetNames given anything but an array is PeerTargetNameError WSAEFAULT naming inputs', () => {
    const notArrays: unknown[] = [undefined, null, 'abc', 42, {}, { length: 1, 0: good }, new Set([good]), new Uint8Array(4), Object.create(null),
      (() => { const p = Proxy.revocable([], {}); p.revoke(); return p.proxy; })()];
    for (const value of notArrays) {
      const error = thrown(() => encodePeerTargetNames(value as PeerTargetNameInput[]));
      expect(error).toBeInstanceOf(PeerTargetNameError);
      expect(error).toMatchObject({ code: 'WSAEFAULT', field: 'inputs' });
      expect((error as Error).message).toContain('expected an array');
    }
  });

  it('5.5 an ArrayBuffer, a view, a plain array or a Map given as an input object: "expected an input object"', () => {
    const notInputs: [string, unknown][] = [
      ['an ArrayBuffer', new ArrayBuffer(190)], ['a Uint8Array', new Uint8Array(190)], ['an array', [1, '10.0.0.1:5', 'host/x']],
      ['a Map', new Map([['protocol', 1]])], ['a SharedArrayBuffer', new SharedArrayBuffer(8)],
    ];
    for (const [what, value] of notInputs) {
      const error = thrown(() => encodePeerTargetName(value as PeerTargetNameInput));
      expect(error, what).toBeInstanceOf(PeerTargetNameError);
      expect(error, what).toMatchObject({ code: 'WSAEFAULT', field: 'input' });
      expect((error as Error).message, what).toMatch(/expected an input object \{ protocol, peer, targetName \}, got an? /);
      expect((error as Error).message, what).not.toContain('protocol: undefined');
      const batch = encodePeerTargetNames([good, value as PeerTargetNameInput]);
      expect(batch.error(1), what).toMatchObject({ code: 'WSAEFAULT', field: 'input' });
    }
    // The bridge takes an ArrayBuffer as bytes (as decode does), and refuses an array as an input.
    bridge.setPeerTargetName(fdOf(udp4), record().buffer as unknown as Uint8Array);
    expect(Buffer.from(native.lastBytes())).toEqual(Buffer.from(record()));
    expect(thrown(() => bridge.setPeerTargetName(fdOf(udp4), [1, 2] as unknown as Uint8Array))).toMatchObject({ code: 'WSAEFAULT', field: 'input' });
  });

  it('5.6 one input with a throwing getter fails only its own record in a batch; alone it is a typed error', () => {
    const boom = new Error('getter exploded');
    const throwing = { protocol: 1, peer: { address: '10.0.0.2', get port(): number { throw boom; } }, targetName: 'host/x' };
    const batch = encodePeerTargetNames([good, throwing as PeerTargetNameInput, good]);
    expect(batch.failures.map((f) => f.index)).toEqual([1]);
    expect(batch.error(1)).toMatchObject({ name: 'PeerTargetNameError', code: 'WSAEFAULT', field: 'peer.port' });
    expect(batch.error(1)!.message).toContain('getter exploded');
    expect(batch.error(1)!.cause).toBe(boom);
    expect(batch.record(0)).toBeDefined();
    expect(batch.record(2)).toBeDefined();
    const alone = thrown(() => encodePeerTargetName(throwing as PeerTargetNameInput));
    expect(alone).toMatchObject({ name: 'PeerTargetNameError', code: 'WSAEFAULT', field: 'peer.port' });
    // An element of the array itself that throws (an accessor at index 1).
    const inputs = [good, good, good];
    Object.defineProperty(inputs, 1, { get() { throw boom; } });
    expect(encodePeerTargetNames(inputs).failures).toMatchObject([{ index: 1, error: { code: 'WSAEFAULT', field: 'input' } }]);
  });

  it('5.7 values whose message would throw (null-prototype objects, bigints, symbols) are typed errors', () => {
    const cases: [PeerTargetNameInput, string][] = [
      [{ ...good, protocol: Object.create(null) }, 'protocol'],
      [{ ...good, protocol: Symbol('p') as never }, 'protocol'],
      [{ ...good, peer: { address: '10.0.0.1', port: 5, family: 10n as never } }, 'peer.family'],
      [{ ...good, peer: { address: '10.0.0.1', port: 5, family: Object.create(null) } }, 'peer.family'],
      [{ ...good, peer: { address: '10.0.0.1', port: Object.create(null) } }, 'peer.port'],
      [{ ...good, peer: { address: '10.0.0.1', port: 5, flowInfo: { toString() { throw new Error('x'); } } as never } }, 'peer.flowInfo'],
      [{ ...good, peer: { address: 'fe80::1', port: 5, scopeId: Symbol('s') as never } }, 'peer.scopeId'],
    ];
    for (const [input, field] of cases) {
      expect(thrown(() => encodePeerTargetName(input)), field).toMatchObject({ name: 'PeerTargetNameError', field });
      expect(encodePeerTargetNames([input]).error(0), field).toMatchObject({ name: 'PeerTargetNameError', field });
    }
    const badOptions = [{ maxTargetNameLength: Object.create(null) }, { lengthUnit: Symbol('u') }, { get socketType(): string { throw new Error('x'); } }];
    for (const options of badOptions) {
      expect(thrown(() => encodePeerTargetName(good, options as never))).toMatchObject({ name: 'PeerTargetNameError', code: 'WSAEINVAL' });
      expect(validatePeerTargetName(record(), options as never)).toMatchObject({ ok: false, error: { name: 'PeerTargetNameError', code: 'WSAEINVAL' } });
    }
  });
});

describe('finding 6: named zones on the bridge\'s path', () => {
  /** The interface index of `name` as the kernel numbers it (Linux: /sys/class/net/NAME/ifindex). */
  const kernelIndex = (name: string) => Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim());
  const storageOf = (peer: string) => encodePeerTargetName({ protocol: 0, peer, targetName: 'x' }).subarray(8, 136);
  const storage128 = (peer: string) => { const s = new Uint8Array(128); s.set(storageOf(peer)); return s; };

  it.runIf(process.platform === 'linux')('6.1 the host resolves an interface name to its index as if_nametoindex does (lo, with no link-local address)', () => {
    expect(hostZoneIndex('lo')).toBe(kernelIndex('lo'));
    expect(hostZoneIndex('no-such-if0')).toBeUndefined();
    expect(hostZoneIndex('lo\u0000junk')).toBeUndefined(); // never cut at a NUL
    expect(hostZoneIndex('')).toBeUndefined();
  });

  it.runIf(process.platform === 'linux')('6.2 the bridge registers and deletes fe80::1%lo (object and text) under lo\'s index', () => {
    const fd = fdOf(udp6);
    const index = kernelIndex('lo');
    bridge.setPeerTargetName(fd, { protocol: 'ipsec', peer: { address: 'fe80::1%lo', port: 5000, family: 'IPv6' }, targetName: 'host/link-local' });
    expect(native.lookup(fd, storage128(`[fe80::1%${index}]:5000`))?.name).toBe('host/link-local');
    bridge.setPeerTargetName(fd, { protocol: 'ipsec', peer: '[fe80::2%lo]:5001', targetName: 'host/link-local-2' });
    expect(native.lookup(fd, storage128(`[fe80::2%${index}]:5001`))?.name).toBe('host/link-local-2');
    bridge.deletePeerTargetName(fd, { address: 'fe80::1%lo', port: 5000 });
    bridge.deletePeerTargetName(fd, '[fe80::2%lo]:5001');
    expect(native.peerCount(fd)).toBe(0);
    // scopeId given too: it must agree with the zone's index, as for a numeric zone.
    expect(thrown(() => bridge.setPeerTargetName(fd, { protocol: 1, peer: { address: 'fe80::1%lo', port: 5, scopeId: index + 1 }, targetName: 'host/x' })))
      .toMatchObject({ code: 'WSAEINVAL', field: 'peer.scopeId' });
    // A query template names the peer the same way.
    const own = ownBridge();
    let query: Uint8Array | undefined;
    spyNative(own, 'querySocketSecurity', (real) => (socket, template, ...rest) => {
      query = (template as Uint8Array).slice();
      return real(socket, template, ...rest);
    });
    own.querySocketSecurity(fd, { protocol: 'ipsec', peer: { address: 'fe80::1%lo', port: 5000 } });
    expect(decodeSocketSecurityQueryTemplate(query!).peer).toMatchObject({ address: 'fe80::1', port: 5000, scopeId: index });
  });

  it('6.3 an unknown zone name is a typed error naming the zone, before any native call', () => {
    const calls = native.callCount();
    for (const peer of [{ address: 'fe80::1%no-such-if0', port: 5000 }, '[fe80::1%no-such-if0]:5000']) {
      const error = thrown(() => bridge.setPeerTargetName(fdOf(udp6), { protocol: 1, peer, targetName: 'host/x' }));
      expect(error).toBeInstanceOf(PeerTargetNameError);
      expect(error).toMatchObject({ code: 'WSAEINVAL', field: 'peer.address', value: 'no-such-if0' });
      expect((error as Error).message).toContain('"no-such-if0"');
      expect(thrown(() => bridge.deletePeerTargetName(fdOf(udp6), peer))).toMatchObject({ code: 'WSAEINVAL', field: 'peer.address', value: 'no-such-if0' });
      expect(thrown(() => bridge.querySocketSecurity(fdOf(udp6), { protocol: 1, peer }))).toMatchObject({ code: 'WSAEINVAL', field: 'template.peer.address', value: 'no-such-if0' });
    }
    expect(native.callCount()).toBe(calls);
  });

  it('6.4 the codec\'s own entry (as in a browser) still refuses a named zone: it stays numeric-only', () => {
    expect(thrown(() => encodePeerTargetName({ protocol: 1, peer: '[fe80::1%lo]:5', targetName: 'host/x' }))).toMatchObject({ code: 'WSAEINVAL', field: 'peer.address' });
    expect((thrown(() => encodePeerTargetName({ protocol: 1, peer: '[fe80::1%lo]:5', targetName: 'host/x' })) as Error).message).toContain('named zone');
  });

  it.runIf(process.platform === 'linux')('6.5 a registry told to resolve zones registers a link-local rinfo peer (fe80::1%lo)', () => {
    const fd = fdOf(udp6);
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/{address}', resolveZone: hostZoneIndex } as PeerRegistryOptions);
    expect(registry.ensure({ address: 'fe80::1%lo', port: 5000, family: 'IPv6' })).toBe(true);
    expect(native.lookup(fd, storage128(`[fe80::1%${kernelIndex('lo')}]:5000`))).toBeDefined();
    registry.clear();
    expect(native.peerCount(fd)).toBe(0);
  });
});
