// The main job: a UDP echo server on 127.0.0.1 and ::1 that registers every peer's target name
// (WSASetSocketPeerTargetName, through DgramGuard and PeerRegistry) before it first answers that
// peer, driven by a crowd of simulated clients — real dgram sockets, one port each, on a worker
// thread. `peer-target-name serve` runs it (`npm start` with defaults); `serve --bench` measures what
// registering costs against the same server with registration off.
import { CommandLineError, usageMessage, subcommandLine, oneOf, protocolArgument, requireWith, wholeNumber } from './cli-args.js';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { encodePeerTargetName, PeerTargetNameError } from '../codec/api.js';
import type { TargetNamePolicy } from '../bridge/registry.js';
import { compileTargetNameTemplate, TargetNameTemplateError } from '../bridge/target-name-template.js';
import type { ProtocolInput } from '../codec/types.js';
import { Crowd, type CrowdClientResult, type CrowdRunResult, type UdpFamily } from './main-job/crowd.js';
import { EchoServer, type EchoServerStats } from './main-job/server.js';
import { SocketHandleError } from '../bridge/sockets/socket-handle.js';
import { BackendUnavailableError, openBackend, type Backend } from './main-job/backend.js';
import {
  formatBytes, formatCount, formatMicros, median, memorySnapshot, percentiles, ProgressLine, table,
  type MemorySnapshot, type Percentiles, type ProgressWriter,
} from './main-job/report.js';

export { Crowd, EchoServer, openBackend, BackendUnavailableError };
export type { Backend, CrowdClientResult, CrowdRunResult, EchoServerStats, UdpFamily };

// ---- Options and results ------------------------------------------------------------------------

export interface MainJobOptions {
  /** Simulated clients, each its own socket and port (default 1000). */
  peers?: number;
  /** Datagrams each client sends (default 5; unlimited when durationMs is given). */
  datagramsPerPeer?: number;
  /** Stop sending after this long (ms). */
  durationMs?: number;
  /** Registrations each server socket keeps, least recently used deleted first (default 65536). */
  maxPeers?: number;
  /** Datagrams per socket held while their peers' registrations are pending (default 4096). */
  maxPending?: number;
  /** Template ({address}, {port}, {family}, {scopeId}), fixed name, or function (default 'host/{address}'). */
  targetName?: TargetNamePolicy;
  protocol?: ProtocolInput;
  /** Server sockets, and the clients spread over them (default both). */
  families?: UdpFamily[];
  /** Most clients with a datagram in flight (default 256). */
  concurrency?: number;
  /** A datagram not answered within this long counts as lost (ms, default 500). */
  timeoutMs?: number;
  /** Register peers (default true); false is a plain echo server. */
  registration?: boolean;
  /** A library to register with instead of the platform's backend. */
  library?: string;
  /**
   * Give each server socket WSASetSocketSecurity (SecurityProtocol = `protocol`) between socket()
   * and bind(), through createSecureSocket (default false). Needs registration on.
   */
  security?: boolean;
  /** An already opened backend (tests); not closed by the job. */
  backend?: Backend;
  /** Keep every reply's arrival time per client (CrowdClientResult.replyTimes). */
  log?: boolean;
  /** Stops the run early (the summary says why: the reason, e.g. 'SIGTERM'). */
  signal?: AbortSignal;
}

export interface MainJobHooks {
  /** The server is up, before any client exists. */
  onStart?(server: EchoServer): void | Promise<void>;
  /** The clients are bound, before any datagram. */
  onClients?(clients: { index: number; family: UdpFamily; port: number }[]): void | Promise<void>;
  /** The run ended; the registrations are still in place. */
  beforeStop?(server: EchoServer, run: CrowdRunResult | undefined): void | Promise<void>;
}

