// PeerRegistry: what a high-volume UDP server embeds, one per socket. ensure(peer) names a peer's
// principal the first time the peer is seen and is a map lookup afterwards; a least-recently-used
// bound deletes the oldest registrations natively. The registry owns what it holds: each input is
// read once, every registration is kept as the canonical sockaddr the codec produced, and that is
// what it deletes.
import * as L from '../generated/layout.js';
import { familyFlag, sharedCodec } from '../codec/codec.js';
import { PeerTargetNameError } from '../codec/errors.js';
import { resolveOptions, type ResolvedOptions } from '../codec/options.js';
import { withHostZones } from './zones.js';
import { formatIPv4, formatIPv6 } from '../codec/address.js';
import { compileTargetNameTemplate } from './target-name-template.js';
import { peerText } from '../codec/peer-text.js';
import type { Bridge } from './native-bridge.js';
import type { SocketHandle } from './winsock.js';
import type { CodecOptions, PeerInput, PeerObject, PeerTargetNameInput, ProtocolInput } from '../codec/types.js';

/** A peer as the target-name policy sees it: parsed and canonical. */
export interface RegistryPeer {
  family: 'ipv4' | 'ipv6';
  address: string;
  port: number;
  scopeId: number;
}

/**
 * A registration as the registry holds it: the sockaddr the codec built when the peer was
 * registered, as a frozen object (address in canonical text, no zone). Passed as it is to
 * WSADeleteSocketPeerTargetName, it encodes to exactly the bytes that were registered.
 */
export interface CanonicalPeer {
  readonly family: 'IPv4' | 'IPv6';
  readonly address: string;
  readonly port: number;
  /** IPv6 only: sin6_scope_id. */
  readonly scopeId?: number;
  /** IPv6 only: sin6_flowinfo, as registered (no part of the registration's key). */
  readonly flowInfo?: number;
}

/** An evictee whose native delete failed: no longer held (nothing is sent to it), retried later. */
export interface PendingDeletion {
  peer: CanonicalPeer;
  /** The last attempt's error. */
  error: Error;
  /** Native delete calls made for it so far. */
  attempts: number;
}

/**
 * A fixed name ('host/server.example.com'), a template with {address}, {port}, {family} and
 * {scopeId} ('host/{address}'), or a function of the peer. A template with an unknown or
 * unbalanced placeholder is refused when the registry is made (TargetNameTemplateError).
 */
export type TargetNamePolicy = string | ((peer: RegistryPeer) => string);

export interface PeerRegistryOptions extends CodecOptions {
  bridge: Bridge;
  socket: SocketHandle;
  targetName: TargetNamePolicy;
  /** Default 'ipsec'. */
  protocol?: ProtocolInput;
  /** Most peers held at once; past it the least recently used is deleted natively. Default 65536. */
  maxPeers?: number;
  /**
   * Most evictees whose native delete failed, kept for retry (default 16). While that many wait, a
   * registration that would evict is refused (PeerRegistryError, 'pending-deletions-full').
   */
  maxPendingDeletions?: number;
}

export interface PeerRegistryStats {
  /** Peers held now. */
  size: number;
  /** Successful native registrations. */
  registered: number;
  /** ensure() calls for a peer already held (and batch repeats of a peer that was registered). */
  reused: number;
  /** Registrations deleted to stay within maxPeers (counted when the native delete succeeded). */
  evicted: number;
  /** Registrations deleted by forget() or clear(). */
  forgotten: number;
  /** Peers whose reading, encoding or native call failed, or that were refused (nothing was recorded for them). */
  failed: number;
  /** Evictees whose native delete failed, waiting for a retry now (see failedDeletions). */
  pendingDeletions: number;
  /** Native delete calls that failed, in all. */
  deleteFailures: number;
}

export interface EnsureManyResult {
  registered: number;
  reused: number;
  failures: { index: number; peer: PeerInput; error: Error }[];
}

/**
 * A registration the registry refused to attempt. `code` and `errno` name the Winsock error it
 * stands for: 'pending-deletions-full' is WSAENOBUFS (maxPendingDeletions evictees still wait for
 * their native delete, so nothing more may be evicted); 'reentrant' is WSAEINPROGRESS (a
 * target-name function called back into the registry to register or delete).
 */
export class PeerRegistryError extends Error {
  readonly reason: 'pending-deletions-full' | 'reentrant';
  readonly code: 'WSAENOBUFS' | 'WSAEINPROGRESS';
  readonly errno: number;
  /** For 'pending-deletions-full': the deletions still waiting (copies). */
  readonly pending: readonly PendingDeletion[];

  constructor(reason: PeerRegistryError['reason'], message: string, pending: readonly PendingDeletion[] = []) {
    const code = reason === 'reentrant' ? 'WSAEINPROGRESS' : 'WSAENOBUFS';
    super(`${code}: ${message}`);
    this.name = 'PeerRegistryError';
    this.reason = reason;
    this.code = code;
    this.errno = reason === 'reentrant' ? 10036 : L.WSAENOBUFS;
    this.pending = pending;
  }
}

/** clear() tried every deletion; these failed (`errors` holds the same errors, in the same order). */
export class PeerRegistryClearError extends AggregateError {
  readonly failures: readonly { peer: CanonicalPeer; error: Error }[];

