// DgramGuard: what a Node UDP server wires in to name every peer's principal before it first
// answers that peer. The first datagram to a peer leaves only after the peer's registration
// succeeded; datagrams to a peer whose registration failed are never sent. A lone new peer is
// registered within send() and answered at once; new peers that arrive together (after the first of
// their turn) are registered in one batch; known peers cost a map lookup. The invariant (no
// datagram to a peer not registered natively at that moment) lives in one method, pass(), through
// which every datagram leaves; test/guard-model.test.ts checks it by property against the
// conformance library's table, and the fuzzer's registry mode after every step.
import { EventEmitter } from 'node:events';
import type dgram from 'node:dgram';
import { PeerRegistry, snapshotOf, type PeerRegistryOptions, type PeerRegistryStats } from './registry.js';
import { PeerTargetNameError } from '../codec/errors.js';
import type { Bridge } from './native-bridge.js';
import type { SocketHandle } from './winsock.js';
import { socketHandle } from './sockets/socket-handle.js';
import type { PeerObject } from '../codec/types.js';

export interface DgramGuardOptions extends Omit<PeerRegistryOptions, 'socket' | 'bridge' | 'socketType'> {
  bridge: Bridge;
  /** The native handle; by default socketHandle(socket): its SOCKET on Windows, its descriptor elsewhere. */
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
  /** The guard's copy of the peer (its fields as read once by send()). */
  peer: PeerObject;
  error: Error;
  /** Datagrams to the peer that were not sent. */
  datagrams: number;
}

type SendCallback = (error: Error | null, bytes?: number) => void;

/** A registration gone before its datagram left (not reached in this guard: pass() would not send). */
const notHeld = () => new Error("the peer's registration was no longer held when its datagram was due");

/** Datagrams libuv holds for the socket, not yet handed to the kernel (Node >= 18.8). */
function sendQueueCount(socket: dgram.Socket): number {
  const count = (socket as unknown as { getSendQueueCount?: () => number }).getSendQueueCount;
  return typeof count === 'function' ? count.call(socket) : 0;
}

interface Waiting {
  peer: PeerObject;
  messages: { message: Uint8Array | string; callback?: SendCallback }[];
}

/** A waiting peer's key: its whole spelling (the guard's own copy, so each field is read once already). */
const key = (peer: PeerObject) => `${peer.address}|${peer.port}|${peer.family ?? ''}|${peer.scopeId ?? ''}|${peer.flowInfo ?? ''}`;

export class DgramGuard extends EventEmitter {
  readonly socket: dgram.Socket;
  readonly registry: PeerRegistry;
  readonly maxPending: number;
  private waiting = new Map<string, Waiting>();
  private pendingCount = 0;
  private flushScheduled = false;
  private flushImmediate: NodeJS.Immediate | undefined;
  private flushTimeout: NodeJS.Timeout | undefined;
  private closed = false;
  private counts = { sent: 0, dropped: 0, refused: 0, batches: 0 };

  /** @throws TargetNameTemplateError for a template with an unknown or unbalanced placeholder (as PeerRegistry). */
  constructor(socket: dgram.Socket, options: DgramGuardOptions) {
    super();
    const { bridge, handle, maxPending = 4096, ...registryOptions } = options;
    this.socket = socket;
    this.maxPending = maxPending;
    this.registry = new PeerRegistry({ ...registryOptions, bridge, socket: handle ?? socketHandle(socket), socketType: 'dgram' });
  }

  get stats(): DgramGuardStats {
    return { ...this.registry.stats, ...this.counts, pending: this.pendingCount };
  }

