// DgramGuard on real UDP sockets: no datagram reaches a peer before that peer's registration
// succeeded (checked against the conformance library's own table and clock).
import dgram from 'node:dgram';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { DgramGuard, type Bridge, type PeerFailure } from '../host/bridge.js';
import { encodePeerTargetName } from '../host/index.js';
import { PeerRegistryClearError } from '../host/bridge/registry.js';
import type { Conformance } from './support/conformance.js';
import { boundUdp, closeAll } from './support/sockets.js';
import { next } from './support/events.js';
import { useBridgeFixture } from './support/bridge-fixture.js';

let native: Conformance;
let bridge: Bridge;
useBridgeFixture([], (f) => ({ native, bridge } = f));

/** A peer as Node's dgram hands it over (its `size` too), typed as such. */
const remoteInfo = (r: dgram.RemoteInfo) => r;

function storageOf(address: string, port: number): Uint8Array {
  const storage = new Uint8Array(128);
  storage.set(encodePeerTargetName({ protocol: 0, peer: { address, port }, targetName: 'x' }).subarray(8, 136));
  return storage;
}

/** An echo server whose replies go through the guard; records when each reply was handed over. */
async function echoServer(options: Partial<ConstructorParameters<typeof DgramGuard>[1]> = {}) {
  const server = await boundUdp('udp4');
  const guard = new DgramGuard(server, { bridge, targetName: 'host/{address}-{port}', ...options });
  const sentAt: { port: number; at: bigint }[] = [];
  const send = server.send.bind(server) as (...a: unknown[]) => void;
  (server as unknown as { send: (...a: unknown[]) => void }).send = (msg, port, address, cb) => {
    sentAt.push({ port: port as number, at: process.hrtime.bigint() });
    send(msg, port, address, cb);
  };
  server.on('message', (msg, rinfo) => guard.send(msg, rinfo));
  return { server, guard, sentAt };
}

async function ask(client: dgram.Socket, port: number, text: string, timeoutMs = 2000): Promise<string | undefined> {
  client.send(text, port, '127.0.0.1');
  const timer = new Promise<undefined>((r) => setTimeout(r, timeoutMs, undefined));
  const reply = once(client, 'message').then(([m]) => String(m));
  return Promise.race([reply, timer]);
}