export interface MainJobSummary {
  backend: { kind: Backend['kind']; path: string; description: string } | null;
  /** 'SIGINT', 'SIGTERM' (or any abort reason) when stopped early; else null. */
  interrupted: string | null;
  options: {
    peers: number; datagramsPerPeer: number | null; durationMs: number | null; maxPeers: number; maxPending: number;
    targetName: string; protocol: string; families: UdpFamily[]; concurrency: number; timeoutMs: number; registration: boolean;
    /** WSASetSocketSecurity was called on each server socket before it was bound. */
    security: boolean;
  };
  endpoints: { family: UdpFamily; address: string; port: number }[];
  elapsedSeconds: number;
  peers: { total: number; served: number; neverAnswered: number; complete: number };
  datagrams: { sent: number; received: number; echoed: number; answered: number; lost: number; late: number; dropped: number; refused: number };
  registrations: {
    made: number; reused: number; evicted: number; failed: number; failedPeers: number;
    deletedAtExit: number; heldAtExit: number | null; deleteErrors: string[];
  };
  /** What the native side still held after the shutdown (null where it cannot be asked, e.g. Windows). */
  registrationsHeldAtExit: number | null;
  throughput: { datagramsPerSecond: number; registrationsPerSecond: number };
  /** Round trip of each peer's first datagram (registration included), in µs. */
  firstReplyLatencyUs: Percentiles | null;
  /** Round trip of every datagram (a sample), in µs. */
  replyLatencyUs: Percentiles | null;
  memory: { start: MemorySnapshot; end: MemorySnapshot; peakRssBytes: number };
}

export interface MainJobResult {
  summary: MainJobSummary;
  run: CrowdRunResult | undefined;
}

const DEFAULTS = {
  peers: 1000, datagramsPerPeer: 5, maxPeers: 65536, maxPending: 4096, targetName: 'host/{address}',
  protocol: 'ipsec' as ProtocolInput, concurrency: 256, timeoutMs: 500,
};

/**
 * Checks a target-name template before serving, with the template compiler PeerRegistry uses: an
 * unknown or unbalanced placeholder is a usage error (returned, naming --target-name and the
 * position); a name the codec refuses throws its PeerTargetNameError (e.g. WSAEINVAL: targetName: ...).
 */
export function checkTemplate(template: string, protocol: ProtocolInput, families: UdpFamily[]): string | undefined {
  let nameFor;
  try {
    nameFor = compileTargetNameTemplate(template);
  } catch (error) {
    if (error instanceof TargetNameTemplateError) return `--target-name '${template}': ${error.detail}`; // quoted as typed, as every CLI message quotes
    throw error;
  }
  for (const family of families) {
    const peer = family === 'udp4'
      ? { family: 'ipv4' as const, address: '127.0.0.1', port: 40000, scopeId: 0 }
      : { family: 'ipv6' as const, address: '::1', port: 40000, scopeId: 0 };
    encodePeerTargetName({ protocol, peer: { address: peer.address, port: peer.port }, targetName: nameFor(peer) });
  }
  return undefined;
}

function clientFamilies(count: number, families: UdpFamily[]): UdpFamily[] {
  return Array.from({ length: count }, (_, i) => families[i % families.length]);
}

const us = (p: Percentiles | null): Percentiles | null =>
  p && { count: p.count, p50: p.p50 / 1000, p90: p.p90 / 1000, p99: p.p99 / 1000, max: p.max / 1000 };

// ---- The main job -------------------------------------------------------------------------------

