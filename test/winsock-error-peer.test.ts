// WinsockError.peer reads the same from every path (host/codec/peer-text.ts): the same peer,
// spelled as text or as an rinfo, given to the bridge (sync and async, input or bytes, set and
// delete), to PeerRegistry (one at a time, in a batch, and clear()) or to DgramGuard, is named by
// one text: the sockaddr the native call got, in canonical form.
import { describe, expect, it } from 'vitest';
import { DgramGuard, PeerRegistry, WinsockError, type Bridge, type PeerFailure } from '../host/bridge.js';
import { PeerRegistryClearError } from '../host/bridge/registry.js';
import { peerText, sockaddrText } from '../host/codec/peer-text.js';
import { encodePeerTargetName, type PeerObject } from '../host/index.js';
import type { Conformance } from './support/conformance.js';
import { fdOf } from './support/sockets.js';
import { next } from './support/events.js';
import type dgram from 'node:dgram';
import { useBridgeFixture } from './support/bridge-fixture.js';

const WSAENOBUFS = 10055;

let native: Conformance;
let bridge: Bridge;
let udp4: dgram.Socket;
let udp6: dgram.Socket;
useBridgeFixture(['udp4', 'udp6'], (f) => ({ native, bridge, udp4, udp6 } = f));

/** A peer as Node's dgram hands it over (its `size` too), typed as such. */
const remoteInfo = (r: dgram.RemoteInfo): PeerObject => r;

/** One peer: its spellings as text and as objects (an rinfo, and others), and the one text expected. */
const PEERS: { texts: string[]; objects: PeerObject[]; expected: string }[] = [
  {
    texts: ['192.0.2.1:500'],
    objects: [remoteInfo({ address: '192.0.2.1', port: 500, family: 'IPv4', size: 4 }), { address: '192.0.2.1', port: 500 }],
    expected: '192.0.2.1:500',
  },
  {
    texts: ['[2001:db8::1]:500', '[2001:DB8:0:0::1]:500'],
    objects: [{ address: '2001:db8::1', port: 500, family: 'IPv6' }, { address: '2001:0db8::0:1', port: 500 }],
    expected: '[2001:db8::1]:500',
  },
  {
    texts: ['[fe80::1%4]:500'],
    objects: [{ address: 'fe80::1%4', port: 500, family: 'IPv6' }, { address: 'fe80::1', port: 500, scopeId: 4 }],
    expected: '[fe80::1%4]:500',
  },
  {
    texts: ['[::ffff:192.0.2.7]:53'],
    objects: [{ address: '::ffff:192.0.2.7', port: 53, family: 'IPv6' }, { address: '::FFFF:c000:207', port: 53 }],
    expected: '[::ffff:192.0.2.7]:53',
  },
];

const socketOf = (expected: string) => (expected.startsWith('[') ? udp6 : udp4);

/** The .peer of the WinsockError a call failed with (the native side told to fail it). */
function peerOfFailure(f: () => unknown): string | undefined {
  native.failNext(1, WSAENOBUFS);
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(WinsockError);
    return (error as WinsockError).peer;
  } finally {
    native.failNext(0, 0);
  }
  throw new Error('the call did not fail');
}

async function peerOfAsyncFailure(f: () => Promise<unknown>): Promise<string | undefined> {
  native.failNext(1, WSAENOBUFS);
  try {
    await f();
  } catch (error) {
    expect(error).toBeInstanceOf(WinsockError);
    return (error as WinsockError).peer;
  } finally {
    native.failNext(0, 0);
  }
  throw new Error('the call did not fail');
}

