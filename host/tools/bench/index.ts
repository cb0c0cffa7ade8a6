// `peer-target-name bench` (and `npm run bench`): side-by-side throughput, scaling and memory of
// this package against the alternatives, in one process, with warm-up and interleaved rounds.
// Prints a table, writes every figure and the target ratios as JSON (--json FILE) and an SVG bar
// chart (--svg FILE). --quick finishes in well under 30 seconds for CI and smoke runs.
//
// Sections:
//   codec    JS inputs to finished bytes, two server workloads: this package's single-record and
//            batch APIs, the best hand-written TypeScript encoder, koffi's struct marshalling, and
//            the C reference (inputs already in native memory, as a native caller would have them)
//   kernel   the WebAssembly kernel alone with its inputs already in its memory, against the C
//            reference compiled with -O3 -march=native over the very same input image
//   bridge   a raw koffi call of the native function with pre-encoded bytes, against
//            bridge.setPeerTargetName with bytes and with an input object, and PeerRegistry.ensure
//            for new and for known peers against a plain Map.get on the same key
//   scaling  cost per peer of the batch API at 1e3..1e6 peers
//   memory   RSS and WebAssembly memory after 10 million operations (1 million with --quick)
//
// Before anything is timed, every contender's bytes are compared with the package's for every
// input; a contender that disagrees is reported and excluded, never timed.
import { createRequire } from 'node:module';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpus, totalmem, platform, arch, release } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CommandLineError, subcommandLine } from '../cli-args.js';
import * as L from '../../generated/layout.js';
import { decodePeerTargetName, encodePeerTargetName, encodePeerTargetNames, validatePeerTargetName } from '../../codec/api.js';
import { encodePeerTargetNameInto } from '../../codec/encode-into.js';
import { Codec, sharedCodec } from '../../codec/codec.js';
import { codecWasmModule, type CodecExports } from '../../codec/loader.js';
import { DEFAULT_OPTIONS } from '../../codec/options.js';
import type { PeerTargetNameInput } from '../../codec/types.js';
import { HandWrittenEncoder } from './js-encoder.js';
import { jsDecode, jsValidate } from './js-reader.js';
import { KoffiStructEncoder } from './koffi-struct.js';
import { loadCReference, type CReference } from './reference.js';
import { makeWorkload, type Workload } from './workloads.js';
import { interleave, Progress, settleBeforeEachRun, slicedCase, stats, type CaseResult, type TimedCase } from './timing.js';
import { renderSvg, renderTable, type BenchReport, type ReportCase, type RatioKey, type TargetResult } from './report.js';

export interface BenchIO {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
}

const HELP = `Usage: peer-target-name bench [--quick|--smoke] [--json FILE] [--svg FILE] [--progress|--no-progress]
                              [--library PATH] [--strict]

Measures this package against the alternatives in one process (warm-up, interleaved rounds):
the codec from JS inputs to finished bytes (single-record and batch APIs) against a hand-written
TypeScript encoder, koffi's struct marshalling and a C reference (-O3 -march=native, where a C
compiler exists); the WebAssembly kernel alone against the C reference; the koffi bridge and
PeerRegistry (with the native library, see --library); cost per peer from 1e3 to 1e6 peers; and
memory after 10 million operations. Every contender's bytes are checked first.

Options:
  --quick            fewer rounds and operations (under 30 s), for CI and smoke runs
  --smoke            every section once, with tiny sizes (a few seconds): checks the harness
                     and its report, not speed (its figures mean nothing)
  --json FILE        write every figure, the ratios and the targets as JSON
  --svg FILE         write a bar chart (SVG)
  --progress         draw a progress bar on stderr even when it is not a terminal
  --no-progress      never draw it
  --library PATH     the library exporting WSASetSocketPeerTargetName for the bridge section
                     (default: $PEER_TARGET_NAME_LIBRARY, else the Linux conformance library
                     built from a source checkout; without one the section is skipped, and says so)
  --strict           exit 1 when a target is missed
  -h, --help         show this help
`;

/** The knobs --quick turns. */
interface Settings {
  quick: boolean;
  peers: number;
  warmup: number;
  rounds: number;
  singleOps: number;
  koffiOps: number;
  bridgeOps: number;
  bridgePeers: number;
  scaling: number[];
  scalingRounds: number;
  memoryOps: number;
}

const FULL: Settings = {
  quick: false, peers: 100_000, warmup: 2, rounds: 15, singleOps: 100_000, koffiOps: 10_000,
  bridgeOps: 20_000, bridgePeers: 1000, scaling: [1e3, 1e4, 1e5, 1e6], scalingRounds: 5, memoryOps: 10_000_000,
};
/** Every section, as small as it goes: the report's shape, for the harness's own test. */
const SMOKE: Settings = {
  quick: true, peers: 5000, warmup: 0, rounds: 1, singleOps: 1000, koffiOps: 200,
  bridgeOps: 400, bridgePeers: 200, scaling: [1e3, 1e4], scalingRounds: 1, memoryOps: 20_000,
};
// Nine rounds: a target's figure is the median of nine paired ratios, so one round that another
// process slowed (this machine is shared) cannot decide it; fewer operations per round pay for them.
const QUICK: Settings = {
  quick: true, peers: 100_000, warmup: 2, rounds: 9, singleOps: 10_000, koffiOps: 1000,
  bridgeOps: 4000, bridgePeers: 1000, scaling: [1e3, 1e4, 1e5, 1e6], scalingRounds: 1, memoryOps: 1_000_000,
};

