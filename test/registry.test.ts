// PeerRegistry over the bridge and the Linux conformance library, on one real UDP socket: what the
// registry says it holds must be exactly what the native side holds.
import { describe, expect, it } from 'vitest';
import { PeerRegistry, WinsockError, type Bridge } from '../host/bridge.js';
import { PeerRegistryClearError, PeerRegistryError, type CanonicalPeer } from '../host/bridge/registry.js';
import { encodePeerTargetName, PeerTargetNameError } from '../host/index.js';
import type { Conformance } from './support/conformance.js';
import { fdOf } from './support/sockets.js';
import type dgram from 'node:dgram';
import { useBridgeFixture } from './support/bridge-fixture.js';

let native: Conformance;
let bridge: Bridge;
let udp: dgram.Socket;
let fd: number;

useBridgeFixture(['udp4'], (f) => {
  ({ native, bridge, udp4: udp } = f);
  fd = fdOf(udp);
});

/** The 128-byte PeerAddress the codec builds for a peer: the native table's key. */
function storageOf(peer: string | { address: string; port: number }): Uint8Array {
  const storage = new Uint8Array(128);
  storage.set(encodePeerTargetName({ protocol: 0, peer, targetName: 'x' }).subarray(8, 136));
  return storage;
}
/** A peer as Node's dgram hands it over (its `size` too), typed as such. */
const remoteInfo = (r: dgram.RemoteInfo) => r;
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
    expect(registry.stats).toEqual({ size: 1, registered: 1, reused: 2, evicted: 0, forgotten: 0, failed: 0, pendingDeletions: 0, deleteFailures: 0 });
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
    expect(registry.ensure(remoteInfo({ address: '192.0.2.10', port: 10, family: 'IPv4', size: 99 }))).toBe(false);
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
    expect(result.failures.map((f) => [f.index, (f.error as Error & { code: string }).code])).toEqual([[2, 'WSAEINVAL'], [3, 'WSAEINVAL']]);
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

  it('deletes that fail during eviction: the evictee waits in the bounded pending list (not held, not forgotten) and is retried', () => {
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/x', maxPeers: 1 });
    registry.ensure(peerN(1));
    // Behind the registry's back: its eviction of peer 1 now fails (the native side has no such peer).
    bridge.deletePeerTargetName(fd, peerN(1));
    for (let i = 2; i <= 6; i++) expect(registry.ensure(peerN(i))).toBe(true);
    expect(registry.size).toBe(1);
    expect([...registry.peersByRecency()]).toEqual([{ family: 'IPv4', ...peerN(6) }]);
    // Retried after each successful eviction: five attempts by now.
    expect(registry.failedDeletions).toMatchObject([{ peer: { family: 'IPv4', ...peerN(1) }, attempts: 5, error: { code: 'WSAEINVAL' } }]);
    expect(registry.stats).toMatchObject({ registered: 6, evicted: 4, pendingDeletions: 1, deleteFailures: 5, failed: 0 });
    expect(registry.has(peerN(1))).toBe(false);
    expect(native.peerCount(fd)).toBe(1);
    // Once peer 1 can be deleted again, the next successful eviction's retry deletes it.
    bridge.setPeerTargetName(fd, { protocol: 'ipsec', peer: peerN(1), targetName: 'host/x' });
    expect(registry.ensure(peerN(7))).toBe(true);
    expect(registry.failedDeletions).toEqual([]);
    expect(native.peerCount(fd)).toBe(1);
    expect(native.lookup(fd, storageOf(peerN(7)))?.name).toBe('host/x');
    expect(registry.stats).toMatchObject({ registered: 7, evicted: 6, pendingDeletions: 0 });
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

/** The native table's sockaddrs (128 bytes each, flow info included), as hex. */
const nativeKeys = () => new Set(native.list(fd).map(keyOf));
/** The registry's own canonical peers, encoded by the codec: must be exactly the native table. */
const registryKeys = (registry: PeerRegistry, pending = true) => new Set([
  ...[...registry.peersByRecency()].map((p) => keyOf(storageOf(p))),
  ...(pending ? registry.failedDeletions.map((d) => keyOf(storageOf(d.peer))) : []),
]);

/** The bridge, with every WSADeleteSocketPeerTargetName failing (through ptn_fail_next) while `failing()`. */
function failingDeletes(failing: () => boolean): Bridge {
  return new Proxy(bridge, {
    get(target, prop) {
      if (prop === 'deletePeerTargetName') {
        return (...args: Parameters<Bridge['deletePeerTargetName']>) => {
          if (failing()) native.failNext(1, 10055);
          return target.deletePeerTargetName(...args);
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('PeerRegistry under abuse (issue 12)', () => {
  it('finding 1: two spellings of one peer in one batch share one fate: the native call fails, both fail', () => {
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/x' });
    native.failNext(1, 10055);
    const result = registry.ensureMany([
      { address: '::1', port: 7 }, { address: '0:0:0:0:0:0:0:1', port: 7 }, '[::1]:7', { address: '::1', port: 7, flowInfo: 3 }, peerN(1),
    ]);
    expect(result.failures.map((f) => [f.index, (f.error as WinsockError).code])).toEqual([[0, 'WSAENOBUFS'], [1, 'WSAENOBUFS'], [2, 'WSAENOBUFS'], [3, 'WSAENOBUFS']]);
    expect(result.failures[1].error).toBe(result.failures[0].error); // one native call, one error
    expect(result).toMatchObject({ registered: 1, reused: 0 });
    for (const spelling of ['[::1]:7', { address: '0:0:0:0:0:0:0:1', port: 7 }]) expect(registry.has(spelling)).toBe(false);
    expect(native.peerCount(fd)).toBe(1);
    expect(registry.stats).toMatchObject({ size: 1, registered: 1, reused: 0, failed: 4 });
    // When it succeeds, every spelling is the one registration.
    const again = registry.ensureMany(['[::1]:7', { address: '0:0:0:0:0:0:0:1', port: 7 }, { address: '::1', port: 7 }]);
    expect(again).toMatchObject({ registered: 1, reused: 2, failures: [] });
    expect(native.peerCount(fd)).toBe(2);
    expect(nativeKeys()).toEqual(registryKeys(registry));
  });

  it('finding 2: a port mutated after ensure: the eviction deletes the registration that was made', () => {
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/{port}', maxPeers: 2 });
    const peer = { address: '192.0.2.50', port: 1000 };
    expect(registry.ensure(peer)).toBe(true);
    peer.port = 2000;
    expect(registry.has({ address: '192.0.2.50', port: 1000 })).toBe(true);
    expect([...registry.peersByRecency()]).toEqual([{ family: 'IPv4', address: '192.0.2.50', port: 1000 }]);
    expect(registry.ensure({ address: '192.0.2.50', port: 2000 })).toBe(true); // a registration of its own
    expect(registry.ensure(peerN(1))).toBe(true); // evicts the least recently used: port 1000
    expect(native.lookup(fd, storageOf('192.0.2.50:1000'))).toBeUndefined();
    expect(native.lookup(fd, storageOf('192.0.2.50:2000'))?.name).toBe('host/2000');
    expect(nativeKeys()).toEqual(registryKeys(registry));
    expect(registry.stats).toMatchObject({ size: 2, registered: 3, evicted: 1, deleteFailures: 0, pendingDeletions: 0 });
  });

  it('finding 2: invalid mutations after ensure cannot unbound the registry (maxPeers 3, 1,001 peers)', () => {
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/x', maxPeers: 3 });
    for (let i = 0; i < 1001; i++) {
      const peer: { address: unknown; port: unknown } = peerN(i);
      expect(registry.ensure(peer as { address: string; port: number })).toBe(true);
      peer.port = i % 2 ? 70000 : 'x';
      if (i % 3 === 0) peer.address = 'not an address';
      expect(registry.size).toBeLessThanOrEqual(3);
    }
    expect(native.peerCount(fd)).toBe(3);
    expect(nativeKeys()).toEqual(registryKeys(registry));
    expect(registry.stats).toMatchObject({ size: 3, registered: 1001, evicted: 998, failed: 0, deleteFailures: 0, pendingDeletions: 0 });
    registry.clear();
    expect(native.peerCount(fd)).toBe(0);
  });

  it('finding 2: a getter is read once per call; the registry and the native table agree', () => {
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/{address}/{port}', maxPeers: 2 });
    let portReads = 0;
    const shiftyPort = { address: '192.0.2.40', get port() { return 4000 + portReads++; } };
    expect(registry.ensure(shiftyPort)).toBe(true);
    expect(portReads).toBe(1);
    expect(native.lookup(fd, storageOf('192.0.2.40:4000'))?.name).toBe('host/192.0.2.40/4000');
    let addressReads = 0;
    const shiftyAddress = { get address() { return addressReads++ % 2 ? '2001:db8::41' : '192.0.2.41'; }, port: 41, get family() { return addressReads % 2 ? 'IPv4' : 'IPv6'; } };
    expect(registry.ensure(shiftyAddress)).toBe(true);
    expect(addressReads).toBe(1);
    expect(native.lookup(fd, storageOf('192.0.2.41:41'))?.name).toBe('host/192.0.2.41/41');
    expect(nativeKeys()).toEqual(registryKeys(registry));
    // The batch path reads each input once too.
    let batchReads = 0;
    const result = registry.ensureMany([{ address: '192.0.2.42', get port() { return 4200 + batchReads++; } }, peerN(7)]);
    expect(result).toMatchObject({ registered: 2, failures: [] });
    expect(batchReads).toBe(1);
    expect(native.lookup(fd, storageOf('192.0.2.42:4200'))).toBeDefined();
    expect(nativeKeys()).toEqual(registryKeys(registry));
    // A getter that throws fails its own peer only.
    const thrown = registry.ensureMany([{ address: '192.0.2.43', get port(): number { throw new Error('no port'); } }, peerN(8)]);
    expect(thrown.failures.map((f) => [f.index, f.error.message])).toEqual([[0, 'no port']]);
    expect(thrown.registered).toBe(1);
    registry.clear();
    expect(native.peerCount(fd)).toBe(0);
  });

  it('deletes with exactly the bytes it registered: flow info and scope id included, spellings differing only in flow info are one peer', () => {
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/x' });
    expect(registry.ensure({ address: '2001:db8::7', port: 7, flowInfo: 5 })).toBe(true);
    // Natively the same peer (flow info is no part of a registration's key): the same registration.
    expect(registry.ensure({ address: '2001:db8::7', port: 7, flowInfo: 9 })).toBe(false);
    expect(registry.ensure('[2001:db8::7]:7')).toBe(false);
    expect(registry.ensure({ address: 'fe80::7%9', port: 8, flowInfo: 0xfffff })).toBe(true);
    expect(registry.ensure({ address: '::FFFF:192.0.2.7', port: 9 })).toBe(true);
    expect(native.peerCount(fd)).toBe(3);
    const held: CanonicalPeer[] = [...registry.peersByRecency()];
    expect(held).toEqual([
      { family: 'IPv6', address: '::ffff:192.0.2.7', port: 9, scopeId: 0, flowInfo: 0 },
      { family: 'IPv6', address: 'fe80::7', port: 8, scopeId: 9, flowInfo: 0xfffff },
      { family: 'IPv6', address: '2001:db8::7', port: 7, scopeId: 0, flowInfo: 5 },
    ]);
    expect(held.every((p) => Object.isFrozen(p))).toBe(true);
    expect(nativeKeys()).toEqual(registryKeys(registry)); // flow info and scope byte for byte
    expect(registry.forget({ address: '2001:db8:0::7', port: 7, flowInfo: 1 })).toBe(true);
    expect(native.peerCount(fd)).toBe(2);
    registry.clear();
    expect(native.peerCount(fd)).toBe(0);
  });

  it('an eviction whose native delete fails: the evictee leaves the registry for a bounded list, retried; when full, registrations that would evict are refused', () => {
    let failing = false;
    const registry = new PeerRegistry({ bridge: failingDeletes(() => failing), socket: fd, targetName: 'host/x', maxPeers: 3, maxPendingDeletions: 2 });
    for (let i = 1; i <= 3; i++) registry.ensure(peerN(i));
    failing = true;
    expect(registry.ensure(peerN(4))).toBe(true); // evicts peer 1: its delete fails
    expect(registry.size).toBe(3);
    expect(registry.has(peerN(1))).toBe(false); // no longer held: nothing is sent to it
    expect(registry.failedDeletions).toMatchObject([{ peer: { family: 'IPv4', ...peerN(1) }, attempts: 1, error: { code: 'WSAENOBUFS', call: 'WSADeleteSocketPeerTargetName' } }]);
    expect(native.peerCount(fd)).toBe(4); // never forgotten: native still holds it, and so does the list
    expect(nativeKeys()).toEqual(registryKeys(registry));
    expect(registry.ensure(peerN(5))).toBe(true); // evicts peer 2: fails too
    expect(registry.stats).toMatchObject({ size: 3, pendingDeletions: 2, deleteFailures: 2, evicted: 0 });
    expect(native.peerCount(fd)).toBe(5); // maxPeers + maxPendingDeletions at most
    // The list is full: a registration that would evict retries the list first, then is refused.
    let error: unknown;
    try {
      registry.ensure(peerN(6));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PeerRegistryError);
    expect(error).toMatchObject({ code: 'WSAENOBUFS', errno: 10055, reason: 'pending-deletions-full' });
    expect((error as PeerRegistryError).pending).toHaveLength(2);
    expect(native.peerCount(fd)).toBe(5);
    expect(native.lookup(fd, storageOf(peerN(6)))).toBeUndefined();
    expect(registry.stats).toMatchObject({ size: 3, pendingDeletions: 2, deleteFailures: 4, failed: 1 });
    expect(registry.failedDeletions.map((d) => d.attempts)).toEqual([2, 2]);
    expect(registry.ensure(peerN(5))).toBe(false); // known peers are still served
    // Deletes work again: the next registration retries the list and goes through.
    failing = false;
    expect(registry.ensure(peerN(6))).toBe(true);
    expect(registry.failedDeletions).toEqual([]);
    expect(native.peerCount(fd)).toBe(3);
    expect(nativeKeys()).toEqual(registryKeys(registry));
    expect(registry.stats).toMatchObject({ size: 3, evicted: 3, pendingDeletions: 0 });
    // A peer waiting in the list that comes back is registered afresh and leaves the list.
    failing = true;
    registry.ensure(peerN(7)); // evicts peer 3 (peers 5, 6, 7 held): fails
    failing = false;
    expect(registry.ensure(peerN(3))).toBe(true);
    expect(registry.failedDeletions).toEqual([]);
    expect(nativeKeys()).toEqual(registryKeys(registry));
    expect(native.peerCount(fd)).toBe(3);
    // retryDeletions() on demand: what is left.
    failing = true;
    registry.ensure(peerN(8));
    expect(registry.retryDeletions()).toBe(1);
    failing = false;
    expect(registry.retryDeletions()).toBe(0);
    expect(nativeKeys()).toEqual(registryKeys(registry));
    registry.clear();
    expect(native.peerCount(fd)).toBe(0);
  });

  it('clear() deletes everything it can, keeps going past failures, and reports each one', () => {
    const registry = new PeerRegistry({ bridge, socket: fd, targetName: 'host/x' });
    for (let i = 0; i < 10; i++) registry.ensure(peerN(i));
    // Behind the registry's back: these two deletes will fail.
    bridge.deletePeerTargetName(fd, peerN(3));
    bridge.deletePeerTargetName(fd, peerN(7));
    let error: unknown;
    try {
      registry.clear();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PeerRegistryClearError);
    expect(error).toBeInstanceOf(AggregateError);
    const failures = (error as PeerRegistryClearError).failures;
    expect(failures.map((f) => f.peer)).toEqual([peerN(3), peerN(7)].map((p) => ({ family: 'IPv4', ...p })));
    expect(failures.map((f) => (f.error as WinsockError).code)).toEqual(['WSAEINVAL', 'WSAEINVAL']);
    expect((error as AggregateError).errors).toEqual(failures.map((f) => f.error));
    expect((error as Error).message).toMatch(/2 of 10/);
    expect(native.peerCount(fd)).toBe(0); // the other eight were deleted
    // The two stay held (the registry cannot know they are gone), and are deleted by the next clear().
    expect(registry.stats).toMatchObject({ size: 2, forgotten: 8 });
    bridge.setPeerTargetName(fd, { protocol: 'ipsec', peer: peerN(3), targetName: 'host/x' });
    bridge.setPeerTargetName(fd, { protocol: 'ipsec', peer: peerN(7), targetName: 'host/x' });
    registry.clear();
    expect(registry.stats).toMatchObject({ size: 0, forgotten: 10 });
    expect(native.peerCount(fd)).toBe(0);
  });

  it('a target-name function that re-enters the registry to register is refused with a typed error', () => {
    let inner: unknown;
    const registry: PeerRegistry = new PeerRegistry({
      bridge, socket: fd, maxPeers: 4,
      targetName: (p) => {
        try {
          registry.ensure(peerN(p.port + 100));
        } catch (e) {
          inner = e;
        }
        return `host/${p.port}`;
      },
    });
    expect(registry.ensure(peerN(1))).toBe(true);
    expect(inner).toBeInstanceOf(PeerRegistryError);
    expect(inner).toMatchObject({ reason: 'reentrant' });
    expect(registry.size).toBe(1);
    expect(nativeKeys()).toEqual(registryKeys(registry));
    registry.clear();
  });
});
