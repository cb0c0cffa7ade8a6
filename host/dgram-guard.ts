// DgramGuard: what a Node UDP server wires in to name every peer's principal before it first
// answers that peer. The first datagram to a peer leaves only after the peer's registration
// succeeded; datagrams to a peer whose registration failed are never sent. New peers that arrive
// together are registered in one batch; known peers cost a map lookup.
import { EventEmitter } from 'node:events';
import type dgram from 'node:dgram';
import { PeerRegistry, type PeerRegistryOptions, type PeerRegistryStats } from './registry.js';
import type { Bridge } from './bridge.js';
import type { SocketHandle } from './winsock.js';
import type { PeerObject } from './types.js';

export interface DgramGuardOptions extends Omit<PeerRegistryOptions, 'socket' | 'bridge' | 'socketType'> {
  bridge: Bridge;
  /** The native handle; by default the socket's own descriptor (not exposed by Node on Windows). */
  handle?: SocketHandle;
  /**
   * Most datagrams held while their peers' registrations are pending (default 4096). Past it a
   * datagram to a new peer is dropped and counted, never queued without bound.
   */
  maxPending?: number;
}

export interface DgramGuardStats extends PeerRegistryStats {
  /** Datagrams handed to the socket. */
  sent: number;
  /** Datagrams dropped because the pending queue was full. */
  dropped: number;
  /** Datagrams not sent because their peer's registration failed. */
  refused: number;
  /** Datagrams waiting for a registration now. */
  pending: number;
  /** Registration batches run. */
  batches: number;
}

/** A peer's registration failed: its datagrams were not sent. */
export interface PeerFailure {
  peer: PeerObject;
  error: Error;
  /** Datagrams to the peer that were not sent. */
  datagrams: number;
}

type SendCallback = (error: Error | null, bytes?: number) => void;

interface Waiting {
  peer: PeerObject;
  messages: { message: Uint8Array | string; callback?: SendCallback }[];
}

/** The descriptor behind a dgram socket, without touching the deprecated `_handle` getter. */
export function dgramHandle(socket: dgram.Socket): SocketHandle {
  const state = Object.getOwnPropertySymbols(socket)
    .map((s) => (socket as unknown as Record<symbol, { handle?: { fd?: number } }>)[s])
    .find((v) => v && typeof v === 'object' && 'handle' in v);
  const fd = state?.handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new Error(process.platform === 'win32'
      ? "Node does not expose a dgram socket's SOCKET handle on Windows: pass options.handle from your own native code"
      : 'the socket has no descriptor yet: bind it before guarding it');
  }
  return fd;
}

const key = (peer: PeerObject) => `${peer.address}|${peer.port}`;

export class DgramGuard extends EventEmitter {
  readonly socket: dgram.Socket;
  readonly registry: PeerRegistry;
  readonly maxPending: number;
  private waiting = new Map<string, Waiting>();
  private pendingCount = 0;
  private flushScheduled = false;
  private counts = { sent: 0, dropped: 0, refused: 0, batches: 0 };

  constructor(socket: dgram.Socket, options: DgramGuardOptions) {
    super();
    const { bridge, handle, maxPending = 4096, ...registryOptions } = options;
    this.socket = socket;
    this.maxPending = maxPending;
    this.registry = new PeerRegistry({ ...registryOptions, bridge, socket: handle ?? dgramHandle(socket), socketType: 'dgram' });
  }

  get stats(): DgramGuardStats {
    return { ...this.registry.stats, ...this.counts, pending: this.pendingCount };
  }

  /**
   * Sends `message` to `peer` (an rinfo, or any { address, port }) once the peer's target name is
   * registered: at once for a known peer, after the next registration batch for a new one.
   */
  send(message: Uint8Array | string, peer: PeerObject, callback?: SendCallback): void {
    if (this.registry.reuse(peer)) {
      this.transmit(message, peer, callback);
      return;
    }
    if (this.pendingCount >= this.maxPending) {
      this.counts.dropped++;
      this.emit('drop', peer);
      callback?.(new Error(`dropped: ${this.maxPending} datagrams already wait for registrations`));
      return;
    }
    const k = key(peer);
    let waiting = this.waiting.get(k);
    if (!waiting) {
      waiting = { peer, messages: [] };
      this.waiting.set(k, waiting);
    }
    waiting.messages.push({ message, callback });
    this.pendingCount++;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Registers every waiting peer in one batch, then sends or refuses their datagrams. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = [...this.waiting.values()];
    this.waiting = new Map();
    this.pendingCount = 0;
    if (batch.length === 0) return;
    this.counts.batches++;
    const result = this.registry.ensureMany(batch.map((w) => w.peer));
    const failed = new Map(result.failures.map((f) => [f.index, f.error] as const));
    batch.forEach((w, i) => {
      const error = failed.get(i);
      if (error) {
        this.counts.refused += w.messages.length;
        for (const m of w.messages) m.callback?.(error);
        const failure: PeerFailure = { peer: w.peer, error, datagrams: w.messages.length };
        this.emit('peer-error', failure);
        return;
      }
      this.emit('registered', w.peer);
      for (const m of w.messages) this.transmit(m.message, w.peer, m.callback);
    });
  }

  private transmit(message: Uint8Array | string, peer: PeerObject, callback?: SendCallback): void {
    this.counts.sent++;
    this.socket.send(message, peer.port, peer.address, callback);
  }

  /** Drops what waits, then deletes every registration this guard made (a clean shutdown). */
  close(): void {
    for (const w of this.waiting.values()) {
      for (const m of w.messages) m.callback?.(new Error('the guard was closed'));
    }
    this.waiting.clear();
    this.pendingCount = 0;
    this.registry.clear();
  }
}