/** Targets: ratios measured in the same run (docs/reference.md §6 and issue 5). */
const TARGETS: Record<RatioKey, { target: number; higherIsBetter: boolean; text: string }> = {
  codec_vs_js_unique: { target: 2.0, higherIsBetter: true, text: 'codec (batch) ≥ 2.0× the faster of the two hand-written TypeScript batch encoders (charCodeAt; one bulk encodeInto), unique names' },
  codec_vs_js_shared: { target: 2.0, higherIsBetter: true, text: 'codec (batch) ≥ 2.0× the faster of the two hand-written TypeScript batch encoders (names cached), shared names' },
  single_vs_js: { target: 1.25, higherIsBetter: true, text: 'encodePeerTargetName (fresh Uint8Array) ≥ 1.25× hand-written TypeScript into a fresh Uint8Array (the lower of the two workloads)' },
  into_vs_js: { target: 1.0, higherIsBetter: true, text: 'encodePeerTargetNameInto (reused region) ≥ 1.0× hand-written TypeScript into a reused region (the lower of the two workloads)' },
  validate_vs_js: { target: 1.0, higherIsBetter: true, text: 'validatePeerTargetName ≥ 1.0× a hand-written TypeScript validator (valid records)' },
  decode_vs_js: { target: 1.0, higherIsBetter: true, text: 'decodePeerTargetName ≥ 1.0× a hand-written TypeScript decoder (valid records)' },
  codec_vs_koffi_struct: { target: 20, higherIsBetter: true, text: 'codec (batch) ≥ 20× koffi struct marshalling (the lower of the two workloads)' },
  kernel_vs_c: { target: 0.7, higherIsBetter: true, text: 'WebAssembly kernel ≥ 0.7× the C reference (the lower of the two workloads)' },
  bridge_object_vs_raw: { target: 0.5, higherIsBetter: true, text: 'setPeerTargetName(input object) ≥ 0.5× a raw koffi call with pre-encoded bytes' },
  bridge_bytes_vs_raw: { target: 0.8, higherIsBetter: true, text: 'setPeerTargetName(bytes) ≥ 0.8× a raw koffi call with pre-encoded bytes' },
  known_peer_vs_map: { target: 2.0, higherIsBetter: false, text: 'PeerRegistry.ensure(known peer) costs ≤ 2× a plain Map.get on the same key' },
  memory_growth_bytes: { target: 1024 * 1024, higherIsBetter: false, text: 'memory held (JS heap used + external, which counts ArrayBuffers and the WebAssembly memory; after a full GC) grows ≤ 1 MiB over the memory run, after warm-up' },
};

/** Keeps results reachable so no engine can drop the work that made them. */
let sink: unknown;

const asBuffer = (a: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.length) as unknown as Uint8Array;
const equalBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
  a !== undefined && b !== undefined && a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(asBuffer(b));

/** The first input whose record differs from the reference, or -1. */
function firstMismatch(reference: readonly Uint8Array[], count: number, record: (i: number) => Uint8Array | undefined): number {
  for (let i = 0; i < count; i++) if (!equalBytes(reference[i], record(i))) return i;
  return -1;
}

function packageInfo(): { name: string; version: string; root: string | undefined } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = createRequire(import.meta.url)(file) as { name?: string; version?: string };
      if (pkg.name === 'peer-target-name') return { name: pkg.name, version: pkg.version ?? '?', root: dir };
    }
    dir = dirname(dir);
  }
  return { name: 'peer-target-name', version: '?', root: undefined };
}

function machine(): BenchReport['machine'] {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryBytes: totalmem(),
    os: `${platform()} ${release()}`,
    arch: arch(),
    node: process.version,
    v8: process.versions.v8,
  };
}

const gc: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

// ---- the WebAssembly kernel and the C reference over one input image --------------------------

export interface KernelImage {
  wasm: CodecExports;
  input: number;
  count: number;
  status: number;
  out: number;
  end: number;
  /** Runs the WebAssembly kernel once; the bytes used. */
  runWasm(): number;
  /** A copy of the image for the C reference (same offsets). */
  native: Uint8Array;
  record(memory: Uint8Array, i: number): Uint8Array | undefined;
}

/**
 * Lays a workload out in a fresh instance's memory as the codec's batch path does (ASCII peer texts
 * and names back to back, FLAG_NAME_ASCII), so the kernel runs with every input already inside.
 */
export function kernelImage(workload: Workload): KernelImage {
  const wasm = new WebAssembly.Instance(codecWasmModule(), {}).exports as unknown as CodecExports;
  const inputs = workload.inputs;
  const count = inputs.length;
  let text = 0;
  let outBytes = 0;
  for (const input of inputs) {
    const peer = input.peer!;
    text += (typeof peer === 'string' ? peer : peer.address).length + input.targetName.length;
    outBytes += (L.SIZEOF_PEER_TARGET_NAME + 2 * input.targetName.length + 7) & ~7;
  }
  const base = (wasm.heap_base() + 7) & ~7;
  const input = base;
  const status = (input + count * L.SIZEOF_INPUT + 7) & ~7;
  const textAt = status + count * L.SIZEOF_STATUS;
  const out = (textAt + text + 7) & ~7;
  const end = out + outBytes;
  const memory = wasm.memory;
  if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
  const u8 = new Uint8Array(memory.buffer);
  const u32 = new Uint32Array(memory.buffer);
  const put = (s: string, at: number) => {
    for (let k = 0; k < s.length; k++) {
      const c = s.charCodeAt(k);
      if (c > 0x7f) throw new Error('the kernel image holds ASCII workloads only');
      u8[at + k] = c;
    }
    return s.length;
  };
  let at = textAt;
  for (let i = 0; i < count; i++) {
    const { protocol, peer, targetName } = inputs[i];
    const r = (input + i * L.SIZEOF_INPUT) >>> 2;
    u32[r + L.W_IN_PROTOCOL] = protocol === 'ipsec2' ? L.PROTOCOL_IPSEC2 : protocol === 'default' ? L.PROTOCOL_DEFAULT : L.PROTOCOL_IPSEC;
    if (typeof peer === 'string') {
      u32[r + L.W_IN_FLAGS] = L.PEER_TEXT | L.FLAG_NAME_ASCII;
      u32[r + L.W_IN_ADDRESS_PTR] = at;
      u32[r + L.W_IN_ADDRESS_LENGTH] = put(peer, at);
    } else {
      const p = peer!;
      u32[r + L.W_IN_FLAGS] = L.PEER_FIELDS | L.FLAG_NAME_ASCII | (p.family === 'IPv6' ? L.FLAG_FAMILY_IPV6 : L.FLAG_FAMILY_IPV4);
      u32[r + L.W_IN_ADDRESS_PTR] = at;
      u32[r + L.W_IN_ADDRESS_LENGTH] = put(p.address, at);
      u32[r + L.W_IN_PORT] = p.port;
      u32[r + L.W_IN_FLOWINFO] = 0;
      u32[r + L.W_IN_SCOPE_ID] = 0;
    }
    at += u32[r + L.W_IN_ADDRESS_LENGTH];
    u32[r + L.W_IN_NAME_PTR] = at;
    u32[r + L.W_IN_NAME_LENGTH] = put(targetName, at);
    at += targetName.length;
  }
  const word = DEFAULT_OPTIONS.word;
  const maxUnits = DEFAULT_OPTIONS.maxTargetNameLength;
  return {
    wasm, input, count, status, out, end,
    runWasm: () => wasm.encode_batch(input, count, out, status, word, maxUnits, 0, 0),
    native: new Uint8Array(memory.buffer, 0, end).slice(),
    record(mem, i) {
      const s = new DataView(mem.buffer, mem.byteOffset + status + i * L.SIZEOF_STATUS, L.SIZEOF_STATUS);
      if (s.getInt32(L.ST_REASON, true) !== 0) return undefined;
      const offset = out + s.getUint32(L.ST_OFFSET, true);
      return mem.subarray(offset, offset + s.getUint32(L.ST_LENGTH, true));
    },
  };
}