  constructor(failures: { peer: CanonicalPeer; error: Error }[], attempted: number) {
    super(failures.map((f) => f.error),
      `clear(): ${failures.length} of ${attempted} native deletions failed (${failures.slice(0, 3).map((f) => peerText(f.peer.address, f.peer.port, f.peer.scopeId)).join(', ')}` +
      `${failures.length > 3 ? ', …' : ''}); those peers are kept, and the next clear() tries them again`);
    this.name = 'PeerRegistryClearError';
    this.failures = failures;
  }
}

const NONE = -1;
/** An ensureMany() input whose reading threw (its failure is recorded already). */
const UNREAD: unique symbol = Symbol('unread');

function compilePolicy(policy: TargetNamePolicy): (peer: RegistryPeer) => string {
  if (typeof policy === 'function') return policy;
  if (typeof policy !== 'string') throw new TypeError('targetName must be a string, a template or a function');
  // The one template compiler (the CLI's serve checks --target-name with it too).
  return compileTargetNameTemplate(policy);
}

/**
 * The registry's own copy of an input, each field read exactly once: a string as it is, an object
 * as a plain object of its five fields (only those present), anything else as it is (the codec
 * names the error). Everything after the read works on this copy, which nobody else can change.
 */
function snapshot(peer: unknown): PeerInput {
  if (typeof peer !== 'object' || peer === null) return peer as PeerInput;
  const p = peer as PeerObject;
  return snapshotOf(p.address, p.port, p.family, p.scopeId, p.flowInfo);
}

/** @internal A peer object made of fields the caller read once (DgramGuard's snapshot). */
export function snapshotOf(address: unknown, port: unknown, family: unknown, scopeId: unknown, flowInfo: unknown): PeerObject {
  const copy = { address, port } as PeerObject;
  if (family !== undefined) copy.family = family as PeerObject['family'];
  if (scopeId !== undefined) copy.scopeId = scopeId as number;
  if (flowInfo !== undefined) copy.flowInfo = flowInfo as number;
  return copy;
}

const isNumberOrAbsent = (v: unknown) => v === undefined || typeof v === 'number';

/**
 * The key of an object spelling with a scope id or flow info, in bySpelling; undefined when its
 * port, scope id or flow info is not a number (the codec refuses it, so it can never be held).
 */
function spellingOf(address: unknown, port: unknown, scopeId: unknown, flowInfo: unknown): string | undefined {
  if (typeof address !== 'string' || typeof port !== 'number' || !isNumberOrAbsent(scopeId) || !isNumberOrAbsent(flowInfo)) return undefined;
  return `${address}|${port}|${scopeId ?? ''}|${flowInfo ?? ''}`;
}

/** One key, or several: what a slot is indexed under in one of the lookup maps. */
type Keys = string | string[] | undefined;
const withKey = (keys: Keys, key: string): Keys => (keys === undefined ? key : Array.isArray(keys) ? [...keys, key] : [keys, key]);
const keyList = (keys: Keys): readonly string[] => (keys === undefined ? [] : Array.isArray(keys) ? keys : [keys]);

/**
 * The map key of a sockaddr (the codec's bytes at `at`): one registration per key, the same
 * identity the native side keys its table by. IPv4: port and address as one number (48 bits, exact
 * in a double); IPv6: port, address and scope id as 11 UTF-16 units. Flow info is no part of it
 * (the native table does not key by it either: two spellings differing only in flow info are one
 * registration there, so here too); a slot keeps the flow info it was registered with.
 */
function addressKey(b: Uint8Array, at: number): AddressKey {
  if ((b[at] | (b[at + 1] << 8)) === L.AF_INET) {
    const a = L.SIN_ADDR + at;
    return ((b[at + 2] << 8) | b[at + 3]) * 0x1_0000_0000 + (((b[a] << 24) | (b[a + 1] << 16) | (b[a + 2] << 8) | b[a + 3]) >>> 0);
  }
  const u = (i: number) => b[at + i] | (b[at + i + 1] << 8);
  return String.fromCharCode(u(2), u(8), u(10), u(12), u(14), u(16), u(18), u(20), u(22), u(24), u(26));
}

/** sin6_flowinfo of the IPv6 sockaddr at `at` (the codec writes it in network order). */
function flowOf(b: Uint8Array, at: number): number {
  const f = at + L.SIN6_FLOWINFO;
  return ((b[f] << 24) | (b[f + 1] << 16) | (b[f + 2] << 8) | b[f + 3]) >>> 0;
}

type AddressKey = string | number;

/** The port inside an addressKey(). */
function portOfKey(key: AddressKey): number {
  if (typeof key === 'number') return Math.floor(key / 0x1_0000_0000);
  const swapped = key.charCodeAt(0); // sin6_port's big-endian bytes, read little-endian
  return ((swapped & 0xff) << 8) | (swapped >>> 8);
}

const scratch = new Uint8Array(16);

/** The sockaddr behind a key (and the flow info registered), as a frozen CanonicalPeer. */
function canonicalOfKey(key: AddressKey, flowInfo: number): CanonicalPeer {
  const port = portOfKey(key);
  if (typeof key === 'number') {
    const a = key - port * 0x1_0000_0000;
    return Object.freeze({ family: 'IPv4', address: `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`, port });
  }
  for (let i = 0; i < 8; i++) {
    const unit = key.charCodeAt(1 + i);
    scratch[2 * i] = unit & 0xff;
    scratch[2 * i + 1] = unit >>> 8;
  }
  const scopeId = (key.charCodeAt(9) | (key.charCodeAt(10) << 16)) >>> 0;
  return Object.freeze({ family: 'IPv6', address: formatIPv6(scratch, 0), port, scopeId, flowInfo });
}