describe('WinsockError.peer', () => {
  it('peerText and sockaddrText spell a peer one way', () => {
    expect(peerText('192.0.2.1', 500)).toBe('192.0.2.1:500');
    expect(peerText('2001:db8::1', 500)).toBe('[2001:db8::1]:500');
    expect(peerText('fe80::1', 500, 4)).toBe('[fe80::1%4]:500');
    expect(peerText('fe80::1', 500, 0)).toBe('[fe80::1]:500');
    const record = encodePeerTargetName({ protocol: 'ipsec', peer: '[FE80::0:1%4294967295]:65535', targetName: 'x' });
    expect(sockaddrText(record, 8)).toBe('[fe80::1%4294967295]:65535');
    const stream = encodePeerTargetName({ protocol: 'ipsec', targetName: 'x' }, { socketType: 'stream' });
    expect(sockaddrText(stream, 8)).toBeUndefined();
    expect(sockaddrText(new Uint8Array(1))).toBeUndefined();
  });

  it('the bridge: sync and async, input or bytes, set and delete: one text per peer', async () => {
    for (const { texts, objects, expected } of PEERS) {
      const socket = fdOf(socketOf(expected));
      const seen = new Map<string, string | undefined>();
      for (const peer of [...texts, ...objects]) {
        const label = JSON.stringify(peer);
        const input = { protocol: 'ipsec' as const, peer, targetName: 'host/x' };
        seen.set(`set ${label}`, peerOfFailure(() => bridge.setPeerTargetName(socket, input)));
        seen.set(`set bytes ${label}`, peerOfFailure(() => bridge.setPeerTargetName(socket, encodePeerTargetName(input))));
        seen.set(`delete ${label}`, peerOfFailure(() => bridge.deletePeerTargetName(socket, peer)));
        seen.set(`async ${label}`, await peerOfAsyncFailure(() => bridge.setPeerTargetNameAsync(socket, input)));
        seen.set(`async bytes ${label}`, await peerOfAsyncFailure(() => bridge.setPeerTargetNameAsync(socket, encodePeerTargetName(input))));
      }
      for (const [path, text] of seen) expect(text, path).toBe(expected);
    }
  });

  it('PeerRegistry (ensure, ensureMany, clear): the same text as the bridge', () => {
    for (const { texts, objects, expected } of PEERS) {
      const socket = fdOf(socketOf(expected));
      for (const peer of [...texts, ...objects]) {
        const label = JSON.stringify(peer);
        // A template (the one-encode path for an rinfo) and a function (the general path).
        for (const targetName of ['host/{address}', () => 'host/x']) {
          const registry = new PeerRegistry({ bridge, socket, targetName });
          expect(peerOfFailure(() => registry.ensure(peer)), `ensure ${label}`).toBe(expected);
          native.failNext(1, WSAENOBUFS);
          const batch = registry.ensureMany([peer, expected.startsWith('[') ? '[2001:db8::99]:1' : '10.0.0.1:1']);
          native.failNext(0, 0);
          expect(batch.failures).toHaveLength(1);
          expect((batch.failures[0].error as WinsockError).peer, `ensureMany ${label}`).toBe(expected);
          registry.clear();
          // clear(): the registry's own failure names it alike.
          registry.ensure(peer);
          native.failNext(1, WSAENOBUFS);
          let cleared: PeerRegistryClearError | undefined;
          try {
            registry.clear();
          } catch (error) {
            cleared = error as PeerRegistryClearError;
          }
          native.failNext(0, 0);
          expect(cleared).toBeInstanceOf(PeerRegistryClearError);
          expect(cleared!.failures.map((f) => (f.error as WinsockError).peer), `clear ${label}`).toEqual([expected]);
          expect(cleared!.message).toContain(`(${expected})`);
          registry.clear();
        }
      }
    }
  });

  it('DgramGuard: a refused peer is named as the bridge names it', async () => {
    for (const { objects, expected } of PEERS) {
      for (const peer of objects) {
        const guard = new DgramGuard(socketOf(expected), { bridge, targetName: 'host/{address}' });
        const failure = next<PeerFailure>(guard, 'peer-error');
        native.failNext(1, WSAENOBUFS);
        guard.send('x', peer);
        const [{ error }] = await failure;
        native.failNext(0, 0);
        expect(error, JSON.stringify(peer)).toBeInstanceOf(WinsockError);
        expect((error as WinsockError).peer, JSON.stringify(peer)).toBe(expected);
        guard.close();
      }
    }
  });
});
