// PeerRegistry over the bridge and the Linux conformance library, on one real UDP socket: what the
// registry says it holds must be exactly what the native side holds.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openBridge, PeerRegistry, WinsockError, type Bridge } from '../host/bridge.js';
import { encodePeerTargetName, PeerTargetNameError } from '../host/index.js';
import { loadConformance, type Conformance } from './support/conformance.js';
import { boundUdp, closeAll, fdOf } from './support/sockets.js';
import type dgram from 'node:dgram';

let native: Conformance;
let bridge: Bridge;
let udp: dgram.Socket;
let fd: number;

beforeAll(async () => {
  native = loadConformance();
  bridge = openBridge({ library: native.path });
  udp = await boundUdp('udp4');
  fd = fdOf(udp);
});
afterAll(async () => {
  await bridge.close();
  closeAll(udp);
});
beforeEach(() => native.reset());

/** The 128-byte PeerAddress the codec builds for a peer: the native table's key. */
function storageOf(peer: string | { address: string; port: number }): Uint8Array {
  const storage = new Uint8Array(128);
  storage.set(encodePeerTargetName({ protocol: 0, peer, targetName: 'x' }).subarray(8, 136));
  return storage;
}
const keyOf = (storage: Uint8Array) => Buffer.from(storage).toString('hex');
const peerN = (i: number) => ({ address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 1024 + (i % 50000) });