/** True when `text` is the dotted quad of the 4 bytes at `at`, digit for digit (no leading zeros). */
function isDottedQuadOf(text: string, b: Uint8Array, at: number): boolean {
  let i = 0;
  const n = text.length;
  for (let k = 0; k < 4; k++) {
    if (k > 0) {
      if (i >= n || text.charCodeAt(i) !== 0x2e) return false;
      i++;
    }
    const v = b[at + k];
    if (v >= 100) {
      if (i + 3 > n || text.charCodeAt(i) !== 0x30 + ((v / 100) | 0) || text.charCodeAt(i + 1) !== 0x30 + (((v / 10) | 0) % 10) ||
        text.charCodeAt(i + 2) !== 0x30 + (v % 10)) return false;
      i += 3;
    } else if (v >= 10) {
      if (i + 2 > n || text.charCodeAt(i) !== 0x30 + ((v / 10) | 0) || text.charCodeAt(i + 1) !== 0x30 + (v % 10)) return false;
      i += 2;
    } else {
      if (i >= n || text.charCodeAt(i) !== 0x30 + v) return false;
      i++;
    }
  }
  return i === n;
}

/** A new peer of an ensureMany() batch, and the later spellings of it in the same batch (one fate). */
interface Group {
  index: number;
  peer: PeerInput;
  snap: PeerInput;
  key: AddressKey;
  flow: number;
  /** Its record's place in the batch's encode, or -1 when it failed before (error). */
  input: number;
  error: Error | undefined;
  followers: { index: number; peer: PeerInput; snap: PeerInput }[];
}

/**
 * One registry per socket.
 *
 * What it holds, and how it stays true to the native table:
 * - Each input is read exactly once, into the registry's own copy (snapshot()): a getter is called
 *   once per call, and changing the caller's object afterwards changes nothing here.
 * - A registration is kept as the canonical sockaddr the codec built from that copy (its address
 *   key, plus the flow info registered): the LRU, the evictions, forget() and clear() all work on
 *   it, and deletePeerTargetName gets a frozen CanonicalPeer that encodes to exactly those bytes.
 * - A peer is held only after its native registration succeeded, and stops being held before its
 *   native delete is made: whatever the registry holds, the native side holds.
 * - Every spelling of one sockaddr is one registration with one fate: in an ensureMany() batch the
 *   repeats of a new peer succeed or fail with its one native call.
 *
 * Eviction whose native delete fails (the policy): the evictee stops being held (so the registry
 * never holds more than maxPeers) and moves to a list of pending deletions (failedDeletions, at most
 * maxPendingDeletions, default 16), so it is never forgotten: the native side may hold up to
 * maxPeers + maxPendingDeletions registrations, never more. The list is retried one entry after each
 * successful eviction, all of it when it is full and a registration needs an eviction, on
 * retryDeletions(), and by clear(). If it is still full, that registration is refused with
 * PeerRegistryError ('pending-deletions-full', WSAENOBUFS) and nothing is called natively; known
 * peers are still served, and registrations that need no eviction still go through. A pending peer
 * that is seen again is registered afresh (the native call replaces its old registration) and
 * leaves the list. forget() of a held peer whose delete fails throws, and the peer stays held.
 *
 * clear() tries every deletion (held peers least recently used first, then the pending list),
 * keeps going past failures, and then throws PeerRegistryClearError listing each failure; the
 * peers it could not delete are kept where they were, and the next clear() tries them again.
 */
export class PeerRegistry {
  readonly socket: SocketHandle;
  readonly maxPeers: number;
  readonly maxPendingDeletions: number;
  private readonly bridge: Bridge;
  private readonly protocol: ProtocolInput;
  private readonly options: ResolvedOptions;
  private readonly nameFor: (peer: RegistryPeer) => string;
  /** The policy is a fixed name or a template (not the caller's function): it keeps no peer it is given. */
  private readonly fixedOrTemplate: boolean;
  /** The peer registerObject() hands a fixed or template policy (reused: it keeps no reference). */
  private readonly guess: RegistryPeer = { family: 'ipv4', address: '', port: 0, scopeId: 0 };
  /** Every text spelling seen for a held peer ('192.0.2.1:80', '[2001:db8::1]:500') → its slot. */
  private readonly byText = new Map<string, number>();
  /** Every object with a scope id or flow info seen for a held peer, as spellingOf() → its slot. */
  private readonly bySpelling = new Map<string, number>();
  /**
   * Plain object peers (no scope id, no flow info: an rinfo) seen for a held peer: address text →
   * its slot, or, where several ports share that text (clients behind one NAT, or all on
   * loopback), port → slot. Same text and port always make the same sockaddr, so a miss here is
   * definite.
   */
  private readonly byObject = new Map<string, number | Map<number, number>>();
  /** The sockaddr's key → slot: two spellings of one peer are one registration. */
  private readonly byAddress = new Map<AddressKey, number>();
  /** Evictees whose native delete failed, by key, oldest first (see the class comment). */
  private readonly pending = new Map<AddressKey, PendingDeletion>();
  // Slots: an LRU list in typed arrays, so touching a known peer allocates nothing.
  private prev: Int32Array;
  private next: Int32Array;
  /** Each slot's port (byObject's single-slot entries are checked against it). */
  private ports: Int32Array;
  /** Each slot's FLAG_FAMILY_IPV4 or FLAG_FAMILY_IPV6 (an object's `family` is checked against it). */
  private families: Int32Array;
  /** Each slot's registered flow info (IPv6). */
  private flows: Uint32Array;
  private addressKeys: AddressKey[] = [];
  /** Each slot's CanonicalPeer, made when first asked for. */
  private canon: (CanonicalPeer | undefined)[] = [];
  /** Per slot: its keys in byText and bySpelling, and its address texts in byObject. */
  private texts: Keys[] = [];
  private spellings: Keys[] = [];
  private objectTexts: Keys[] = [];
  private free: number[] = [];
  private head = NONE; // most recently used
  private tail = NONE; // least recently used
  private counts = { registered: 0, evicted: 0, forgotten: 0, failed: 0, deleteFailures: 0 };
  /** Kept apart from `counts`: bumped on the known-peer path, where a plain field is cheapest. */
  private reusedCount = 0;
  /** A registration, deletion or batch is under way (a target-name function may not re-enter). */
  private busy = false;

