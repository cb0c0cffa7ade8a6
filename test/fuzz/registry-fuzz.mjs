// The registry/guard fuzzer (npm run fuzz -- --mode registry): random peers in many spellings,
// failures injected through the conformance library (ptn_fail_next: sets and deletes alike), small
// bounds so that evictions and pending deletions happen all the time, callers that mutate their
// peer objects afterwards or hand over getters that change between reads, target-name policies of
// every kind, and a DgramGuard whose socket checks every datagram it is handed.
//
// A run is a sequence of episodes (EPISODE_STEPS steps each, seeded by the run's seed and the
// episode's number, so any episode replays on its own and a run can be split across processes).
// An episode has one PeerRegistry on socket A and one DgramGuard on socket B, both over the BUILT
// package (dist/) and the conformance library. After EVERY step, for both:
// - the native table (ptn_peer_count, ptn_peer_list) is exactly the registry's held peers plus its
//   pending deletions, sockaddr for sockaddr (flow info and scope id included), with no repeats;
// - held ≤ maxPeers, pending ≤ maxPendingDeletions;
// and per step: a datagram handed to the guard's socket goes to a peer registered natively at that
// moment; an ensure() that returned holds its peer natively; a failed one leaves a new peer
// unregistered; in an ensureMany() batch every spelling of one peer has one fate; every error is a
// typed one (PeerTargetNameError, WinsockError, PeerRegistryError, PeerRegistryClearError, or the
// fuzzer's own getter error); the native name is the policy's. At the end of an episode every
// datagram's callback was called exactly once and close()/clear() leaves the native tables empty.
import { createRequire } from 'node:module';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { buildConformanceLibrary } from '../../build/conformance.mjs';
import { PeerTargetNameError } from '../../dist/host/index.js';
import { openBridge, DgramGuard, PeerRegistry, WinsockError, socketHandle } from '../../dist/host/bridge.js';
import { PeerRegistryError, PeerRegistryClearError } from '../../dist/host/bridge/registry.js';
import { sharedCodec } from '../../dist/host/codec/codec.js';
import { resolveOptions } from '../../dist/host/codec/options.js';
import { prng } from './prng.mjs';

export const EPISODE_STEPS = 2000;
const MAX_FAILURES_KEPT = 20;
const LIST_CAP = 64;

class FuzzGetterError extends Error {
  name = 'FuzzGetterError';
}

/** The conformance library's inspection exports, bound once per process. */
function bindNative(path) {
  const koffi = createRequire(import.meta.url)('koffi');
  const lib = koffi.load(path);
  const count = lib.func('uint32_t ptn_peer_count(uintptr_t s)');
  const list = lib.func('int ptn_peer_list(uintptr_t s, uint8_t *out, uint32_t cap)');
  const lookup = lib.func('int ptn_peer_lookup(uintptr_t s, const uint8_t *sockaddr, _Out_ uint16_t *nameOut, uint32_t cap, _Out_ uint64_t *seq, _Out_ uint64_t *timeNs)');
  const failNext = lib.func('void ptn_fail_next(uint32_t count, int error)');
  const reset = lib.func('void ptn_reset()');
  const listBuffer = new Uint8Array(LIST_CAP * 128);
  const nameBuffer = new Uint16Array(512);
  return {
    count: (s) => count(s),
    /** The table as latin1 keys of each entry's 28 sockaddr bytes (undefined: more than LIST_CAP). */
    keys(s) {
      const n = count(s);
      if (n > LIST_CAP) return undefined;
      const got = list(s, listBuffer, LIST_CAP);
      const keys = new Array(got);
      for (let i = 0; i < got; i++) keys[i] = Buffer.from(listBuffer.buffer, i * 128, 28).toString('latin1');
      return keys;
    },
    has: (s, storage) => lookup(s, storage, null, 0, null, null) >= 0,
    name(s, storage) {
      const n = lookup(s, storage, nameBuffer, nameBuffer.length, null, null);
      return n < 0 ? undefined : String.fromCharCode(...nameBuffer.subarray(0, Math.min(n, nameBuffer.length)));
    },
    failNext: (c, e) => failNext(c, e),
    reset: () => reset(),
  };
}