// ---- sections -------------------------------------------------------------------------------------

interface Context {
  settings: Settings;
  progress: Progress;
  cases: ReportCase[];
  notes: string[];
  c: CReference | { unavailable: string };
  conformance: BenchReport['conformance'];
}

function record(ctx: Context, section: string, workload: string | undefined, meta: Record<string, { label: string; kind: ReportCase['kind'] }>, results: CaseResult[]): void {
  for (const r of results) {
    ctx.cases.push({
      section, workload, id: r.id, label: meta[r.id].label, kind: meta[r.id].kind, status: 'ok',
      opsPerRound: r.opsPerRound, rounds: r.rounds, nsPerOp: r.nsPerOp, opsPerSecond: r.opsPerSecond,
    });
  }
}

function excluded(ctx: Context, section: string, workload: string | undefined, id: string, label: string, kind: ReportCase['kind'], status: 'excluded' | 'skipped', note: string): void {
  ctx.cases.push({ section, workload, id, label, kind, status, note, opsPerRound: 0, rounds: [], nsPerOp: null, opsPerSecond: null });
}

/** One contender of the codec section: how to time it, and its records for the byte check. */
interface CodecContender {
  id: string;
  label: string;
  kind: ReportCase['kind'];
  /** Records to compare with the package's, input by input; undefined: not available here (the note says why). */
  records: (() => { count: number; record(i: number): Uint8Array | undefined }) | undefined;
  note?: string;
  timed: TimedCase;
}

/**
 * The codec section's contenders. Their timed closures are made here, apart from the byte check:
 * closures made in one function share its variables, and the check's reference records (100,000
 * ArrayBuffers) and sample outputs (tens of MiB) must not stay alive, and weigh on the allocator
 * and the collector, while the contenders are timed.
 */
function codecContenders(ctx: Context, workload: Workload, image: KernelImage): CodecContender[] {
  const { settings } = ctx;
  const inputs = workload.inputs;
  const names = workload.name === 'shared' ? ', names cached' : '';
  const singles = inputs.slice(0, settings.singleOps);
  const hand = new HandWrittenEncoder(workload.name === 'shared');
  // The region both "into" contenders write each record into (room for the longest name).
  const region = new Uint8Array(L.SIZEOF_PEER_TARGET_NAME + 2 * L.HARD_MAX_TARGET_NAME_LENGTH);
  const floorLengths = Uint32Array.from(singles, (x) => L.SIZEOF_PEER_TARGET_NAME + 2 * (x.targetName as string).length);
  const batchBytes = inputs.reduce((sum, x) => sum + ((L.SIZEOF_PEER_TARGET_NAME + 2 * (x.targetName as string).length + 7) & ~7), 0);
  // Each package path next to its rival (and its floor): the rounds rotate the order, so neighbours
  // stay neighbours and a paired ratio compares runs made moments apart.
  const list: CodecContender[] = [
    {
      id: 'batch', label: 'this package, batch: encodePeerTargetNames', kind: 'package',
      records: () => { const b = encodePeerTargetNames(inputs); return { count: inputs.length, record: (i) => b.record(i) }; },
      timed: { id: 'batch', ops: inputs.length, run: () => { sink = encodePeerTargetNames(inputs); } },
    },
    {
      id: 'ts', label: `hand-written TypeScript, one region${names}`, kind: 'contender',
      records: () => {
        const b = hand.encodeMany(inputs);
        return { count: inputs.length, record: (i) => b.bytes.subarray(b.offsets[i], b.offsets[i] + b.lengths[i]) };
      },
      timed: { id: 'ts', ops: inputs.length, run: () => { sink = hand.encodeMany(inputs); } },
    },
    {
      id: 'ts-bulk', label: `hand-written TypeScript, one region, names moved by one encodeInto per chunk${names}`, kind: 'contender',
      records: () => {
        const b = hand.encodeManyBulk(inputs);
        return { count: inputs.length, record: (i) => b.bytes.subarray(b.offsets[i], b.offsets[i] + b.lengths[i]) };
      },
      timed: { id: 'ts-bulk', ops: inputs.length, run: () => { sink = hand.encodeManyBulk(inputs); } },
    },
    {
      // Not an encoder: what returning the batch's bytes in one fresh region costs by itself (a
      // zeroed region allocated and each of its pages touched once, which any encoder writing into
      // it must do), plus the two offset and length columns.
      id: 'batch-floor', label: 'floor: one fresh region of the batch\'s size, each page touched once, nothing encoded', kind: 'floor', records: undefined,
      timed: {
        id: 'batch-floor', ops: inputs.length, run: () => {
          const bytes = new Uint8Array(batchBytes);
          for (let i = 0; i < batchBytes; i += 4096) bytes[i] = 1;
          sink = [bytes, new Uint32Array(inputs.length), new Uint32Array(inputs.length)];
        },
      },
    },
    {
      id: 'into', label: 'this package, into a reused region: encodePeerTargetNameInto', kind: 'package',
      records: () => ({ count: singles.length, record: (i) => region.slice(0, encodePeerTargetNameInto(region, 0, singles[i])) }),
      timed: slicedCase('into', singles.length, (from, to) => {
        let total = 0;
        for (let i = from; i < to; i++) total += encodePeerTargetNameInto(region, 0, singles[i]);
        sink = total;
      }),
    },
    {
      id: 'ts-into', label: `hand-written TypeScript, into a reused region${names}`, kind: 'contender',
      records: () => ({ count: singles.length, record: (i) => region.slice(0, hand.encodeInto(region, 0, singles[i])) }),
      timed: slicedCase('ts-into', singles.length, (from, to) => {
        let total = 0;
        for (let i = from; i < to; i++) total += hand.encodeInto(region, 0, singles[i]);
        sink = total;
      }),
    },
    {
      id: 'single', label: 'this package, one record per call: encodePeerTargetName', kind: 'package',
      records: () => ({ count: singles.length, record: (i) => encodePeerTargetName(singles[i]) }),
      timed: slicedCase('single', singles.length, (from, to) => {
        let last: Uint8Array | undefined;
        for (let i = from; i < to; i++) last = encodePeerTargetName(singles[i]);
        sink = last;
      }),
    },
    {
      id: 'ts-single', label: `hand-written TypeScript, one Uint8Array per record${names}`, kind: 'contender',
      records: () => ({ count: singles.length, record: (i) => hand.encode(singles[i]) }),
      timed: slicedCase('ts-single', singles.length, (from, to) => {
        let last: Uint8Array | undefined;
        for (let i = from; i < to; i++) last = hand.encode(singles[i]);
        sink = last;
      }),
    },
    {
      // Not an encoder: what returning a fresh ArrayBuffer per record costs by itself, the part of
      // 'single' and 'ts-single' that no encoder can make faster.
      id: 'floor', label: 'floor: new Uint8Array(144 + 2n) per record, nothing encoded', kind: 'floor', records: undefined,
      timed: slicedCase('floor', singles.length, (from, to) => {
        let last: Uint8Array | undefined;
        for (let i = from; i < to; i++) last = new Uint8Array(floorLengths[i]);
        sink = last;
      }),
    },
  ];
  const koffiLabel = 'koffi.struct + koffi.encode (IP text parsed in JS)';
  let koffi: KoffiStructEncoder | undefined;
  let koffiNote: string | undefined;
  try {
    koffi = new KoffiStructEncoder();
  } catch (error) {
    koffiNote = `koffi unavailable: ${(error as Error).message}`;
  }
  const few = inputs.slice(0, settings.koffiOps);
  const k = koffi;
  list.push({
    id: 'koffi', label: koffiLabel, kind: 'contender', note: koffiNote,
    records: k && (() => { const b = k.encodeMany(few); return { count: few.length, record: (i) => b.bytes.subarray(b.offsets[i], b.offsets[i] + b.lengths[i]) }; }),
    timed: { id: 'koffi', ops: few.length, run: () => { sink = k!.encodeMany(few); } },
  });
  const c = ctx.c;
  const cArgs = [image.native, image.input, image.count, image.out, image.status, DEFAULT_OPTIONS.word, DEFAULT_OPTIONS.maxTargetNameLength] as const;
  list.push({
    id: 'c', label: 'C reference -O3 -march=native (inputs in native memory)', kind: 'native',
    note: 'unavailable' in c ? c.unavailable : undefined,
    records: 'unavailable' in c ? undefined : () => {
      c.encodeBatch(...cArgs);
      return { count: inputs.length, record: (i) => image.record(image.native, i) };
    },
    timed: { id: 'c', ops: inputs.length, run: () => undefined, timed: 'unavailable' in c ? undefined : () => c.timeBatch(...cArgs, 1) },
  });
  return list;
}