  /**
   * Sends `message` to `peer` (an rinfo, or any { address, port }) once the peer's target name is
   * registered: at once for a known peer; for a new one, at once after its registration when it is
   * the first new peer of this turn of the event loop, else after the turn's registration batch.
   * The peer object is read once, here (a getter is called once; changing the object afterwards
   * changes nothing); events and failures carry the guard's copy of it. A numeric `scopeId` given
   * apart from an IPv6 address is sent as its `%zone`. Never throws for a bad peer: its datagram is
   * refused (callback and 'peer-error').
   */
  send(message: Uint8Array | string, peer: PeerObject, callback?: SendCallback): void {
    if (this.closed) {
      callback?.(new Error('the guard was closed'));
      return;
    }
    if (typeof peer !== 'object' || peer === null) {
      const error = new PeerTargetNameError('WSAEINVAL', 'peer', `DgramGuard.send needs a peer object ({ address, port }, as rinfo), got ${peer === null ? 'null' : typeof peer}`, { value: peer });
      this.counts.refused++;
      callback?.(error);
      this.emit('peer-error', { peer, error, datagrams: 1 } satisfies PeerFailure);
      return;
    }
    // The caller's object is read once, here: the registry looks up, registers, and the socket
    // sends to, these values and no others.
    let address, port, family, scopeId, flowInfo;
    try {
      address = peer.address;
      port = peer.port;
      family = peer.family;
      scopeId = peer.scopeId;
      flowInfo = peer.flowInfo;
    } catch (error) {
      // A getter that throws: this datagram is refused like any other whose peer cannot be registered.
      this.refuse({ peer, messages: [{ message, callback }] }, error as Error);
      return;
    }
    if (this.pass(message, address, port, family, scopeId, flowInfo, callback, true)) return;
    const copy = snapshotOf(address, port, family, scopeId, flowInfo);
    if (!this.flushScheduled && this.registry.size < this.registry.maxPeers) {
      this.registerNow(message, copy, callback);
      return;
    }
    if (this.pendingCount >= this.maxPending) {
      this.counts.dropped++;
      this.emit('drop', copy);
      callback?.(new Error(`dropped: ${this.maxPending} datagrams already wait for registrations`));
      return;
    }
    const k = key(copy);
    let waiting = this.waiting.get(k);
    if (!waiting) {
      waiting = { peer: copy, messages: [] };
      this.waiting.set(k, waiting);
    }
    waiting.messages.push({ message, callback });
    this.pendingCount++;
    this.scheduleFlush(false);
  }

  /**
   * THE GUARD'S INVARIANT, kept here and nowhere else: a datagram is handed to the socket only
   * while the registry holds its peer under exactly the values it is sent to. The registry holds a
   * peer only after the native registration succeeded and stops holding it before the native delete
   * is made, so no datagram is ever sent to a peer that is not registered natively at that moment.
   * Every datagram the guard sends leaves through this method; false (nothing sent) when the peer
   * is not held. `counted`: a lookup for a known peer (a reuse in the stats), not the check after a
   * registration.
   */
  private pass(message: Uint8Array | string, address: unknown, port: unknown, family: unknown, scopeId: unknown, flowInfo: unknown,
    callback: SendCallback | undefined, counted: boolean): boolean {
    if (!this.registry.reuseFields(address, port, family, scopeId, flowInfo, counted)) return false;
    this.counts.sent++;
    // A scope id given apart from the address text goes with it (the registration has it): the
    // socket sends to `fe80::1%4`, not to an unscoped `fe80::1`.
    const to = scopeId !== undefined && scopeId !== 0 && typeof address === 'string' && address.includes(':') && !address.includes('%')
      ? `${address}%${scopeId as number}` : address as string;
    this.socket.send(message, port as number, to, callback);
    return true;
  }

  /** pass() for a peer the guard registered just now (its own copy). */
  private passRegistered(message: Uint8Array | string, peer: PeerObject, callback: SendCallback | undefined): boolean {
    return this.pass(message, peer.address, peer.port, peer.family, peer.scopeId, peer.flowInfo, callback, false);
  }

  /**
   * The first new peer of a turn of the event loop (the usual case when peers arrive one at a
   * time): registered here and now, its datagram handed over as soon as that succeeded, without
   * waiting for the batch (a hop through setImmediate, and every other registration of the batch).
   *
   * Safe without flush()'s two rules, because both conditions are checked by the caller:
   * - nothing waits (no flush scheduled), so this datagram overtakes no earlier one to its peer;
   * - the registry has room for one more, so this registration evicts nobody, and no datagram
   *   handed over before (still in a tick, or in libuv's queue) can lose its peer's registration.
   *
   * It schedules the turn's flush at once: new peers later in the same turn (a burst read in one
   * poll) wait for it and are registered together, as before.
   */
  private registerNow(message: Uint8Array | string, peer: PeerObject, callback?: SendCallback): void {
    // The turn's flush is due from now on (new peers wait for it); its setImmediate is made in a
    // tick queued after the send's (socket.send hands the datagram to the kernel in a tick), so
    // that making it does not delay the reply. No datagram can arrive in between: ticks run before
    // the next 'message' callback.
    this.flushScheduled = true;
    this.counts.batches++;
    try {
      this.registry.registerNew(peer);
    } catch (error) {
      process.nextTick(this.armFlush);
      this.refuse({ peer, messages: [{ message, callback }] }, error as Error);
      return;
    }
    let sent: boolean;
    try {
      sent = this.passRegistered(message, peer, callback);
    } finally {
      process.nextTick(this.armFlush); // also when socket.send threw (a closed socket): the flush stays due
    }
    if (!sent) {
      this.refuse({ peer, messages: [{ message, callback }] }, notHeld());
      return;
    }
    this.emit('registered', peer);
  }

