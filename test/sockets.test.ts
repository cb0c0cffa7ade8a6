// socketHandle and createSecureSocket on Linux, end to end: real sockets on loopback, Node's own
// libuv walked through koffi, WSASetSocketSecurity answered by the conformance library. Every
// descriptor is checked independently with libc's getsockname/getpeername (test/support/sockets.ts),
// never with Node's internals.
import dgram from 'node:dgram';
import { once } from 'node:events';
import { closeSync, existsSync, fstatSync, openSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it, vi } from 'vitest';
import {
  createSecureSocket, DgramGuard, socketHandle, SocketHandleError, SystemSocketError,
  type Bridge, type SecureSocketOptions,
} from '../host/bridge.js';
import { PeerTargetNameError } from '../host/index.js';
import { systemSockets } from '../host/bridge/sockets/system.js';
import type { Conformance } from './support/conformance.js';
import { boundUdp, closeAll, connectedUdp, EBADF, libc, type SockAddr } from './support/sockets.js';
import { catchError } from './support/errors.js';
import { useBridgeFixture } from './support/bridge-fixture.js';

let native: Conformance;
let bridge: Bridge;

useBridgeFixture([], (f) => ({ native, bridge } = f));

const LOOPBACK = { udp4: '127.0.0.1', udp6: '::1' } as const;

function inet(sa: SockAddr | undefined): { address: string; port: number } {
  if (sa === undefined || (sa.family !== 'ipv4' && sa.family !== 'ipv6')) throw new Error(`not an IP socket address: ${JSON.stringify(sa)}`);
  return { address: sa.address, port: sa.port };
}

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, the promise resolved');
}

/** How many descriptors this process holds (the listing's own is there both times). */
const openFds = () => readdirSync('/proc/self/fd').length;

/** A port that was free a moment ago on this address. */
async function freePort(type: 'udp4' | 'udp6'): Promise<number> {
  const s = await boundUdp(type);
  const { port } = s.address();
  s.close();
  await once(s, 'close');
  return port;
}

async function portIsFree(type: 'udp4' | 'udp6', port: number): Promise<boolean> {
  const s = dgram.createSocket(type);
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, LOOPBACK[type], () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    s.close();
  }
}

/**
 * Whatever was deferred has run: ticks, microtasks and a few full turns of the event loop (each
 * setImmediate comes after a turn's close-callbacks phase). A late (second) close of a descriptor
 * would be among them: libuv closes a handle's descriptor within uv_close itself, and the package's
 * own closes are synchronous, so there is no timer to wait for, only the loop.
 */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

/** Puts /dev/null at descriptor `fd` (which must be free): a new file that reuses the number. */
function reuseNumber(fd: number): void {
  const file = openSync('/dev/null', 'r');
  if (file !== fd) {
    expect(libc().dup2(file, fd)).toBe(fd);
    closeSync(file);
  }
}

