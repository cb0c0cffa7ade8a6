// The crowd: simulated UDP clients for the main job, each a real dgram socket with its own port,
// run on a worker thread so that the server's event loop (the main thread) is measured alone.
// Every client is connected to its server socket (127.0.0.1 or ::1) and plays ping-pong: it sends a
// datagram, waits for the echo (or a timeout), then sends the next. At most `concurrency` clients
// have a datagram in flight at once, so the server's receive buffer cannot overflow by design.
//
// The worker is plain JavaScript in a string, so no separate file has to be
// found at run time, from the built package or from the TypeScript sources under vitest.
import { Worker } from 'node:worker_threads';
import { EventEmitter } from 'node:events';

export type UdpFamily = 'udp4' | 'udp6';

export interface CrowdTarget {
  address: string;
  port: number;
}

export interface CrowdRunOptions {
  /** Clients [from, to) take part (default: all). */
  from?: number;
  to?: number;
  /** Datagrams each client sends (Infinity: until the duration ends or stop()). */
  datagramsPerPeer: number;
  /** Stop sending after this long (ms; Infinity: no limit). */
  durationMs?: number;
  /** A datagram not answered within this long counts as lost (ms, default 500). */
  timeoutMs?: number;
  /** Most clients with a datagram in flight (default 256). */
  concurrency?: number;
  /** Bytes per datagram (at least 8, default 32). */
  payloadBytes?: number;
  /** Keep every reply's arrival time per client (process.hrtime.bigint(), CLOCK_MONOTONIC). */
  log?: boolean;
  /** Progress events every this many ms (0: none). */
  progressMs?: number;
}

export interface CrowdClientResult {
  index: number;
  family: UdpFamily;
  /** The client's own local port (its address is the family's loopback). */
  port: number;
  sent: number;
  received: number;
  lost: number;
  /** Round trip of the client's first datagram ever, in ns, when it was answered; else -1. */
  firstRttNs: number;
  /** With `log`: when each reply arrived (ns, same clock as process.hrtime.bigint()). */
  replyTimes?: bigint[];
}

export interface CrowdRunResult {
  sent: number;
  received: number;
  lost: number;
  /** Replies that came after their datagram had been counted lost (or duplicates). */
  late: number;
  elapsedNs: number;
  /** Round trips of first datagrams to the server (new peers), ns. */
  firstContactRttsNs: number[];
  /** A sample (at most 100,000) of every round trip, ns. */
  rttSampleNs: number[];
  clients: CrowdClientResult[];
}

export interface CrowdProgress {
  sent: number;
  received: number;
  lost: number;
}

const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort } = require('node:worker_threads');
const dgram = require('node:dgram');
const { performance } = require('node:perf_hooks');
// Round trips on performance.now() (a double, cheap); arrival times for the log on
// process.hrtime.bigint() (CLOCK_MONOTONIC, the clock the conformance library stamps with).
const now = () => performance.now();
const monotonic = () => process.hrtime.bigint();
const clients = [];
let run = null;

function bindAndConnect(family, target) {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(family);
    const fail = (error) => { try { socket.close(); } catch {} reject(error); };
    socket.once('error', fail);
    socket.bind(0, family === 'udp4' ? '127.0.0.1' : '::1', () => {
      socket.connect(target.port, target.address, () => {
        socket.off('error', fail);
        resolve(socket);
      });
    });
  });
}

async function open({ families, targets }) {
  const first = clients.length;
  const sockets = await Promise.all(families.map((f) => bindAndConnect(f, targets[f])));
  sockets.forEach((socket, k) => {
    const c = {
      index: first + k, family: families[k], socket, port: socket.address().port, buffer: null,
      seq: 0, everSent: false, outstanding: false, sentAt: 0, firstSeq: -1,
      sent: 0, received: 0, lost: 0, remaining: 0, firstRttNs: -1, replyTimes: null, probe: null,
    };
    // A connected UDP socket reports ICMP errors (the server went away): count them as losses.
    socket.on('error', () => {});
    socket.on('message', (msg) => onReply(c, msg));
    clients.push(c);
  });
  return { first, ports: sockets.map((s) => s.address().port) };
}

