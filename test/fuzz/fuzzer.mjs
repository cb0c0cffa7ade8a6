// The fuzzer: random buffers, golden buffers with mutated bytes and lengths, and random API inputs
// (surrogates, NULs, huge lengths, odd ports, malformed addresses) fed to decode, validate and
// encode of the BUILT package (dist/), as a user gets it.
//
// Properties, checked on every case:
// - nothing throws but PeerTargetNameError, and every one names a Winsock code and a field;
// - no case takes longer than HANG_MS (a hang or a pathological input);
// - validate, decode and the bridge's check (the codec's check() export) agree; every accepted
//   buffer re-encodes to itself (see sameRecord() for the two documented length variations);
// - an encoded record is 144 + 2n bytes and decodes back to its input;
// - the WebAssembly module stays usable: a probe encode is checked every PROBE_EVERY cases.
//
// Run: npm run fuzz -- --iterations N --seed S
//
// --mode registry drives PeerRegistry and DgramGuard over the conformance library instead (see
// registry-fuzz.mjs): N steps, checked against the native table after every one. --workers W
// splits its episodes over W processes (the conformance library's fault injection is per process).
import { readFileSync } from 'node:fs';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as P from '../../dist/host/index.js';
import { sharedCodec } from '../../dist/host/codec/codec.js';
import { resolveOptions } from '../../dist/host/codec/options.js';
import { fuzzRegistry, EPISODE_STEPS } from './registry-fuzz.mjs';
import { prng } from './prng.mjs';

export { fuzzRegistry };

const HANG_MS = 1000;
const PROBE_EVERY = 1000;
const root = new URL('../../', import.meta.url);
const golden = Object.values(JSON.parse(readFileSync(new URL('test/golden/vectors.json', root), 'utf8')).cases)
  .map((hex) => P.fromHex(hex));

const PROTOCOLS = ['default', 'ipsec', 'ipsec2', 0, 1, 2, 3, -1, 1.5, NaN, 2 ** 32, 'IPSEC', '', null, undefined, {}, 4294967295];
const UNITS = ['auto', 'units', 'bytes'];
const ADDRESS_CHARS = '0123456789abcdefABCDEF:.%[]-xz ';

function randomString(r, maxLength) {
  const n = r.chance(0.02) ? 30000 + r.int(10000) : r.int(maxLength);
  let s = '';
  for (let i = 0; i < n; i++) {
    const kind = r.int(20);
    if (kind === 0) s += '\0';
    else if (kind === 1) s += String.fromCharCode(0xd800 + r.int(0x800)); // any surrogate, paired or not
    else if (kind === 2) s += String.fromCodePoint(0x10000 + r.int(0xfffff));
    else if (kind === 3) s += String.fromCharCode(0x80 + r.int(0xd780));
    else s += String.fromCharCode(0x20 + r.int(0x5f));
  }
  return s;
}

function randomAddress(r) {
  switch (r.int(6)) {
    case 0: return `${r.int(256)}.${r.int(256)}.${r.int(256)}.${r.int(300)}`;
    case 1: return Array.from({ length: 8 }, () => r.int(0x10000).toString(16)).join(':');
    case 2: return `${r.int(0x10000).toString(16)}::${r.int(0x10000).toString(16)}${r.chance(0.3) ? '%' + r.int(100) : ''}`;
    case 3: return `::ffff:${r.int(256)}.${r.int(256)}.${r.int(256)}.${r.int(256)}`;
    default: {
      let s = '';
      for (let i = r.int(48); i > 0; i--) s += r.pick(ADDRESS_CHARS);
      return s;
    }
  }
}

/** A well-formed name: no NUL, surrogates only in pairs (so most encodes succeed and round-trip). */
function wellFormedName(r) {
  let s = '';
  for (let i = 1 + r.int(60); i > 0; i--) {
    const kind = r.int(10);
    if (kind === 0) s += String.fromCodePoint(0x10000 + r.int(0xfffff));
    else if (kind === 1) s += String.fromCharCode(0xe000 + r.int(0x1fff));
    else if (kind === 2) s += String.fromCharCode(0x80 + r.int(0xd700));
    else s += String.fromCharCode(0x21 + r.int(0x5e));
  }
  return s;
}