const codecOptions = resolveOptions({});
/** A peer's 128-byte sockaddr as the codec builds it (a copy). */
function storageOf(peer) {
  return sharedCodec().encodePeer(peer, codecOptions).slice();
}
const keyOf = (storage) => Buffer.from(storage.buffer, storage.byteOffset, 28).toString('latin1');

/** Canonical peers' keys, cached (a held peer's CanonicalPeer is one frozen object for its life). */
const canonicalKeys = new WeakMap();
function keyOfCanonical(peer) {
  let key = canonicalKeys.get(peer);
  if (key === undefined) {
    key = keyOf(storageOf(peer));
    canonicalKeys.set(peer, key);
  }
  return key;
}

// ---- the universe of peers and their spellings ----------------------------------------------------

const hex4 = (r, g) => {
  let s = g.toString(16);
  if (r.chance(0.2)) s = s.padStart(1 + r.int(4), '0').slice(-4).padStart(s.length, '0');
  if (r.chance(0.1)) s = s.padStart(4, '0');
  return r.chance(0.2) ? s.toUpperCase() : s;
};

/** An IPv6 text for 8 groups: full, or with '::' for some run of zero groups, in varied case and zeros. */
function ipv6Spelling(r, groups, mapped) {
  if (mapped && r.chance(0.5)) {
    const v4 = `${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}`;
    return r.pick(['::ffff:', '::FFFF:', '0:0:0:0:0:ffff:', '0::ffff:']) + v4;
  }
  const runs = [];
  for (let i = 0; i < 8; i++) {
    if (groups[i] !== 0) continue;
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    runs.push([i, j]);
    i = j;
  }
  if (runs.length > 0 && r.chance(0.8)) {
    let [a, b] = r.pick(runs);
    if (b - a > 1 && r.chance(0.3)) b -= 1 + r.int(b - a - 1); // a shorter run than the whole
    const left = groups.slice(0, a).map((g) => hex4(r, g)).join(':');
    const right = groups.slice(b).map((g) => hex4(r, g)).join(':');
    return `${left}::${right}`;
  }
  return groups.map((g) => hex4(r, g)).join(':');
}

function makeUniverse(r) {
  const peers = [];
  const n = 3 + r.int(14);
  for (let i = 0; i < n; i++) {
    const port = r.pick([1000, 1001, 1002, 4500, 1 + r.int(65535)]);
    const kind = r.int(6);
    let peer;
    if (kind === 0 || kind === 1) {
      const bytes = [10, 0, r.int(2), 1 + r.int(4)];
      peer = { v6: false, address: bytes.join('.'), port, scopeId: 0, groups: undefined, mapped: false };
    } else {
      let groups;
      let scopeId = 0;
      let mapped = false;
      if (kind === 2) groups = [0x2001, 0xdb8, 0, 0, 0, r.int(2), 0, 1 + r.int(3)];
      else if (kind === 3) { groups = [0, 0, 0, 0, 0, 0xffff, 0x0a00, 1 + r.int(3)]; mapped = true; }
      else if (kind === 4) { groups = [0xfe80, 0, 0, 0, 0, 0, 0, 1 + r.int(2)]; scopeId = 1 + r.int(3); }
      else groups = [0, 0, 0, 0, 0, 0, 0, 1];
      peer = { v6: true, address: groups.map((g) => g.toString(16)).join(':'), port, scopeId, groups, mapped };
    }
    peer.text = peer.v6 ? `[${peer.address}${peer.scopeId ? '%' + peer.scopeId : ''}]:${port}` : `${peer.address}:${port}`;
    peer.storage = storageOf(peer.text);
    peer.key = keyOf(peer.storage);
    peers.push(peer);
  }
  return peers;
}

/** Some valid spelling of a universe peer: text, an rinfo-like object, or an object with a scope id or flow info. */
function spell(r, p) {
  const address = p.v6 ? ipv6Spelling(r, p.groups, p.mapped) : p.address;
  const kind = r.int(p.v6 ? 5 : 3);
  if (kind === 0) return p.v6 ? `[${address}${p.scopeId ? '%' + p.scopeId : ''}]:${p.port}` : `${address}:${p.port}`;
  const object = { address: p.scopeId && kind !== 3 ? `${address}%${p.scopeId}` : address, port: p.port };
  if (r.chance(0.5)) object.family = p.v6 ? r.pick(['IPv6', 6, 'ipv6']) : r.pick(['IPv4', 4, 'ipv4']);
  if (r.chance(0.3)) object.size = r.int(100);
  if (kind === 3) object.scopeId = p.scopeId;
  if (kind === 4) object.flowInfo = r.int(0x100000);
  return object;
}