  /** @throws TargetNameTemplateError for a template with an unknown or unbalanced placeholder. */
  constructor(options: PeerRegistryOptions) {
    const { bridge, socket, targetName, protocol = 'ipsec', maxPeers = 65536, maxPendingDeletions = 16, ...codecOptions } = options;
    if (!Number.isInteger(maxPeers) || maxPeers < 1) throw new RangeError(`maxPeers must be a whole number of at least 1, got ${maxPeers}`);
    if (!Number.isInteger(maxPendingDeletions) || maxPendingDeletions < 1) {
      throw new RangeError(`maxPendingDeletions must be a whole number of at least 1, got ${maxPendingDeletions}`);
    }
    this.bridge = bridge;
    this.socket = socket;
    this.protocol = protocol;
    this.maxPeers = maxPeers;
    this.maxPendingDeletions = maxPendingDeletions;
    // Node's rinfo names a link-local zone by interface (fe80::1%eth0): translated to its index.
    this.options = withHostZones(resolveOptions(codecOptions));
    this.nameFor = compilePolicy(targetName);
    this.fixedOrTemplate = typeof targetName === 'string';
    const initial = Math.min(maxPeers + 1, 1024);
    this.prev = new Int32Array(initial);
    this.next = new Int32Array(initial);
    this.ports = new Int32Array(initial);
    this.families = new Int32Array(initial);
    this.flows = new Uint32Array(initial);
  }

  get size(): number {
    return this.byAddress.size;
  }

  get stats(): PeerRegistryStats {
    return { size: this.size, ...this.counts, reused: this.reusedCount, pendingDeletions: this.pending.size };
  }

  /** Evictees whose native delete failed and that wait for a retry, oldest first (copies). */
  get failedDeletions(): PendingDeletion[] {
    return [...this.pending.values()].map((p) => ({ ...p }));
  }

  /** True if the peer is held (does not count as a use). A peer waiting for its deletion is not. */
  has(peer: PeerInput): boolean {
    let snap;
    try {
      snap = snapshot(peer);
    } catch {
      return false; // a getter threw: not a peer
    }
    if (this.slotOf(snap) !== NONE) return true;
    try {
      return this.byAddress.has(this.canonical(snap).key);
    } catch {
      return false; // not a valid peer, so never held
    }
  }

  /**
   * Makes sure the peer's target name is registered: registers it the first time (returns true),
   * and afterwards only marks it used (returns false).
   * @throws PeerTargetNameError (bad peer or name), WinsockError (the native call failed) or
   * PeerRegistryError (refused, see the class comment); the registry is then unchanged.
   */
  ensure(peer: PeerInput): boolean {
    if (typeof peer === 'string') {
      const slot = this.byText.get(peer);
      if (slot !== undefined) {
        this.touch(slot);
        this.reusedCount++;
        return false;
      }
      return this.registerSnapshot(peer);
    }
    if (typeof peer === 'object' && peer !== null) {
      // Each field read once; from here on only these values are used.
      const address = peer.address;
      const port = peer.port;
      const family = peer.family;
      const scopeId = peer.scopeId;
      const flowInfo = peer.flowInfo;
      const slot = this.slotOfFields(address, port, family, scopeId, flowInfo);
      if (slot !== NONE) {
        this.touch(slot);
        this.reusedCount++;
        return false;
      }
      return this.registerSnapshot(snapshotOf(address, port, family, scopeId, flowInfo));
    }
    return this.registerSnapshot(peer);
  }

  /**
   * The fast half of ensure(): if the peer is held under this spelling, marks it used and returns
   * true; otherwise does nothing and returns false (no native call). Reads each field once.
   */
  reuse(peer: PeerInput): boolean {
    let slot: number;
    if (typeof peer === 'string') {
      slot = this.byText.get(peer) ?? NONE;
    } else if (typeof peer === 'object' && peer !== null) {
      slot = this.slotOfFields(peer.address, peer.port, peer.family, peer.scopeId, peer.flowInfo);
    } else {
      return false;
    }
    if (slot === NONE) return false;
    this.touch(slot);
    this.reusedCount++;
    return true;
  }

  /**
   * @internal DgramGuard's lookup, on fields it read once from the caller's object: if that
   * spelling is held, marks it used (and counts a reuse when `counted`) and returns true.
   */
  reuseFields(address: unknown, port: unknown, family: unknown, scopeId: unknown, flowInfo: unknown, counted: boolean): boolean {
    const slot = this.slotOfFields(address, port, family, scopeId, flowInfo);
    if (slot === NONE) return false;
    this.touch(slot);
    if (counted) this.reusedCount++;
    return true;
  }

