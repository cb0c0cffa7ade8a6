// The main job's server: a UDP echo server on the IPv4 and IPv6 loopback, one socket per family and
// one DgramGuard per socket, so that every peer's target name is registered before the first reply
// to it leaves. Registration can be switched off (plain echo) for the benchmark's comparison.
import dgram from 'node:dgram';
import { once } from 'node:events';
import { DgramGuard, type PeerFailure } from '../../bridge/dgram-guard.js';
import { socketHandle } from '../../bridge/sockets/socket-handle.js';
import { createSecureSocket } from '../../bridge/sockets/secure-socket.js';
import type { SocketSecuritySettingsInput } from '../../codec/security.js';
import type { Bridge } from '../../bridge/native-bridge.js';
import type { TargetNamePolicy } from '../../bridge/registry.js';
import type { SocketHandle } from '../../bridge/winsock.js';
import type { CodecOptions, ProtocolInput } from '../../codec/types.js';
import type { UdpFamily } from './crowd.js';

export interface EchoServerOptions extends CodecOptions {
  /** The native backend; absent only when `registration` is false for the server's whole life. */
  bridge?: Bridge;
  /** Register peers (default true); can be switched later with setRegistration(). */
  registration?: boolean;
  targetName: TargetNamePolicy;
  protocol?: ProtocolInput;
  /** The LRU bound of each socket's registry (default 65536). */
  maxPeers?: number;
  /** Datagrams held while their peers' registrations are pending, per socket (default 4096). */
  maxPending?: number;
  /** Default both. */
  families?: UdpFamily[];
  /** Port for both sockets (default 0: any free port each). */
  port?: number;
  /** Receive buffer asked for (default 4 MiB; the kernel may cap it). */
  recvBufferSize?: number;
  /**
   * WSASetSocketSecurity for each server socket, between socket() and bind() (createSecureSocket);
   * null: the default settings. Absent: plain dgram sockets.
   */
  security?: SocketSecuritySettingsInput | null;
}

export interface Endpoint {
  family: UdpFamily;
  address: string;
  port: number;
  socket: dgram.Socket;
  /** The socket's native handle (socketHandle: the SOCKET on Windows, the descriptor elsewhere). */
  handle: SocketHandle;
  guard: DgramGuard | undefined;
}

export interface EchoServerStats {
  /** Datagrams the server read. */
  received: number;
  /** Replies handed to the sockets (through the guards or, registration off, directly). */
  echoed: number;
  /** Registrations made (native calls that succeeded). */
  registered: number;
  /** Datagrams to peers already registered. */
  reused: number;
  /** Registrations deleted to stay within maxPeers. */
  evicted: number;
  /** Registration attempts that failed (encoding or native). */
  failed: number;
  /** Distinct peers whose registration failed at least once. */
  failedPeers: number;
  /** Datagrams not answered because their peer's registration failed. */
  refused: number;
  /** Datagrams dropped because maxPending were already waiting. */
  dropped: number;
  /** Peers registered now, over the sockets. */
  held: number;
  /** Registrations deleted by stop(). */
  deleted: number;
  batches: number;
}

export interface StopResult {
  /** Registrations deleted natively at shutdown. */
  deleted: number;
  /** The peers the native side still held per socket afterwards, when it can be asked; else null. */
  heldAtExit: number | null;
  /** Deletions that failed (the registration stays natively). */
  errors: string[];
}

const LOOPBACK: Record<UdpFamily, string> = { udp4: '127.0.0.1', udp6: '::1' };

export class EchoServer {
  readonly endpoints: Endpoint[];
  private registration: boolean;
  private readonly failedPeers = new Set<string>();
  private plainEchoed = 0;
  private received = 0;
  private deleted = 0;
  private stopped = false;

  private constructor(endpoints: Endpoint[], registration: boolean) {
    this.endpoints = endpoints;
    this.registration = registration;
  }