describe('socketHandle', () => {
  it.each(['udp4', 'udp6'] as const)('%s: the descriptor whose getsockname is the socket\'s address()', async (type) => {
    const a = await boundUdp(type);
    const b = await boundUdp(type);
    try {
      const fa = socketHandle(a);
      const fb = socketHandle(b);
      expect(typeof fa).toBe('number');
      expect(fa).not.toBe(fb);
      expect(inet(libc().sockName(fa))).toEqual({ address: LOOPBACK[type], port: a.address().port });
      expect(inet(libc().sockName(fb))).toEqual({ address: LOOPBACK[type], port: b.address().port });
      expect(a.address().port).not.toBe(b.address().port);
    } finally {
      closeAll(a, b);
    }
  });

  it('a connected dgram socket: its own descriptor (sockname and peername both right)', async () => {
    const { socket, peer } = await connectedUdp();
    try {
      const fd = socketHandle(socket);
      expect(inet(libc().sockName(fd)).port).toBe(socket.address().port);
      expect(inet(libc().peerName(fd))).toEqual({ address: '127.0.0.1', port: peer.address().port });
      expect(libc().peerName(socketHandle(peer))).toBeUndefined();
    } finally {
      closeAll(socket, peer);
    }
  });

  it('the bridge takes it: the conformance library receives that very socket', async () => {
    const socket = await boundUdp('udp6');
    try {
      const fd = socketHandle(socket);
      bridge.setPeerTargetName(fd, { protocol: 'ipsec', peer: '[::1]:4500', targetName: 'host/by-handle' });
      expect(Number(native.lastSocket())).toBe(fd);
      expect(native.peerCount(fd)).toBe(1);
    } finally {
      closeAll(socket);
    }
  });

  it('an unbound socket, one still binding and a closed one: SocketHandleError \'not-bound\', never a handle', async () => {
    const socket = dgram.createSocket('udp4');
    try {
      const unbound = catchError(() => socketHandle(socket));
      expect(unbound).toBeInstanceOf(SocketHandleError);
      expect(unbound).toMatchObject({ name: 'SocketHandleError', problem: 'not-bound' });
      socket.bind(0, '127.0.0.1');
      expect(catchError(() => socketHandle(socket))).toMatchObject({ problem: 'not-bound' });
      await once(socket, 'listening');
      expect(typeof socketHandle(socket)).toBe('number');
    } finally {
      socket.close();
    }
    const closed = catchError(() => socketHandle(socket));
    expect(closed).toBeInstanceOf(SocketHandleError);
    expect(closed.problem).toBe('not-bound');
  });

  it('two sockets on the same address and port (reuseAddr): \'ambiguous\', no handle guessed', async () => {
    const a = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    const b = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    try {
      a.bind(0, '127.0.0.1');
      await once(a, 'listening');
      b.bind(a.address().port, '127.0.0.1');
      await once(b, 'listening');
      for (const s of [a, b]) {
        const error = catchError(() => socketHandle(s));
        expect(error).toBeInstanceOf(SocketHandleError);
        expect(error.problem).toBe('ambiguous');
        expect(error.message).toContain(`127.0.0.1:${a.address().port}`);
      }
    } finally {
      closeAll(a, b);
    }
  });

  it('a socket that is not on this thread\'s loop: \'not-found\'', async () => {
    // Something whose address() names a port no socket of this thread is bound to.
    const port = await freePort('udp4');
    const stranger = { address: () => ({ address: '127.0.0.1', family: 'IPv4', port }) } as unknown as dgram.Socket;
    expect(catchError(() => socketHandle(stranger))).toMatchObject({ problem: 'not-found' });
  });
});

describe('socketHandle in a worker thread', () => {
  // Plain JS (no TypeScript in a worker): it imports the built package from dist.
  const bridgeUrl = new URL('../dist/host/bridge.js', import.meta.url);
  const koffiUrl = new URL('../dist/host/bridge/koffi.js', import.meta.url);
  const script = `
    const { parentPort, workerData } = require('node:worker_threads');
    const dgram = require('node:dgram');
    (async () => {
      const { socketHandle } = await import(workerData.bridgeUrl);
      const { loadKoffi } = await import(workerData.koffiUrl);
      const getsockname = loadKoffi().load(null).func('int getsockname(int fd, _Out_ uint8_t *addr, _Inout_ uint32_t *len)');
      const socket = dgram.createSocket('udp4');
      await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
      const fd = socketHandle(socket);
      const sa = new Uint8Array(128);
      const rc = getsockname(fd, sa, [128]);
      let mainSocket;
      try {
        mainSocket = { handle: socketHandle({ address: () => workerData.mainAddress }) };
      } catch (error) {
        mainSocket = { name: error.name, problem: error.problem };
      }
      parentPort.postMessage({ fd, rc, family: sa[0] | (sa[1] << 8), port: (sa[2] << 8) | sa[3], address: socket.address(), mainSocket });
      parentPort.once('message', () => { socket.close(); parentPort.close(); });
    })().catch((error) => parentPort.postMessage({ error: String(error && error.stack || error) }));
  `;

  it('finds the worker\'s own socket on the worker\'s loop; the main thread\'s is not found there, nor the worker\'s here', async () => {
    if (!existsSync(fileURLToPath(bridgeUrl))) throw new Error('dist/host/bridge.js is missing: run `npm run build` first');
    const main = await boundUdp('udp4');
    const worker = new Worker(script, { eval: true, workerData: { bridgeUrl: bridgeUrl.href, koffiUrl: koffiUrl.href, mainAddress: main.address() } });
    try {
      const [report] = await once(worker, 'message');
      expect(report.error).toBeUndefined();
      expect(report.rc).toBe(0);
      expect(report.family).toBe(2);
      expect(report.port).toBe(report.address.port);
      expect(report.fd).not.toBe(socketHandle(main));
      // The worker's socket is open in this (shared) process, yet not on the main thread's loop.
      expect(inet(libc().sockName(report.fd))).toEqual({ address: '127.0.0.1', port: report.address.port });
      const workerSocket = { address: () => report.address } as unknown as dgram.Socket;
      expect(catchError(() => socketHandle(workerSocket))).toMatchObject({ name: 'SocketHandleError', problem: 'not-found' });
      // And the other way round; here, the same stand-in finds the main socket.
      expect(report.mainSocket).toEqual({ name: 'SocketHandleError', problem: 'not-found' });
      expect(socketHandle({ address: () => main.address() } as unknown as dgram.Socket)).toBe(socketHandle(main));
      worker.postMessage('close');
      expect((await once(worker, 'exit'))[0]).toBe(0);
    } finally {
      await worker.terminate();
      closeAll(main);
    }
  });
});