/** A spelling the codec refuses (a typed error, never held). */
function invalidPeer(r, p) {
  switch (r.int(7)) {
    case 0: return { address: p.v6 ? p.address : p.address, port: r.pick([0, 70000, -1, 1.5, '80', NaN]) };
    case 1: return { address: r.pick(['10.0.0.300', 'x', '', '1::2::3', '::ffff:1.2.3']), port: p.port };
    case 2: return { address: p.address, port: p.port, family: p.v6 ? 'IPv4' : 'IPv6' };
    case 3: return r.pick([null, undefined, 42, '', 'not a peer', '[::1]:99999']);
    case 4: return { address: p.address, port: p.port, scopeId: r.pick([-1, 1.5, '2']) };
    case 5: return { address: p.address, get port() { throw new FuzzGetterError('fuzz getter'); } };
    default: return [p.address, p.port];
  }
}

/** An object whose getters answer differently on each read: address and port cycle apart (3 and 2 peers). */
function shifty(r, p, q, o) {
  let addressReads = r.int(3);
  let portReads = r.int(2);
  const addresses = [p, q, o];
  return {
    get address() { return addresses[addressReads++ % 3].address; },
    get port() { return addresses[portReads++ % 2].port; },
  };
}

/** Mutates an object the caller gave earlier: to another peer, or to nonsense. */
function mutate(r, object, universe) {
  if (typeof object !== 'object' || object === null) return;
  const other = r.pick(universe);
  const change = r.int(4);
  try {
    switch (change) {
      case 0: object.port = other.port; break;
      case 1: object.address = other.address; break;
      case 2: object.port = r.pick([0, 'x', 70000]); break;
      default: object.address = 'nonsense'; object.family = 'IPX';
    }
  } catch {
    // a getter-only object: nothing to change
  }
}

const POLICIES = [
  { text: 'fixed', make: () => 'host/fixed.example', expect: () => 'host/fixed.example' },
  { text: 'template', make: () => 'host/{family}/{port}/{scopeId}', expect: (p) => `host/${p.v6 ? 'ipv6' : 'ipv4'}/${p.port}/${p.scopeId}` },
  { text: 'function', make: () => (peer) => `fn/${peer.port}/${peer.scopeId}`, expect: (p) => `fn/${p.port}/${p.scopeId}` },
];

function typedError(error) {
  return error instanceof PeerTargetNameError || error instanceof WinsockError || error instanceof PeerRegistryError ||
    error instanceof PeerRegistryClearError || error instanceof FuzzGetterError;
}

const describeError = (e) => `${e?.name ?? typeof e}: ${e?.message ?? String(e)}`;
/** A value as text for a failure report (read only then: describing an input reads its getters). */
function show(value) {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch (error) {
    return `<unreadable: ${describeError(error)}>`;
  }
}

// ---- the run -------------------------------------------------------------------------------------

async function udp() {
  const socket = dgram.createSocket('udp6');
  socket.bind(0, '::1');
  await once(socket, 'listening');
  return socket;
}

/**
 * Runs episodes [fromEpisode, fromEpisode + episodes) of the run `seed`, `episodeSteps` steps
 * each (the last one may be cut to `steps` in all).
 */