/** Runs the server and the crowd once and returns the summary (and the crowd's own counts). */
export async function runMainJob(options: MainJobOptions = {}, hooks: MainJobHooks = {}): Promise<MainJobResult> {
  const peers = options.peers ?? DEFAULTS.peers;
  const durationMs = options.durationMs;
  const datagramsPerPeer = options.datagramsPerPeer ?? (durationMs !== undefined ? Infinity : DEFAULTS.datagramsPerPeer);
  const families = options.families ?? ['udp4', 'udp6'];
  const registration = options.registration ?? true;
  const maxPeers = options.maxPeers ?? DEFAULTS.maxPeers;
  const maxPending = options.maxPending ?? DEFAULTS.maxPending;
  const targetName = options.targetName ?? DEFAULTS.targetName;
  const protocol = options.protocol ?? DEFAULTS.protocol;
  const concurrency = options.concurrency ?? DEFAULTS.concurrency;
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const security = options.security ?? false;
  if (security && !registration) throw new Error('security needs the native backend: it cannot go with registration off');
  const memoryStart = memorySnapshot();

  const backend = registration ? options.backend ?? await openBackend(options.library) : undefined;
  const ownsBackend = backend !== undefined && options.backend === undefined;
  let server: EchoServer | undefined;
  let crowd: Crowd | undefined;
  let run: CrowdRunResult | undefined;
  let stopped: Awaited<ReturnType<EchoServer['stop']>> | undefined;
  let stats: EchoServerStats | undefined;
  const started = process.hrtime.bigint();
  let memoryEnd: MemorySnapshot | undefined;
  try {
    server = await EchoServer.start({
      bridge: backend?.bridge, registration, targetName, protocol, maxPeers, maxPending, families,
      ...(security ? { security: { protocol } } : {}),
    });
    await hooks.onStart?.(server);
    crowd = new Crowd();
    const targets = Object.fromEntries(server.endpoints.map((e) => [e.family, { address: e.address, port: e.port }]));
    const aborted = () => options.signal?.aborted === true;
    if (!aborted()) {
      const spread = clientFamilies(peers, families);
      const opened = await crowd.open(spread, targets);
      await hooks.onClients?.(opened.ports.map((port, i) => ({ index: opened.first + i, family: spread[i], port })));
    }
    if (!aborted()) {
      const stop = () => void crowd?.stop().catch(() => {});
      options.signal?.addEventListener('abort', stop, { once: true });
      try {
        run = await crowd.run({ datagramsPerPeer, durationMs, timeoutMs, concurrency, log: options.log });
      } finally {
        options.signal?.removeEventListener('abort', stop);
      }
    }
    memoryEnd = memorySnapshot();
    await hooks.beforeStop?.(server, run);
    stats = server.stats();
    stopped = await server.stop(backend?.peerCount);
  } finally {
    if (server && !stopped) {
      try {
        stopped = await server.stop(backend?.peerCount);
      } catch {
        // already stopping: the error that brought us here matters more
      }
    }
    await crowd?.close().catch(() => {});
    if (ownsBackend) await backend?.bridge.close();
  }

  const elapsedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const runSeconds = run ? run.elapsedNs / 1e9 : elapsedSeconds;
  const s = stats ?? server!.stats();
  const clients = run?.clients ?? [];
  const reason = options.signal?.aborted ? String(options.signal.reason ?? 'aborted') : null;
  const summary: MainJobSummary = {
    backend: backend ? { kind: backend.kind, path: backend.path, description: backend.description } : null,
    interrupted: reason,
    options: {
      peers, datagramsPerPeer: Number.isFinite(datagramsPerPeer) ? datagramsPerPeer : null, durationMs: durationMs ?? null,
      maxPeers, maxPending, targetName: typeof targetName === 'function' ? '(a function)' : targetName,
      protocol: String(protocol), families, concurrency, timeoutMs, registration, security,
    },
    endpoints: server!.endpoints.map((e) => ({ family: e.family, address: e.address, port: e.port })),
    elapsedSeconds,
    peers: {
      total: peers,
      served: clients.filter((c) => c.received > 0).length,
      neverAnswered: clients.filter((c) => c.received === 0).length,
      complete: clients.filter((c) => c.sent > 0 && c.received === c.sent).length,
    },
    datagrams: {
      sent: run?.sent ?? 0, received: s.received, echoed: s.echoed, answered: run?.received ?? 0,
      lost: run?.lost ?? 0, late: run?.late ?? 0, dropped: s.dropped, refused: s.refused,
    },
    registrations: {
      made: s.registered, reused: s.reused, evicted: s.evicted, failed: s.failed, failedPeers: s.failedPeers,
      deletedAtExit: stopped?.deleted ?? 0, heldAtExit: stopped?.heldAtExit ?? null, deleteErrors: stopped?.errors ?? [],
    },
    registrationsHeldAtExit: stopped?.heldAtExit ?? null,
    throughput: {
      datagramsPerSecond: runSeconds > 0 ? (run?.received ?? 0) / runSeconds : 0,
      registrationsPerSecond: runSeconds > 0 ? s.registered / runSeconds : 0,
    },
    firstReplyLatencyUs: us(percentiles(run?.firstContactRttsNs ?? [])),
    replyLatencyUs: us(percentiles(run?.rttSampleNs ?? [])),
    memory: { start: memoryStart, end: memoryEnd ?? memorySnapshot(), peakRssBytes: process.resourceUsage().maxRSS * 1024 },
  };
  return { summary, run };
}