  /**
   * ensure() for a peer that reuse() has just reported not held under this spelling. Same result,
   * same errors as ensure().
   */
  registerNew(peer: PeerInput): boolean {
    return this.registerSnapshot(snapshot(peer));
  }

  /** The slot the registry's own copy of a peer is held under in this spelling, or NONE. */
  private slotOf(snap: PeerInput): number {
    if (typeof snap === 'string') return this.byText.get(snap) ?? NONE;
    if (typeof snap === 'object' && snap !== null) return this.slotOfFields(snap.address, snap.port, snap.family, snap.scopeId, snap.flowInfo);
    return NONE;
  }

  /** The slot an object spelling (its fields, read once by the caller) is held under, or NONE. No side effects. */
  private slotOfFields(address: unknown, port: unknown, family: unknown, scopeId: unknown, flowInfo: unknown): number {
    let slot: number;
    if (scopeId === undefined && flowInfo === undefined) {
      // An rinfo: by address text and port, no string built.
      const entry = this.byObject.get(address as string);
      if (entry === undefined) return NONE;
      if (typeof entry === 'number') {
        if (this.ports[entry] !== port) return NONE;
        slot = entry;
      } else {
        slot = entry.get(port as number) ?? NONE;
        if (slot === NONE) return NONE;
      }
    } else {
      const spelled = spellingOf(address, port, scopeId, flowInfo);
      slot = spelled === undefined ? NONE : this.bySpelling.get(spelled) ?? NONE;
      if (slot === NONE) return NONE;
    }
    return this.familyAgrees(family, slot) ? slot : NONE;
  }

  /**
   * An object's `family`, when given, names the held sockaddr's family: one that contradicts its
   * address is not found, so that the codec refuses it as it would a new peer's (WSAEAFNOSUPPORT),
   * rather than the registry taking it for the peer.
   */
  private familyAgrees(family: unknown, slot: number): boolean {
    // rinfo's own spellings first, without the general switch.
    const flag = family === 'IPv4' ? L.FLAG_FAMILY_IPV4 : family === 'IPv6' ? L.FLAG_FAMILY_IPV6 : familyFlag(family);
    return flag === 0 || flag === this.families[slot];
  }

  /** Refuses a registration or deletion begun inside another (a target-name function calling back). */
  private enter(): void {
    if (this.busy) {
      throw new PeerRegistryError('reentrant', 'the registry is registering or deleting a peer already ' +
        '(a target-name function may not register or delete peers of its own registry)');
    }
    this.busy = true;
  }

  /**
   * ensure() for many peers; new ones are encoded together in one codec call. Each input is read
   * once, first, before anything else happens (a getter that throws fails its own peer only); the
   * repeats of a new peer in the batch (other spellings of its sockaddr) share its fate: registered
   * with it, or failed with its error.
   */
  ensureMany(peers: readonly PeerInput[]): EnsureManyResult {
    if (!Array.isArray(peers)) {
      throw new PeerTargetNameError('WSAEINVAL', 'peers', `ensureMany takes an array of peers, got ${peers === null ? 'null' : typeof peers}`, { value: peers });
    }
    const result: EnsureManyResult = { registered: 0, reused: 0, failures: [] };
    const fail = (index: number, peer: PeerInput, error: Error) => {
      this.counts.failed++;
      result.failures.push({ index, peer, error });
    };
    const n = peers.length;
    const given: PeerInput[] = new Array(n);
    const snaps: (PeerInput | typeof UNREAD)[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const peer = peers[i];
      given[i] = peer;
      try {
        snaps[i] = snapshot(peer);
      } catch (error) {
        snaps[i] = UNREAD;
        fail(i, peer, error as Error);
      }
    }
    this.enter();
    try {
      const groups = new Map<AddressKey, Group>();
      const inputs: PeerTargetNameInput[] = [];
      for (let i = 0; i < n; i++) {
        const snap = snaps[i];
        if (snap === UNREAD) continue;
        const peer = given[i];
        const slot = this.slotOf(snap);
        if (slot !== NONE) {
          this.touch(slot);
          this.reusedCount++;
          result.reused++;
          continue;
        }
        let address;
        try {
          address = this.canonical(snap);
        } catch (error) {
          fail(i, peer, error as Error);
          continue;
        }
        const held = this.byAddress.get(address.key);
        if (held !== undefined) {
          // Another spelling of a held peer.
          this.index(held, snap);
          this.touch(held);
          this.reusedCount++;
          result.reused++;
          continue;
        }
        const group = groups.get(address.key);
        if (group !== undefined) {
          // A repeat within this batch: its fate is the first one's.
          group.followers.push({ index: i, peer, snap });
          continue;
        }
        const g: Group = { index: i, peer, snap, key: address.key, flow: address.flow, input: -1, error: undefined, followers: [] };
        groups.set(address.key, g);
        try {
          inputs.push({ protocol: this.protocol, peer: snap, targetName: this.nameFor(address.peer) });
          g.input = inputs.length - 1;
        } catch (error) {
          g.error = error as Error;
        }
      }
      if (groups.size === 0) return result;
      const batch = inputs.length > 0 ? sharedCodec().encodeMany(inputs, this.options) : undefined;
      const errors = new Map(batch?.failures.map((f) => [f.index, f.error] as const));
      for (const g of groups.values()) {
        let error = g.error ?? errors.get(g.input);
        if (error === undefined) {
          try {
            this.makeRoom();
            const offset = batch!.offsets[g.input];
            this.bridge.setEncodedRecord(this.socket, batch!.bytes.subarray(offset, offset + batch!.lengths[g.input]));
          } catch (e) {
            error = e as Error;
          }
        }
        if (error !== undefined) {
          fail(g.index, g.peer, error);
          for (const f of g.followers) fail(f.index, f.peer, error);
          continue;
        }
        const slot = this.insert(g.snap, g.key, g.flow);
        result.registered++;
        for (const f of g.followers) {
          this.index(slot, f.snap);
          this.reusedCount++;
          result.reused++;
        }
        this.evictOverflow();
      }
    } finally {
      this.busy = false;
    }
    result.failures.sort((a, b) => a.index - b.index);
    return result;
  }