  static async start(options: EchoServerOptions): Promise<EchoServer> {
    const {
      bridge, registration = true, targetName, protocol = 'ipsec', maxPeers, maxPending,
      families = ['udp4', 'udp6'], port = 0, recvBufferSize = 4 << 20, security, ...codecOptions
    } = options;
    if (registration && !bridge) throw new Error('registration needs a bridge');
    const endpoints: Endpoint[] = [];
    try {
      for (const family of families) {
        let socket: dgram.Socket;
        if (security !== undefined) {
          socket = await createSecureSocket({ type: family, address: LOOPBACK[family], port, recvBufferSize, security, bridge });
        } else {
          socket = dgram.createSocket({ type: family, recvBufferSize });
          const listening = once(socket, 'listening');
          socket.bind(port, LOOPBACK[family]);
          await listening;
        }
        const endpoint: Endpoint = {
          family, address: LOOPBACK[family], port: socket.address().port, socket, handle: -1, guard: undefined,
        };
        endpoints.push(endpoint);
        if (bridge) {
          endpoint.handle = socketHandle(socket);
          endpoint.guard = new DgramGuard(socket, {
            bridge, targetName, protocol, maxPeers, maxPending, handle: endpoint.handle, ...codecOptions,
          });
        }
      }
    } catch (error) {
      for (const e of endpoints) e.socket.close();
      throw error;
    }
    const server = new EchoServer(endpoints, registration && bridge !== undefined);
    for (const e of endpoints) {
      const { socket, guard } = e;
      guard?.on('peer-error', (f: PeerFailure) => server.failedPeers.add(`${e.family}|${f.peer.address}|${f.peer.port}`));
      socket.on('message', (buffer, rinfo) => {
        const message = buffer as Uint8Array; // @types/node 20's Buffer vs TypeScript 7's Uint8Array
        server.received++;
        if (server.registration && guard) {
          guard.send(message, rinfo);
        } else {
          server.plainEchoed++;
          socket.send(message, rinfo.port, rinfo.address);
        }
      });
      // A send to a client that has gone away must not bring the server down.
      socket.on('error', () => {});
    }
    return server;
  }

  /** Registration on (replies go through the guards) or off (plain echo). */
  setRegistration(on: boolean): void {
    if (on && this.endpoints.some((e) => !e.guard)) throw new Error('this server has no bridge to register with');
    this.registration = on;
  }

  get registering(): boolean {
    return this.registration;
  }

  stats(): EchoServerStats {
    const s: EchoServerStats = {
      received: this.received, echoed: this.plainEchoed, registered: 0, reused: 0, evicted: 0, failed: 0,
      failedPeers: this.failedPeers.size, refused: 0, dropped: 0, held: 0, deleted: this.deleted, batches: 0,
    };
    for (const { guard } of this.endpoints) {
      if (!guard) continue;
      const g = guard.stats;
      s.echoed += g.sent;
      s.registered += g.registered;
      s.reused += g.reused;
      s.evicted += g.evicted;
      s.failed += g.failed;
      s.refused += g.refused;
      s.dropped += g.dropped;
      s.held += g.size;
      s.batches += g.batches;
    }
    return s;
  }

  /**
   * Stops cleanly: reads nothing more, lets the replies already handed over leave (a turn of the
   * event loop, then libuv's send queue empty, at most `drainMs`), deletes every registration the
   * guards made, asks the native side what it still holds (`peerCount`, when given), closes.
   */
  async stop(peerCount?: (handle: SocketHandle) => number, drainMs = 1000): Promise<StopResult> {
    if (this.stopped) throw new Error('the server was already stopped');
    this.stopped = true;
    for (const { socket } of this.endpoints) socket.removeAllListeners('message');
    await new Promise((r) => setImmediate(r));
    const until = Date.now() + drainMs;
    const queued = () => this.endpoints.reduce((n, e) => n + ((e.socket as unknown as { getSendQueueCount?: () => number }).getSendQueueCount?.() ?? 0), 0);
    while (queued() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 1));

    const result: StopResult = { deleted: 0, heldAtExit: peerCount ? 0 : null, errors: [] };
    for (const e of this.endpoints) {
      if (!e.guard) continue;
      const before = e.guard.registry.stats.forgotten;
      try {
        e.guard.close();
      } catch (error) {
        result.errors.push(`${e.family}: ${(error as Error).message}`);
      }
      result.deleted += e.guard.registry.stats.forgotten - before;
      if (peerCount && result.heldAtExit !== null) {
        try {
          result.heldAtExit += peerCount(e.handle);
        } catch {
          result.heldAtExit = null;
        }
      }
    }
    this.deleted += result.deleted;
    await Promise.all(this.endpoints.map((e) => new Promise<void>((r) => e.socket.close(() => r()))));
    return result;
  }
}