/**
 * Compares every available contender's records with the package's single-record encoder, input
 * by input; returns the ones that agreed (the rest are reported as excluded or skipped).
 */
function checkCodecContenders(ctx: Context, workload: Workload, contenders: CodecContender[]): CodecContender[] {
  const section = 'codec';
  const w = workload.name;
  const reference = workload.inputs.map((input) => encodePeerTargetName(input));
  return contenders.filter((x) => {
    if (x.kind === 'floor') return true; // encodes nothing: nothing to compare
    if (!x.records) {
      excluded(ctx, section, w, x.id, x.label, x.kind, 'skipped', x.note ?? 'not available here');
      return false;
    }
    const { count, record } = x.records();
    const bad = firstMismatch(reference, count, record);
    ctx.conformance.push({ section, workload: w, contender: x.id, checked: count, ok: bad < 0, firstMismatch: bad < 0 ? undefined : bad });
    if (bad >= 0) excluded(ctx, section, w, x.id, x.label, x.kind, 'excluded', `bytes differ from the package's at input ${bad}: excluded`);
    return bad < 0;
  });
}

function codecSection(ctx: Context, workload: Workload, images: Map<string, KernelImage>): void {
  const w = workload.name;
  const agreed = checkCodecContenders(ctx, workload, codecContenders(ctx, workload, images.get(w)!));
  const meta = Object.fromEntries(agreed.map((x) => [x.id, { label: x.label, kind: x.kind }]));
  record(ctx, 'codec', w, meta, interleave(agreed.map((x) => x.timed), ctx.settings.warmup, ctx.settings.rounds, (id) => ctx.progress.step(`codec ${w}: ${id}`)));
  sink = undefined;
}

/** The first input whose record from the kernel image differs from the package's, or -1 (the reference records die with this call). */
function kernelMismatch(workload: Workload, image: KernelImage): number {
  const reference = workload.inputs.map((input) => encodePeerTargetName(input));
  return firstMismatch(reference, image.count, (i) => image.record(new Uint8Array(image.wasm.memory.buffer), i));
}

function kernelSection(ctx: Context, workload: Workload, image: KernelImage): void {
  const { settings } = ctx;
  const section = 'kernel';
  const w = workload.name;
  const meta: Record<string, { label: string; kind: ReportCase['kind'] }> = {
    wasm: { label: 'WebAssembly kernel encode_batch (inputs already in its memory)', kind: 'package' },
    c: { label: 'C reference -O3 -march=native, same input image', kind: 'native' },
  };
  const cases: TimedCase[] = [];
  image.runWasm();
  const bad = kernelMismatch(workload, image);
  ctx.conformance.push({ section, workload: w, contender: 'wasm', checked: image.count, ok: bad < 0, firstMismatch: bad < 0 ? undefined : bad });
  if (bad >= 0) excluded(ctx, section, w, 'wasm', meta.wasm.label, 'package', 'excluded', `bytes differ at input ${bad}`);
  else cases.push({ id: 'wasm', ops: image.count, run: () => { sink = image.runWasm(); } });
  const c = ctx.c;
  if ('unavailable' in c) {
    excluded(ctx, section, w, 'c', meta.c.label, 'native', 'skipped', c.unavailable);
  } else {
    const args = [image.native, image.input, image.count, image.out, image.status, DEFAULT_OPTIONS.word, DEFAULT_OPTIONS.maxTargetNameLength] as const;
    c.encodeBatch(...args);
    const same = Buffer.from(image.native.buffer, image.native.byteOffset + image.status, image.end - image.status)
      .equals(new Uint8Array(image.wasm.memory.buffer, image.status, image.end - image.status));
    ctx.conformance.push({ section, workload: w, contender: 'c', checked: image.count, ok: same, firstMismatch: same ? undefined : 0 });
    if (!same) excluded(ctx, section, w, 'c', meta.c.label, 'native', 'excluded', 'its status records or output differ from the WebAssembly kernel\'s');
    else cases.push({ id: 'c', ops: image.count, run: () => undefined, timed: () => c.timeBatch(...args, 1) });
  }
  record(ctx, section, w, meta, interleave(cases, settings.warmup, settings.rounds * 2, (id) => ctx.progress.step(`kernel ${w}: ${id}`)));
}

/**
 * validate and decode against the hand-written reader, on valid records (the path that matters:
 * a server reads back what it wrote). Every answer is checked first on the valid records and on
 * mutations of them (one byte changed each), where both must refuse or accept alike and decode
 * must build the same object.
 */