  /**
   * Deletes the peer's registration natively; false if it was neither held nor waiting for its
   * deletion. A failed native delete throws, and the peer stays where it was.
   */
  forget(peer: PeerInput): boolean {
    const snap = snapshot(peer);
    this.enter();
    try {
      let slot = this.slotOf(snap);
      let key: AddressKey | undefined;
      if (slot === NONE) {
        key = this.canonical(snap).key;
        slot = this.byAddress.get(key) ?? NONE;
      }
      if (slot !== NONE) {
        this.deleteNatively(this.canonicalAt(slot));
        this.remove(slot);
        this.counts.forgotten++;
        return true;
      }
      const waiting = key === undefined ? undefined : this.pending.get(key);
      if (waiting === undefined) return false;
      waiting.attempts++;
      try {
        this.deleteNatively(waiting.peer);
      } catch (error) {
        waiting.error = error as Error;
        throw error;
      }
      this.pending.delete(key!);
      this.counts.forgotten++;
      return true;
    } finally {
      this.busy = false;
    }
  }

  /**
   * Deletes every registration natively (a server's shutdown): the held peers, least recently used
   * first, then the pending deletions. Keeps going past failures; when any failed, throws
   * PeerRegistryClearError naming each, after trying all. What could not be deleted is kept (held
   * peers stay held, pending ones pending), for the next clear().
   */
  clear(): void {
    this.enter();
    const failures: { peer: CanonicalPeer; error: Error }[] = [];
    let attempted = 0;
    try {
      for (let slot = this.tail; slot !== NONE;) {
        const newer = this.prev[slot];
        const peer = this.canonicalAt(slot);
        attempted++;
        try {
          this.deleteNatively(peer);
          this.remove(slot);
          this.counts.forgotten++;
        } catch (error) {
          failures.push({ peer, error: error as Error });
        }
        slot = newer;
      }
      for (const [key, waiting] of [...this.pending]) {
        attempted++;
        waiting.attempts++;
        try {
          this.deleteNatively(waiting.peer);
          this.pending.delete(key);
          this.counts.forgotten++;
        } catch (error) {
          waiting.error = error as Error;
          failures.push({ peer: waiting.peer, error: error as Error });
        }
      }
    } finally {
      this.busy = false;
    }
    if (failures.length > 0) throw new PeerRegistryClearError(failures, attempted);
  }

  /** Tries every pending deletion again now; returns how many are still pending. */
  retryDeletions(): number {
    this.enter();
    try {
      this.retryPending(this.pending.size);
    } finally {
      this.busy = false;
    }
    return this.pending.size;
  }

  /** The held peers, most recently used first, as the registry holds them (frozen CanonicalPeers). */
  *peersByRecency(): IterableIterator<CanonicalPeer> {
    for (let s = this.head; s !== NONE; s = this.next[s]) yield this.canonicalAt(s);
  }

  /** The registration of a peer given as the registry's own copy (string or snapshot object). */
  private registerSnapshot(snap: PeerInput): boolean {
    this.enter();
    try {
      if (this.fixedOrTemplate && typeof snap === 'object' && snap !== null) {
        const done = this.registerObject(snap);
        if (done !== undefined) return done;
      }
      return this.register(snap);
    } finally {
      this.busy = false;
    }
  }

  private register(snap: PeerInput): boolean {
    let address;
    try {
      address = this.canonical(snap);
    } catch (error) {
      this.counts.failed++;
      throw error;
    }
    const held = this.byAddress.get(address.key);
    if (held !== undefined) {
      this.index(held, snap);
      this.touch(held);
      this.reusedCount++;
      return false;
    }
    try {
      const targetName = this.nameFor(address.peer);
      this.makeRoom();
      // The codec encodes the registry's own copy again: the same bytes canonical() saw.
      this.bridge.setPeerTargetName(this.socket, { protocol: this.protocol, peer: snap, targetName }, this.options);
    } catch (error) {
      this.counts.failed++;
      throw error;
    }
    this.insert(snap, address.key, address.flow);
    this.evictOverflow();
    return true;
  }