function validPeer(r) {
  const v6 = r.chance(0.5);
  const address = v6
    ? Array.from({ length: 8 }, () => (r.chance(0.4) ? 0 : r.int(0x10000)).toString(16)).join(':')
    : `${1 + r.int(254)}.${r.int(256)}.${r.int(256)}.${1 + r.int(254)}`;
  const port = 1 + r.int(65535);
  if (r.chance(0.5)) return v6 ? `[${address}]:${port}` : `${address}:${port}`;
  return v6 ? { address, port, family: 'IPv6', flowInfo: r.int(0x100000), scopeId: r.int(50) } : { address, port, family: 'IPv4' };
}

function randomPort(r) {
  return r.pick([0, 1, 65535, 65536, -1, 1.5, NaN, 2 ** 32, r.int(65536), r.int(65536), '80', null]);
}

function randomPeer(r) {
  switch (r.int(6)) {
    case 0: return undefined;
    case 1: return null;
    case 2: {
      const address = randomAddress(r);
      return address.includes(':') ? `[${address}]:${randomPort(r)}` : `${address}:${randomPort(r)}`;
    }
    case 3: return randomString(r, 60);
    case 4: return 42;
    default: return {
      address: r.chance(0.95) ? randomAddress(r) : 7,
      port: randomPort(r),
      ...(r.chance(0.3) ? { family: r.pick(['IPv4', 'IPv6', 4, 6, 'IPX', 10]) } : {}),
      ...(r.chance(0.2) ? { flowInfo: r.pick([0, 1, 0xfffff, -1, 2 ** 32]) } : {}),
      ...(r.chance(0.2) ? { scopeId: r.pick([0, 7, 2 ** 32 - 1, -1, 1.5]) } : {}),
    };
  }
}

function randomOptions(r) {
  if (r.chance(0.3)) return undefined;
  return {
    lengthUnit: r.chance(0.97) ? r.pick(UNITS) : 'furlongs',
    socketType: r.chance(0.97) ? r.pick(['dgram', 'stream']) : 'raw',
    ...(r.chance(0.1) ? { maxTargetNameLength: r.pick([1, 10, 1024, 32767, 0, 40000]) } : {}),
  };
}

function mutatedGolden(r) {
  const bytes = r.pick(golden).slice();
  const out = r.chance(0.2) ? new Uint8Array(Math.max(0, bytes.length + r.int(16) - 8)) : bytes;
  if (out !== bytes) out.set(bytes.subarray(0, out.length));
  for (let k = r.int(4); k > 0; k--) {
    const field = r.int(6);
    const view = new DataView(out.buffer);
    if (field === 0 && out.length >= 4) view.setUint32(0, r.pick([0, 1, 2, 3, 0xffffffff]), true);
    else if (field === 1 && out.length >= 10) view.setUint16(8, r.pick([0, 2, 10, 23, 0xffff]), true);
    else if (field === 2 && out.length >= 140) view.setUint32(136, r.pick([0, 1, 2, 23, 46, 0xffffffff, r.int(200)]), true);
    else if (out.length > 0) out[r.int(out.length)] = r.int(256);
  }
  return out;
}

function randomBuffer(r) {
  const n = r.chance(0.01) ? 70000 + r.int(1000) : r.int(400);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = r.chance(0.7) ? 0 : r.int(256);
  return out;
}

/**
 * What re-encoding an accepted buffer gives: the struct is 144 + 2n bytes, so a buffer cut to
 * 140 + 2n .. 143 + 2n (allowed by docs/reference.md §3) or followed by extra zero bytes re-encodes to the
 * canonical length. Every byte they share must be the same, and the rest zero.
 */
function sameRecord(input, reencoded) {
  const shared = Math.min(input.length, reencoded.length);
  for (let i = 0; i < shared; i++) if (input[i] !== reencoded[i]) return false;
  for (let i = shared; i < input.length; i++) if (input[i] !== 0) return false;
  for (let i = shared; i < reencoded.length; i++) if (reencoded[i] !== 0) return false;
  return true;
}

function checkError(error, where) {
  if (!(error instanceof P.PeerTargetNameError)) {
    return `${where} threw ${error?.name ?? typeof error}: ${error?.message ?? String(error)}`;
  }
  if (!(error.code in P.WINSOCK_ERRORS) || P.WINSOCK_ERRORS[error.code] !== error.errno) return `${where}: bad code ${error.code}/${error.errno}`;
  if (typeof error.field !== 'string' || error.field === '') return `${where}: error names no field: ${error.message}`;
  if (!error.message.startsWith(`${error.code}: ${error.field}: `)) return `${where}: message does not start with code and field: ${error.message}`;
  return undefined;
}