function readSection(ctx: Context, workload: Workload): void {
  const section = 'read';
  const records = workload.inputs.slice(0, ctx.settings.singleOps).map((input) => encodePeerTargetName(input));
  // The check set: every record, and mutations of a few thousand of them.
  const checks: Uint8Array[] = [...records];
  let seed = 12345;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let k = 0; k < 5000; k++) {
    const copy = records[next() % records.length].slice();
    const at = next() % copy.length;
    copy[at] = k % 3 === 0 ? 0 : next() & 0xff;
    checks.push(copy);
  }
  const decodeOf = (f: () => unknown) => { try { return JSON.stringify(f()); } catch { return 'throws'; } };
  const meta: Record<string, { label: string; kind: ReportCase['kind'] }> = {
    validate: { label: 'this package: validatePeerTargetName', kind: 'package' },
    'js-validate': { label: 'hand-written TypeScript validator', kind: 'contender' },
    decode: { label: 'this package: decodePeerTargetName', kind: 'package' },
    'js-decode': { label: 'hand-written TypeScript decoder', kind: 'contender' },
  };
  const badValidate = checks.findIndex((b) => validatePeerTargetName(b).ok !== jsValidate(b));
  const badDecode = checks.findIndex((b) => decodeOf(() => decodePeerTargetName(b)) !== decodeOf(() => jsDecode(b)));
  for (const [id, bad] of [['js-validate', badValidate], ['js-decode', badDecode]] as const) {
    ctx.conformance.push({ section, workload: workload.name, contender: id, checked: checks.length, ok: bad < 0, firstMismatch: bad < 0 ? undefined : bad });
  }
  const cases: TimedCase[] = [
    slicedCase('validate', records.length, (from, to) => { let ok = 0; for (let i = from; i < to; i++) if (validatePeerTargetName(records[i]).ok) ok++; sink = ok; }),
    slicedCase('decode', records.length, (from, to) => { let last; for (let i = from; i < to; i++) last = decodePeerTargetName(records[i]); sink = last; }),
  ];
  if (badValidate >= 0) excluded(ctx, section, undefined, 'js-validate', meta['js-validate'].label, 'contender', 'excluded', `answers differ from the package's at check ${badValidate}: excluded`);
  else cases.push(slicedCase('js-validate', records.length, (from, to) => { let ok = 0; for (let i = from; i < to; i++) if (jsValidate(records[i])) ok++; sink = ok; }));
  if (badDecode >= 0) excluded(ctx, section, undefined, 'js-decode', meta['js-decode'].label, 'contender', 'excluded', `answers differ from the package's at check ${badDecode}: excluded`);
  else cases.push(slicedCase('js-decode', records.length, (from, to) => { let last; for (let i = from; i < to; i++) last = jsDecode(records[i]); sink = last; }));
  record(ctx, section, undefined, meta, interleave(cases, ctx.settings.warmup, ctx.settings.rounds, (id) => ctx.progress.step(`read: ${id}`)));
  sink = undefined;
}

/**
 * What the host's caches buy: the views of its memory it copies records from and hands the bridge
 * (ViewCache, host/codec/memory.ts), the target names it keeps in the codec's memory (NameCache,
 * host/codec/name-cache.ts), and the last one-record layout (CodecMemory.singleLayout). The same
 * calls on private codecs, as shipped and with one cache off; no target, the difference is the
 * figure (with unique names, what the name cache costs when names do not repeat).
 */
function cachesSection(ctx: Context, workload: Workload): void {
  const section = 'caches';
  const inputs = workload.inputs.slice(0, ctx.settings.singleOps);
  const records = inputs.map((input) => encodePeerTargetName(input));
  const shipped = new Codec();
  const noViews = new Codec(undefined, { viewCache: false });
  const noNames = new Codec(undefined, { nameCache: false });
  const noMemo = new Codec(undefined, { layoutMemo: false });
  const region = new Uint8Array(L.SIZEOF_PEER_TARGET_NAME + 2 * L.HARD_MAX_TARGET_NAME_LENGTH);
  const o = DEFAULT_OPTIONS;
  // The codecs must agree with the package's own answers before they are timed: the same record
  // bytes, and the same checked copy of every record (bytes equal to the record's).
  const bad = inputs.findIndex((input, i) => [shipped, noViews, noNames, noMemo].some((codec) =>
    !equalBytes(region.slice(0, codec.encodeTo(region, 0, input, o)), records[i]) ||
    !equalBytes(codec.checkedCopy(records[i], o), records[i])));
  const meta: Record<string, { label: string; kind: ReportCase['kind'] }> = {
    'into-shipped': { label: 'encode one record into a reused region, as shipped', kind: 'package' },
    'into-no-views': { label: 'the same, view cache off (a fresh subarray per call)', kind: 'contender' },
    'into-no-names': { label: 'the same, name cache off (every name moved in)', kind: 'contender' },
    'into-no-layout-memo': { label: 'the same, the one-record layout made afresh per call', kind: 'contender' },
    'check-shipped': { label: "the bridge's check of caller bytes, as shipped", kind: 'package' },
    'check-no-views': { label: 'the same, view cache off', kind: 'contender' },
  };
  for (const id of Object.keys(meta)) {
    ctx.conformance.push({ section, workload: workload.name, contender: id, checked: inputs.length, ok: bad < 0, firstMismatch: bad < 0 ? undefined : bad });
  }
  if (bad >= 0) {
    for (const [id, m] of Object.entries(meta)) excluded(ctx, section, workload.name, id, m.label, m.kind, 'excluded', `answers differ at input ${bad}`);
    return;
  }
  const into = (codec: Codec) => (from: number, to: number) => { let t = 0; for (let i = from; i < to; i++) t += codec.encodeTo(region, 0, inputs[i], o); sink = t; };
  const check = (codec: Codec) => (from: number, to: number) => { let last; for (let i = from; i < to; i++) last = codec.checkedCopy(records[i], o); sink = last; };
  const cases: TimedCase[] = [
    slicedCase('into-shipped', inputs.length, into(shipped)),
    slicedCase('into-no-views', inputs.length, into(noViews)),
    slicedCase('into-no-names', inputs.length, into(noNames)),
    slicedCase('into-no-layout-memo', inputs.length, into(noMemo)),
    slicedCase('check-shipped', records.length, check(shipped)),
    slicedCase('check-no-views', records.length, check(noViews)),
  ];
  record(ctx, section, workload.name, meta, interleave(cases, ctx.settings.warmup, ctx.settings.rounds, (id) => ctx.progress.step(`caches: ${id}`)));
  sink = undefined;
}