  /**
   * A new peer given as an object (an rinfo), with a fixed or template name: encoded once. The
   * name is built from the address as the caller spelled it, then the record's own PeerAddress is
   * checked to be exactly that peer in canonical form (family, port, scope id, and the address
   * text the codec's parse formats back to); the map key comes from the same bytes. Node's rinfo
   * addresses are canonical, so the check passes for them. Returns undefined, having changed
   * nothing, when it cannot vouch for the name (the address is spelled another way, or the
   * encoding failed) or when the registration would need room it must make first: register()
   * then takes the long way and names any error.
   */
  private registerObject(peer: PeerObject): boolean | undefined {
    const address = peer.address;
    if (typeof address !== 'string') return undefined;
    const v6 = address.includes(':');
    const guess = this.guess;
    guess.family = v6 ? 'ipv6' : 'ipv4';
    guess.address = address;
    guess.port = peer.port;
    guess.scopeId = v6 ? peer.scopeId ?? 0 : 0;
    let record: Uint8Array;
    try {
      record = sharedCodec().encodeInPlace({ protocol: this.protocol, peer, targetName: this.nameFor(guess) }, this.options);
    } catch {
      return undefined;
    }
    // The record is a view into the codec's memory: no codec call until the native call below.
    const at = L.OFFSET_PEER;
    if (((record[at + L.SIN_PORT] << 8) | record[at + L.SIN_PORT + 1]) !== guess.port) return undefined;
    const family = record[at] | (record[at + 1] << 8);
    if (v6) {
      const s = at + L.SIN6_SCOPE_ID;
      const scopeId = (record[s] | (record[s + 1] << 8) | (record[s + 2] << 16) | (record[s + 3] << 24)) >>> 0;
      if (family !== L.AF_INET6 || scopeId !== guess.scopeId) return undefined;
      if (formatIPv6(record, at + L.SIN6_ADDR) !== address) return undefined;
    } else if (family !== L.AF_INET || !isDottedQuadOf(address, record, at + L.SIN_ADDR)) {
      return undefined;
    }
    const key = addressKey(record, at);
    const held = this.byAddress.get(key);
    if (held !== undefined) {
      this.index(held, peer);
      this.touch(held);
      this.reusedCount++;
      return false;
    }
    // makeRoom() may retry deletions, which are codec calls: not with the record in the codec's memory.
    if (this.byAddress.size >= this.maxPeers && this.pending.size >= this.maxPendingDeletions) return undefined;
    try {
      this.bridge.setEncodedRecord(this.socket, record);
    } catch (error) {
      this.counts.failed++;
      throw error;
    }
    this.insert(peer, key, v6 ? flowOf(record, at) : 0);
    this.evictOverflow();
    return true;
  }

  /** The peer's sockaddr as the codec builds it: its key, flow info, and the parsed peer for the policy. */
  private canonical(peer: PeerInput): { key: AddressKey; flow: number; peer: RegistryPeer } {
    const storage = sharedCodec().encodePeer(peer, this.options);
    const family = storage[0] | (storage[1] << 8);
    if (family !== L.AF_INET && family !== L.AF_INET6) {
      // Only a stream socket's codec lets an absent peer through (PeerAddress all zero).
      throw new PeerTargetNameError('WSAEINVAL', 'peer',
        `a PeerRegistry keys its registrations by peer address, and ${String(peer)} has none ` +
        '(for a stream socket without a peer address, call bridge.setPeerTargetName directly)', { value: peer });
    }
    const port = (storage[2] << 8) | storage[3];
    const v6 = family === L.AF_INET6;
    const key = addressKey(storage, 0);
    const address = v6 ? formatIPv6(storage, L.SIN6_ADDR) : formatIPv4(storage, L.SIN_ADDR);
    const scopeId = v6 ? (storage[24] | (storage[25] << 8) | (storage[26] << 16) | (storage[27] << 24)) >>> 0 : 0;
    return { key, flow: v6 ? flowOf(storage, 0) : 0, peer: { family: v6 ? 'ipv6' : 'ipv4', address, port, scopeId } };
  }

  /** The slot's registration as a frozen CanonicalPeer (made once). */
  private canonicalAt(slot: number): CanonicalPeer {
    return (this.canon[slot] ??= canonicalOfKey(this.addressKeys[slot], this.flows[slot]));
  }

  private deleteNatively(peer: CanonicalPeer): void {
    try {
      this.bridge.deletePeerTargetName(this.socket, peer, this.options);
    } catch (error) {
      this.counts.deleteFailures++;
      throw error;
    }
  }

  /**
   * Before a registration: if it will evict (the registry is full) while the pending deletions
   * are at their bound, retries them all; still full, refuses (nothing was called natively).
   */
  private makeRoom(): void {
    if (this.byAddress.size < this.maxPeers || this.pending.size < this.maxPendingDeletions) return;
    this.retryPending(this.pending.size);
    if (this.pending.size < this.maxPendingDeletions) return;
    throw new PeerRegistryError('pending-deletions-full',
      `${this.pending.size} evicted peers still wait for their native deletion (maxPendingDeletions ${this.maxPendingDeletions}), ` +
      'so no registration that needs an eviction is made; known peers are still served', this.failedDeletions);
  }

  /** Tries up to `count` pending deletions, oldest first; a failure goes to the back of the list. */
  private retryPending(count: number): void {
    for (let k = 0; k < count && this.pending.size > 0; k++) {
      const [key, waiting] = this.pending.entries().next().value as [AddressKey, PendingDeletion];
      this.pending.delete(key);
      waiting.attempts++;
      try {
        this.deleteNatively(waiting.peer);
        this.counts.evicted++;
      } catch (error) {
        waiting.error = error as Error;
        this.pending.set(key, waiting);
      }
    }
  }