describe('createSecureSocket', () => {
  it.each(['udp4', 'udp6'] as const)('%s with IPsec settings: listening, secured, echoes, closes its descriptor once', async (type) => {
    const port = await freePort(type);
    const socket = await createSecureSocket({ type, address: LOOPBACK[type], port, security: { protocol: 'ipsec' }, bridge });
    const client = await boundUdp(type);
    try {
      expect(socket).toBeInstanceOf(dgram.Socket);
      expect(socket.address()).toEqual({ address: LOOPBACK[type], family: type === 'udp4' ? 'IPv4' : 'IPv6', port });
      const fd = Number(socketHandle(socket)); // a descriptor here (a number: not a Windows SOCKET)
      expect(inet(libc().sockName(fd))).toEqual({ address: LOOPBACK[type], port });
      expect(bridge.querySocketSecurity(fd).protocol).toBe('ipsec');
      // An ordinary Node socket from now on: an echo round trip with a plain client.
      socket.on('message', (message, rinfo) => socket.send(message, rinfo.port, rinfo.address));
      client.send('ping', port, LOOPBACK[type]);
      const [reply, from] = await once(client, 'message');
      expect(String(reply)).toBe('ping');
      expect(from).toMatchObject({ address: LOOPBACK[type], port });
      // close(): the descriptor is closed, and only once (a new file that takes the number stays open).
      socket.close();
      await once(socket, 'close');
      expect(libc().fdFlags(fd)).toBe(-EBADF);
      reuseNumber(fd);
      await settle();
      expect(libc().fdFlags(fd)).toBeGreaterThanOrEqual(0);
      expect(fstatSync(fd).isCharacterDevice()).toBe(true);
      closeSync(fd);
    } finally {
      closeAll(client, socket);
    }
  });

  it('without security: an ordinary socket on any address and a free port; the default settings with null', async () => {
    const plain = await createSecureSocket({ type: 'udp4' });
    const defaults = await createSecureSocket({ type: 'udp6', address: '::1', security: null, bridge });
    try {
      expect(plain.address()).toMatchObject({ address: '0.0.0.0', family: 'IPv4' });
      expect(plain.address().port).toBeGreaterThan(0);
      expect(bridge.querySocketSecurity(socketHandle(plain))).toMatchObject({ protocol: 'default', flags: 0 });
      // NULL settings: the library records "the default", with its SECURED flag.
      expect(bridge.querySocketSecurity(socketHandle(defaults))).toMatchObject({ protocol: 'default', flagNames: ['SOCKET_INFO_CONNECTION_SECURED'] });
    } finally {
      closeAll(plain, defaults);
    }
  });

  it('the settings are applied BEFORE bind: the socket WSASetSocketSecurity sees has no address yet', async () => {
    const port = await freePort('udp4');
    const seen: { socket: number; local: SockAddr | undefined }[] = [];
    const watching = Object.create(bridge) as Bridge;
    watching.setSocketSecurity = (s, settings) => {
      seen.push({ socket: Number(s), local: libc().sockName(s) });
      bridge.setSocketSecurity(s, settings);
    };
    const socket = await createSecureSocket({ type: 'udp4', address: '127.0.0.1', port, security: { protocol: 'ipsec2' }, bridge: watching });
    try {
      const fd = socketHandle(socket);
      expect(seen).toEqual([{ socket: fd, local: { family: 'ipv4', address: '0.0.0.0', port: 0 } }]);
      expect(inet(libc().sockName(fd))).toEqual({ address: '127.0.0.1', port });
      expect(bridge.querySocketSecurity(fd).protocol).toBe('ipsec2');
    } finally {
      closeAll(socket);
    }
  });

  it('when WSASetSocketSecurity fails, nothing was bound: the port is still free, no descriptor leaked', async () => {
    // ptn_fail_next covers only the peer-name calls, so the failure is injected at the bridge.
    const port = await freePort('udp6');
    const failing = Object.create(bridge) as Bridge;
    let called = 0;
    failing.setSocketSecurity = () => {
      called++;
      throw new Error('injected WSASetSocketSecurity failure');
    };
    const before = openFds();
    const error = await rejection(createSecureSocket({ type: 'udp6', address: '::1', port, security: { protocol: 'ipsec' }, bridge: failing }));
    expect(error.message).toBe('injected WSASetSocketSecurity failure');
    expect(called).toBe(1);
    expect(openFds()).toBe(before);
    expect(await portIsFree('udp6', port)).toBe(true);
  });

  it('a port in use: SystemSocketError EADDRINUSE from bind, no descriptor leaked', async () => {
    const taken = await boundUdp('udp4');
    try {
      const before = openFds();
      const error = await rejection(createSecureSocket({ type: 'udp4', address: '127.0.0.1', port: taken.address().port, security: { protocol: 'ipsec' }, bridge }));
      expect(error).toBeInstanceOf(SystemSocketError);
      expect(error).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', errno: 98, address: '127.0.0.1', port: taken.address().port });
      expect(openFds()).toBe(before);
    } finally {
      closeAll(taken);
    }
  });

  it('reuseAddr: two secure sockets share an address and port (and socketHandle then refuses to guess)', async () => {
    const a = await createSecureSocket({ type: 'udp4', address: '127.0.0.1', reuseAddr: true });
    const b = await createSecureSocket({ type: 'udp4', address: '127.0.0.1', port: a.address().port, reuseAddr: true });
    try {
      expect(b.address().port).toBe(a.address().port);
      expect(catchError(() => socketHandle(a))).toMatchObject({ problem: 'ambiguous' });
    } finally {
      closeAll(a, b);
    }
  });

  it('udp6 is dual stack by default and IPv6-only with ipv6Only', async () => {
    const dual = await createSecureSocket({ type: 'udp6' });
    const only = await createSecureSocket({ type: 'udp6', ipv6Only: true });
    const client = await boundUdp('udp4');
    try {
      dual.on('message', (m, r) => dual.send(m, r.port, r.address));
      client.send('v4', dual.address().port, '127.0.0.1');
      expect(String((await once(client, 'message'))[0])).toBe('v4');
      // IPv6-only: its port is still free for IPv4.
      expect(await portIsFree('udp4', only.address().port)).toBe(true);
      expect(await portIsFree('udp4', dual.address().port)).toBe(false);
    } finally {
      closeAll(dual, only, client);
    }
  });

  it('buffer sizes reach the socket', async () => {
    const socket = await createSecureSocket({ type: 'udp4', address: '127.0.0.1', recvBufferSize: 65536, sendBufferSize: 65536 });
    try {
      expect(socket.getRecvBufferSize()).toBeGreaterThanOrEqual(65536);
      expect(socket.getSendBufferSize()).toBeGreaterThanOrEqual(65536);
    } finally {
      closeAll(socket);
    }
  });

  it('bad options: TypeError / RangeError naming the option, before any socket exists', async () => {
    const before = openFds();
    const cases: [SecureSocketOptions, ErrorConstructor, RegExp][] = [
      [{ type: 'tcp' as 'udp4' }, TypeError, /options\.type/],
      [{ type: 'udp4', address: 'localhost' }, TypeError, /options\.address/],
      [{ type: 'udp4', address: '::1' }, TypeError, /options\.address/],
      [{ type: 'udp4', port: 70000 }, RangeError, /options\.port/],
      [{ type: 'udp4', port: 1.5 }, RangeError, /options\.port/],
      [{ type: 'udp4', address: '127.0.0.1', recvBufferSize: -1 }, RangeError, /recvBufferSize/],
    ];
    for (const [options, kind, message] of cases) {
      const error = await rejection(createSecureSocket(options));
      expect(error).toBeInstanceOf(kind);
      expect(error.message).toMatch(message);
    }
    expect(await rejection(createSecureSocket(null as unknown as SecureSocketOptions))).toBeInstanceOf(TypeError);
    expect(openFds()).toBe(before);
  });

  it('invalid security settings: the codec\'s PeerTargetNameError (WSAEINVAL), no descriptor leaked', async () => {
    const before = openFds();
    const error = await rejection(createSecureSocket({ type: 'udp4', address: '127.0.0.1', security: { protocol: 7 }, bridge }));
    expect(error).toBeInstanceOf(PeerTargetNameError);
    expect(error).toMatchObject({ code: 'WSAEINVAL', field: 'settings.protocol' });
    expect(openFds()).toBe(before);
  });

  it('Node refuses a buffer size after it adopted the descriptor: rejects, and the descriptor is closed exactly once', async () => {
    // libuv refuses a size above INT_MAX (EINVAL) in bind()'s startListening, after uv_udp_open.
    const system = systemSockets();
    const open = vi.spyOn(system, 'open');
    const systemClose = system.close.bind(system);
    // Whenever the package closes the descriptor itself, a new file takes the number at once: a
    // second close, by Node, would then close that file.
    const reused: number[] = [];
    const close = vi.spyOn(system, 'close').mockImplementation((s) => {
      systemClose(s);
      reuseNumber(Number(s));
      reused.push(Number(s));
    });
    const before = openFds();
    try {
      const error = await rejection(createSecureSocket({ type: 'udp4', address: '127.0.0.1', recvBufferSize: 2 ** 31 }));
      expect(error).toMatchObject({ code: 'ERR_SOCKET_BUFFER_SIZE' });
      await settle();
      const fd = Number(open.mock.results[0].value);
      for (const r of reused) {
        expect(libc().fdFlags(r), `descriptor ${r} was closed a second time`).toBeGreaterThanOrEqual(0);
        closeSync(r);
      }
      expect(libc().fdFlags(fd)).toBe(-EBADF);
      expect(openFds()).toBe(before);
    } finally {
      open.mockRestore();
      close.mockRestore();
    }
  });
});

describe('DgramGuard finds its socket\'s handle itself', () => {
  it('without the handle option, a registration reaches the conformance library for that socket', async () => {
    const server = await boundUdp('udp4');
    const other = await boundUdp('udp4');
    const client = await boundUdp('udp4');
    const guard = new DgramGuard(server, { bridge, targetName: 'host/{address}-{port}' });
    try {
      guard.send('hello', client.address());
      const [message] = await once(client, 'message');
      expect(String(message)).toBe('hello');
      const fd = Number(guard.registry.socket);
      expect(inet(libc().sockName(fd)).port).toBe(server.address().port);
      expect(Number(native.lastSocket())).toBe(fd);
      expect(native.peerCount(fd)).toBe(1);
      expect(native.peerCount(socketHandle(other))).toBe(0);
    } finally {
      guard.close();
      closeAll(server, other, client);
    }
  });
});