/** The bridge's native library: --library, $PEER_TARGET_NAME_LIBRARY, or the conformance library of a checkout. */
async function bridgeLibrary(explicit: string | undefined): Promise<string | { unavailable: string }> {
  const named = explicit ?? process.env.PEER_TARGET_NAME_LIBRARY;
  if (named) return resolve(named);
  if (process.platform === 'win32') {
    return { unavailable: 'on Windows the bridge section needs --library (a real Fwpuclnt.dll call needs an IPsec-configured socket)' };
  }
  const root = packageInfo().root;
  const script = root && join(root, 'build', 'conformance.mjs');
  if (!script || !existsSync(script)) {
    return { unavailable: 'no native library: pass --library PATH or set PEER_TARGET_NAME_LIBRARY (the Linux conformance library is built from a source checkout: node build/conformance.mjs)' };
  }
  try {
    const mod = await import(pathToFileURL(script).href) as { buildConformanceLibrary(): { path: string } };
    return mod.buildConformanceLibrary().path;
  } catch (error) {
    return { unavailable: `the Linux conformance library could not be built: ${(error as Error).message.split('\n')[0]}` };
  }
}

async function bridgeSection(ctx: Context, shared: Workload, library: string | { unavailable: string }): Promise<void> {
  const { settings } = ctx;
  const section = 'bridge';
  const meta: Record<string, { label: string; kind: ReportCase['kind'] }> = {
    raw: { label: 'raw koffi call, pre-encoded bytes (no checks)', kind: 'contender' },
    bytes: { label: 'bridge.setPeerTargetName(socket, bytes)', kind: 'package' },
    object: { label: 'bridge.setPeerTargetName(socket, input object)', kind: 'package' },
    'ensure-new': { label: 'PeerRegistry.ensure(peer), new peer (registers)', kind: 'package' },
    'ensure-known': { label: "PeerRegistry.ensure('a.b.c.d:port'), known peer", kind: 'package' },
    'map-get': { label: "plain Map.get('a.b.c.d:port'), same keys", kind: 'contender' },
    'ensure-known-rinfo': { label: 'PeerRegistry.ensure(rinfo object), known peer', kind: 'package' },
  };
  if (typeof library !== 'string') {
    for (const id of Object.keys(meta)) excluded(ctx, section, undefined, id, meta[id].label, meta[id].kind, 'skipped', library.unavailable);
    ctx.notes.push(`bridge section skipped: ${library.unavailable}`);
    ctx.progress.step('bridge: skipped', (settings.warmup + settings.rounds) * Object.keys(meta).length);
    return;
  }
  const { openBridge, PeerRegistry, socketHandle } = await import('../../bridge.js');
  const { PROTOTYPES } = await import('../../bridge/native.js');
  const socket = dgram.createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const bridge = openBridge({ library });
  try {
    const fd = socketHandle(socket);
    const koffi = createRequire(import.meta.url)('koffi') as { load(path: string): { func(s: string): (...a: unknown[]) => number } };
    const raw = koffi.load(library).func(PROTOTYPES.setPeerTargetName);
    const peers = shared.inputs.slice(0, settings.bridgePeers);
    const bytes = peers.map((input) => encodePeerTargetName(input));
    const n = peers.length;
    const ops = settings.bridgeOps;
    // Check each path once: the native side must accept what each one passes.
    for (let i = 0; i < n; i++) {
      if (raw(fd, bytes[i], bytes[i].byteLength, null, null) !== 0) throw new Error(`the native library refused input ${i}`);
      bridge.setPeerTargetName(fd, bytes[i]);
      bridge.setPeerTargetName(fd, peers[i]);
    }
    const textPeers = shared.inputs.filter((input) => typeof input.peer === 'string').slice(0, n).map((input) => input.peer as string);
    const rinfoPeers = shared.inputs.filter((input) => typeof input.peer !== 'string').slice(0, n).map((input) => input.peer!);
    const name = shared.inputs[0].targetName;
    const known = new PeerRegistry({ bridge, socket: fd, targetName: name, maxPeers: 4 * n });
    for (const p of textPeers) known.ensure(p);
    for (const p of rinfoPeers) known.ensure(p);
    const map = new Map<string, number>(textPeers.map((p, i) => [p, i]));
    // New peers: a fresh registry each round, so every ensure() registers natively.
    const freshPeers = makeWorkload('shared', ops, 1).inputs.map((input) => input.peer!);
    const mask = n; // cycle over the n peers
    const lookups = ops * 10; // the Map and known-peer paths are cheap: more of them per round
    const cases: TimedCase[] = [
      { id: 'raw', ops, run: () => { for (let i = 0; i < ops; i++) { const b = bytes[i % mask]; if (raw(fd, b, b.byteLength, null, null) !== 0) throw new Error('native call failed'); } } },
      { id: 'bytes', ops, run: () => { for (let i = 0; i < ops; i++) bridge.setPeerTargetName(fd, bytes[i % mask]); } },
      { id: 'object', ops, run: () => { for (let i = 0; i < ops; i++) bridge.setPeerTargetName(fd, peers[i % mask]); } },
      {
        id: 'ensure-new', ops, run: () => {
          const registry = new PeerRegistry({ bridge, socket: fd, targetName: name, maxPeers: 2 * ops });
          for (let i = 0; i < ops; i++) registry.ensure(freshPeers[i]);
          sink = registry;
        },
      },
      { id: 'ensure-known', ops: lookups, run: () => { let k = 0; for (let i = 0; i < lookups; i++) if (!known.ensure(textPeers[i % mask])) k++; sink = k; } },
      { id: 'map-get', ops: lookups, run: () => { let k = 0; for (let i = 0; i < lookups; i++) if (map.get(textPeers[i % mask]) !== undefined) k++; sink = k; } },
      { id: 'ensure-known-rinfo', ops: lookups, run: () => { let k = 0; for (let i = 0; i < lookups; i++) if (!known.ensure(rinfoPeers[i % mask])) k++; sink = k; } },
    ];
    for (const id of ['raw', 'bytes', 'object']) ctx.conformance.push({ section, workload: 'shared', contender: id, checked: n, ok: true });
    record(ctx, section, undefined, meta, interleave(cases, settings.warmup, settings.rounds, (id) => ctx.progress.step(`bridge: ${id}`)));
    ctx.notes.push(`bridge: native library ${library}; a real UDP socket on 127.0.0.1 (handle ${fd}, from socketHandle)`);
  } catch (error) {
    for (const id of Object.keys(meta)) excluded(ctx, section, undefined, id, meta[id].label, meta[id].kind, 'skipped', (error as Error).message);
    ctx.notes.push(`bridge section failed: ${(error as Error).message}`);
  } finally {
    await bridge.close();
    socket.close();
  }
}

function scalingSection(ctx: Context): BenchReport['scaling'] {
  const { settings } = ctx;
  const largest = Math.max(...settings.scaling);
  const all = makeWorkload('unique', largest).inputs;
  const cases: TimedCase[] = settings.scaling.map((size) => {
    const slice = all.slice(0, size);
    const repeat = Math.max(1, Math.floor(100_000 / size));
    return { id: String(size), ops: size * repeat, run: () => { for (let r = 0; r < repeat; r++) sink = encodePeerTargetNames(slice); } };
  });
  const results = interleave(cases, 1, settings.scalingRounds, (id) => ctx.progress.step(`scaling: ${Number(id).toExponential(0)} peers`));
  sink = undefined;
  return results.map((r) => ({ peers: Number(r.id), nsPerPeer: r.nsPerOp, rounds: r.rounds }));
}