// One buffer per client, rewritten for each datagram: a client has one datagram in flight at a
// time, and a connected socket hands it to the kernel before send() returns (or libuv keeps it
// until it has left, which the reply proves).
function payload(c, size) {
  if (c.buffer === null || c.buffer.length !== size) { c.buffer = Buffer.alloc(size); c.buffer.writeUInt32LE(c.index, 0); }
  c.buffer.writeUInt32LE(c.seq, 4);
  return c.buffer;
}

function sendNext(c) {
  c.seq = (c.seq + 1) >>> 0;
  if (!c.everSent) { c.everSent = true; c.firstSeq = c.seq; }
  c.outstanding = true;
  c.sentAt = now();
  c.remaining--;
  c.sent++;
  if (run) { run.sent++; run.inFlight++; }
  c.socket.send(payload(c, run ? run.payloadBytes : 8));
}

function onReply(c, msg) {
  const t = now();
  const at = c.replyTimes ? monotonic() : 0n;
  if (msg.length < 8 || !c.outstanding || msg.readUInt32LE(0) !== c.index || msg.readUInt32LE(4) !== c.seq) {
    if (run) run.late++;
    return;
  }
  c.outstanding = false;
  c.received++;
  const rtt = Math.round((t - c.sentAt) * 1e6);
  if (c.seq === c.firstSeq) c.firstRttNs = rtt;
  if (c.probe) { const p = c.probe; c.probe = null; p(rtt); return; }
  if (!run) return;
  if (c.replyTimes) c.replyTimes.push(at);
  if (c.seq === c.firstSeq) run.firstContact.push(rtt);
  run.received++;
  sample(rtt);
  settle(c);
}

function sample(rtt) {
  const s = run.rtts;
  run.rttCount++;
  if (s.length < 100000) s.push(rtt);
  else { const j = Math.floor(Math.random() * run.rttCount); if (j < s.length) s[j] = rtt; }
}

function settle(c) {
  run.inFlight--;
  if (c.remaining > 0 && !run.stopping) run.ready.push(c);
  pump();
}

function pump() {
  const r = run;
  while (!r.stopping && r.inFlight < r.concurrency && r.head < r.ready.length) {
    const c = r.ready[r.head++];
    if (r.head > 4096 && r.head * 2 > r.ready.length) { r.ready = r.ready.slice(r.head); r.head = 0; }
    sendNext(c);
  }
  if (r.inFlight === 0 && (r.stopping || r.head >= r.ready.length)) finish();
}

function sweep() {
  const r = run;
  if (!r) return;
  const deadline = now() - r.timeoutMs;
  for (const c of r.members) {
    if (c.outstanding && c.sentAt <= deadline) {
      c.outstanding = false;
      c.lost++;
      r.lost++;
      settle(c);
      if (run !== r) return;
    }
  }
}

function finish() {
  const r = run;
  run = null;
  clearInterval(r.sweeper);
  if (r.progress) clearInterval(r.progress);
  if (r.timer) clearTimeout(r.timer);
  const elapsedNs = Math.round((now() - r.start) * 1e6);
  const result = {
    sent: r.sent, received: r.received, lost: r.lost, late: r.late, elapsedNs,
    firstContactRttsNs: r.firstContact, rttSampleNs: r.rtts,
    clients: r.members.map((c) => {
      const out = { index: c.index, family: c.family, port: c.port, sent: c.sent - c.base.sent,
        received: c.received - c.base.received, lost: c.lost - c.base.lost, firstRttNs: c.firstRttNs };
      if (c.replyTimes) { out.replyTimes = c.replyTimes; c.replyTimes = null; }
      return out;
    }),
  };
  parentPort.postMessage({ id: r.id, result });
}

function start(id, o) {
  if (run) throw new Error('a run is already going on');
  const from = o.from ?? 0;
  const to = Math.min(o.to ?? clients.length, clients.length);
  const members = clients.slice(from, to);
  const r = {
    id, members, sent: 0, received: 0, lost: 0, late: 0, inFlight: 0, head: 0,
    ready: [], firstContact: [], rtts: [], rttCount: 0, stopping: false,
    concurrency: Math.max(1, o.concurrency ?? 256), payloadBytes: Math.max(8, o.payloadBytes ?? 32),
    timeoutMs: o.timeoutMs ?? 500, start: now(), sweeper: null, progress: null, timer: null,
  };
  run = r;
  const perPeer = o.datagramsPerPeer === null || o.datagramsPerPeer === undefined ? Infinity : o.datagramsPerPeer;
  for (const c of members) {
    c.base = { sent: c.sent, received: c.received, lost: c.lost };
    c.remaining = perPeer;
    c.replyTimes = o.log ? [] : null;
    if (perPeer > 0) r.ready.push(c);
  }
  r.sweeper = setInterval(sweep, Math.max(5, Math.min(50, (o.timeoutMs ?? 500) / 4)));
  if (o.progressMs > 0) {
    r.progress = setInterval(() => parentPort.postMessage({ progress: { sent: r.sent, received: r.received, lost: r.lost } }), o.progressMs);
  }
  if (o.durationMs !== null && o.durationMs !== undefined && Number.isFinite(o.durationMs)) {
    r.timer = setTimeout(stop, o.durationMs);
  }
  pump();
}