describe('DgramGuard', () => {
  it('a new peer is answered only after its registration, a known one at once', async () => {
    const { server, guard, sentAt } = await echoServer();
    const clients = await Promise.all(Array.from({ length: 20 }, () => boundUdp('udp4')));
    try {
      const port = server.address().port;
      const replies = await Promise.all(clients.map((c, i) => ask(c, port, `hello ${i}`)));
      expect(replies).toEqual(clients.map((_, i) => `hello ${i}`));
      expect(await ask(clients[0], port, 'again')).toBe('again');
      for (const c of clients) {
        const registration = native.lookup(Number(guard.registry.socket), storageOf('127.0.0.1', c.address().port));
        expect(registration?.name).toBe(`host/127.0.0.1-${c.address().port}`);
        const first = sentAt.find((s) => s.port === c.address().port)!;
        expect(first.at).toBeGreaterThan(registration!.timeNs); // the same monotonic clock
      }
      expect(guard.stats).toMatchObject({ registered: 20, sent: 21, refused: 0, dropped: 0 });
      expect(guard.stats.batches).toBeGreaterThanOrEqual(1);
    } finally {
      guard.close();
      closeAll(server, ...clients);
    }
  });

  it('the first new peer of a turn is registered and answered at once; later ones that turn wait for its batch', async () => {
    const { server, guard, sentAt } = await echoServer({ maxPeers: 3 });
    const clients = await Promise.all(Array.from({ length: 4 }, () => boundUdp('udp4')));
    const rinfo = (c: dgram.Socket) => ({ address: '127.0.0.1', family: 'IPv4', port: c.address().port, size: 1 });
    try {
      guard.send('a', rinfo(clients[0]));
      expect(guard.registry.size).toBe(1); // registered within send()
      expect(sentAt.map((s) => s.port)).toEqual([clients[0].address().port]);
      const batch = next(guard, 'registered', 2);
      guard.send('b', rinfo(clients[1]));
      guard.send('c', rinfo(clients[2]));
      guard.send('a again', rinfo(clients[0])); // known: at once
      expect(guard.registry.size).toBe(1);
      expect(guard.stats.pending).toBe(2);
      expect(sentAt).toHaveLength(2);
      await batch; // the turn's flush (its setImmediate is made a tick after 'a' left)
      expect(guard.registry.size).toBe(3);
      expect(guard.stats).toMatchObject({ registered: 3, sent: 4, pending: 0, batches: 2 });
      // Full now: a new peer's registration would evict, so it waits for a batch even when alone.
      const alone = next(guard, 'registered');
      guard.send('d', rinfo(clients[3]));
      expect(guard.stats.pending).toBe(1);
      await alone;
      expect(guard.stats).toMatchObject({ registered: 4, evicted: 1, sent: 5, pending: 0 });
      for (const c of clients) {
        const port = c.address().port;
        const registration = native.lookup(Number(guard.registry.socket), storageOf('127.0.0.1', port));
        const first = sentAt.find((s) => s.port === port)!;
        if (registration) expect(first.at).toBeGreaterThan(registration.timeNs);
      }
      expect(native.peerCount(Number(guard.registry.socket))).toBe(3);
    } finally {
      guard.close();
      closeAll(server, ...clients);
    }
  });

  it('a lone new peer whose registration fails at once is refused, and reported', async () => {
    const { server, guard, sentAt } = await echoServer({ targetName: '' });
    const failures: PeerFailure[] = [];
    guard.on('peer-error', (f: PeerFailure) => failures.push(f));
    const errors: (Error | null)[] = [];
    try {
      guard.send('x', { address: '127.0.0.1', port: 9 }, (e) => errors.push(e));
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ peer: { port: 9 }, datagrams: 1, error: { code: 'WSAEINVAL' } });
      expect(errors).toHaveLength(1);
      expect(sentAt).toHaveLength(0);
      expect(guard.stats).toMatchObject({ refused: 1, sent: 0, registered: 0, failed: 1 });
    } finally {
      guard.close();
      closeAll(server);
    }
  });

  it('a peer whose registration fails gets no reply; the others are served', async () => {
    const { server, guard, sentAt } = await echoServer({ targetName: (p) => (p.port % 2 ? '' : `host/${p.port}`) });
    const failures: PeerFailure[] = [];
    guard.on('peer-error', (f: PeerFailure) => failures.push(f));
    const clients = await Promise.all(Array.from({ length: 6 }, () => boundUdp('udp4')));
    try {
      const port = server.address().port;
      const odd = clients.filter((c) => c.address().port % 2).length;
      // Waited for: a reply from each even port, and the refusal of each odd one (its datagram is
      // refused, never sent: no reply can follow).
      const refused = next<PeerFailure>(guard, 'peer-error', odd);
      const replies = await Promise.all(clients.map((c) => (c.address().port % 2 ? undefined : ask(c, port, 'ping'))));
      for (const c of clients) if (c.address().port % 2) c.send('ping', port, '127.0.0.1');
      const refusedPorts = (await refused).map((f) => f.peer.port).sort((a, b) => a - b);
      expect(refusedPorts).toEqual(clients.map((c) => c.address().port).filter((p) => p % 2).sort((a, b) => a - b));
      clients.forEach((c, i) => expect(replies[i]).toBe(c.address().port % 2 ? undefined : 'ping'));
      expect(sentAt.filter((s) => s.port % 2)).toEqual([]); // nothing was handed to the socket for them
      expect(failures).toHaveLength(odd);
      expect(failures.every((f) => (f.error as { code?: string }).code === 'WSAEINVAL')).toBe(true);
      expect(guard.stats.refused).toBe(odd);
    } finally {
      guard.close();
      closeAll(server, ...clients);
    }
  });

  it('close() deletes every registration it made', async () => {
    const { server, guard } = await echoServer();
    const client = await boundUdp('udp4');
    try {
      await ask(client, server.address().port, 'x');
      expect(native.peerCount(Number(guard.registry.socket))).toBe(1);
      guard.close();
      expect(native.peerCount(Number(guard.registry.socket))).toBe(0);
    } finally {
      closeAll(server, client);
    }
  });
});

