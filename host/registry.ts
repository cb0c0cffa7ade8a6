// PeerRegistry: what a high-volume UDP server embeds, one per socket. ensure(peer) names a peer's
// principal the first time the peer is seen and is a map lookup afterwards; a least-recently-used
// bound deletes the oldest registrations natively; the registry always mirrors what the native
// side holds, because it changes only after a native call succeeded.
import * as L from './generated/layout.js';
import { familyFlag, sharedCodec } from './codec.js';
import { PeerTargetNameError } from './errors.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { formatIPv4, formatIPv6 } from './address.js';
import type { Bridge } from './native-bridge.js';
import type { SocketHandle } from './winsock.js';
import type { CodecOptions, PeerInput, PeerObject, PeerTargetNameInput, ProtocolInput } from './types.js';

/** A peer as the target-name policy sees it: parsed and canonical. */
export interface RegistryPeer {
  family: 'ipv4' | 'ipv6';
  address: string;
  port: number;
  scopeId: number;
}

/**
 * A fixed name ('host/server.example.com'), a template with {address}, {port}, {family} and
 * {scopeId} ('host/{address}'), or a function of the peer.
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
}

export interface PeerRegistryStats {
  /** Peers held now. */
  size: number;
  /** Successful native registrations. */
  registered: number;
  /** ensure() calls for a peer already held. */
  reused: number;
  /** Registrations deleted to stay within maxPeers. */
  evicted: number;
  /** Registrations deleted by forget() or clear(). */
  forgotten: number;
  /** Peers whose encoding or native call failed (nothing was recorded for them). */
  failed: number;
}

export interface EnsureManyResult {
  registered: number;
  reused: number;
  failures: { index: number; peer: PeerInput; error: Error }[];
}

const NONE = -1;

function compilePolicy(policy: TargetNamePolicy): (peer: RegistryPeer) => string {
  if (typeof policy === 'function') return policy;
  if (typeof policy !== 'string') throw new TypeError('targetName must be a string, a template or a function');
  if (!policy.includes('{')) return () => policy;
  const parts = policy.split(/(\{(?:address|port|family|scopeId)\})/);
  return (peer) => {
    let name = '';
    for (const part of parts) {
      switch (part) {
        case '{address}': name += peer.address; break;
        case '{port}': name += peer.port; break;
        case '{family}': name += peer.family; break;
        case '{scopeId}': name += peer.scopeId; break;
        default: name += part;
      }
    }
    return name;
  };
}

/**
 * An object peer found by its address text and port alone: no scope id, no flow info (what Node's
 * rinfo is). Such peers are looked up without building a string (byObject); every other spelling
 * goes through spelling().
 */
function isPlainObject(peer: PeerInput | null | undefined): peer is PeerObject {
  return typeof peer === 'object' && peer !== null && peer.scopeId === undefined && peer.flowInfo === undefined;
}

const isNumberOrAbsent = (v: unknown) => v === undefined || typeof v === 'number';

/**
 * The key of an object peer with a scope id or flow info, in bySpelling; undefined when its port,
 * scope id or flow info is not a number (the codec refuses it, so it can never be held).
 */
function spelling(peer: PeerObject): string | undefined {
  const { address, port, scopeId, flowInfo } = peer;
  if (typeof address !== 'string' || typeof port !== 'number' || !isNumberOrAbsent(scopeId) || !isNumberOrAbsent(flowInfo)) return undefined;
  return `${address}|${port}|${scopeId ?? ''}|${flowInfo ?? ''}`;
}

/** One key, or several: what a slot is indexed under in one of the lookup maps. */
type Keys = string | string[] | undefined;
const withKey = (keys: Keys, key: string): Keys => (keys === undefined ? key : Array.isArray(keys) ? [...keys, key] : [keys, key]);
const keyList = (keys: Keys): readonly string[] => (keys === undefined ? [] : Array.isArray(keys) ? keys : [keys]);

/**
 * The map key of a sockaddr (the codec's bytes at `at`): one registration per key. IPv4: family,
 * port and address as one number (48 bits, exact in a double); IPv6: port, flow info, address and
 * scope id as 13 UTF-16 units. No spread, no intermediate array: a new peer builds one key.
 */