function reencodeInput(decoded) {
  const peer = decoded.peer && {
    address: decoded.peer.address, port: decoded.peer.port, family: decoded.peer.family,
    flowInfo: decoded.peer.flowInfo, scopeId: decoded.peer.scopeId,
  };
  return { protocol: decoded.protocol, peer, targetName: decoded.targetName };
}

/**
 * The bridge's check (the codec's check(), on a copy) accepts exactly what validate accepts, and
 * the copy it hands on holds the same bytes.
 */
function bridgeCheckAgrees(bytes, options, ok) {
  let resolved;
  try {
    resolved = resolveOptions(options);
  } catch {
    return undefined; // bad options: the bridge refuses them before any check
  }
  const copy = sharedCodec().checkedCopy(bytes, resolved);
  if ((copy !== undefined) !== ok) return `the bridge's check says ${copy !== undefined ? 'valid' : 'invalid'}, validate says ${ok ? 'valid' : 'invalid'}`;
  if (copy !== undefined && !sameRecord(bytes, copy)) return 'the bridge\'s checked copy differs from the bytes';
  return undefined;
}

/** One buffer case: decode, validate and the bridge's check agree; an accepted buffer re-encodes to itself. */
function bufferCase(bytes, options) {
  let validation;
  try {
    validation = P.validatePeerTargetName(bytes, options);
  } catch (error) {
    return checkError(error, 'validate') ?? (options ? undefined : 'validate threw for bytes without bad options');
  }
  const disagreement = bridgeCheckAgrees(bytes, options, validation.ok);
  if (disagreement) return disagreement;
  let decoded;
  try {
    decoded = P.decodePeerTargetName(bytes, options);
  } catch (error) {
    const bad = checkError(error, 'decode');
    if (bad) return bad;
    if (validation.ok) return `validate accepted what decode rejected: ${error.message}`;
    if (validation.error.message !== error.message) return `decode and validate disagree on the first problem: ${error.message} / ${validation.error.message}`;
    return undefined;
  }
  if (!validation.ok) return `decode accepted what validate rejected: ${validation.error.message}`;
  const again = P.encodePeerTargetName(reencodeInput(decoded), { ...options, socketType: decoded.peer ? options?.socketType : 'stream' });
  if (!sameRecord(bytes, again)) return `accepted buffer re-encodes differently: ${P.toHex(again)}`;
  return undefined;
}

/** One API case: encode succeeds with a well-formed record, or fails with a typed error. */
function encodeCase(input, options) {
  let bytes;
  try {
    bytes = P.encodePeerTargetName(input, options);
  } catch (error) {
    return checkError(error, 'encode');
  }
  const n = input.targetName.length;
  if (bytes.length !== 144 + 2 * n) return `encode gave ${bytes.length} bytes for a ${n}-unit name`;
  for (let i = 140 + 2 * n; i < bytes.length; i++) if (bytes[i] !== 0) return 'encode left a non-zero tail';
  const decoded = P.decodePeerTargetName(bytes, { ...options, socketType: input.peer == null ? 'stream' : options?.socketType });
  if (decoded.targetName !== input.targetName) return 'encode/decode changed the target name';
  return undefined;
}

const PROBE_INPUT = { protocol: 'ipsec', peer: '192.0.2.10:4500', targetName: 'host/probe.example' };