/** A guard on a fresh socket whose sends are recorded (and still made). */
async function recordedGuard(type: 'udp4' | 'udp6', options: Partial<ConstructorParameters<typeof DgramGuard>[1]> = {}) {
  const server = await boundUdp(type);
  const guard = new DgramGuard(server, { bridge, targetName: 'host/x', ...options });
  const sent: { port: number; address: string }[] = [];
  const send = server.send.bind(server) as (...a: unknown[]) => void;
  (server as unknown as { send: (...a: unknown[]) => void }).send = (msg, port, address, cb) => {
    sent.push({ port: port as number, address: address as string });
    send(msg, port, address, cb);
  };
  const failures: PeerFailure[] = [];
  guard.on('peer-error', (f: PeerFailure) => failures.push(f));
  return { server, guard, sent, failures, fd: Number(guard.registry.socket) };
}

describe('DgramGuard under abuse (issue 12)', () => {
  it('finding 1: two spellings of one peer waiting in one batch: its registration fails, neither is sent a datagram', async () => {
    const { server, guard, sent, failures, fd } = await recordedGuard('udp6');
    const errors: (Error | null)[] = [];
    try {
      guard.send('first', remoteInfo({ address: '::1', port: 1111, family: 'IPv6', size: 5 })); // the turn's first: registered at once
      guard.send('a', remoteInfo({ address: '::1', port: 2222, family: 'IPv6', size: 1 }), (e) => errors.push(e));
      guard.send('b', remoteInfo({ address: '0:0:0:0:0:0:0:1', port: 2222, family: 'IPv6', size: 1 }), (e) => errors.push(e));
      expect(guard.stats.pending).toBe(2);
      native.failNext(1, 10055); // the batch's one native call for ::1 port 2222
      await next(guard, 'peer-error', 2); // one per spelling, after both callbacks
      expect(sent.map((s) => s.port)).toEqual([1111]);
      expect(errors.map((e) => (e as { code?: string } | null)?.code)).toEqual(['WSAENOBUFS', 'WSAENOBUFS']);
      expect(failures.map((f) => [f.peer.address, f.datagrams])).toEqual([['::1', 1], ['0:0:0:0:0:0:0:1', 1]]);
      expect(native.lookup(fd, storageOf('::1', 2222))).toBeUndefined();
      expect(guard.stats).toMatchObject({ sent: 1, refused: 2, registered: 1, reused: 0 });
      // Both spellings again, the native side willing: one registration, both answered.
      const both = next(guard, 'registered', 2);
      guard.send('c', remoteInfo({ address: '0:0:0:0:0:0:0:1', port: 2222, family: 'IPv6', size: 1 }));
      guard.send('d', remoteInfo({ address: '::1', port: 2222, family: 'IPv6', size: 1 }));
      await both;
      expect(sent.map((s) => s.port)).toEqual([1111, 2222, 2222]);
      expect(native.peerCount(fd)).toBe(2);
    } finally {
      guard.close();
      closeAll(server);
    }
  });

  it('a peer object is read once: the datagram goes to the very address and port that were registered', async () => {
    const { server, guard, sent, fd } = await recordedGuard('udp4');
    try {
      let reads = 0;
      const shifty = { address: '127.0.0.1', family: 'IPv4', size: 1, get port() { return 3000 + reads++; } };
      guard.send('x', shifty);
      expect(reads).toBe(1);
      expect(sent).toEqual([{ port: 3000, address: '127.0.0.1' }]);
      expect(native.lookup(fd, storageOf('127.0.0.1', 3000))).toBeDefined();
      expect(native.peerCount(fd)).toBe(1);
      const registered = next(guard, 'registered');
      guard.send('y', shifty); // port 3001 now: a peer of its own
      expect(reads).toBe(2);
      await registered;
      expect(sent).toEqual([{ port: 3000, address: '127.0.0.1' }, { port: 3001, address: '127.0.0.1' }]);
      expect(native.lookup(fd, storageOf('127.0.0.1', 3001))).toBeDefined();
    } finally {
      guard.close();
      closeAll(server);
    }
  });

  it('close() deletes every registration it can and reports the ones it could not', async () => {
    const { server, guard, fd } = await recordedGuard('udp4');
    try {
      const registered = next(guard, 'registered', 2); // 'x' within send(), 'y' in the turn's batch
      guard.send('x', { address: '127.0.0.1', port: 4001 });
      guard.send('y', { address: '127.0.0.1', port: 4002 });
      await registered;
      expect(native.peerCount(fd)).toBe(2);
      native.failNext(1, 10055);
      expect(() => guard.close()).toThrow(PeerRegistryClearError);
      expect(native.peerCount(fd)).toBe(1);
      expect(guard.registry.size).toBe(1);
    } finally {
      closeAll(server);
    }
  });
});