  /** Holds a registration that just succeeded natively; returns its slot (the caller evicts after). */
  private insert(snap: PeerInput, addressKey: AddressKey, flow: number): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.addressKeys.length;
      if (slot >= this.prev.length) this.growSlots(slot);
      this.addressKeys.push('');
      this.canon.push(undefined);
      this.texts.push(undefined);
      this.spellings.push(undefined);
      this.objectTexts.push(undefined);
    }
    this.addressKeys[slot] = addressKey;
    this.flows[slot] = flow;
    this.ports[slot] = portOfKey(addressKey);
    this.families[slot] = typeof addressKey === 'number' ? L.FLAG_FAMILY_IPV4 : L.FLAG_FAMILY_IPV6;
    this.index(slot, snap);
    this.byAddress.set(addressKey, slot);
    this.linkHead(slot);
    this.counts.registered++;
    // Registered afresh: the native call replaced the registration that waited for its deletion.
    if (this.pending.size !== 0) this.pending.delete(addressKey);
    return slot;
  }

  /**
   * Deletes the least recently used past maxPeers. The evictee stops being held first; if its
   * native delete fails it waits in the pending list (bounded: makeRoom() ran before the
   * registration that led here). After each eviction that succeeded, one pending deletion is retried.
   */
  private evictOverflow(): void {
    while (this.byAddress.size > this.maxPeers) {
      const slot = this.tail;
      const key = this.addressKeys[slot];
      const peer = this.canonicalAt(slot);
      this.remove(slot);
      try {
        this.deleteNatively(peer);
      } catch (error) {
        this.pending.set(key, { peer, error: error as Error, attempts: 1 });
        continue;
      }
      this.counts.evicted++;
      if (this.pending.size !== 0) this.retryPending(1);
    }
  }

  /**
   * Files the slot under the peer as the registry's copy spells it (a held peer's other spelling,
   * or a new peer's first): text in byText, a plain object by address text and port in byObject,
   * any other object in bySpelling.
   */
  private index(slot: number, snap: PeerInput): void {
    if (typeof snap === 'string') {
      this.byText.set(snap, slot);
      this.texts[slot] = withKey(this.texts[slot], snap);
      return;
    }
    const { address, port, scopeId, flowInfo } = snap;
    if (scopeId === undefined && flowInfo === undefined) {
      const entry = this.byObject.get(address);
      if (entry === slot || (typeof entry === 'object' && entry.get(port) === slot)) return; // filed already
      if (entry === undefined) {
        this.byObject.set(address, slot);
      } else if (typeof entry === 'number') {
        this.byObject.set(address, new Map([[this.ports[entry], entry], [this.ports[slot], slot]]));
      } else {
        entry.set(this.ports[slot], slot);
      }
      this.objectTexts[slot] = withKey(this.objectTexts[slot], address);
    } else {
      const key = spellingOf(address, port, scopeId, flowInfo);
      if (key === undefined) return; // not reached: such a peer fails to encode
      this.bySpelling.set(key, slot);
      this.spellings[slot] = withKey(this.spellings[slot], key);
    }
  }

  private remove(slot: number): void {
    for (const key of keyList(this.texts[slot])) this.byText.delete(key);
    for (const key of keyList(this.spellings[slot])) this.bySpelling.delete(key);
    for (const address of keyList(this.objectTexts[slot])) {
      const entry = this.byObject.get(address);
      if (entry === slot) {
        this.byObject.delete(address);
      } else if (typeof entry === 'object' && entry.get(this.ports[slot]) === slot) {
        entry.delete(this.ports[slot]);
        if (entry.size === 0) this.byObject.delete(address);
      }
    }
    this.byAddress.delete(this.addressKeys[slot]);
    this.unlink(slot);
    this.canon[slot] = undefined;
    this.texts[slot] = undefined;
    this.spellings[slot] = undefined;
    this.objectTexts[slot] = undefined;
    this.addressKeys[slot] = '';
    this.free.push(slot);
  }

  /** Room for slot `slot`: doubling, up to maxPeers + 1 (a new peer before the eviction it causes). */
  private growSlots(slot: number): void {
    const doubled = this.prev.length * 2;
    const size = slot < this.maxPeers + 1 ? Math.min(this.maxPeers + 1, doubled) : doubled;
    const grown = <T extends Int32Array | Uint32Array>(from: T): T => {
      const to = new (from.constructor as new (n: number) => T)(size);
      to.set(from);
      return to;
    };
    this.prev = grown(this.prev);
    this.next = grown(this.next);
    this.ports = grown(this.ports);
    this.families = grown(this.families);
    this.flows = grown(this.flows);
  }

  private touch(slot: number): void {
    // unlink + linkHead fused: the known-peer path, every datagram to a known peer comes here.
    const head = this.head;
    if (slot === head) return;
    const prev = this.prev;
    const next = this.next;
    const p = prev[slot]; // not NONE: only the head has no predecessor
    const n = next[slot];
    next[p] = n;
    if (n !== NONE) prev[n] = p; else this.tail = p;
    prev[slot] = NONE;
    next[slot] = head;
    prev[head] = slot;
    this.head = slot;
  }

  private linkHead(slot: number): void {
    this.prev[slot] = NONE;
    this.next[slot] = this.head;
    if (this.head !== NONE) this.prev[this.head] = slot;
    this.head = slot;
    if (this.tail === NONE) this.tail = slot;
  }

  private unlink(slot: number): void {
    const p = this.prev[slot];
    const n = this.next[slot];
    if (p !== NONE) this.next[p] = n; else this.head = n;
    if (n !== NONE) this.prev[n] = p; else this.tail = p;
  }
}
