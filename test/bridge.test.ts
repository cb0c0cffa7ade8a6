// The bridge, end to end on Linux: koffi calls into the Linux conformance library (a stand-in for
// Fwpuclnt.dll that applies the documented rules to real sockets), with real dgram/net sockets on
// loopback whose descriptors are the handles. Every Winsock error here comes from a real condition.
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBridge, Bridge, BridgeUnavailableError, WinsockError } from '../host/bridge.js';
import { encodePeerTargetName, PeerTargetNameError, decodePeerTargetName } from '../host/index.js';
import { goldenCases } from './golden/cases.js';
import type { Conformance } from './support/conformance.js';
import { boundUdp, closeAll, connectedUdp, fdOf, listeningTcp, unixSocket } from './support/sockets.js';
import type dgram from 'node:dgram';
import type net from 'node:net';
import { catchError } from './support/errors.js';
import { useBridgeFixture } from './support/bridge-fixture.js';

const UNIT = { auto: 0, units: 1, bytes: 2 } as const;

let native: Conformance;
let bridge: Bridge;
let udp4: dgram.Socket;
let udp6: dgram.Socket;
let tcp: net.Server;

useBridgeFixture(['udp4', 'udp6'], (f) => ({ native, bridge, udp4, udp6 } = f));
beforeAll(async () => {
  tcp = await listeningTcp();
});
afterAll(() => closeAll(tcp));

describe('the bytes native code receives', () => {
  it.each(goldenCases)('$name: equal the codec\'s, and the handle is the socket\'s descriptor', (c) => {
    const stream = c.options?.socketType === 'stream';
    const fd = stream ? fdOf(tcp) : fdOf(udp4);
    native.setLengthUnit(UNIT[c.options?.lengthUnit ?? 'auto']);
    const expected = encodePeerTargetName(c.input, c.options);
    // As an input object (encoded straight into WASM memory) and as bytes.
    bridge.setPeerTargetName(fd, c.input, c.options);
    expect(Buffer.from(native.lastBytes()).equals(Buffer.from(expected))).toBe(true);
    expect(Number(native.lastSocket())).toBe(fd);
    bridge.setPeerTargetName(BigInt(fd), expected, c.options);
    expect(Buffer.from(native.lastBytes()).equals(Buffer.from(expected))).toBe(true);
    expect(native.maxLenSeen()).toBe(expected.length);
  });

  it('registers the name for the peer in the native table', async () => {
    const fd = fdOf(udp6);
    bridge.setPeerTargetName(fd, { protocol: 'ipsec', peer: '[::1]:4500', targetName: 'host/ünïcode-😀' });
    const storage = new Uint8Array(128);
    storage.set(encodePeerTargetName({ protocol: 0, peer: '[::1]:4500', targetName: 'x' }).subarray(8, 136));
    expect(native.lookup(fd, storage)?.name).toBe('host/ünïcode-😀');
    bridge.deletePeerTargetName(fd, { address: '::1', port: 4500 });
    expect(native.lookup(fd, storage)).toBeUndefined();
  });
});

describe('refused before any native call', () => {
  it('a detached view into WASM memory is WSAEFAULT, never NULL handed to native code', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const view = new Uint8Array(memory.buffer, 0, 190);
    view.set(encodePeerTargetName({ protocol: 1, peer: '127.0.0.1:9', targetName: 'host/a.example' }));
    bridge.setPeerTargetName(fdOf(udp4), view); // live: goes through
    const calls = native.callCount();
    memory.grow(1); // detaches `view`
    const error = catchError(() => bridge.setPeerTargetName(fdOf(udp4), view));
    expect(error).toBeInstanceOf(PeerTargetNameError);
    expect(error).toMatchObject({ code: 'WSAEFAULT', errno: 10014, field: 'bytes' });
    expect(native.callCount()).toBe(calls);
  });

  it('bytes that do not validate never reach native code', () => {
    const bytes = encodePeerTargetName({ protocol: 1, peer: '127.0.0.1:9', targetName: 'host/a' });
    bytes[0] = 3;
    const calls = native.callCount();
    expect(catchError(() => bridge.setPeerTargetName(fdOf(udp4), bytes))).toMatchObject({ code: 'WSAEINVAL', field: 'protocol' });
    bytes[0] = 1;
    expect(catchError(() => bridge.setPeerTargetName(fdOf(udp4), bytes.subarray(0, 150)))).toMatchObject({ code: 'WSAEMSGSIZE', field: 'stringLength' });
    expect(catchError(() => bridge.setPeerTargetName(fdOf(udp4), { protocol: 1, peer: '127.0.0.1:0', targetName: 'x' }))).toMatchObject({ code: 'WSAEINVAL', field: 'peer.port' });
    expect(native.callCount()).toBe(calls);
  });

  it('a handle that cannot be a SOCKET is WSAENOTSOCK', () => {
    for (const handle of [-1, 1.5, 2n ** 64n, Number.NaN]) {
      expect(catchError(() => bridge.setPeerTargetName(handle as number, new Uint8Array(146)))).toMatchObject({ code: 'WSAENOTSOCK', call: 'WSASetSocketPeerTargetName' });
    }
  });
});