describe('PeerRegistry', () => {
  it('registers a peer once, then only marks it used', () => {
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/{address}.example' });
    expect(registry.ensure('192.0.2.7:500')).toBe(true);
    expect(registry.ensure('192.0.2.7:500')).toBe(false);
    expect(registry.ensure({ address: '192.0.2.7', port: 500 })).toBe(false); // same peer, other spelling
    expect(native.peerCount(fd)).toBe(1);
    expect(native.lookup(fd, storageOf('192.0.2.7:500'))?.name).toBe('host/192.0.2.7.example');
    expect(registry.stats).toEqual({ size: 1, registered: 1, reused: 2, evicted: 0, forgotten: 0, failed: 0 });
    expect(registry.forget('192.0.2.7:500')).toBe(true);
    expect(registry.forget('192.0.2.7:500')).toBe(false);
    expect(native.peerCount(fd)).toBe(0);
  });

  it('a large scope id survives into the template, and has() of an invalid peer is false', () => {
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/{scopeId}' });
    registry.ensure({ address: 'fe80::1', port: 9, scopeId: 0xfffffff0 });
    expect(native.lookup(fd, storageOf({ address: 'fe80::1%4294967280', port: 9 }))?.name).toBe('host/4294967280');
    expect(registry.has('not a peer')).toBe(false);
  });

  it('target-name policies: fixed, template and function', () => {
    const fixed = new PeerRegistry({ bridge, socket: fd, targetName: 'host/fixed.example' });
    fixed.ensure('[2001:db8::5]:4500');
    expect(native.lookup(fd, storageOf('[2001:db8::5]:4500'))?.name).toBe('host/fixed.example');
    const template = new PeerRegistry({ bridge, socket: fd, targetName: 'host/{family}-{address}-{port}' });
    template.ensure({ address: '2001:0db8:0:0::6', port: 9 });
    expect(native.lookup(fd, storageOf('[2001:db8::6]:9'))?.name).toBe('host/ipv6-2001:db8::6-9');
    const fn = new PeerRegistry({ bridge, socket: fd, targetName: (p) => `host/p${p.port}` });
    fn.ensure('127.0.0.1:77');
    expect(native.lookup(fd, storageOf('127.0.0.1:77'))?.name).toBe('host/p77');
  });

  it('100,000 distinct peers with an LRU bound of 10,000: native holds exactly the 10,000 most recent', () => {
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/{address}', maxPeers: 10_000 });
    const total = 100_000;
    let newOnes = 0;
    let touches = 0;
    for (let i = 0; i < total; i++) {
      if (registry.ensure(peerN(i))) newOnes++;
      // Touch an old peer now and then: recency, not insertion order, decides eviction.
      if (i % 1000 === 999 && i >= 9999) {
        if (registry.ensure(peerN(i - 9999))) newOnes++;
        touches++;
      }
    }
    // Expected survivors, computed independently: replay the accesses against a plain LRU model.
    const model = new Map<number, true>();
    for (let i = 0; i < total; i++) {
      model.delete(i); model.set(i, true);
      if (model.size > 10_000) model.delete(model.keys().next().value as number);
      if (i % 1000 === 999 && i >= 9999) {
        const j = i - 9999;
        const had = model.delete(j);
        model.set(j, true);
        if (!had && model.size > 10_000) model.delete(model.keys().next().value as number);
      }
    }
    const expected = new Set([...model.keys()].map((i) => keyOf(storageOf(peerN(i)))));
    const held = native.list(fd).map(keyOf);
    expect(held).toHaveLength(10_000);
    expect(new Set(held)).toEqual(expected);
    const s = registry.stats;
    expect(s.size).toBe(10_000);
    expect(s.registered).toBe(newOnes);
    expect(s.registered - s.evicted).toBe(s.size);
    expect(touches).toBe(91);
    expect(held).toContain(keyOf(storageOf(peerN(95999 - 9999)))); // kept alive by a touch
    expect(held).not.toContain(keyOf(storageOf(peerN(90001)))); // newer, but not touched
    expect(s.reused + s.registered).toBe(total + touches);
    expect(s.failed).toBe(0);
  });

  it('a native failure midway leaves the registry and the native table consistent', () => {
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/{address}', maxPeers: 50 });
    for (let i = 0; i < 80; i++) registry.ensure(peerN(i));
    const before = { size: registry.size, native: native.peerCount(fd), stats: registry.stats };
    native.failNext(1, 10055);
    let error: unknown;
    try {
      registry.ensure(peerN(1000));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WinsockError);
    expect(error).toMatchObject({ code: 'WSAENOBUFS', call: 'WSASetSocketPeerTargetName' });
    expect(registry.size).toBe(before.size);
    expect(native.peerCount(fd)).toBe(before.native);
    expect(registry.has(peerN(1000))).toBe(false);
    expect(registry.stats.failed).toBe(before.stats.failed + 1);
    // A failed eviction keeps the evictee (native still holds it) and is retried later.
    registry.ensure(peerN(1001));
    expect(native.peerCount(fd)).toBe(registry.size);
    expect(new Set(native.list(fd).map(keyOf))).toEqual(new Set([...registry.peersByRecency()].map((p) => keyOf(storageOf(p)))));
  });

  it('a bad template gives an invalid SPN: that peer fails, others are served', () => {
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: (p) => (p.port === 13 ? '' : `host/${p.port}`) });
    expect(() => registry.ensure('127.0.0.1:13')).toThrow(PeerTargetNameError);
    expect(registry.ensure('127.0.0.1:14')).toBe(true);
    expect(registry.stats).toMatchObject({ size: 1, failed: 1 });
  });

  it('ensureMany encodes new peers together and reports failures per peer', () => {
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/{address}' });
    registry.ensure(peerN(1));
    native.refuseName('host/10.0.0.3');
    const result = registry.ensureMany([peerN(1), peerN(2), peerN(3), 'not-an-address:1', peerN(4), peerN(2)]);
    expect(result.registered).toBe(2);
    expect(result.reused).toBe(2);
    expect(result.failures.map((f) => [f.index, (f.error as { code: string }).code])).toEqual([[2, 'WSAEINVAL'], [3, 'WSAEINVAL']]);
    expect(native.peerCount(fd)).toBe(3);
    expect(registry.size).toBe(3);
  });

  it('clear() deletes every registration natively', () => {
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/x' });
    for (let i = 0; i < 20; i++) registry.ensure(peerN(i));
    registry.clear();
    expect(native.peerCount(fd)).toBe(0);
    expect(registry.stats).toMatchObject({ size: 0, forgotten: 20 });
  });
});