export async function fuzzRegistry({ steps = 100_000, seed = 1, episodeSteps = EPISODE_STEPS, fromEpisode = 0, onProgress } = {}) {
  const { path } = buildConformanceLibrary();
  const native = bindNative(path);
  const realBridge = openBridge({ library: path });
  // Deletes fail on their own too (ptn_fail_next right before the call, at the episode's rate): a
  // fault injected at a step's start hits that step's first native call, which for an eviction is
  // the registration before it.
  const deleteFaults = { rate: 0, r: prng(seed) };
  const bridge = new Proxy(realBridge, {
    get(target, prop) {
      if (prop === 'deletePeerTargetName') {
        return (...args) => {
          if (deleteFaults.rate > 0 && deleteFaults.r.chance(deleteFaults.rate)) native.failNext(1, deleteFaults.r.pick([10055, 10022]));
          return target.deletePeerTargetName(...args);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const socketA = await udp();
  const socketB = await udp();
  const fdA = Number(socketHandle(socketA));
  const fdB = Number(socketHandle(socketB));
  const realSendB = socketB.send;
  const report = {
    mode: 'registry', seed, steps: 0, episodes: 0, fromEpisode, episodeSteps, divergences: 0, failures: [],
    actions: {}, ensured: 0, registered: 0, evicted: 0, refusedFull: 0, pendingSeen: 0, deleteFailures: 0,
    guardSent: 0, guardRefused: 0, guardDropped: 0, typedErrors: {},
  };
  const started = performance.now();
  let episode = fromEpisode;
  try {
    while (report.steps < steps) {
      const n = Math.min(episodeSteps, steps - report.steps);
      await runEpisode({ seed, episode, n, native, bridge, deleteFaults, fdA, fdB, socketB, realSendB, report });
      report.steps += n;
      report.episodes++;
      episode++;
      onProgress?.(report.steps, steps);
    }
  } finally {
    socketB.send = realSendB;
    native.failNext(0, 0);
    await realBridge.close();
    socketA.close();
    socketB.close();
  }
  report.elapsedMs = Math.round(performance.now() - started);
  return report;
}

async function runEpisode({ seed, episode, n, native, bridge, deleteFaults, fdA, fdB, socketB, realSendB, report }) {
  const episodeSeed = (Math.imul(seed, 0x9e3779b1) ^ Math.imul(episode + 1, 0x85ebca6b)) >>> 0;
  const r = prng(episodeSeed);
  native.reset();
  const universe = makeUniverse(r);
  const policy = r.pick(POLICIES);
  const maxPeers = r.pick([1, 2, 3, 4, 6, 8]);
  const maxPendingDeletions = r.pick([1, 2, 3, 5]);
  const failRate = r.pick([0, 0.02, 0.08, 0.2]);
  deleteFaults.rate = r.pick([0, 0.05, 0.3, 0.8]);
  deleteFaults.r = prng(episodeSeed ^ 0x5bd1e995);
  const registry = new PeerRegistry({ bridge, socket: fdA, targetName: policy.make(), maxPeers, maxPendingDeletions });
  const guard = new DgramGuard(socketB, { bridge, handle: fdB, targetName: policy.make(), maxPeers, maxPendingDeletions, maxPending: 8 + r.int(16) });
  const callbacks = new Map();
  const sentPeers = new Map();
  let nextDatagram = 0;
  let step = 0;
  let action = () => 'setup';
  let failed = false;
  const fail = (text) => {
    report.divergences++;
    failed = true;
    if (report.failures.length < MAX_FAILURES_KEPT) {
      report.failures.push({ episode, episodeSeed, step, action: action(), failure: text, config: { maxPeers, maxPendingDeletions, policy: policy.text, failRate, deleteFailRate: deleteFaults.rate } });
    }
  };
  const checkError = (error, where) => {
    if (!typedError(error)) fail(`${where} threw an untyped error: ${describeError(error)}`);
    else report.typedErrors[error.code ?? error.name] = (report.typedErrors[error.code ?? error.name] ?? 0) + 1;
  };
  socketB.send = (_message, port, address, callback) => {
    report.guardSent++;
    let storage;
    try {
      storage = storageOf({ address, port });
    } catch (error) {
      fail(`the guard sent to ${address} port ${port}, which is no peer: ${describeError(error)}`);
    }
    if (storage && !native.has(fdB, storage)) fail(`the guard sent to ${address} port ${port}, not registered natively at that moment`);
    callback?.(null);
  };
  /** The native table of `fd` is exactly the registry's held peers plus its pending deletions. */
  const agree = (reg, fd, which) => {
    const nativeKeys = native.keys(fd);
    const held = [];
    for (const p of reg.peersByRecency()) held.push(keyOfCanonical(p));
    const pending = reg.failedDeletions.map((d) => keyOfCanonical(d.peer));
    if (held.length > maxPeers) fail(`${which}: ${held.length} peers held, maxPeers ${maxPeers}`);
    if (pending.length > maxPendingDeletions) fail(`${which}: ${pending.length} pending deletions, bound ${maxPendingDeletions}`);
    if (reg.size !== held.length) fail(`${which}: size ${reg.size} but ${held.length} peers listed`);
    if (nativeKeys === undefined) {
      fail(`${which}: the native table holds ${native.count(fd)} entries`);
      return;
    }
    const expected = new Set([...held, ...pending]);
    if (expected.size !== held.length + pending.length) fail(`${which}: a peer is both held and pending, or held twice`);
    if (nativeKeys.length !== expected.size || !nativeKeys.every((k) => expected.has(k))) {
      fail(`${which}: native table (${nativeKeys.length}) differs from the registry (${held.length} held + ${pending.length} pending)`);
    }
    report.pendingSeen += pending.length > 0 ? 1 : 0;
  };
  const count = (name) => { report.actions[name] = (report.actions[name] ?? 0) + 1; };
  const pickPeer = () => r.pick(universe);
  const given = []; // objects handed over earlier, for later mutation

  for (step = 0; step < n && !failed; step++) {
    if (failRate > 0 && r.chance(failRate)) native.failNext(1 + r.int(3), r.pick([10055, 10022, 10055]));
    const roll = r.int(100);
    if (roll < 30) {
      // ensure() of one peer, in some spelling
      const p = pickPeer();
      const kind = r.int(20);
      const peer = kind === 0 ? shifty(r, p, pickPeer(), pickPeer()) : kind === 1 ? invalidPeer(r, p) : spell(r, p);
      action = () => `ensure ${kind === 0 ? 'shifty' : kind === 1 ? 'invalid' : 'peer'} ${p.text} as ${show(peer)}`;
      count(kind === 0 ? 'ensure-shifty' : kind === 1 ? 'ensure-invalid' : 'ensure');
      const before = native.has(fdA, p.storage);
      let threw;
      try {
        if (registry.ensure(peer)) report.registered++;
        report.ensured++;
      } catch (error) {
        threw = error;
        checkError(error, 'ensure');
        if (error instanceof PeerRegistryError) report.refusedFull++;
      }
      if (kind >= 2) {
        const now = native.has(fdA, p.storage);
        if (!threw && !now) fail('ensure() returned, but the peer is not registered natively');
        if (!threw && !registry.has(p.text)) fail('ensure() returned, but the registry does not hold the peer');
        if (threw && !before && now) fail(`ensure() threw (${describeError(threw)}) but registered the peer natively`);
        if (!threw && r.chance(0.1)) {
          const name = native.name(fdA, p.storage);
          if (name !== policy.expect(p)) fail(`native name ${JSON.stringify(name)}, the policy's is ${JSON.stringify(policy.expect(p))}`);
        }
        if (typeof peer === 'object' && r.chance(0.3)) given.push(peer);
      }
    } else if (roll < 40) {
      // ensureMany(): a batch with repeats in other spellings
      const size = 2 + r.int(6);
      const batch = [];
      const owners = [];
      for (let k = 0; k < size; k++) {
        const p = owners.length > 0 && r.chance(0.4) ? r.pick(owners.filter(Boolean)) ?? pickPeer() : pickPeer();
        const kind = r.int(16);
        batch.push(kind === 0 ? invalidPeer(r, p) : kind === 1 ? shifty(r, p, pickPeer(), pickPeer()) : spell(r, p));
        owners.push(kind <= 1 ? undefined : p);
      }
      action = () => `ensureMany ${show(batch)}`;
      count('ensureMany');
      let result;
      try {
        result = registry.ensureMany(batch);
      } catch (error) {
        fail(`ensureMany threw: ${describeError(error)}`);
      }
      if (result) {
        for (const f of result.failures) checkError(f.error, 'ensureMany');
        if (result.registered + result.reused + result.failures.length !== size) fail(`ensureMany accounted for ${result.registered + result.reused + result.failures.length} of ${size}`);
        report.registered += result.registered;
        const failedAt = new Set(result.failures.map((f) => f.index));
        const fate = new Map();
        owners.forEach((p, k) => {
          if (!p) return;
          const outcome = failedAt.has(k);
          if (fate.has(p.key) && fate.get(p.key) !== outcome) fail(`two spellings of ${p.text} in one batch had different fates`);
          fate.set(p.key, outcome);
          if (!outcome && size <= maxPeers && !native.has(fdA, p.storage)) fail(`ensureMany reported ${p.text} registered, the native side does not hold it`);
        });
      }
    } else if (roll < 45) {
      const p = pickPeer();
      const peer = spell(r, p);
      action = () => `forget ${show(peer)}`;
      count('forget');
      try {
        registry.forget(peer);
        if (native.has(fdA, p.storage)) fail('forget() returned, the native side still holds the peer');
      } catch (error) {
        checkError(error, 'forget');
      }
    } else if (roll < 48) {
      action = () => 'retryDeletions';
      count('retry');
      try {
        registry.retryDeletions();
      } catch (error) {
        checkError(error, 'retryDeletions');
      }
    } else if (roll < 49 && r.chance(0.3)) {
      action = () => 'clear';
      count('clear');
      try {
        registry.clear();
        if (native.count(fdA) !== 0) fail('clear() returned, the native table is not empty');
      } catch (error) {
        checkError(error, 'clear');
        if (error instanceof PeerRegistryClearError && native.count(fdA) !== error.failures.length) {
          fail(`clear() reported ${error.failures.length} failures, the native side holds ${native.count(fdA)}`);
        }
      }
    } else if (roll < 53) {
      const p = pickPeer();
      const peer = r.chance(0.8) ? spell(r, p) : invalidPeer(r, p);
      action = () => `has ${show(peer)}`;
      count('has');
      let held;
      try {
        held = registry.has(peer);
      } catch (error) {
        fail(`has() threw: ${describeError(error)}`);
      }
      if (held && !native.has(fdA, p.storage) && typeof peer === 'object' && peer !== null && !Array.isArray(peer)) {
        fail('has() says held, the native side does not hold it');
      }
    } else if (roll < 58) {
      if (given.length > 0) {
        const object = given[r.int(given.length)];
        action = () => `mutate ${show(object)}`;
        count('mutate');
        mutate(r, object, universe);
      }
    } else if (roll < 88) {
      // a datagram through the guard
      const p = pickPeer();
      const kind = r.int(25);
      const peer = kind === 0 ? shifty(r, p, pickPeer(), pickPeer()) : kind === 1 ? invalidPeer(r, p) : spell(r, p);
      action = () => `guard.send to ${show(peer)}`;
      count('guard.send');
      const id = nextDatagram++;
      callbacks.set(id, 0);
      sentPeers.set(id, peer);
      try {
        guard.send(`d${id}`, typeof peer === 'string' ? { address: p.address, port: p.port } : peer, () => callbacks.set(id, callbacks.get(id) + 1));
      } catch (error) {
        checkError(error, 'guard.send');
      }
      if (r.chance(0.2) && typeof peer === 'object' && peer !== null) mutate(r, peer, universe);
    } else {
      action = () => 'guard flush';
      count('guard.flush');
      try {
        guard.flush(); // the guard's batch, run now (it would run at the next setImmediate)
      } catch (error) {
        checkError(error, 'guard flush');
      }
    }
    agree(registry, fdA, 'registry');
    agree(guard.registry, fdB, 'guard');
  }
  // The episode's end: the native side willing again, the guard's last batch, a clean close.
  action = () => 'close';
  deleteFaults.rate = 0;
  native.failNext(0, 0);
  try {
    guard.flush();
  } catch (error) {
    checkError(error, 'guard flush');
  }
  agree(guard.registry, fdB, 'guard');
  const gs = guard.stats;
  report.guardRefused += gs.refused;
  report.guardDropped += gs.dropped;
  report.evicted += registry.stats.evicted + gs.evicted;
  report.deleteFailures += registry.stats.deleteFailures + gs.deleteFailures;
  try {
    guard.close();
  } catch (error) {
    fail(`guard.close() with the native side willing: ${describeError(error)}`);
  }
  try {
    registry.clear();
  } catch (error) {
    fail(`clear() with the native side willing: ${describeError(error)}`);
  }
  if (native.count(fdA) !== 0 || native.count(fdB) !== 0) fail(`after close: ${native.count(fdA)} and ${native.count(fdB)} registrations left natively`);
  await new Promise((resolve) => setImmediate(resolve)); // the guard's timers and ticks run out
  socketB.send = realSendB;
  const notOnce = [...callbacks].filter(([, calls]) => calls !== 1);
  if (notOnce.length > 0) fail(`${notOnce.length} datagram callbacks not called exactly once (first: datagram ${notOnce[0][0]} to ${show(sentPeers.get(notOnce[0][0]))}, ${notOnce[0][1]} calls)`);
}