describe('each documented Winsock error, from a real condition', () => {
  const input = { protocol: 'ipsec' as const, peer: '127.0.0.1:4500', targetName: 'host/peer.example' };

  it('WSAENOTSOCK: a regular file\'s descriptor', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ptn-'));
    const fd = openSync(join(dir, 'file'), 'w');
    try {
      const error = catchError(() => bridge.setPeerTargetName(fd, input));
      expect(error).toBeInstanceOf(WinsockError);
      expect(error).toMatchObject({ code: 'WSAENOTSOCK', errno: 10038, call: 'WSASetSocketPeerTargetName', socket: fd, peer: '127.0.0.1:4500' });
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true });
    }
  });

  it('WSAEAFNOSUPPORT: an AF_UNIX socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ptn-'));
    const { server, client } = await unixSocket(join(dir, 'sock'));
    try {
      expect(catchError(() => bridge.setPeerTargetName(fdOf(server), input))).toMatchObject({ code: 'WSAEAFNOSUPPORT', errno: 10047 });
    } finally {
      closeAll(client, server);
      rmSync(dir, { recursive: true });
    }
  });

  it('WSAEISCONN: a connected UDP socket', async () => {
    const { socket, peer } = await connectedUdp();
    try {
      expect(catchError(() => bridge.setPeerTargetName(fdOf(socket), input))).toMatchObject({ code: 'WSAEISCONN', errno: 10056 });
    } finally {
      closeAll(socket, peer);
    }
  });

  it('WSAEINVAL: a dgram socket given a peer only a stream socket may have', () => {
    // The caller says "stream", so the codec lets port 0 through; the socket is really dgram.
    const error = catchError(() => bridge.setPeerTargetName(fdOf(udp4), { ...input, peer: '127.0.0.1:0' }, { socketType: 'stream' }));
    expect(error).toMatchObject({ code: 'WSAEINVAL', errno: 10022, peer: '127.0.0.1:0' });
  });

  it('WSAEMSGSIZE: the native side reads the string length in another unit than the caller wrote', () => {
    native.setLengthUnit(UNIT.units);
    const error = catchError(() => bridge.setPeerTargetName(fdOf(udp4), input, { lengthUnit: 'bytes' }));
    expect(error).toMatchObject({ code: 'WSAEMSGSIZE', errno: 10040 });
  });

  it('WSAEFAULT: an empty view is refused as NULL would be', () => {
    expect(catchError(() => bridge.setPeerTargetName(fdOf(udp4), new Uint8Array(0)))).toMatchObject({ code: 'WSAEFAULT', errno: 10014 });
  });

  it('a delete of a peer never named is the native side\'s WSAEINVAL', () => {
    expect(catchError(() => bridge.deletePeerTargetName(fdOf(udp4), '127.0.0.1:7'))).toMatchObject({ code: 'WSAEINVAL', call: 'WSADeleteSocketPeerTargetName' });
  });
});

describe('socket security, set before naming peers', () => {
  it('WSASetSocketSecurity then WSAQuerySocketSecurity, through the codec\'s structs', async () => {
    const socket = await boundUdp('udp4');
    try {
      const fd = fdOf(socket);
      expect(bridge.querySocketSecurity(fd)).toMatchObject({ flags: 0, flagNames: [] });
      bridge.setSocketSecurity(fd, { protocol: 'ipsec', flags: ['guarantee-encryption'] });
      const info = bridge.querySocketSecurity(fd, { protocol: 'ipsec', peer: '127.0.0.1:4500' });
      expect(info).toMatchObject({ protocol: 'ipsec', flagNames: ['SOCKET_INFO_CONNECTION_SECURED', 'SOCKET_INFO_CONNECTION_ENCRYPTED'] });
      expect(info.peerApplicationAccessTokenHandle).toBe(0n);
      bridge.setPeerTargetName(fd, { protocol: 'ipsec', peer: '127.0.0.1:4500', targetName: 'host/secured' });
    } finally {
      closeAll(socket);
    }
  });

  it('default settings (NULL) and IPsec settings with credentials', async () => {
    const socket = await boundUdp('udp6');
    try {
      bridge.setSocketSecurity(fdOf(socket));
      bridge.setSocketSecurity(fdOf(socket), { protocol: 'ipsec2', ipsec: { userName: 'svc', domainName: 'EXAMPLE', password: 'p' } });
      expect(bridge.querySocketSecurity(fdOf(socket)).protocol).toBe('ipsec2');
    } finally {
      closeAll(socket);
    }
  });

  it('bad settings are refused before the call; a bad socket is the native side\'s error', () => {
    expect(catchError(() => bridge.setSocketSecurity(fdOf(udp4), { protocol: 3 }))).toMatchObject({ code: 'WSAEINVAL', field: 'settings.protocol' });
    expect(catchError(() => bridge.setSocketSecurity(fdOf(udp4), new Uint8Array([9, 0, 0, 0, 0, 0, 0, 0])))).toMatchObject({ code: 'WSAEINVAL' });
    expect(catchError(() => bridge.querySocketSecurity(0x7fffffff))).toMatchObject({ code: 'WSAENOTSOCK', call: 'WSAQuerySocketSecurity' });
  });
});

