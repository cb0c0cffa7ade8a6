// The Windows lane's checks, run inside ONE node.exe under Wine (each Wine start costs seconds).
// Run by test/windows.test.ts with the package built (dist/) and the conformance library's Winsock
// build installed in the prefix as fwpuclnt.dll. Prints one JSON object: { arch, checks: [{ name,
// ok, detail }] }. Every check runs even when an earlier one failed.
//
//   node.exe test/windows/lane-checks.mjs <golden.json>
//   golden.json: { cases: [{ name, input, options, hex }] } (test/golden, written by the test)
import dgram from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  openBridge, socketHandle, createSecureSocket, WinsockError, SocketHandleError,
} from '../../dist/host/bridge.js';
import { encodePeerTargetName, fromHex, toHex } from '../../dist/host/index.js';
import { runDoctor } from '../../dist/host/tools/doctor.js';

const koffi = createRequire(import.meta.url)('koffi');
const checks = [];
async function check(name, run) {
  try {
    const detail = await run();
    checks.push({ name, ok: true, detail: detail ?? null });
  } catch (error) {
    checks.push({ name, ok: false, detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
}
function assert(condition, message) {
  if (!condition) throw new Error(message);
}
const json = (value) => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? String(v) : v));

// The DLL as loaded by its real name (the prefix holds our stand-in as fwpuclnt.dll), and its
// test-only exports: what it received, and its fault injection.
const dll = koffi.load('fwpuclnt.dll');
const ptn = {
  lastBytes: dll.func('uint32_t ptn_last_bytes(_Out_ uint8_t *out, uint32_t cap)'),
  lastSocket: dll.func('uintptr_t ptn_last_socket()'),
  peerCount: dll.func('uint32_t ptn_peer_count(uintptr_t s)'),
  failNext: dll.func('void ptn_fail_next(uint32_t count, int error)'),
  setLengthUnit: dll.func('int ptn_set_length_unit(int unit)'),
  reset: dll.func('void ptn_reset()'),
};
const UNIT = { auto: 0, units: 1, bytes: 2 };
function lastBytes() {
  const out = new Uint8Array(1 << 16);
  return out.slice(0, ptn.lastBytes(out, out.length));
}
const ws2 = koffi.load('ws2_32.dll');
const sys = {
  socket: ws2.func('uintptr_t __stdcall socket(int af, int type, int protocol)'),
  closesocket: ws2.func('int __stdcall closesocket(uintptr_t s)'),
  getsockname: ws2.func('int __stdcall getsockname(uintptr_t s, _Out_ uint8_t *name, _Inout_ int *namelen)'),
  lastError: ws2.func('int __stdcall WSAGetLastError()'),
};
/** getsockname's port, independently of the package. */
function portOf(handle) {
  const sa = new Uint8Array(128);
  if (sys.getsockname(handle, sa, [128]) !== 0) throw new Error(`getsockname(${handle}) failed: ${sys.lastError()}`);
  return (sa[2] << 8) | sa[3];
}
const isV6 = (peer) => (typeof peer === 'string' ? peer.startsWith('[') : peer != null && String(peer.address).includes(':'));
async function udp(type, address) {
  const socket = dgram.createSocket(type);
  socket.bind(0, address);
  await once(socket, 'listening');
  return socket;
}
const golden = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const bridge = openBridge();
const udp4 = await udp('udp4', '127.0.0.1');
const udp6 = await udp('udp6', '::1');

await check('platform', () => {
  assert(process.platform === 'win32', `platform ${process.platform}`);
  return { arch: process.arch, node: process.version, pointer: koffi.sizeof('void *') };
});

await check('openBridge() loads fwpuclnt.dll and ws2_32.dll by name', () => {
  assert(bridge.backend === 'windows', `backend ${bridge.backend}`);
  assert(bridge.libraries.secureSockets === 'fwpuclnt.dll' && bridge.libraries.winsock === 'ws2_32.dll', json(bridge.libraries));
  return bridge.libraries;
});

const handles = {};
await check('socketHandle: udp4 and udp6 give their own SOCKETs', () => {
  handles.udp4 = socketHandle(udp4);
  handles.udp6 = socketHandle(udp6);
  assert(String(handles.udp4) !== String(handles.udp6), 'the same handle for two sockets');
  assert(portOf(handles.udp4) === udp4.address().port, `udp4: getsockname port ${portOf(handles.udp4)} vs ${udp4.address().port}`);
  assert(portOf(handles.udp6) === udp6.address().port, `udp6: getsockname port ${portOf(handles.udp6)} vs ${udp6.address().port}`);
  return { udp4: String(handles.udp4), udp6: String(handles.udp6) };
});

await check('socketHandle: an unbound socket is a typed error, not a handle', () => {
  const unbound = dgram.createSocket('udp4');
  try {
    socketHandle(unbound);
    throw new Error('returned a handle');
  } catch (error) {
    assert(error instanceof SocketHandleError && error.problem === 'not-bound', `${error.name}: ${error.message}`);
  } finally {
    unbound.close();
  }
});

await check('golden vectors arrive byte-exact at fwpuclnt.dll, on the socketHandle SOCKET', () => {
  const stream = sys.socket(2, 1, 6); // an unbound, unconnected SOCK_STREAM socket for the peer-less cases
  let passed = 0;
  try {
    for (const c of golden.cases) {
      const expected = fromHex(c.hex);
      const options = c.options ?? {};
      // The DLL reads the length in the unit the case was encoded in.
      ptn.setLengthUnit(UNIT[options.lengthUnit ?? 'auto']);
      const target = options.socketType === 'stream' ? stream : isV6(c.input.peer) ? handles.udp6 : handles.udp4;
      for (const [how, what] of [['bytes', expected], ['object', c.input]]) {
        bridge.setPeerTargetName(target, what, options);
        const got = lastBytes();
        assert(toHex(got) === c.hex, `${c.name} (${how}): the DLL got ${toHex(got)}`);
        assert(String(ptn.lastSocket()) === String(target), `${c.name} (${how}): socket ${ptn.lastSocket()} vs ${target}`);
      }
      passed++;
    }
  } finally {
    ptn.setLengthUnit(UNIT.auto);
    sys.closesocket(stream);
  }
  assert(passed === golden.cases.length && passed > 0, `${passed} of ${golden.cases.length}`);
  return { vectors: passed };
});

await check('every documented error comes back through WSAGetLastError as a WinsockError', () => {
  const codes = { WSAEFAULT: 10014, WSAEINVAL: 10022, WSAENOTSOCK: 10038, WSAEMSGSIZE: 10040, WSAEAFNOSUPPORT: 10047, WSAEISCONN: 10056 };
  const input = { protocol: 'ipsec', peer: '127.0.0.1:5000', targetName: 'host/lane' };
  for (const [code, errno] of Object.entries(codes)) {
    ptn.failNext(1, errno);
    try {
      bridge.setPeerTargetName(handles.udp4, input);
      throw new Error(`${code}: no error`);
    } catch (error) {
      assert(error instanceof WinsockError && error.code === code && error.errno === errno, `${code}: got ${error.name} ${error.code} ${error.errno}`);
    }
  }
  return Object.keys(codes);
});

await check('the DLL applies the rules to real Winsock sockets: ENOTSOCK, ISCONN, MSGSIZE, EFAULT', async () => {
  const raw = dll.func('int __stdcall WSASetSocketPeerTargetName(uintptr_t s, const uint8_t *name, uint32_t len, void *o, void *c)');
  const record = encodePeerTargetName({ protocol: 'ipsec', peer: '127.0.0.1:5001', targetName: 'host/lane' });
  const seen = {};
  const closed = sys.socket(2, 2, 17);
  sys.closesocket(closed);
  seen.closed = raw(closed, record, record.byteLength, null, null) === -1 ? sys.lastError() : 0;
  seen.short = raw(handles.udp4, record.subarray(0, 100), 100, null, null) === -1 ? sys.lastError() : 0;
  seen.null = raw(handles.udp4, null, 0, null, null) === -1 ? sys.lastError() : 0;
  const connected = await udp('udp4', '127.0.0.1');
  connected.connect(udp4.address().port, '127.0.0.1');
  await once(connected, 'connect');
  try {
    bridge.setPeerTargetName(socketHandle(connected), record);
    seen.connected = 0;
  } catch (error) {
    seen.connected = error instanceof WinsockError ? error.errno : String(error);
  } finally {
    connected.close();
  }
  assert(seen.closed === 10038 && seen.short === 10040 && seen.null === 10014 && seen.connected === 10056, json(seen));
  return seen;
});

await check('async calls: 64 in flight on worker threads, each its own bytes, errors per thread', async () => {
  ptn.reset();
  const inputs = Array.from({ length: 64 }, (_, i) => ({ protocol: 'ipsec', peer: `127.0.0.1:${20000 + i}`, targetName: `host/async-${i}` }));
  await Promise.all(inputs.map((input) => bridge.setPeerTargetNameAsync(handles.udp4, input)));
  const count = ptn.peerCount(handles.udp4);
  assert(count === 64, `the DLL holds ${count} peers, not 64`);
  ptn.failNext(1, 10047);
  try {
    await bridge.setPeerTargetNameAsync(handles.udp4, inputs[0]);
    throw new Error('no error');
  } catch (error) {
    assert(error instanceof WinsockError && error.code === 'WSAEAFNOSUPPORT', `${error.name} ${error.code}`);
  }
  return { registered: count };
});

for (const type of ['udp4', 'udp6']) {
  await check(`createSecureSocket ${type}: security before bind, then an ordinary Node socket`, async () => {
    const address = type === 'udp4' ? '127.0.0.1' : '::1';
    const server = await createSecureSocket({ type, address, security: { protocol: 'ipsec' }, bridge });
    const client = await udp(type, address);
    try {
      const handle = socketHandle(server);
      assert(portOf(handle) === server.address().port, 'getsockname disagrees with address()');
      const query = bridge.querySocketSecurity(handle);
      assert(query.protocol === 'ipsec', `query says ${query.protocol}`);
      server.on('message', (m, rinfo) => {
        bridge.setPeerTargetName(handle, { protocol: 'ipsec', peer: rinfo, targetName: 'host/client' });
        server.send(Buffer.concat([Buffer.from('echo:'), m]), rinfo.port, rinfo.address);
      });
      const reply = once(client, 'message');
      client.send('ping', server.address().port, address);
      const [message] = await reply;
      assert(String(message) === 'echo:ping', `reply ${String(message)}`);
      return { address: server.address(), handle: String(handle) };
    } finally {
      client.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
}

await check('doctor: Fwpuclnt.dll by name, every function, the length unit per protocol', async () => {
  const report = await runDoctor();
  assert(report.backend.kind === 'windows', `backend ${report.backend.kind}`);
  assert(report.functions.every((f) => f.resolved), json(report.functions));
  const verdicts = Object.fromEntries(report.protocols.map((p) => [p.protocol, p.verdict]));
  return { verdicts, agrees: report.protocols.map((p) => p.autoAgrees), verdict: report.verdict };
});

udp4.close();
udp6.close();
await bridge.close();
process.stdout.write(`${json({ arch: process.arch, checks })}\n`);