  private scheduleFlush(later: boolean): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    if (later) this.flushTimeout = setTimeout(this.flushNow, 1);
    else this.flushImmediate = setImmediate(this.flushNow);
  }

  private readonly flushNow = () => this.flush();

  /** registerNow()'s flush, made a tick later (unless the guard was closed or flushed meanwhile). */
  private readonly armFlush = () => {
    if (this.flushScheduled && !this.closed && this.flushImmediate === undefined && this.flushTimeout === undefined) {
      this.flushImmediate = setImmediate(this.flushNow);
    }
  };

  /**
   * Registers the waiting peers in one batch, then sends or refuses their datagrams.
   *
   * Two rules keep every datagram's peer registered until the datagram has left (a registration
   * made here may evict the least recently used peer):
   * - A batch registers at most `maxPeers` new peers; the rest wait for the next turn of the event
   *   loop. (socket.send hands a datagram to the kernel only on the next tick, after this returns:
   *   a larger batch could evict its own first peers before their datagrams left.)
   * - A batch that may evict waits while libuv still queues datagrams for the socket (a full send
   *   buffer): one of them could be to the peer about to be evicted. Every datagram handed over
   *   earlier has gone through its tick by now, so an empty queue means all of them left.
   */
  private flush(): void {
    this.flushScheduled = false;
    this.flushImmediate = undefined;
    this.flushTimeout = undefined;
    if (this.waiting.size === 0 || this.closed) return;
    const room = this.registry.maxPeers;
    const take = Math.min(this.waiting.size, room);
    if (this.registry.size + take > room && sendQueueCount(this.socket) > 0) {
      this.scheduleFlush(true);
      return;
    }
    const batch: Waiting[] = [];
    for (const [k, w] of this.waiting) {
      if (batch.length === take) break;
      batch.push(w);
      this.waiting.delete(k);
      this.pendingCount -= w.messages.length;
    }
    if (this.waiting.size > 0) this.scheduleFlush(false);
    this.counts.batches++;
    const failed = new Map<number, Error>();
    if (batch.length === 1) {
      // A lone new peer (the usual case when peers arrive one at a time): the single path is
      // cheaper than a batch of one, and first-contact latency is what it costs.
      try {
        this.registry.ensure(batch[0].peer);
      } catch (error) {
        failed.set(0, error as Error);
      }
    } else {
      for (const f of this.registry.ensureMany(batch.map((w) => w.peer)).failures) failed.set(f.index, f.error);
    }
    // Every datagram first (no caller code runs in between: callbacks and events come after), so
    // that nothing can delete a registration between its check in pass() and the send.
    const outcomes: (Error | undefined)[] = batch.map((w, i) => {
      const error = failed.get(i);
      if (error) return error;
      const refusedHere = w.messages.filter((m) => !this.passRegistered(m.message, w.peer, m.callback));
      if (refusedHere.length === 0) return undefined;
      w.messages = refusedHere;
      return notHeld();
    });
    batch.forEach((w, i) => {
      const error = outcomes[i];
      if (error) this.refuse(w, error);
      else this.emit('registered', w.peer);
    });
  }

  /** The datagrams of a peer whose registration failed: not sent, each callback told, one event. */
  private refuse(w: Waiting, error: Error): void {
    this.counts.refused += w.messages.length;
    for (const m of w.messages) m.callback?.(error);
    const failure: PeerFailure = { peer: w.peer, error, datagrams: w.messages.length };
    this.emit('peer-error', failure);
  }

  /**
   * Drops what waits, then deletes every registration this guard made (a clean shutdown). The
   * guard sends nothing afterwards. A datagram handed to the socket just before may still be on its
   * way out: stop feeding the guard and let a turn of the event loop pass first (the main job does).
   */
  close(): void {
    this.closed = true;
    if (this.flushImmediate !== undefined) clearImmediate(this.flushImmediate);
    if (this.flushTimeout !== undefined) clearTimeout(this.flushTimeout);
    this.flushImmediate = undefined;
    this.flushTimeout = undefined;
    this.flushScheduled = false;
    for (const w of this.waiting.values()) {
      for (const m of w.messages) m.callback?.(new Error('the guard was closed'));
    }
    this.waiting.clear();
    this.pendingCount = 0;
    this.registry.clear();
  }
}
