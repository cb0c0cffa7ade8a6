// The catalogue of bad inputs: one table, each case named, run through the API, the CLI or the
// bridge, with the exact error it must give (code, field, a fragment of the message).
import { Readable } from 'node:stream';
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../host/tools/cli.js';
import {
  encodePeerTargetName, decodePeerTargetName, validatePeerTargetName, encodePeerTargetNames,
  fromHex, toHex, PeerTargetNameError,
} from '../host/index.js';
import { openBridge, WinsockError, type Bridge } from '../host/bridge.js';
import { loadConformance } from './support/conformance.js';
import { boundUdp, closeAll, connectedUdp, fdOf } from './support/sockets.js';
import type dgram from 'node:dgram';

type Via = 'api' | 'cli' | 'bridge';
interface Case {
  name: string;
  via: Via;
  run: () => unknown | Promise<unknown>;
  code: string;
  field?: string;
  fragment: string;
}

const good = { protocol: 'ipsec' as const, peer: '192.0.2.10:4500', targetName: 'host/server.example.com' };
const goodBytes = () => encodePeerTargetName(good);
const patched = (offset: number, value: number, width: 1 | 2 | 4 = 4) => {
  const b = goodBytes();
  const view = new DataView(b.buffer);
  if (width === 4) view.setUint32(offset, value, true);
  else if (width === 2) view.setUint16(offset, value, true);
  else b[offset] = value;
  return b;
};
const hexOf = (b: Uint8Array) => toHex(b);

let bridge: Bridge;
let udp: dgram.Socket;
let connected: { socket: dgram.Socket; peer: dgram.Socket };
let tmp: string;
let fileFd: number;

/** Runs the CLI in-process; a rule error must come back as exit 1 with stderr's first line. */
async function cli(args: string[]): Promise<never> {
  let stderr = '';
  const status = await main(args, {
    stdout: { write: () => true },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from([]),
  });
  const first = stderr.split('\n')[0];
  const [code, field] = first.split(': ');
  throw Object.assign(new Error(first.slice(`${code}: ${field}: `.length)), { code, field, status });
}