describe('async calls', () => {
  it('1,000 concurrent registrations with distinct names all arrive intact', async () => {
    const fd = fdOf(udp4);
    const peers = Array.from({ length: 1000 }, (_, i) => ({ address: `10.0.${i >> 8}.${i & 255}`, port: 1000 + i }));
    await Promise.all(peers.map((peer, i) => bridge.setPeerTargetNameAsync(fd, { protocol: 'ipsec', peer, targetName: `host/peer-${i}-é😀.example` })));
    expect(native.peerCount(fd)).toBe(1000);
    for (let i = 0; i < 1000; i += 37) {
      const storage = new Uint8Array(128);
      storage.set(encodePeerTargetName({ protocol: 0, peer: peers[i], targetName: 'x' }).subarray(8, 136));
      expect(native.lookup(fd, storage)?.name).toBe(`host/peer-${i}-é😀.example`);
    }
  });

  it('a failing call among many reports its own error code', async () => {
    const fd = fdOf(udp4);
    native.refuseName('host/refused.example');
    const dir = mkdtempSync(join(tmpdir(), 'ptn-'));
    const file = openSync(join(dir, 'f'), 'w');
    try {
      const results = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => {
        if (i === 100) return bridge.setPeerTargetNameAsync(fd, { protocol: 1, peer: '10.9.9.9:9', targetName: 'host/refused.example' });
        if (i === 200) return bridge.setPeerTargetNameAsync(file, { protocol: 1, peer: '10.9.9.8:9', targetName: 'host/x' });
        return bridge.setPeerTargetNameAsync(fd, { protocol: 1, peer: { address: '10.1.0.1', port: 1 + i }, targetName: `host/${i}` });
      }));
      results.forEach((r, i) => {
        if (i === 100) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'WSAEINVAL', peer: '10.9.9.9:9' } });
        else if (i === 200) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'WSAENOTSOCK', socket: file } });
        else expect(r.status).toBe('fulfilled');
      });
      expect(native.peerCount(fd)).toBe(298);
    } finally {
      closeSync(file);
      rmSync(dir, { recursive: true });
    }
  });
});

describe('without a native library', () => {
  it('openBridge() says which platform it found and what to do', () => {
    const saved = process.env.PEER_TARGET_NAME_LIBRARY;
    delete process.env.PEER_TARGET_NAME_LIBRARY;
    try {
      const error = catchError(() => openBridge());
      expect(error).toBeInstanceOf(BridgeUnavailableError);
      expect(error.message).toContain(`this is ${process.platform} (${process.arch})`);
      expect(error.message).toContain('conformance library');
      expect(error.message).toContain('PEER_TARGET_NAME_LIBRARY');
    } finally {
      if (saved !== undefined) process.env.PEER_TARGET_NAME_LIBRARY = saved;
    }
  });

  it('a library that cannot be loaded is a BridgeUnavailableError, and the codec still works', () => {
    const error = catchError(() => openBridge({ library: '/nonexistent/libnothing.so' }));
    expect(error).toBeInstanceOf(BridgeUnavailableError);
    expect(error.message).toContain('/nonexistent/libnothing.so');
    const bytes = encodePeerTargetName({ protocol: 'ipsec', peer: '192.0.2.1:500', targetName: 'host/still.works' });
    expect(decodePeerTargetName(bytes).targetName).toBe('host/still.works');
  });

  it('the environment variable names the library too', () => {
    process.env.PEER_TARGET_NAME_LIBRARY = native.path;
    try {
      expect(openBridge().libraries.secureSockets).toBe(native.path);
    } finally {
      delete process.env.PEER_TARGET_NAME_LIBRARY;
    }
  });
});