function addressKey(b: Uint8Array, at: number): AddressKey {
  if ((b[at] | (b[at + 1] << 8)) === L.AF_INET) {
    const a = L.SIN_ADDR + at;
    return ((b[at + 2] << 8) | b[at + 3]) * 0x1_0000_0000 + (((b[a] << 24) | (b[a + 1] << 16) | (b[a + 2] << 8) | b[a + 3]) >>> 0);
  }
  const u = (i: number) => b[at + i] | (b[at + i + 1] << 8);
  return String.fromCharCode(u(2), u(4), u(6), u(8), u(10), u(12), u(14), u(16), u(18), u(20), u(22), u(24), u(26));
}

type AddressKey = string | number;

/** The port inside an addressKey(). */
function portOfKey(key: AddressKey): number {
  if (typeof key === 'number') return Math.floor(key / 0x1_0000_0000);
  const swapped = key.charCodeAt(0); // sin6_port's big-endian bytes, read little-endian
  return ((swapped & 0xff) << 8) | (swapped >>> 8);
}

/**
 * The 16 address bytes at `at` as formatIPv6 writes them (RFC 5952: lower case, no leading zeros,
 * the longest run of two or more zero groups as '::', the first on a tie, mapped IPv4 dotted),
 * without its arrays: a new IPv6 peer checks its address text against it.
 */