/**
 * The memory run. Its target is the memory the package holds: after a full collection, the JS
 * heap in use plus `external` (ArrayBuffers and the WebAssembly memory), which a leak anywhere in
 * the codec or its host would raise. RSS is read too, at every twentieth of the run: with 2 MiB
 * output regions freed all the time, glibc keeps and returns whole regions, so RSS moves by tens of
 * MiB from one reading to the next on this machine while nothing grows; its samples show a plateau
 * or a climb, the first half's median against the second half's.
 */
function memorySection(ctx: Context, unique: Workload): BenchReport['memory'] {
  const { settings } = ctx;
  const chunk = 10_000;
  const slices: PeerTargetNameInput[][] = [];
  for (let at = 0; at < unique.inputs.length; at += chunk) slices.push(unique.inputs.slice(at, at + chunk));
  const wasmBytes = () => (sharedCodec() as unknown as { wasm: CodecExports }).wasm.memory.buffer.byteLength;
  let k = 0;
  const batch = () => {
    sink = encodePeerTargetNames(slices[k++ % slices.length]);
    sink = encodePeerTargetName(unique.inputs[k % unique.inputs.length]);
  };
  const perBatch = chunk + 1;
  const warm = Math.ceil(Math.min(1_000_000, settings.memoryOps / 4) / perBatch);
  for (let i = 0; i < warm; i++) batch();
  const reading = () => {
    sink = undefined;
    gc();
    gc();
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, wasm: wasmBytes(), held: m.heapUsed + m.external };
  };
  const before = reading();
  const batches = Math.ceil(settings.memoryOps / perBatch);
  const step = Math.max(1, Math.floor(batches / 20));
  const rssSamples: number[] = [];
  for (let i = 0; i < batches; i++) {
    batch();
    if (i % step === step - 1) {
      rssSamples.push(reading().rss);
      ctx.progress.step('memory', 1);
    }
  }
  const after = reading();
  const half = rssSamples.length >> 1;
  return {
    operations: batches * perBatch,
    warmupOperations: warm * perBatch,
    what: `encodePeerTargetNames on 10,000 unique-name peers plus one encodePeerTargetName, repeated (${(batches * perBatch).toLocaleString('en-US')} records)`,
    before,
    after,
    growth: {
      rss: after.rss - before.rss, heapUsed: after.heapUsed - before.heapUsed, external: after.external - before.external,
      wasm: after.wasm - before.wasm, held: after.held - before.held,
    },
    rss: { samples: rssSamples, ...stats(rssSamples), firstHalfMedian: stats(rssSamples.slice(0, half)).median, secondHalfMedian: stats(rssSamples.slice(half)).median },
  };
}

// ---- ratios ---------------------------------------------------------------------------------------

function rounds(ctx: Context, section: string, workload: string | undefined, id: string): number[] | undefined {
  const c = ctx.cases.find((x) => x.section === section && x.workload === workload && x.id === id && x.status === 'ok');
  return c?.nsPerOp ? c.rounds : undefined;
}

/**
 * a's speed over b's as the median of paired rounds: in each round both ran, interleaved, so a
 * round's ratio (b's ns over a's) is taken under the same machine conditions, and the median of
 * those ratios is the figure. Undefined when either was not measured.
 */
function speedup(ctx: Context, section: string, workload: string | undefined, a: string, b: string): number | undefined {
  const x = rounds(ctx, section, workload, a);
  const y = rounds(ctx, section, workload, b);
  if (!x || !y || x.length === 0 || x.length !== y.length) return undefined;
  return stats(x.map((ns, r) => y[r] / ns)).median;
}

const lowest = (...values: (number | undefined)[]) => (values.some((v) => v === undefined) ? undefined : Math.min(...(values as number[])));

function ratios(ctx: Context, memory: BenchReport['memory']): { ratios: Record<RatioKey, number | null>; targets: Record<RatioKey, TargetResult> } {
  const values: Record<RatioKey, number | undefined> = {
    codec_vs_js_unique: lowest(speedup(ctx, 'codec', 'unique', 'batch', 'ts'), speedup(ctx, 'codec', 'unique', 'batch', 'ts-bulk')),
    codec_vs_js_shared: lowest(speedup(ctx, 'codec', 'shared', 'batch', 'ts'), speedup(ctx, 'codec', 'shared', 'batch', 'ts-bulk')),
    single_vs_js: lowest(speedup(ctx, 'codec', 'unique', 'single', 'ts-single'), speedup(ctx, 'codec', 'shared', 'single', 'ts-single')),
    into_vs_js: lowest(speedup(ctx, 'codec', 'unique', 'into', 'ts-into'), speedup(ctx, 'codec', 'shared', 'into', 'ts-into')),
    validate_vs_js: speedup(ctx, 'read', undefined, 'validate', 'js-validate'),
    decode_vs_js: speedup(ctx, 'read', undefined, 'decode', 'js-decode'),
    codec_vs_koffi_struct: lowest(speedup(ctx, 'codec', 'unique', 'batch', 'koffi'), speedup(ctx, 'codec', 'shared', 'batch', 'koffi')),
    kernel_vs_c: lowest(speedup(ctx, 'kernel', 'unique', 'wasm', 'c'), speedup(ctx, 'kernel', 'shared', 'wasm', 'c')),
    bridge_object_vs_raw: speedup(ctx, 'bridge', undefined, 'object', 'raw'),
    bridge_bytes_vs_raw: speedup(ctx, 'bridge', undefined, 'bytes', 'raw'),
    // A cost ratio: ensure()'s nanoseconds over Map.get's.
    known_peer_vs_map: speedup(ctx, 'bridge', undefined, 'map-get', 'ensure-known'),
    memory_growth_bytes: memory.growth.held,
  };
  const out = {} as Record<RatioKey, number | null>;
  const targets = {} as Record<RatioKey, TargetResult>;
  for (const key of Object.keys(TARGETS) as RatioKey[]) {
    const t = TARGETS[key];
    const v = values[key];
    out[key] = v === undefined ? null : Number(v.toFixed(key === 'memory_growth_bytes' ? 0 : 3));
    targets[key] = {
      value: out[key],
      target: t.target,
      comparison: t.higherIsBetter ? '>=' : '<=',
      met: v === undefined ? null : t.higherIsBetter ? v >= t.target : v <= t.target,
      description: t.text,
    };
  }
  return { ratios: out, targets };
}