const where = (e: { family: UdpFamily; address: string; port: number }) => (e.family === 'udp6' ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`);

/** The summary as the table `serve` prints. */
export function formatSummary(s: MainJobSummary): string {
  const o = s.options;
  const what = o.datagramsPerPeer !== null ? `${formatCount(o.peers)} peers × ${formatCount(o.datagramsPerPeer)} datagrams` : `${formatCount(o.peers)} peers for ${(o.durationMs ?? 0) / 1000} s`;
  const head = `${what} against ${s.endpoints.map(where).join(' and ')}` +
    (s.interrupted ? ` — stopped early by ${s.interrupted}` : '') + '\n' +
    (s.backend ? `registering with ${s.backend.description}\n` : 'registration off: plain echo\n') +
    (o.security ? `socket security: WSASetSocketSecurity (${o.protocol}) on each server socket, before bind\n` : '');
  const lat = (p: Percentiles | null) => (p ? `p50 ${formatMicros(p.p50)}  p90 ${formatMicros(p.p90)}  p99 ${formatMicros(p.p99)}  max ${formatMicros(p.max)}` : 'none');
  const r = s.registrations;
  const d = s.datagrams;
  const m = s.memory.end;
  return `${head}\n` + table([
    ['peers', `${formatCount(s.peers.total)} (answered ${formatCount(s.peers.served)}, never answered ${formatCount(s.peers.neverAnswered)})`],
    ['datagrams echoed', `${formatCount(d.echoed)} (clients sent ${formatCount(d.sent)}, got ${formatCount(d.answered)} back; lost ${formatCount(d.lost)})`],
    ['not answered', `${formatCount(d.refused)} refused (registration failed), ${formatCount(d.dropped)} dropped (--max-pending full)`],
    ['registrations made', formatCount(r.made)],
    ['registrations reused', `${formatCount(r.reused)} (datagrams to peers already registered)`],
    ['registrations evicted', `${formatCount(r.evicted)} (--max-peers ${formatCount(o.maxPeers)} per socket)`],
    ['registrations failed', `${formatCount(r.failed)} (${formatCount(r.failedPeers)} peers)`],
    ['deleted at exit', `${formatCount(r.deletedAtExit)} (held natively afterwards: ${r.heldAtExit ?? 'cannot ask this backend'})` +
      (r.deleteErrors.length ? `; errors: ${r.deleteErrors.join('; ')}` : '')],
    ['throughput', `${formatCount(s.throughput.datagramsPerSecond)} datagrams/s, ${formatCount(s.throughput.registrationsPerSecond)} registrations/s (${s.elapsedSeconds.toFixed(2)} s in all)`],
    ['first reply to a new peer', lat(s.firstReplyLatencyUs)],
    ['any reply', lat(s.replyLatencyUs)],
    ['memory', `RSS ${formatBytes(m.rssBytes)} (peak ${formatBytes(s.memory.peakRssBytes)}), heap ${formatBytes(m.heapUsedBytes)} of ${formatBytes(m.heapTotalBytes)}, WASM ${formatBytes(m.wasmBytes)}`],
  ]);
}

// ---- The benchmark ------------------------------------------------------------------------------

export interface ServeBenchOptions {
  /** Clients that repeat, for the throughput rounds (default 256). */
  peers?: number;
  /** Throughput rounds per mode (default 5), interleaved on/off/off/on/... */
  rounds?: number;
  /** Length of a throughput round (ms, default 500). */
  roundMs?: number;
  /** New peers per mode and first-contact round, probed one at a time, on and off in turn (default 200). */
  newPeers?: number;
  /** First-contact rounds per mode (default 3). */
  latencyRounds?: number;
  maxPeers?: number;
  targetName?: TargetNamePolicy;
  protocol?: ProtocolInput;
  families?: UdpFamily[];
  concurrency?: number;
  timeoutMs?: number;
  library?: string;
  backend?: Backend;
  signal?: AbortSignal;
  /** Called after each round (progress for people). */
  onRound?(round: BenchRound): void;
}

export interface BenchRound {
  kind: 'throughput' | 'first-contact';
  registration: boolean;
  /** Datagrams/s (throughput) or the median round trip in µs (first contact). */
  value: number;
  /** Throughput rounds: the share of the round the server's event loop was busy (0-1). */
  serverUtilization?: number;
  /** Throughput rounds: datagrams per second of the server's busy time (its capacity alone). */
  capacity?: number;
}

export interface ServeBenchResult {
  backend: { kind: Backend['kind']; path: string };
  rounds: BenchRound[];
  throughput: {
    on: number[]; off: number[];
    /** Medians, datagrams/s. */
    medianOn: number; medianOff: number;
    /** Median of the on/off ratios of adjacent rounds. */
    ratio: number;
    /** Datagrams per second of the server's busy time, medians: its cost alone, whatever the load. */
    capacityOn: number; capacityOff: number;
    /** Median of the on/off capacity ratios of adjacent rounds. */
    capacityRatio: number;
    /** Median share of each round the server's event loop was busy. */
    serverUtilization: number;
    /** (1 - the lower of the two ratios) as a percentage: what registering costs when peers repeat. */
    costPercent: number;
    target: string; met: boolean;
  };
  firstContact: {
    /** Round trips of a new peer's first datagram, µs. */
    on: Percentiles | null; off: Percentiles | null;
    /** Median on minus median off, µs. */
    addedMedianUs: number;
    target: string; met: boolean;
  };
  interrupted: string | null;
}

/**
 * Datagrams/s with registration on against the same server with registration off (plain echo),
 * in interleaved rounds of one run, when peers repeat; then the round trip of a new peer's first
 * datagram, on and off. Not a test: the numbers depend on the machine.
 */
export async function runServeBench(options: ServeBenchOptions = {}): Promise<ServeBenchResult> {
  const repeat = options.peers ?? 256;
  const rounds = options.rounds ?? 5;
  const roundMs = options.roundMs ?? 500;
  const newPeers = options.newPeers ?? 200;
  const latencyRounds = options.latencyRounds ?? 3;
  const families = options.families ?? ['udp4', 'udp6'];
  const timeoutMs = options.timeoutMs ?? 500;
  const concurrency = options.concurrency ?? 256;
  const backend = options.backend ?? await openBackend(options.library);
  const server = await EchoServer.start({
    bridge: backend.bridge, registration: true, families, maxPeers: options.maxPeers ?? DEFAULTS.maxPeers,
    targetName: options.targetName ?? DEFAULTS.targetName, protocol: options.protocol ?? DEFAULTS.protocol,
  });
  const crowd = new Crowd();
  const aborted = () => options.signal?.aborted === true;
  const done: BenchRound[] = [];
  const record = (round: BenchRound) => {
    done.push(round);
    options.onRound?.(round);
  };
  const onRtts: number[] = [];
  const offRtts: number[] = [];
  try {
    const targets = Object.fromEntries(server.endpoints.map((e) => [e.family, { address: e.address, port: e.port }]));
    await crowd.open(clientFamilies(repeat, families), targets);
    const runFor = (ms: number) => crowd.run({ to: repeat, datagramsPerPeer: Infinity, durationMs: ms, timeoutMs, concurrency });
    // Warm-up: every repeat peer registered, both paths run hot.
    server.setRegistration(true);
    await crowd.run({ to: repeat, datagramsPerPeer: 3, timeoutMs, concurrency });
    await runFor(Math.min(300, roundMs));
    server.setRegistration(false);
    await runFor(Math.min(300, roundMs));
    // Throughput, ABBA order (on off off on on off ...) so that drift hits both alike.
    for (let i = 0; i < rounds * 2 && !aborted(); i++) {
      const on = (i % 4 === 0) || (i % 4 === 3);
      server.setRegistration(on);
      const before = performance.eventLoopUtilization();
      const r = await runFor(roundMs);
      const busy = performance.eventLoopUtilization(before);
      record({
        kind: 'throughput', registration: on, value: r.received / (r.elapsedNs / 1e9),
        serverUtilization: busy.utilization, capacity: r.received / (busy.active / 1000),
      });
    }
    // First contact: new peers (sockets stay open, so no port comes back), probed one at a time
    // with registration switched on and off between them, in pairs of one family whose order
    // alternates (on, off / off, on): whatever the machine does meanwhile (another tenant, a CPU
    // waking from idle, which moved whole rounds by tens of µs when each round was one mode) falls
    // on both modes alike. One unrecorded round first: plain echo's first-contact code is the code
    // every datagram takes, hot from the throughput rounds, while registration's (a lone new
    // peer's path) has not run yet (the warm-up's peers arrived together, in batches).
    for (let round = 0; round <= latencyRounds && !aborted(); round++) {
      const pairs = Array.from({ length: 2 * newPeers }, (_, i) => families[(i >> 1) % families.length]);
      const { first } = await crowd.open(pairs, targets);
      const rtts = { on: [] as number[], off: [] as number[] };
      for (let k = 0; k < 2 * newPeers && !aborted(); k++) {
        const on = (k & 1) === ((k >> 1) & 1); // pair k >> 1: on first when it is even
        server.setRegistration(on);
        const [rtt] = await crowd.probe(first + k, first + k + 1, timeoutMs);
        if (rtt >= 0) (on ? rtts.on : rtts.off).push(rtt / 1000);
      }
      if (round === 0) continue;
      onRtts.push(...rtts.on);
      offRtts.push(...rtts.off);
      record({ kind: 'first-contact', registration: true, value: median(rtts.on) });
      record({ kind: 'first-contact', registration: false, value: median(rtts.off) });
    }
  } finally {
    await server.stop(backend.peerCount).catch(() => undefined);
    await crowd.close().catch(() => {});
    if (!options.backend) await backend.bridge.close();
  }
  const throughputRounds = done.filter((r) => r.kind === 'throughput');
  const pick = (on: boolean, f: (r: BenchRound) => number) => throughputRounds.filter((r) => r.registration === on).map(f);
  const tOn = pick(true, (r) => r.value);
  const tOff = pick(false, (r) => r.value);
  const cOn = pick(true, (r) => r.capacity ?? Number.NaN);
  const cOff = pick(false, (r) => r.capacity ?? Number.NaN);
  const pairRatio = (a: number[], b: number[]) => median(a.slice(0, b.length).map((v, i) => v / b[i]));
  const ratio = pairRatio(tOn, tOff);
  const capacityRatio = pairRatio(cOn, cOff);
  const costPercent = (1 - Math.min(ratio, capacityRatio)) * 100;
  const on = percentiles(onRtts);
  const off = percentiles(offRtts);
  const added = on && off ? on.p50 - off.p50 : Number.NaN;
  return {
    backend: { kind: backend.kind, path: backend.path },
    rounds: done,
    throughput: {
      on: tOn, off: tOff, medianOn: median(tOn), medianOff: median(tOff), ratio,
      capacityOn: median(cOn), capacityOff: median(cOff), capacityRatio,
      serverUtilization: median(throughputRounds.map((r) => r.serverUtilization ?? Number.NaN)),
      costPercent, target: 'registering costs under 10% of throughput when peers repeat', met: costPercent < 10,
    },
    firstContact: {
      on, off, addedMedianUs: added,
      target: 'first-contact latency adds under 50 µs at the median', met: added < 50,
    },
    interrupted: options.signal?.aborted ? String(options.signal.reason ?? 'aborted') : null,
  };
}

export function formatServeBench(b: ServeBenchResult): string {
  const t = b.throughput;
  const f = b.firstContact;
  const verdict = (met: boolean) => (met ? 'MET' : 'MISSED');
  const lat = (p: Percentiles | null) => (p ? `p50 ${formatMicros(p.p50)}  p90 ${formatMicros(p.p90)}  p99 ${formatMicros(p.p99)} (${p.count} peers)` : 'none');
  return (b.interrupted ? `stopped early by ${b.interrupted}: partial results\n` : '') + table([
    ['throughput, peers repeat (datagrams/s, median of rounds)'],
    ['registration on', `${formatCount(t.medianOn)}   rounds: ${t.on.map(formatCount).join(', ')}`],
    ['registration off', `${formatCount(t.medianOff)}   rounds: ${t.off.map(formatCount).join(', ')}`],
    ['ratio on/off', `${t.ratio.toFixed(3)} (median of adjacent pairs)`],
    ['server capacity', `on ${formatCount(t.capacityOn)}, off ${formatCount(t.capacityOff)} datagrams per busy second; ratio ${t.capacityRatio.toFixed(3)}`],
    ['server busy', `${(t.serverUtilization * 100).toFixed(0)}% of each round (median)` +
      (t.serverUtilization < 0.9 ? ': the clients, not the server, set the pace; the capacity ratio is the server\'s own cost' : '')],
    ['registering costs', `${t.costPercent.toFixed(1)}% (the worse of the two ratios)`],
    ['target', `${t.target}: ${verdict(t.met)}`],
    ['first reply to a new peer (round trip)'],
    ['registration on', lat(f.on)],
    ['registration off', lat(f.off)],
    ['added at the median', formatMicros(f.addedMedianUs)],
    ['target', `${f.target}: ${verdict(f.met)}`],
  ]);
}

// ---- The `serve` command ------------------------------------------------------------------------

export interface ServeIO {
  stdout: { write(chunk: string): unknown };
  stderr: ProgressWriter;
}

export const SERVE_HELP = `Usage: peer-target-name serve [options]

Runs the main job on this machine: a UDP echo server on 127.0.0.1 and ::1 (one socket and one
DgramGuard each) that registers every new peer's target name before it first answers that peer,
and a crowd of simulated clients (real UDP sockets, one port each, on a worker thread) that send to
it. Registrations go to Fwpuclnt.dll on Windows and to the Linux conformance library elsewhere (a
stand-in that checks each call and keeps a table per socket; no IPsec). On Ctrl-C / SIGTERM it stops
cleanly: the registrations it made are deleted and the summary is printed.

Options:
  --peers N                 simulated clients, each its own socket and port (default 1000)
  --datagrams-per-peer K    datagrams each client sends (default 5; no limit with --duration)
  --duration D              send for D (e.g. 10s, 1500ms, 2m) instead of K datagrams per peer
  --max-peers N             registrations each server socket keeps; the least recently used
                            is deleted first and registered again if it comes back (default 65536)
  --max-pending N           datagrams per socket held while registrations are pending; past it
                            they are dropped and counted (default 4096)
  --target-name TEMPLATE    the SPN of each peer, with {address} {port} {family} {scopeId}
                            (default host/{address})
  --protocol P              default, ipsec (default) or ipsec2
  --family F                both (default), ipv4 or ipv6
  --concurrency N           most clients with a datagram in flight (default 256)
  --timeout MS              a datagram unanswered this long counts as lost (default 500)
  --library PATH            register with this library (exports the Fwpuclnt.dll functions)
  --no-registration         plain echo, nothing registered
  --security                call WSASetSocketSecurity (SecurityProtocol = --protocol) on each
                            server socket after socket() and before bind(), as Microsoft
                            documents for a UDP server (default off)
  --json                    print the summary as JSON only, on stdout
  --quiet                   no progress line on stderr
  --bench                   measure: datagrams/s with registration on against off (same server,
                            interleaved rounds) and the first reply's added latency
  --rounds R                with --bench: throughput rounds per mode (default 5)
  --round-ms MS             with --bench: length of a throughput round (default 500)
  -h, --help                show this help

Progress (stderr): peers registered, datagrams/s, registrations/s, failures — redrawn in place on a
terminal, one line a second otherwise.

Exit status: 0 done; 130 / 143 stopped by SIGINT / SIGTERM (after a clean stop: registrations
deleted, summary printed; a second signal exits at once); 1 the target name breaks a rule; 2 bad
command line; 69 no native backend here (the message says what to install); 70 internal error.
`;

const SERVE_OPTIONS = {
  peers: { type: 'string' },
  'datagrams-per-peer': { type: 'string' },
  duration: { type: 'string' },
  'max-peers': { type: 'string' },
  'max-pending': { type: 'string' },
  'target-name': { type: 'string' },
  protocol: { type: 'string' },
  family: { type: 'string' },
  concurrency: { type: 'string' },
  timeout: { type: 'string' },
  library: { type: 'string' },
  'no-registration': { type: 'boolean' },
  security: { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  bench: { type: 'boolean' },
  rounds: { type: 'string' },
  'round-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** '10s', '1500ms', '2m', '3' (seconds) → ms. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(text);
  if (!m) throw new CommandLineError(`invalid value '${text}' for --duration (expected a time such as 10s, 1500ms or 2m)`);
  const value = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
  if (!(value > 0)) throw new CommandLineError(`invalid value '${text}' for --duration (expected more than 0)`);
  return value;
}

/** The soft limit on open files (Linux), or undefined where it cannot be read. */
function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft && /^\d+$/.test(soft) ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/** `peer-target-name serve ...`: resolves to the exit status; never calls process.exit (but on a second signal). */
export async function serveCommand(argv: string[], io: ServeIO): Promise<number> {
  const values = subcommandLine('serve', argv, SERVE_OPTIONS, SERVE_HELP, io);
  if (typeof values === 'number') return values;
  let options: MainJobOptions;
  let bench: ServeBenchOptions;
  try {
    const family = oneOf('family', values.family, ['both', 'ipv4', 'ipv6']);
    const families: UdpFamily[] | undefined = family === undefined ? undefined
      : family === 'both' ? ['udp4', 'udp6'] : family === 'ipv4' ? ['udp4'] : ['udp6'];
    const protocol = protocolArgument('protocol', values.protocol);
    requireWith(values, 'bench', ['rounds', 'round-ms']);
    options = {
      peers: wholeNumber('peers', values.peers, 1),
      datagramsPerPeer: wholeNumber('datagrams-per-peer', values['datagrams-per-peer'], 1),
      durationMs: values.duration === undefined ? undefined : parseDuration(values.duration),
      maxPeers: wholeNumber('max-peers', values['max-peers'], 1),
      maxPending: wholeNumber('max-pending', values['max-pending'], 1),
      targetName: values['target-name'],
      protocol,
      families,
      concurrency: wholeNumber('concurrency', values.concurrency, 1),
      timeoutMs: wholeNumber('timeout', values.timeout, 1),
      library: values.library,
      registration: !values['no-registration'],
      security: values.security === true,
    };
    if (values.security && values['no-registration']) throw new CommandLineError('--security needs the native backend: drop --no-registration');
    if (values.security && values.bench) throw new CommandLineError('--bench measures the registration cost on plain sockets: drop --security');
    if (values.bench && values['no-registration']) throw new CommandLineError('--bench compares registration on and off: drop --no-registration');
    bench = {
      peers: wholeNumber('peers', values.peers, 1), rounds: wholeNumber('rounds', values.rounds, 1), roundMs: wholeNumber('round-ms', values['round-ms'], 50),
      maxPeers: options.maxPeers, targetName: options.targetName, protocol: options.protocol, families, concurrency: options.concurrency,
      timeoutMs: options.timeoutMs, library: options.library,
    };
    const limit = openFileLimit();
    // --bench: 1 warm-up and 3 measured first-contact rounds of 2 × 200 new peers each.
    const sockets = (options.peers ?? (values.bench ? 256 : DEFAULTS.peers)) + (values.bench ? 4 * 2 * 200 : 0) + 64;
    if (limit !== undefined && sockets > limit) {
      throw new CommandLineError(`--peers ${options.peers} needs about ${sockets} open files, over this process's limit of ${limit} (raise it with ulimit -n)`);
    }
    const problem = checkTemplate(typeof options.targetName === 'string' ? options.targetName : DEFAULTS.targetName,
      options.protocol ?? DEFAULTS.protocol, families ?? ['udp4', 'udp6']);
    if (problem) throw new CommandLineError(problem);
  } catch (e) {
    if (e instanceof CommandLineError) {
      io.stderr.write(usageMessage('serve', e.message));
      return 2;
    }
    if (e instanceof PeerTargetNameError) {
      io.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }

  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      io.stderr.write(`\n${signal} again: exiting without cleaning up\n`);
      process.exit(SIGNAL_EXIT[signal] ?? 1);
    }
    io.stderr.write(`\n${signal}: stopping, deleting the registrations made...\n`);
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `npm start` killed by a signal sent to npm itself exits without passing it on: the server,
  // re-parented, sees its parent change and stops as cleanly as for a SIGTERM of its own.
  const parent = process.ppid;
  const orphaned = process.env.npm_lifecycle_event === undefined ? undefined : setInterval(() => {
    if (process.ppid !== parent && !controller.signal.aborted) {
      io.stderr.write('\nnpm, which started this server, has gone: ');
      onSignal('SIGTERM');
    }
  }, 200);
  orphaned?.unref();
  options.signal = controller.signal;
  bench.signal = controller.signal;
  let progress: ProgressLine | undefined;
  try {
    if (values.bench) {
      if (!values.quiet && !values.json) io.stderr.write('benchmark: registration on vs off, interleaved rounds...\n');
      bench.onRound = (r) => {
        if (values.quiet || values.json) return;
        io.stderr.write(`  ${r.kind} round, registration ${r.registration ? 'on ' : 'off'}: ` +
          (r.kind === 'throughput' ? `${formatCount(r.value)} datagrams/s\n` : `median ${formatMicros(r.value)}\n`));
      };
      const result = await runServeBench(bench);
      io.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : formatServeBench(result));
      return result.interrupted ? SIGNAL_EXIT[result.interrupted] ?? 1 : 0;
    }
    const { summary } = await runMainJob(options, {
      onStart(server) {
        if (values.quiet) return;
        io.stderr.write(`serving on ${server.endpoints.map(where).join(' and ')}` +
          `${server.registering ? '' : ' (registration off)'}; ${formatCount(options.peers ?? DEFAULTS.peers)} clients starting\n`);
        progress = new ProgressLine(io.stderr, () => {
          const s = server.stats();
          return { registered: s.registered, held: s.held, echoed: s.echoed, failed: s.failed, dropped: s.dropped };
        });
      },
      beforeStop() {
        progress?.stop();
      },
    });
    progress?.stop();
    io.stdout.write(values.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
    return summary.interrupted ? SIGNAL_EXIT[summary.interrupted] ?? 1 : 0;
  } catch (e) {
    progress?.stop();
    if (e instanceof BackendUnavailableError || e instanceof SocketHandleError) {
      io.stderr.write(`peer-target-name serve: ${e.message}\n`);
      return 69;
    }
    if (e instanceof PeerTargetNameError) {
      io.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    clearInterval(orphaned);
  }
}