export function ipv6Text(b: Uint8Array, at: number): string {
  const g = (i: number) => (b[at + 2 * i] << 8) | b[at + 2 * i + 1];
  if (g(0) === 0 && g(1) === 0 && g(2) === 0 && g(3) === 0 && g(4) === 0 && g(5) === 0xffff) {
    return `::ffff:${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (g(i) !== 0) { i++; continue; }
    let j = i + 1;
    while (j < 8 && g(j) === 0) j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += '::';
      i += bestLength - 1;
      continue;
    }
    if (text.length > 0 && i !== bestStart + bestLength) text += ':';
    text += g(i).toString(16);
  }
  return text;
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

export class PeerRegistry {
  readonly socket: SocketHandle;
  readonly maxPeers: number;
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
  /** Every object with a scope id or flow info seen for a held peer, as spelling() → its slot. */
  private readonly bySpelling = new Map<string, number>();
  /**
   * Plain object peers (isPlainObject: an rinfo) seen for a held peer: address text → its slot, or,
   * where several ports share that text (clients behind one NAT, or all on loopback), port → slot.
   * Same text and port always make the same sockaddr, so a miss here is definite.
   */
  private readonly byObject = new Map<string, number | Map<number, number>>();
  /** The sockaddr's bytes (as a string) → slot: two spellings of one peer are one registration. */
  private readonly byAddress = new Map<AddressKey, number>();
  // Slots: an LRU list in typed arrays, so touching a known peer allocates nothing.
  private prev: Int32Array;
  private next: Int32Array;
  /** Each slot's port (byObject's single-slot entries are checked against it). */
  private ports: Int32Array;
  /** Each slot's FLAG_FAMILY_IPV4 or FLAG_FAMILY_IPV6 (an object's `family` is checked against it). */
  private families: Int32Array;
  private peers: (PeerInput | undefined)[] = [];
  private addressKeys: AddressKey[] = [];
  /** Per slot: its keys in byText and bySpelling, and its address texts in byObject. */
  private texts: Keys[] = [];
  private spellings: Keys[] = [];
  private objectTexts: Keys[] = [];
  private free: number[] = [];
  private head = NONE; // most recently used
  private tail = NONE; // least recently used
  private counts = { registered: 0, evicted: 0, forgotten: 0, failed: 0 };
  /** The object peer the last reuse() did not find, and its spelling (registerNew() takes it over). */
  private missed: PeerInput | undefined;
  private missedSpelling: string | undefined;
  /** Kept apart from `counts`: bumped on the known-peer path, where a plain field is cheapest. */
  private reusedCount = 0;

  constructor(options: PeerRegistryOptions) {
    const { bridge, socket, targetName, protocol = 'ipsec', maxPeers = 65536, ...codecOptions } = options;
    if (!Number.isInteger(maxPeers) || maxPeers < 1) throw new RangeError(`maxPeers must be a whole number of at least 1, got ${maxPeers}`);
    this.bridge = bridge;
    this.socket = socket;
    this.protocol = protocol;
    this.maxPeers = maxPeers;
    this.options = resolveOptions(codecOptions);
    this.nameFor = compilePolicy(targetName);
    this.fixedOrTemplate = typeof targetName === 'string';
    const initial = Math.min(maxPeers + 1, 1024);
    this.prev = new Int32Array(initial);
    this.next = new Int32Array(initial);
    this.ports = new Int32Array(initial);
    this.families = new Int32Array(initial);
  }

  get size(): number {
    return this.byAddress.size;
  }

  get stats(): PeerRegistryStats {
    return { size: this.size, ...this.counts, reused: this.reusedCount };
  }

  /** True if the peer is held (does not count as a use). */
  has(peer: PeerInput): boolean {
    if (this.find(peer) !== undefined) return true;
    try {
      return this.byAddress.has(this.canonical(peer).key);
    } catch {
      return false; // not a valid peer, so never held
    }
  }

  /**
   * Makes sure the peer's target name is registered: registers it the first time (returns true),
   * and afterwards only marks it used (returns false).
   * @throws PeerTargetNameError (bad peer or name) or WinsockError (the native call failed);
   * the registry is then unchanged.
   */
  ensure(peer: PeerInput): boolean {
    return this.reuse(peer) ? false : this.registerNew(peer);
  }

  /**
   * The fast half of ensure(): if the peer is held under this spelling, marks it used and returns
   * true; otherwise does nothing and returns false (no native call, never throws).
   */
  reuse(peer: PeerInput): boolean {
    let slot: number | undefined;
    if (typeof peer === 'string') {
      slot = this.byText.get(peer);
    } else if (isPlainObject(peer)) {
      slot = this.objectSlot(peer);
    } else if (typeof peer === 'object' && peer !== null) {
      const spelled = spelling(peer);
      slot = this.spelledSlot(peer, spelled);
      if (slot === undefined) {
        // For registerNew() right after (ensure(), DgramGuard): the same string again, hash and all.
        this.missed = peer;
        this.missedSpelling = spelled;
      }
    }
    if (slot === undefined) return false;
    this.touch(slot);
    this.reusedCount++;
    return true;
  }

  /** The slot the peer is held under in this spelling, if any (no side effects). */
  private find(peer: PeerInput): number | undefined {
    if (typeof peer === 'string') return this.byText.get(peer);
    if (isPlainObject(peer)) return this.objectSlot(peer);
    if (typeof peer === 'object' && peer !== null) return this.spelledSlot(peer, spelling(peer));
    return undefined;
  }

  /** byObject's slot for a plain object peer (its address text and port), if any. */
  private objectSlot(peer: PeerObject): number | undefined {
    const entry = this.byObject.get(peer.address);
    if (entry === undefined) return undefined;
    const port = peer.port;
    const slot = typeof entry === 'number' ? (this.ports[entry] === port ? entry : undefined) : entry.get(port);
    return slot !== undefined && this.familyAgrees(peer, slot) ? slot : undefined;
  }

  private spelledSlot(peer: PeerObject, spelled: string | undefined): number | undefined {
    const slot = spelled === undefined ? undefined : this.bySpelling.get(spelled);
    return slot !== undefined && this.familyAgrees(peer, slot) ? slot : undefined;
  }

  /**
   * An object's `family`, when given, names the held sockaddr's family: one that contradicts its
   * address is not found, so that the codec refuses it as it would a new peer's (WSAEAFNOSUPPORT),
   * rather than the registry taking it for the peer.
   */
  private familyAgrees(peer: PeerObject, slot: number): boolean {
    const family = peer.family;
    // rinfo's own spellings first, without the general switch.
    const flag = family === 'IPv4' ? L.FLAG_FAMILY_IPV4 : family === 'IPv6' ? L.FLAG_FAMILY_IPV6 : familyFlag(family);
    return flag === 0 || flag === this.families[slot];
  }

  /** ensure() for many peers; new ones are encoded together in one codec call. */
  ensureMany(peers: readonly PeerInput[]): EnsureManyResult {
    const result: EnsureManyResult = { registered: 0, reused: 0, failures: [] };
    const fresh: { index: number; peer: PeerInput; address: ReturnType<PeerRegistry['canonical']> }[] = [];
    const inputs: PeerTargetNameInput[] = [];
    const seen = new Map<AddressKey, number>();
    for (let i = 0; i < peers.length; i++) {
      const peer = peers[i];
      if (this.reuse(peer)) {
        result.reused++;
        continue;
      }
      let address;
      try {
        address = this.canonical(peer);
      } catch (error) {
        this.counts.failed++;
        result.failures.push({ index: i, peer, error: error as Error });
        continue;
      }
      const held = this.byAddress.get(address.key);
      if (held !== undefined || seen.has(address.key)) {
        // Another spelling of a held peer, or a repeat within this batch.
        if (held !== undefined) this.index(held, peer, undefined);
        this.reusedCount++;
        result.reused++;
        continue;
      }
      seen.set(address.key, i);
      fresh.push({ index: i, peer, address });
      inputs.push({ protocol: this.protocol, peer, targetName: this.nameFor(address.peer) });
    }
    if (inputs.length === 0) return result;
    const batch = sharedCodec().encodeMany(inputs, this.options);
    const errors = new Map(batch.failures.map((f) => [f.index, f.error] as const));
    for (let k = 0; k < fresh.length; k++) {
      const { index, peer, address } = fresh[k];
      const encodeError = errors.get(k);
      try {
        if (encodeError) throw encodeError;
        const offset = batch.offsets[k];
        this.bridge.setEncodedRecord(this.socket, batch.bytes.subarray(offset, offset + batch.lengths[k]), address.text);
      } catch (error) {
        this.counts.failed++;
        result.failures.push({ index, peer, error: error as Error });
        continue;
      }
      this.insert(peer, undefined, address.key);
      result.registered++;
    }
    result.failures.sort((a, b) => a.index - b.index);
    return result;
  }

  /** Deletes the peer's registration natively; false if it was not held. */
  forget(peer: PeerInput): boolean {
    let slot = this.find(peer);
    if (slot === undefined) slot = this.byAddress.get(this.canonical(peer).key);
    if (slot === undefined) return false;
    this.bridge.deletePeerTargetName(this.socket, this.peers[slot] as PeerInput, this.options);
    this.remove(slot);
    this.counts.forgotten++;
    return true;
  }

  /** Deletes every registration natively (a server's shutdown). Stops at the first failure. */
  clear(): void {
    while (this.tail !== NONE) {
      const slot = this.tail;
      this.bridge.deletePeerTargetName(this.socket, this.peers[slot] as PeerInput, this.options);
      this.remove(slot);
      this.counts.forgotten++;
    }
  }

  /** The held peers, most recently used first. */
  *peersByRecency(): IterableIterator<PeerInput> {
    for (let s = this.head; s !== NONE; s = this.next[s]) yield this.peers[s] as PeerInput;
  }

  /**
   * ensure() for a peer that reuse() has just reported not held under this spelling (DgramGuard's
   * path: the lookup is not made twice). Same result, same errors as ensure(). Call it straight
   * after that reuse(), with the same object, unchanged: the spelling reuse() built is taken over.
   */
  registerNew(peer: PeerInput): boolean {
    let spelled: string | undefined;
    if (peer === this.missed && peer !== undefined) {
      spelled = this.missedSpelling;
      this.missed = undefined;
    }
    if (this.fixedOrTemplate && typeof peer === 'object' && peer !== null) {
      const done = this.registerObject(peer, spelled);
      if (done !== undefined) return done;
    }
    return this.register(peer, spelled);
  }

  /** `spelled`: the peer's spelling() if the caller has it already, else undefined (made if needed). */
  private register(peer: PeerInput, spelled: string | undefined): boolean {
    let address;
    try {
      address = this.canonical(peer);
    } catch (error) {
      this.counts.failed++;
      throw error;
    }
    const held = this.byAddress.get(address.key);
    if (held !== undefined) {
      this.index(held, peer, spelled);
      this.touch(held);
      this.reusedCount++;
      return false;
    }
    try {
      this.bridge.setPeerTargetName(this.socket, { protocol: this.protocol, peer, targetName: this.nameFor(address.peer) }, this.options);
    } catch (error) {
      this.counts.failed++;
      throw error;
    }
    this.insert(peer, spelled, address.key);
    return true;
  }

  /**
   * A new peer given as an object (an rinfo), with a fixed or template name: encoded once. The
   * name is built from the address as the caller spelled it, then the record's own PeerAddress is
   * checked to be exactly that peer in canonical form (family, port, scope id, and the address
   * text the codec's parse formats back to); the map key comes from the same bytes. Node's rinfo
   * addresses are canonical, so the check passes for them. Returns undefined, having changed
   * nothing, when it cannot vouch for the name (the address is spelled another way, or the
   * encoding failed): register() then takes the long way and names any error.
   */
  private registerObject(peer: PeerObject, spelled: string | undefined): boolean | undefined {
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
      if (ipv6Text(record, at + L.SIN6_ADDR) !== address) return undefined;
    } else if (family !== L.AF_INET || !isDottedQuadOf(address, record, at + L.SIN_ADDR)) {
      return undefined;
    }
    const key = addressKey(record, at);
    const held = this.byAddress.get(key);
    if (held !== undefined) {
      this.index(held, peer, spelled);
      this.touch(held);
      this.reusedCount++;
      return false;
    }
    try {
      this.bridge.setEncodedRecord(this.socket, record, peer);
    } catch (error) {
      this.counts.failed++;
      throw error;
    }
    this.insert(peer, spelled, key);
    return true;
  }

  /** The peer's sockaddr as the codec builds it: a map key, and the parsed peer for the policy. */
  private canonical(peer: PeerInput): { key: AddressKey; peer: RegistryPeer; text: string } {
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
    const address = v6 ? formatIPv6(storage.subarray(L.SIN6_ADDR, L.SIN6_ADDR + 16)) : formatIPv4(storage, L.SIN_ADDR);
    const scopeId = v6 ? (storage[24] | (storage[25] << 8) | (storage[26] << 16) | (storage[27] << 24)) >>> 0 : 0;
    const text = v6 ? `[${address}${scopeId ? '%' + scopeId : ''}]:${port}` : `${address}:${port}`;
    return { key, text, peer: { family: v6 ? 'ipv6' : 'ipv4', address, port, scopeId } };
  }

  private insert(peer: PeerInput, spelled: string | undefined, addressKey: AddressKey): void {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.peers.length;
      if (slot >= this.prev.length) this.growSlots(slot);
      this.peers.push(undefined);
      this.addressKeys.push('');
      this.texts.push(undefined);
      this.spellings.push(undefined);
      this.objectTexts.push(undefined);
    }
    this.peers[slot] = peer;
    this.addressKeys[slot] = addressKey;
    this.ports[slot] = portOfKey(addressKey);
    this.families[slot] = typeof addressKey === 'number' ? L.FLAG_FAMILY_IPV4 : L.FLAG_FAMILY_IPV6;
    this.index(slot, peer, spelled);
    this.byAddress.set(addressKey, slot);
    this.linkHead(slot);
    this.counts.registered++;
    this.evictOverflow();
  }

  private evictOverflow(): void {
    while (this.size > this.maxPeers) {
      const slot = this.tail;
      try {
        this.bridge.deletePeerTargetName(this.socket, this.peers[slot] as PeerInput, this.options);
      } catch {
        // The native side still holds it, so the registry does too; the next insert retries.
        this.counts.failed++;
        return;
      }
      this.remove(slot);
      this.counts.evicted++;
    }
  }

  /**
   * Files the slot under the peer as the caller spelled it (a held peer's other spelling, or a new
   * peer's first): text in byText, a plain object by address text and port in byObject, any other
   * object in bySpelling. `spelled`: the object's spelling() if the caller has it already.
   */
  private index(slot: number, peer: PeerInput, spelled: string | undefined): void {
    if (typeof peer === 'string') {
      this.byText.set(peer, slot);
      this.texts[slot] = withKey(this.texts[slot], peer);
    } else if (isPlainObject(peer)) {
      const address = peer.address;
      if (this.objectSlot(peer) === slot) return; // filed already
      const entry = this.byObject.get(address);
      if (entry === undefined) {
        this.byObject.set(address, slot);
      } else if (typeof entry === 'number') {
        this.byObject.set(address, new Map([[this.ports[entry], entry], [this.ports[slot], slot]]));
      } else {
        entry.set(this.ports[slot], slot);
      }
      this.objectTexts[slot] = withKey(this.objectTexts[slot], address);
    } else {
      const key = spelled ?? spelling(peer as PeerObject);
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
    this.peers[slot] = undefined;
    this.texts[slot] = undefined;
    this.spellings[slot] = undefined;
    this.objectTexts[slot] = undefined;
    this.addressKeys[slot] = '';
    this.free.push(slot);
  }

  /**
   * Room for slot `slot`: doubling, up to maxPeers + 1 (a new peer before the eviction it causes);
   * past that only while evictions fail (the native side still holds the evictees, so the
   * registry holds them too).
   */
  private growSlots(slot: number): void {
    const doubled = this.prev.length * 2;
    const size = slot < this.maxPeers + 1 ? Math.min(this.maxPeers + 1, doubled) : doubled;
    const grown = (from: Int32Array) => {
      const to = new Int32Array(size);
      to.set(from);
      return to;
    };
    this.prev = grown(this.prev);
    this.next = grown(this.next);
    this.ports = grown(this.ports);
    this.families = grown(this.families);
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