// ---- entry ----------------------------------------------------------------------------------------

export async function runBench(argv: string[], io: BenchIO): Promise<number> {
  const values = subcommandLine('bench', argv, {
    quick: { type: 'boolean' }, smoke: { type: 'boolean' }, json: { type: 'string' }, svg: { type: 'string' },
    progress: { type: 'boolean' }, 'no-progress': { type: 'boolean' }, library: { type: 'string' },
    strict: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  }, HELP, io, (v) => {
    if (v.progress && v['no-progress']) throw new CommandLineError('--progress and --no-progress contradict each other: give one');
    if (v.quick && v.smoke) throw new CommandLineError('--quick and --smoke are two sizes: give one');
  });
  if (typeof values === 'number') return values;
  const settings = values.smoke ? SMOKE : values.quick ? QUICK : FULL;
  const tty = io.stderr === process.stderr && process.stderr.isTTY === true;
  const drawProgress = values['no-progress'] ? false : values.progress === true || tty;
  const started = Date.now();

  // Steps for the progress bar: every case run in every round, plus the memory run's 20 ticks.
  const codecCases = 11;
  const readCases = 4;
  const cacheCases = 6;
  const steps = 2 * codecCases * (settings.warmup + settings.rounds) + 2 * 2 * (settings.warmup + 2 * settings.rounds) +
    (7 + readCases + 2 * cacheCases) * (settings.warmup + settings.rounds) + settings.scaling.length * (1 + settings.scalingRounds) + 20;
  const progress = new Progress(steps, drawProgress ? (s) => io.stderr.write(s) : undefined);
  const ctx: Context = { settings, progress, cases: [], notes: [], c: loadCReference(), conformance: [] };
  if ('unavailable' in ctx.c) ctx.notes.push(`C reference skipped: ${ctx.c.unavailable}`);
  else ctx.notes.push(`C reference: ${ctx.c.compiler} ${ctx.c.flags.join(' ')}; name loop vectorised: ${ctx.c.vectorised === undefined ? 'not reported by the compiler' : ctx.c.vectorised ? 'yes (-fopt-info-vec)' : 'NO'}`);

  const unique = makeWorkload('unique', settings.peers);
  const shared = makeWorkload('shared', settings.peers);
  const images = new Map<string, KernelImage>([['unique', kernelImage(unique)], ['shared', kernelImage(shared)]]);
  const library = await bridgeLibrary(values.library);
  let memory: BenchReport['memory'];
  let scaling: BenchReport['scaling'];
  // A full collection before every timed run (timing.ts says why); the last result is let go first.
  settleBeforeEachRun(() => { sink = undefined; gc(); });
  try {
    // Memory first: its readings then show the codec's own growth, not the release of what the
    // other sections allocated (that made RSS fall by tens of MiB when it ran last).
    memory = memorySection(ctx, unique);
    codecSection(ctx, unique, images);
    codecSection(ctx, shared, images);
    kernelSection(ctx, unique, images.get('unique')!);
    kernelSection(ctx, shared, images.get('shared')!);
    readSection(ctx, unique);
    cachesSection(ctx, unique);
    cachesSection(ctx, shared);
    await bridgeSection(ctx, shared, library);
    scaling = scalingSection(ctx);
  } finally {
    settleBeforeEachRun(undefined);
    progress.end();
  }
  const { ratios: r, targets } = ratios(ctx, memory);
  // The floors say how far a target can be reached at all: an encoder that cost nothing but what
  // every encoder of that shape must pay would be this much faster than the rival, and no faster.
  const ceiling = (floor: string, rivals: string[]) => Object.fromEntries(['unique', 'shared'].map((w) =>
    [w, Math.min(...rivals.map((rival) => speedup(ctx, 'codec', w, floor, rival) ?? Infinity))]));
  const single = ceiling('floor', ['ts-single']);
  const batch = ceiling('batch-floor', ['ts', 'ts-bulk']);
  const say = (c: Record<string, number>) => `${c.unique.toFixed(2)}× (unique names), ${c.shared.toFixed(2)}× (shared)`;
  if (Number.isFinite(single.unique + single.shared)) {
    ctx.notes.push(`ceiling of single_vs_js: an encoder whose only cost was a fresh Uint8Array per record (the floor row) would be ${say(single)}`);
  }
  if (Number.isFinite(batch.unique + batch.shared)) {
    ctx.notes.push(`ceiling of codec_vs_js_*: a batch encoder whose only cost was its fresh output region (the batch floor row) would be ${say(batch)}`);
  }
  // What each cache buys, as paired ratios (as shipped over the same calls with it off; under 1: it costs).
  const buys = (w: string, shipped: string, off: string) => speedup(ctx, 'caches', w, shipped, off);
  const cacheRatios = [
    ['view cache (into)', 'into-shipped', 'into-no-views'], ['view cache (check)', 'check-shipped', 'check-no-views'],
    ['name cache', 'into-shipped', 'into-no-names'], ['layout memo', 'into-shipped', 'into-no-layout-memo'],
  ].map(([what, shipped, off]) => [what, buys('unique', shipped, off), buys('shared', shipped, off)] as const);
  if (cacheRatios.every(([, u, s]) => u !== undefined && s !== undefined)) {
    ctx.notes.push(`what each cache buys (paired, as shipped over off; unique names / shared): ${
      cacheRatios.map(([what, u, s]) => `${what} ${u!.toFixed(2)}× / ${s!.toFixed(2)}×`).join(', ')}`);
  }
  const pkg = packageInfo();
  const report: BenchReport = {
    package: { name: pkg.name, version: pkg.version },
    date: new Date().toISOString(),
    quick: settings.quick,
    machine: machine(),
    settings: {
      peers: settings.peers, warmupRounds: settings.warmup, rounds: settings.rounds, singleRecordOps: settings.singleOps,
      koffiOps: settings.koffiOps, bridgeOps: settings.bridgeOps, scalingRounds: settings.scalingRounds, memoryOps: settings.memoryOps,
    },
    workloads: [unique, shared].map((w) => ({ name: w.name, description: w.description, peers: w.inputs.length, distinctNames: w.distinctNames })),
    conformance: ctx.conformance,
    cases: ctx.cases,
    scaling,
    memory,
    ratios: r,
    targets,
    notes: ctx.notes,
    seconds: (Date.now() - started) / 1000,
  };
  io.stdout.write(renderTable(report));
  if (values.json) {
    mkdirSync(dirname(resolve(values.json)), { recursive: true });
    writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  }
  if (values.svg) {
    mkdirSync(dirname(resolve(values.svg)), { recursive: true });
    writeFileSync(values.svg, renderSvg(report));
  }
  const missed = Object.values(targets).some((t) => t.met === false);
  return values.strict && missed ? 1 : 0;
}

export { stats };