export function fuzz({ iterations = 100_000, seed = 1, onProgress } = {}) {
  const r = prng(seed);
  const probe = P.encodePeerTargetName(PROBE_INPUT);
  const report = { seed, iterations, buffers: 0, accepted: 0, encodes: 0, encoded: 0, byCode: {}, slowestMs: 0, failures: [] };
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const caseSeed = (Math.imul(seed, 0x9e3779b1) + i) >>> 0; // each case reproducible on its own
    const c = prng(caseSeed);
    const kind = c.int(3);
    const options = randomOptions(c);
    const t0 = performance.now();
    let failure;
    let description;
    if (kind < 2) {
      const bytes = kind === 0 ? randomBuffer(c) : mutatedGolden(c);
      description = () => `buffer ${P.toHex(bytes.subarray(0, 300))}${bytes.length > 300 ? `… (${bytes.length} bytes)` : ''} options ${JSON.stringify(options)}`;
      report.buffers++;
      failure = bufferCase(bytes, options);
      const v = failure ? undefined : P.validatePeerTargetName(bytes, options);
      if (v?.ok) report.accepted++;
      else if (v) report.byCode[v.error.code] = (report.byCode[v.error.code] ?? 0) + 1;
    } else {
      // Half mostly valid (so encode -> decode round trips get exercised), half anything at all.
      const input = c.chance(0.5)
        ? { protocol: c.pick(['default', 'ipsec', 'ipsec2', 0, 1, 2]), peer: validPeer(c), targetName: c.chance(0.9) ? wellFormedName(c) : randomString(c, 80) }
        : { protocol: c.pick(PROTOCOLS), peer: randomPeer(c), targetName: c.chance(0.97) ? randomString(c, 80) : c.pick([null, 5, undefined]) };
      description = () => `encode ${JSON.stringify(input, (_, v) => (typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}…(${v.length})` : v))} options ${JSON.stringify(options)}`;
      report.encodes++;
      failure = encodeCase(input, options);
      if (!failure) {
        try {
          P.encodePeerTargetName(input, options);
          report.encoded++;
        } catch (e) {
          report.byCode[e.code] = (report.byCode[e.code] ?? 0) + 1;
        }
      }
    }
    const ms = performance.now() - t0;
    report.slowestMs = Math.max(report.slowestMs, ms);
    if (!failure && ms > HANG_MS) failure = `took ${ms.toFixed(0)} ms`;
    if (i % PROBE_EVERY === PROBE_EVERY - 1 || failure) {
      const now = P.encodePeerTargetName(PROBE_INPUT);
      if (P.toHex(now) !== P.toHex(probe)) failure = (failure ? failure + '; ' : '') + 'the codec no longer encodes the probe correctly';
      onProgress?.(i + 1, iterations);
    }
    if (failure && report.failures.length < 20) report.failures.push({ case: i, caseSeed, failure, input: description() });
    else if (failure) report.failures.length++;
  }
  report.elapsedMs = Math.round(performance.now() - started);
  report.failureCount = report.failures.length;
  return report;
}

/** Merges the reports of registry runs over consecutive episode ranges (workers). */
function mergeRegistryReports(reports) {
  const total = { ...reports[0], failures: [], actions: {}, typedErrors: {} };
  for (const key of ['steps', 'episodes', 'divergences', 'ensured', 'registered', 'evicted', 'refusedFull', 'pendingSeen', 'deleteFailures', 'guardSent', 'guardRefused', 'guardDropped']) {
    total[key] = reports.reduce((sum, r) => sum + r[key], 0);
  }
  for (const r of reports) {
    total.failures.push(...r.failures);
    for (const [k, v] of Object.entries(r.actions)) total.actions[k] = (total.actions[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.typedErrors)) total.typedErrors[k] = (total.typedErrors[k] ?? 0) + v;
  }
  total.failures = total.failures.slice(0, 20);
  total.fromEpisode = Math.min(...reports.map((r) => r.fromEpisode));
  total.elapsedMs = Math.max(...reports.map((r) => r.elapsedMs));
  return total;
}

/** A registry run split into `workers` processes, each a contiguous range of the run's episodes. */
async function registryInWorkers({ iterations, seed, workers, episodeSteps, onProgress }) {
  const episodes = Math.ceil(iterations / episodeSteps);
  const done = new Array(workers).fill(0);
  const parts = [];
  let from = 0;
  for (let w = 0; w < workers; w++) {
    const count = Math.floor(episodes / workers) + (w < episodes % workers ? 1 : 0);
    if (count === 0) continue;
    const steps = Math.min(count * episodeSteps, iterations - from * episodeSteps);
    parts.push({ w, from, steps });
    from += count;
  }
  const started = performance.now();
  const reports = await Promise.all(parts.map(({ w, from: fromEpisode, steps }) => new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--mode', 'registry', '--child', '--iterations', String(steps), '--seed', String(seed),
      '--from-episode', String(fromEpisode), '--episode-steps', String(episodeSteps)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let report;
    child.on('message', (m) => {
      if (m.progress !== undefined) {
        done[w] = m.progress;
        onProgress?.(done.reduce((a, b) => a + b, 0), iterations);
      } else {
        report = m.report;
      }
    });
    child.on('exit', (code) => (report ? resolve(report) : reject(new Error(`fuzz worker ${w} exited with ${code} and no report`))));
  })));
  const merged = mergeRegistryReports(reports);
  merged.elapsedMs = Math.round(performance.now() - started);
  merged.workers = parts.length;
  return merged;
}

function printRegistryReport(report) {
  const rate = report.steps / (report.elapsedMs / 1000);
  console.log(`fuzz (registry): seed ${report.seed}, ${report.steps} steps in ${report.episodes} episodes of ${report.episodeSteps} ` +
    `(from episode ${report.fromEpisode}) in ${(report.elapsedMs / 1000).toFixed(1)} s, ${Math.round(rate)} steps/s` +
    `${report.workers ? ` on ${report.workers} processes` : ''}`);
  console.log(`  actions: ${Object.entries(report.actions).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`  registered ${report.registered}, evicted ${report.evicted}, native delete failures ${report.deleteFailures}, ` +
    `steps with pending deletions ${report.pendingSeen}, refused (pending list full) ${report.refusedFull}`);
  console.log(`  guard: ${report.guardSent} datagrams handed to the socket, ${report.guardRefused} refused, ${report.guardDropped} dropped`);
  console.log(`  typed errors: ${Object.entries(report.typedErrors).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`  divergences: ${report.divergences}`);
  for (const f of report.failures) console.log(`  - episode ${f.episode} (seed ${f.episodeSeed}) step ${f.step}: ${f.failure}\n    ${f.action}\n    ${JSON.stringify(f.config)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      iterations: { type: 'string', default: '100000' }, seed: { type: 'string', default: '1' }, json: { type: 'boolean' },
      mode: { type: 'string', default: 'codec' }, workers: { type: 'string', default: '1' },
      'episode-steps': { type: 'string', default: String(EPISODE_STEPS) }, 'from-episode': { type: 'string', default: '0' },
      child: { type: 'boolean' },
    },
  });
  const iterations = Number(values.iterations);
  const seed = Number(values.seed);
  const workers = Number(values.workers);
  const episodeSteps = Number(values['episode-steps']);
  const fromEpisode = Number(values['from-episode']);
  if (!Number.isSafeInteger(iterations) || iterations < 1 || !Number.isSafeInteger(seed) || !['codec', 'registry'].includes(values.mode) ||
    !Number.isSafeInteger(workers) || workers < 1 || !Number.isSafeInteger(episodeSteps) || episodeSteps < 1 || !Number.isSafeInteger(fromEpisode) || fromEpisode < 0) {
    console.error('usage: npm run fuzz -- [--mode codec|registry] --iterations N --seed S [--json]\n' +
      '       registry mode: [--workers W] [--episode-steps K] [--from-episode E] (N steps, K per episode, from episode E)');
    process.exit(2);
  }
  if (values.mode === 'registry') {
    const tty = process.stderr.isTTY;
    const onProgress = (done, total) => {
      if (tty) process.stderr.write(`\rfuzz (registry): ${done}/${total}`);
      else if (done % 1_000_000 < episodeSteps * workers) process.stderr.write(`fuzz (registry): ${done}/${total}\n`);
    };
    let report;
    if (values.child) {
      report = await fuzzRegistry({ steps: iterations, seed, episodeSteps, fromEpisode, onProgress: (done) => process.send({ progress: done }) });
      process.send({ report });
      process.exit(0);
    }
    report = workers > 1
      ? await registryInWorkers({ iterations, seed, workers, episodeSteps, onProgress })
      : await fuzzRegistry({ steps: iterations, seed, episodeSteps, fromEpisode, onProgress });
    if (tty) process.stderr.write('\n');
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else printRegistryReport(report);
    process.exit(report.divergences === 0 ? 0 : 1);
  }
  const tty = process.stderr.isTTY;
  const report = fuzz({
    iterations, seed,
    onProgress: (done, total) => {
      if (tty && done % 10_000 < PROBE_EVERY) process.stderr.write(`\rfuzz: ${done}/${total}`);
      else if (!tty && done % 1_000_000 < PROBE_EVERY) process.stderr.write(`fuzz: ${done}/${total}\n`);
    },
  });
  if (tty) process.stderr.write('\n');
  if (values.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.log(`fuzz: seed ${seed}, ${iterations} cases in ${(report.elapsedMs / 1000).toFixed(1)} s`);
    console.log(`  buffers ${report.buffers} (accepted ${report.accepted}), encodes ${report.encodes} (encoded ${report.encoded})`);
    console.log(`  rejections by code: ${Object.entries(report.byCode).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    console.log(`  slowest case ${report.slowestMs.toFixed(1)} ms`);
    console.log(`  failures: ${report.failureCount}`);
    for (const f of report.failures.filter(Boolean)) console.log(`  - case ${f.case} (seed ${f.caseSeed}): ${f.failure}\n    ${f.input}`);
  }
  process.exit(report.failureCount === 0 ? 0 : 1);
}