function stop() {
  if (!run) return;
  run.stopping = true;
  pump();
}

async function probe({ from, to, timeoutMs }) {
  const rtts = [];
  for (let i = from; i < Math.min(to, clients.length); i++) {
    const c = clients[i];
    const rtt = await new Promise((resolve) => {
      const timer = setTimeout(() => { c.probe = null; c.outstanding = false; c.lost++; resolve(-1); }, timeoutMs ?? 500);
      c.probe = (value) => { clearTimeout(timer); resolve(value); };
      c.remaining = 1;
      sendNext(c);
    });
    rtts.push(rtt);
  }
  return rtts;
}

async function close() {
  await Promise.all(clients.map((c) => new Promise((resolve) => { try { c.socket.close(resolve); } catch { resolve(); } })));
  clients.length = 0;
}

parentPort.on('message', async ({ id, cmd, options }) => {
  try {
    if (cmd === 'run') { start(id, options); return; }
    if (cmd === 'stop') { stop(); parentPort.postMessage({ id, result: null }); return; }
    const result = cmd === 'open' ? await open(options) : cmd === 'probe' ? await probe(options) : await close();
    parentPort.postMessage({ id, result });
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.stack) || error) });
  }
});
`;

/** The crowd's host side: sends commands to the worker and hands its answers back. */
export class Crowd extends EventEmitter {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 1;
  private dead: Error | undefined;
  /** Clients opened so far. */
  size = 0;

  constructor() {
    super();
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    this.worker.on('message', (m: { id?: number; result?: unknown; error?: string; progress?: CrowdProgress }) => {
      if (m.progress) {
        this.emit('progress', m.progress);
        return;
      }
      const p = this.pending.get(m.id!);
      if (!p) return;
      this.pending.delete(m.id!);
      if (m.error !== undefined) p.reject(new Error(`crowd: ${m.error}`));
      else p.resolve(m.result);
    });
    const fail = (error: Error) => {
      this.dead = error;
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the crowd's worker thread exited (${code})`)));
  }

  private call<T>(cmd: string, options?: unknown): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, cmd, options });
    });
  }

  /**
   * Opens one client per entry of `families`, bound to that family's loopback on a port of its own
   * and connected to `targets[family]`. Resolves with the index of the first and the local ports.
   */
  async open(families: UdpFamily[], targets: Partial<Record<UdpFamily, CrowdTarget>>): Promise<{ first: number; ports: number[] }> {
    const opened = await this.call<{ first: number; ports: number[] }>('open', { families, targets });
    this.size += families.length;
    return opened;
  }

  /** Runs the clients until each sent its datagrams, the duration ended, or stop(). */
  run(options: CrowdRunOptions): Promise<CrowdRunResult> {
    return this.call<CrowdRunResult>('run', {
      ...options,
      datagramsPerPeer: Number.isFinite(options.datagramsPerPeer) ? options.datagramsPerPeer : null,
      durationMs: options.durationMs !== undefined && Number.isFinite(options.durationMs) ? options.durationMs : null,
    });
  }

  /** Ends the current run: no new datagrams; those in flight get their reply or time out. */
  async stop(): Promise<void> {
    await this.call('stop');
  }

  /** Clients [from, to), one after the other, each send one datagram: their round trips in ns (-1: lost). */
  probe(from: number, to: number, timeoutMs = 500): Promise<number[]> {
    return this.call<number[]>('probe', { from, to, timeoutMs });
  }

  /** Closes every client socket and ends the worker. */
  async close(): Promise<void> {
    try {
      if (!this.dead) await this.call('close');
    } finally {
      await this.worker.terminate();
    }
  }
}