const cases: Case[] = [
  // ---- API: encode ----
  { name: 'protocol 3', via: 'api', run: () => encodePeerTargetName({ ...good, protocol: 3 }), code: 'WSAEINVAL', field: 'protocol', fragment: '3 is not a SOCKET_SECURITY_PROTOCOL' },
  { name: 'protocol -1', via: 'api', run: () => encodePeerTargetName({ ...good, protocol: -1 }), code: 'WSAEINVAL', field: 'protocol', fragment: '-1 is not a protocol' },
  { name: 'protocol NaN', via: 'api', run: () => encodePeerTargetName({ ...good, protocol: NaN }), code: 'WSAEINVAL', field: 'protocol', fragment: 'NaN' },
  { name: "protocol 'IPSEC' (case matters)", via: 'api', run: () => encodePeerTargetName({ ...good, protocol: 'IPSEC' as 'ipsec' }), code: 'WSAEINVAL', field: 'protocol', fragment: '"IPSEC"' },
  { name: 'protocol 2^32', via: 'api', run: () => encodePeerTargetName({ ...good, protocol: 2 ** 32 }), code: 'WSAEINVAL', field: 'protocol', fragment: '4294967296' },
  { name: 'no input', via: 'api', run: () => encodePeerTargetName(null as never), code: 'WSAEFAULT', field: 'input', fragment: 'got null' },
  { name: 'no peer on a dgram socket', via: 'api', run: () => encodePeerTargetName({ ...good, peer: undefined }), code: 'WSAEINVAL', field: 'peer', fragment: 'needs a peer address and port' },
  { name: 'port 0', via: 'api', run: () => encodePeerTargetName({ ...good, peer: '192.0.2.10:0' }), code: 'WSAEINVAL', field: 'peer.port', fragment: 'port 0 is not a valid peer port' },
  { name: 'port 65536 in text', via: 'api', run: () => encodePeerTargetName({ ...good, peer: '192.0.2.10:65536' }), code: 'WSAEINVAL', field: 'peer.port', fragment: 'out of range' },
  { name: 'port 70000 in an object', via: 'api', run: () => encodePeerTargetName({ ...good, peer: { address: '192.0.2.10', port: 70000 } }), code: 'WSAEINVAL', field: 'peer.port', fragment: 'port 70000 is out of range' },
  { name: 'port 1.5', via: 'api', run: () => encodePeerTargetName({ ...good, peer: { address: '192.0.2.10', port: 1.5 } }), code: 'WSAEINVAL', field: 'peer.port', fragment: '1.5 is not a port' },
  { name: 'port as a string', via: 'api', run: () => encodePeerTargetName({ ...good, peer: { address: '192.0.2.10', port: '80' as never } }), code: 'WSAEINVAL', field: 'peer.port', fragment: '80 is not a port' },
  { name: 'unspecified 0.0.0.0', via: 'api', run: () => encodePeerTargetName({ ...good, peer: '0.0.0.0:500' }), code: 'WSAEINVAL', field: 'peer.address', fragment: 'unspecified address' },
  { name: 'unspecified ::', via: 'api', run: () => encodePeerTargetName({ ...good, peer: '[::]:500' }), code: 'WSAEINVAL', field: 'peer.address', fragment: 'unspecified address' },
  { name: 'IPv6 without brackets', via: 'api', run: () => encodePeerTargetName({ ...good, peer: '2001:db8::1:500' }), code: 'WSAEINVAL', field: 'peer', fragment: 'goes in brackets' },
  { name: 'no port', via: 'api', run: () => encodePeerTargetName({ ...good, peer: '192.0.2.10' }), code: 'WSAEINVAL', field: 'peer', fragment: "is not 'address:port'" },
  { name: 'a host name', via: 'api', run: () => encodePeerTargetName({ ...good, peer: 'localhost:80' }), code: 'WSAEINVAL', field: 'peer.address', fragment: 'host names are not resolved' },
  { name: 'leading zero in IPv4', via: 'api', run: () => encodePeerTargetName({ ...good, peer: '192.0.02.10:80' }), code: 'WSAEINVAL', field: 'peer.address', fragment: 'not an IPv4 or IPv6 address' },
  { name: 'IPv4 in brackets', via: 'api', run: () => encodePeerTargetName({ ...good, peer: '[192.0.2.10]:80' }), code: 'WSAEINVAL', field: 'peer', fragment: "is not 'address:port'" },
  { name: 'named zone', via: 'api', run: () => encodePeerTargetName({ ...good, peer: '[fe80::1%eth0]:500' }), code: 'WSAEINVAL', field: 'peer.address', fragment: 'named zone' },
  { name: 'zone over 2^32-1', via: 'api', run: () => encodePeerTargetName({ ...good, peer: '[fe80::1%4294967296]:500' }), code: 'WSAEINVAL', field: 'peer.address', fragment: 'larger than 4294967295' },
  { name: 'zone and scopeId disagree', via: 'api', run: () => encodePeerTargetName({ ...good, peer: { address: 'fe80::1%7', port: 5, scopeId: 8 } }), code: 'WSAEINVAL', field: 'peer.scopeId', fragment: 'disagrees with the zone %7' },
  { name: 'scopeId on IPv4', via: 'api', run: () => encodePeerTargetName({ ...good, peer: { address: '192.0.2.1', port: 5, scopeId: 3 } }), code: 'WSAEINVAL', field: 'peer.scopeId', fragment: 'sockaddr_in has no scope id' },
  { name: 'flowInfo on IPv4', via: 'api', run: () => encodePeerTargetName({ ...good, peer: { address: '192.0.2.1', port: 5, flowInfo: 9 } }), code: 'WSAEINVAL', field: 'peer.flowInfo', fragment: 'no flow information' },
  { name: 'family IPv6 for an IPv4 address', via: 'api', run: () => encodePeerTargetName({ ...good, peer: { address: '192.0.2.1', port: 5, family: 'IPv6' } }), code: 'WSAEAFNOSUPPORT', field: 'peer.family', fragment: 'is an IPv4 address' },
  { name: 'family IPX', via: 'api', run: () => encodePeerTargetName({ ...good, peer: { address: '192.0.2.1', port: 5, family: 'IPX' } }), code: 'WSAEAFNOSUPPORT', field: 'peer.family', fragment: '"IPX" is not an address family' },
  { name: 'peer text of 200 characters', via: 'api', run: () => encodePeerTargetName({ ...good, peer: '1'.repeat(200) }), code: 'WSAEINVAL', field: 'peer', fragment: '200 characters' },
  { name: 'object address of 200 characters', via: 'api', run: () => encodePeerTargetName({ ...good, peer: { address: 'f'.repeat(200), port: 1 } }), code: 'WSAEINVAL', field: 'peer.address', fragment: '200 characters' },
  { name: 'empty target name', via: 'api', run: () => encodePeerTargetName({ ...good, targetName: '' }), code: 'WSAEINVAL', field: 'targetName', fragment: 'empty' },
  { name: 'U+0000 in the name', via: 'api', run: () => encodePeerTargetName({ ...good, targetName: 'host/a\0b' }), code: 'WSAEINVAL', field: 'targetName', fragment: 'U+0000 at index 6' },
  { name: 'lone high surrogate', via: 'api', run: () => encodePeerTargetName({ ...good, targetName: 'host/\ud83d' }), code: 'WSAEINVAL', field: 'targetName', fragment: 'unpaired surrogate U+D83D at index 5' },
  { name: 'lone low surrogate', via: 'api', run: () => encodePeerTargetName({ ...good, targetName: '\ude00host' }), code: 'WSAEINVAL', field: 'targetName', fragment: 'unpaired surrogate U+DE00 at index 0' },
  { name: 'name over the maximum', via: 'api', run: () => encodePeerTargetName({ ...good, targetName: 'x'.repeat(1025) }), code: 'WSAEINVAL', field: 'targetName', fragment: '1025 UTF-16 units is longer than the maximum of 1024' },
  // Found by the fuzzer: the codec once zeroed a too-long record's bytes before checking its length.
  { name: 'name of 31,755 units with the default maximum', via: 'api', run: () => encodePeerTargetName({ ...good, targetName: 'y'.repeat(31755) }, { lengthUnit: 'bytes', socketType: 'stream' }), code: 'WSAEINVAL', field: 'targetName', fragment: '31755 UTF-16 units' },
  { name: 'name of 40,000 units even with the hard maximum', via: 'api', run: () => encodePeerTargetName({ ...good, targetName: 'x'.repeat(40000) }, { maxTargetNameLength: 32767 }), code: 'WSAEINVAL', field: 'targetName', fragment: '40000 UTF-16 units' },
  { name: 'target name not a string', via: 'api', run: () => encodePeerTargetName({ ...good, targetName: 42 as never }), code: 'WSAEINVAL', field: 'targetName', fragment: 'expected a string' },
  { name: "lengthUnit 'chars'", via: 'api', run: () => encodePeerTargetName(good, { lengthUnit: 'chars' as never }), code: 'WSAEINVAL', field: 'options.lengthUnit', fragment: '"chars" is not a length unit' },
  { name: "socketType 'raw'", via: 'api', run: () => encodePeerTargetName(good, { socketType: 'raw' as never }), code: 'WSAEINVAL', field: 'options.socketType', fragment: '"raw" is not a socket type' },
  { name: 'maxTargetNameLength 32768', via: 'api', run: () => encodePeerTargetName(good, { maxTargetNameLength: 32768 }), code: 'WSAEINVAL', field: 'options.maxTargetNameLength', fragment: 'UNICODE_STRING' },
  { name: 'a failed record in a batch', via: 'api', run: () => { throw encodePeerTargetNames([good, { ...good, peer: '1.2.3.4:0' }]).error(1); }, code: 'WSAEINVAL', field: 'peer.port', fragment: 'port 0' },

  // ---- API: decode ----
  { name: 'decode null', via: 'api', run: () => decodePeerTargetName(null as never), code: 'WSAEFAULT', field: 'bytes', fragment: 'no buffer' },
  { name: 'decode a string', via: 'api', run: () => decodePeerTargetName('0100' as never), code: 'WSAEFAULT', field: 'bytes', fragment: 'expected a Uint8Array' },
  { name: 'decode 143 bytes', via: 'api', run: () => decodePeerTargetName(new Uint8Array(143)), code: 'WSAEMSGSIZE', field: 'length', fragment: '143 bytes is shorter than sizeof(SOCKET_PEER_TARGET_NAME), 144' },
  { name: 'decode protocol 3', via: 'api', run: () => decodePeerTargetName(patched(0, 3)), code: 'WSAEINVAL', field: 'protocol', fragment: '3 is not a SOCKET_SECURITY_PROTOCOL' },
  { name: 'decode Linux AF_INET6 (10)', via: 'api', run: () => decodePeerTargetName(patched(8, 10, 2)), code: 'WSAEAFNOSUPPORT', field: 'peer.family', fragment: 'address family 10' },
  { name: 'decode string length beyond the buffer', via: 'api', run: () => decodePeerTargetName(patched(136, 500)), code: 'WSAEMSGSIZE', field: 'stringLength', fragment: 'needs 1140 bytes, but the buffer has 190' },
  { name: 'decode odd byte length (ipsec2)', via: 'api', run: () => decodePeerTargetName(patched(136, 45), { lengthUnit: 'bytes' }), code: 'WSAEINVAL', field: 'stringLength', fragment: '45 is odd' },
  { name: 'decode non-zero padding', via: 'api', run: () => decodePeerTargetName(patched(5, 0xaa, 1)), code: 'WSAEINVAL', field: 'padding', fragment: 'byte 5 is 0xaa' },
  { name: 'decode non-zero sin_zero', via: 'api', run: () => decodePeerTargetName(patched(20, 1, 1)), code: 'WSAEINVAL', field: 'peer', fragment: 'byte 20 is 0x01' },
  { name: 'decode a tail that is not zero', via: 'api', run: () => decodePeerTargetName(patched(187, 7, 1)), code: 'WSAEINVAL', field: 'tail', fragment: 'byte 187 is 0x07' },
  { name: 'decode a lone surrogate', via: 'api', run: () => decodePeerTargetName(patched(142, 0xd800, 2)), code: 'WSAEINVAL', field: 'targetName', fragment: 'unpaired surrogate at index 1' },
  { name: 'validate reports the first of several', via: 'api', run: () => { const r = validatePeerTargetName(patched(0, 9)); throw r.ok ? new Error('ok') : r.error; }, code: 'WSAEINVAL', field: 'protocol', fragment: '9 is not' },
  { name: 'hex with a non-hex digit', via: 'api', run: () => fromHex('01zz'), code: 'WSAEINVAL', field: 'hex', fragment: '"z" is not a hex digit' },

  // ---- CLI ----
  { name: 'cli: decode protocol 3', via: 'cli', run: () => cli(['decode', hexOf(patched(0, 3))]), code: 'WSAEINVAL', field: 'protocol', fragment: '3 is not a SOCKET_SECURITY_PROTOCOL' },
  { name: 'cli: encode port 0', via: 'cli', run: () => cli(['encode', '--protocol', 'ipsec', '--peer', '1.2.3.4:0', '--name', 'x']), code: 'WSAEINVAL', field: 'peer.port', fragment: 'port 0 is not a valid peer port' },
  { name: 'cli: encode an empty name', via: 'cli', run: () => cli(['encode', '--protocol', 'ipsec', '--peer', '1.2.3.4:5', '--name', '']), code: 'WSAEINVAL', field: 'targetName', fragment: 'empty' },
  { name: 'cli: decode a short buffer', via: 'cli', run: () => cli(['decode', '0100']), code: 'WSAEMSGSIZE', field: 'length', fragment: '2 bytes is shorter' },
  { name: 'cli: validate family 5', via: 'cli', run: () => cli(['validate', hexOf(patched(8, 5, 2))]), code: 'WSAEAFNOSUPPORT', field: 'peer.family', fragment: 'address family 5' },
  { name: 'cli: validate a dgram buffer with no peer', via: 'cli', run: () => cli(['validate', hexOf(encodePeerTargetName({ protocol: 1, targetName: 'x' }, { socketType: 'stream' }))]), code: 'WSAEINVAL', field: 'peer', fragment: 'needs a peer' },

  // ---- bridge ----
  { name: 'bridge: a regular file', via: 'bridge', run: () => bridge.setPeerTargetName(fileFd, good), code: 'WSAENOTSOCK', fragment: 'the handle is not a socket' },
  { name: 'bridge: a connected socket', via: 'bridge', run: () => bridge.setPeerTargetName(fdOf(connected.socket), good), code: 'WSAEISCONN', fragment: 'already connected' },
  { name: 'bridge: a negative handle', via: 'bridge', run: () => bridge.setPeerTargetName(-1, good), code: 'WSAENOTSOCK', fragment: 'socket -1' },
  { name: 'bridge: an empty view', via: 'bridge', run: () => bridge.setPeerTargetName(fdOf(udp), new Uint8Array(0)), code: 'WSAEFAULT', field: 'bytes', fragment: 'koffi would pass NULL' },
  { name: 'bridge: bytes that do not validate', via: 'bridge', run: () => bridge.setPeerTargetName(fdOf(udp), patched(0, 3)), code: 'WSAEINVAL', field: 'protocol', fragment: '3 is not' },
  { name: 'bridge: delete a peer never named', via: 'bridge', run: () => bridge.deletePeerTargetName(fdOf(udp), '192.0.2.99:9'), code: 'WSAEINVAL', fragment: 'WSADeleteSocketPeerTargetName' },
];

