// PeerRegistry over the bridge and the Linux conformance library, on one real UDP socket: what the
// registry says it holds must be exactly what the native side holds.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openBridge, PeerRegistry, WinsockError, type Bridge } from '../host/bridge.js';
import { ipv6Text } from '../host/registry.js';
import { formatIPv6 } from '../host/address.js';
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

  it('peers given as objects (rinfo): one encode when spelled canonically, the canonical name whatever the spelling', () => {
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/{family}/{address}/{port}/{scopeId}' });
    const cases: [{ address: string; port: number; family?: string; scopeId?: number; size?: number }, string][] = [
      [{ address: '192.0.2.10', port: 10, family: 'IPv4', size: 8 }, 'host/ipv4/192.0.2.10/10/0'],
      [{ address: '2001:db8::a', port: 11, family: 'IPv6', size: 8 }, 'host/ipv6/2001:db8::a/11/0'],
      [{ address: '::ffff:192.0.2.12', port: 12, family: 'IPv6' }, 'host/ipv6/::ffff:192.0.2.12/12/0'],
      [{ address: '::FFFF:192.0.2.13', port: 13 }, 'host/ipv6/::ffff:192.0.2.13/13/0'],
      [{ address: '2001:DB8:0:0:0:0:0:E', port: 14 }, 'host/ipv6/2001:db8::e/14/0'],
      [{ address: '::192.0.2.15', port: 15 }, 'host/ipv6/::c000:20f/15/0'],
      [{ address: 'fe80::1', port: 16, scopeId: 3 }, 'host/ipv6/fe80::1/16/3'],
      [{ address: 'fe80::1%4', port: 17 }, 'host/ipv6/fe80::1/17/4'],
      [{ address: '2001:db8:0:1:0:0:0:1', port: 18 }, 'host/ipv6/2001:db8:0:1::1/18/0'],
      [{ address: '2001:db8:0:0:1:0:0:1', port: 19 }, 'host/ipv6/2001:db8::1:0:0:1/19/0'],
    ];
    for (const [peer, name] of cases) {
      expect(registry.ensure(peer)).toBe(true);
      const scope = peer.scopeId !== undefined ? `%${peer.scopeId}` : '';
      const text = peer.address.includes(':') ? `[${peer.address}${scope}]:${peer.port}` : `${peer.address}:${peer.port}`;
      expect(native.lookup(fd, storageOf(text))?.name, JSON.stringify(peer)).toBe(name);
    }
    // Another spelling of a held address is the same registration, with no native call.
    expect(registry.ensure({ address: '2001:db8:0::a', port: 11 })).toBe(false);
    expect(registry.ensure('[2001:db8::a]:11')).toBe(false);
    expect(registry.ensure({ address: '192.0.2.10', port: 10, family: 'IPv4', size: 99 })).toBe(false);
    expect(native.peerCount(fd)).toBe(cases.length);
    expect(registry.stats).toMatchObject({ size: cases.length, registered: cases.length, reused: 3, failed: 0 });
    // Bad peers fail once each, with the codec's error.
    expect(() => registry.ensure({ address: '192.0.2.300', port: 1 })).toThrow(PeerTargetNameError);
    expect(() => registry.ensure({ address: '192.0.2.1', port: 70000 })).toThrow(PeerTargetNameError);
    expect(registry.stats.failed).toBe(2);
    // A name the codec refuses fails once, with no native call.
    const empty = new PeerRegistry({ bridge, socket: fd, targetName: '' });
    expect(() => empty.ensure({ address: '192.0.2.20', port: 20 })).toThrow(PeerTargetNameError);
    expect(empty.stats).toMatchObject({ size: 0, failed: 1 });
    expect(native.peerCount(fd)).toBe(cases.length);
  });

  it('ipv6Text writes what formatIPv6 writes', () => {
    const bytes = new Uint8Array(18);
    const groups = [0, 0, 0, 0xffff, 1, 0x10, 0xabcd];
    for (let n = 0; n < 20_000; n++) {
      for (let i = 0; i < 8; i++) {
        const g = n % 5 === 0 ? Math.floor(Math.random() * 0x10000) : groups[Math.floor(Math.random() * groups.length)];
        bytes[1 + 2 * i] = g >> 8;
        bytes[2 + 2 * i] = g & 255;
      }
      if (n % 11 === 0) bytes.fill(0, 1, 11).fill(0xff, 11, 13);
      expect(ipv6Text(bytes, 1)).toBe(formatIPv6(bytes.subarray(1, 17)));
    }
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

  it('many ports behind one address (a NAT, or loopback): each its own registration, by object or text, through eviction', () => {
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/{port}', maxPeers: 100 });
    const at = (port: number) => ({ address: '198.51.100.7', family: 'IPv4', port, size: 4 });
    for (let port = 1; port <= 300; port++) expect(registry.ensure(at(port))).toBe(true);
    expect(native.peerCount(fd)).toBe(100);
    expect(registry.stats).toMatchObject({ size: 100, registered: 300, evicted: 200 });
    // The 100 most recent are held under both spellings; the rest come back as new registrations.
    expect(registry.ensure(at(300))).toBe(false);
    expect(registry.ensure('198.51.100.7:250')).toBe(false);
    expect(registry.has(at(201))).toBe(true);
    expect(registry.has(at(200))).toBe(false);
    expect(registry.ensure(at(5))).toBe(true);
    expect(native.lookup(fd, storageOf('198.51.100.7:5'))?.name).toBe('host/5');
    expect(registry.has(at(201))).toBe(false); // the least recently used made room for port 5
    expect(native.peerCount(fd)).toBe(100);
    // A scope id or flow info given is another spelling of the same sockaddr.
    const v6 = new PeerRegistry({ bridge, socket: fd, targetName: 'host/v6' });
    expect(v6.ensure({ address: 'fe80::1', port: 9 })).toBe(true);
    expect(v6.ensure({ address: 'fe80::1', port: 9, scopeId: 0 })).toBe(false);
    expect(v6.ensure({ address: 'fe80::1', port: 9, flowInfo: 0 })).toBe(false);
    expect(v6.ensure({ address: 'fe80::1', port: 10 })).toBe(true);
    expect(v6.forget({ address: 'fe80::1', port: 9, scopeId: 0 })).toBe(true);
    expect(v6.has({ address: 'fe80::1', port: 9 })).toBe(false);
    expect(v6.has({ address: 'fe80::1', port: 10 })).toBe(true);
    expect(v6.stats).toMatchObject({ size: 1, registered: 2, reused: 2, forgotten: 1 });
    v6.clear();
    registry.clear();
    expect(native.peerCount(fd)).toBe(0);
  });

  it('an absent peer is a typed error on dgram and stream registries alike, never a crash', () => {
    const dgramRegistry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/x' });
    const streamRegistry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/x', socketType: 'stream' });
    for (const registry of [dgramRegistry, streamRegistry]) {
      for (const peer of [null, undefined]) {
        let error: unknown;
        try {
          registry.ensure(peer as unknown as string);
        } catch (e) {
          error = e;
        }
        expect(error, String(peer)).toBeInstanceOf(PeerTargetNameError);
        expect(error).toMatchObject({ code: 'WSAEINVAL', errno: 10022, field: 'peer' });
        // dgram: the codec's own rule (a peer is required); stream: the registry's (it keys by address).
        expect((error as Error).message).toMatch(registry === dgramRegistry ? /needs a peer address/ : /keys its registrations by peer address/);
        expect(registry.has(peer as unknown as string)).toBe(false);
        expect(() => registry.forget(peer as unknown as string)).toThrow(PeerTargetNameError);
      }
      expect(registry.stats).toMatchObject({ size: 0, failed: 2 });
    }
    expect(native.peerCount(fd)).toBe(0);
  });

  it('deletes that fail during eviction: the registry holds the evictees (as the native side does) until a delete succeeds', () => {
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/x', maxPeers: 1 });
    registry.ensure(peerN(1));
    // Behind the registry's back: its eviction of peer 1 now fails (the native side has no such peer).
    bridge.deletePeerTargetName(fd, peerN(1));
    for (let i = 2; i <= 6; i++) expect(registry.ensure(peerN(i))).toBe(true);
    expect(registry.size).toBe(6);
    expect(registry.stats).toMatchObject({ registered: 6, evicted: 0, failed: 5 });
    const recency = [];
    for (const p of registry.peersByRecency()) if (recency.push(p) > 10) break; // a broken list would not end
    expect(recency).toEqual([6, 5, 4, 3, 2, 1].map(peerN));
    for (let i = 1; i <= 6; i++) expect(registry.has(peerN(i))).toBe(true);
    expect(registry.ensure(peerN(4))).toBe(false);
    // Once peer 1 can be deleted again, the next registration evicts down to the bound.
    bridge.setPeerTargetName(fd, { protocol: 'ipsec', peer: peerN(1), targetName: 'host/x' });
    expect(registry.ensure(peerN(7))).toBe(true);
    expect(registry.size).toBe(1);
    expect(native.peerCount(fd)).toBe(1);
    expect(native.lookup(fd, storageOf(peerN(7)))?.name).toBe('host/x');
    expect(registry.stats).toMatchObject({ registered: 7, evicted: 6 });
  });

  it('a text, an object and an object with a scope id or flow info are three spellings that never stand for each other', () => {
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/x' });
    registry.ensure({ address: '2001:db8::1', port: 5, scopeId: 0 });
    // The object's internal spelling, given as text, is no peer at all.
    expect(registry.has('2001:db8::1|5|0|')).toBe(false);
    for (const call of [() => registry.ensure('2001:db8::1|5|0|'), () => registry.forget('2001:db8::1|5|0|')]) {
      let error: unknown;
      try {
        call();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(PeerTargetNameError);
      expect(error).toMatchObject({ code: 'WSAEINVAL', errno: 10022, field: 'peer', value: '2001:db8::1|5|0|' });
    }
    expect(registry.size).toBe(1);
    // The same sockaddr in every other spelling is the one registration.
    for (const same of ['[2001:db8::1]:5', { address: '2001:db8::1', port: 5 }, { address: '2001:DB8::1', port: 5, flowInfo: 0 }]) {
      expect(registry.ensure(same)).toBe(false);
    }
    expect(registry.stats).toMatchObject({ size: 1, registered: 1, reused: 3 });
  });

  it('a known peer given with a port, scope id or family the codec refuses fails as a new one would', () => {
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/x' });
    registry.ensure({ address: '192.0.2.5', port: 5, family: 'IPv4' });
    registry.ensure({ address: 'fe80::5', port: 5, scopeId: 2 });
    const refused: [unknown, string, string][] = [
      [{ address: '192.0.2.5', port: '5' }, 'WSAEINVAL', 'peer.port'],
      [{ address: '192.0.2.5', port: 5, family: 'IPv6' }, 'WSAEAFNOSUPPORT', 'peer.family'],
      [{ address: '192.0.2.5', port: 5, family: 'IPX' }, 'WSAEAFNOSUPPORT', 'peer.family'],
      [{ address: 'fe80::5', port: '5', scopeId: 2 }, 'WSAEINVAL', 'peer.port'],
      [{ address: 'fe80::5', port: 5, scopeId: '2' }, 'WSAEINVAL', 'peer.scopeId'],
      [{ address: 'fe80::5', port: 5, scopeId: 2, family: 'IPv4' }, 'WSAEAFNOSUPPORT', 'peer.family'],
    ];
    for (const [peer, code, field] of refused) {
      let error: unknown;
      try {
        registry.ensure(peer as { address: string; port: number });
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(peer)).toBeInstanceOf(PeerTargetNameError);
      expect(error, JSON.stringify(peer)).toMatchObject({ code, field });
      expect(registry.has(peer as { address: string; port: number })).toBe(false);
    }
    // Spelled as the codec takes them, they are the held peers.
    expect(registry.ensure({ address: '192.0.2.5', port: 5, family: 4 })).toBe(false);
    expect(registry.ensure({ address: 'fe80::5', port: 5, scopeId: 2, family: 'ipv6' })).toBe(false);
    expect(registry.stats).toMatchObject({ size: 2, registered: 2, reused: 2, failed: refused.length });
  });

  it('clear() deletes every registration natively', () => {
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/x' });
    for (let i = 0; i < 20; i++) registry.ensure(peerN(i));
    registry.clear();
    expect(native.peerCount(fd)).toBe(0);
    expect(registry.stats).toMatchObject({ size: 0, forgotten: 20 });
  });
});
