// What the main job prints: the live progress line, the summary table, percentiles, memory.
import { sharedCodec } from '../../codec/codec.js';

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of `values` (any unit), or null when there are none. */
export function percentiles(values: readonly number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  return { count: sorted.length, p50: at(50), p90: at(90), p99: at(99), max: sorted[sorted.length - 1] };
}

export function median(values: readonly number[]): number {
  return percentiles(values)?.p50 ?? Number.NaN;
}

export interface MemorySnapshot {
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  /** The codec's WebAssembly memory. */
  wasmBytes: number | null;
}

/** The shared codec's WebAssembly memory size (read through its private instance; null if unreadable). */
function wasmBytes(): number | null {
  try {
    const wasm = (sharedCodec() as unknown as { wasm?: { memory?: WebAssembly.Memory } }).wasm;
    return wasm?.memory?.buffer.byteLength ?? null;
  } catch {
    return null;
  }
}

export function memorySnapshot(): MemorySnapshot {
  const m = process.memoryUsage();
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal, externalBytes: m.external, wasmBytes: wasmBytes() };
}

const group = (n: number) => Math.round(n).toLocaleString('en-US');

export function formatBytes(n: number | null): string {
  if (n === null) return 'n/a';
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

export const formatCount = group;

export function formatMicros(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`;
}

/** Rows as an aligned two-column table; a row of one cell is a section heading. */
export function table(rows: (readonly [string, string] | readonly [string])[]): string {
  const width = Math.max(...rows.filter((r) => r.length === 2).map((r) => r[0].length));
  return rows.map((r) => (r.length === 1 ? r[0] : `  ${r[0].padEnd(width)}  ${r[1]}`)).join('\n') + '\n';
}

export interface ProgressSample {
  registered: number;
  held: number;
  echoed: number;
  failed: number;
  dropped: number;
}

export interface ProgressWriter {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/**
 * The live progress line on stderr: redrawn in place with \r on a TTY (every 200 ms), a plain line
 * every `plainMs` otherwise (0: none).
 */
export class ProgressLine {
  private timer: NodeJS.Timeout | undefined;
  private last: { at: number; sample: ProgressSample };
  private drawn = false;
  private readonly tty: boolean;

  constructor(
    private readonly out: ProgressWriter,
    private readonly read: () => ProgressSample,
    plainMs = 1000,
  ) {
    this.tty = out.isTTY === true;
    this.last = { at: performance.now(), sample: read() };
    const every = this.tty ? 200 : plainMs;
    if (every > 0) {
      this.timer = setInterval(() => this.tick(), every);
      this.timer.unref();
    }
  }

  private tick(): void {
    const now = performance.now();
    const sample = this.read();
    const seconds = (now - this.last.at) / 1000;
    const rate = (a: number, b: number) => (seconds > 0 ? (a - b) / seconds : 0);
    const line =
      `peers registered ${group(sample.registered)} (held ${group(sample.held)}) | ` +
      `${group(rate(sample.echoed, this.last.sample.echoed))} datagrams/s | ` +
      `${group(rate(sample.registered, this.last.sample.registered))} registrations/s | ` +
      `failures ${group(sample.failed)}${sample.dropped ? ` | dropped ${group(sample.dropped)}` : ''}`;
    this.last = { at: now, sample };
    if (this.tty) {
      this.out.write(`\r${line}\x1b[K`);
      this.drawn = true;
    } else {
      this.out.write(`${line}\n`);
    }
  }

  /** Stops and clears the line (on a TTY) so the summary starts on a clean line. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}