beforeAll(async () => {
  const native = loadConformance();
  bridge = openBridge({ library: native.path });
  udp = await boundUdp();
  connected = await connectedUdp();
  tmp = mkdtempSync(join(tmpdir(), 'ptn-catalogue-'));
  fileFd = openSync(join(tmp, 'not-a-socket'), 'w');
});
afterAll(async () => {
  await bridge.close();
  closeAll(udp, connected.socket, connected.peer);
  closeSync(fileFd);
  rmSync(tmp, { recursive: true });
});

describe('the catalogue of bad inputs', () => {
  it('has at least 40 cases, across the API, the CLI and the bridge', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(new Set(cases.map((c) => c.via))).toEqual(new Set(['api', 'cli', 'bridge']));
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases)('$via: $name → $code $field', async (c) => {
    let error: unknown;
    try {
      await c.run();
    } catch (e) {
      error = e;
    }
    expect(error, 'no error was raised').toBeDefined();
    const e = error as { code: string; field?: string; message: string; status?: number };
    expect(e.code).toBe(c.code);
    if (c.field !== undefined) expect(e.field).toBe(c.field);
    expect(e.message).toContain(c.fragment);
    if (c.via === 'cli') expect(e.status).toBe(1);
    if (c.via === 'api') expect(error).toBeInstanceOf(PeerTargetNameError);
    if (c.via === 'bridge') expect(error instanceof WinsockError || error instanceof PeerTargetNameError).toBe(true);
  });
});
