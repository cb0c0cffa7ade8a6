// Timing: warm-up rounds, then rounds in which every case of a section runs once, in an order that
// rotates each round, so that machine drift (other processes, frequency changes, GC debt) falls on
// every contender alike. Figures are per operation; the median is the headline, min and max show
// the spread.

export interface Stats {
  min: number;
  median: number;
  max: number;
}

export interface TimedCase {
  id: string;
  /** `ops` operations per call of run(). */
  ops: number;
  run(): void;
  /** Set when the case times itself (e.g. a C loop timed in C): nanoseconds for `ops` operations. */
  timed?: () => number;
}

export interface CaseResult {
  id: string;
  opsPerRound: number;
  /** Nanoseconds per operation, one per measured round. */
  rounds: number[];
  nsPerOp: Stats;
  opsPerSecond: number;
}

export function stats(values: readonly number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { min: sorted[0], median, max: sorted[sorted.length - 1] };
}

const now = () => process.hrtime.bigint();

/**
 * Set by the harness to a full garbage collection, run before every timed run: a contender's own
 * allocations are still on its clock (a collection they trigger mid-run included), but no contender
 * pays for the garbage another one left behind.
 */
let settle: (() => void) | undefined;
export function settleBeforeEachRun(fn: (() => void) | undefined): void {
  settle = fn;
}

/** Runs one case once; nanoseconds per operation. */
function once(c: TimedCase): number {
  settle?.();
  if (c.timed) return c.timed() / c.ops;
  const start = now();
  c.run();
  return Number(now() - start) / c.ops;
}

/**
 * Runs `warmup` unrecorded rounds and `rounds` recorded ones of every case, interleaved.
 * `tick` is called after each case run (for the progress bar).
 */
export function interleave(cases: readonly TimedCase[], warmup: number, rounds: number, tick: (label: string) => void): CaseResult[] {
  const samples = cases.map(() => [] as number[]);
  for (let r = 0; r < warmup + rounds; r++) {
    for (let k = 0; k < cases.length; k++) {
      const i = (k + r) % cases.length; // rotate the order every round
      const ns = once(cases[i]);
      if (r >= warmup) samples[i].push(ns);
      tick(cases[i].id);
    }
  }
  return cases.map((c, i) => {
    const s = stats(samples[i]);
    return { id: c.id, opsPerRound: c.ops, rounds: samples[i], nsPerOp: s, opsPerSecond: 1e9 / s.median };
  });
}

/** A progress bar on stderr: redrawn in place, erased at the end. Silent unless enabled. */
export class Progress {
  private done = 0;
  private lastDraw = 0;
  constructor(private readonly total: number, private readonly write: ((s: string) => void) | undefined) {}

  step(label: string, count = 1): void {
    this.done = Math.min(this.total, this.done + count);
    if (!this.write) return;
    const t = Date.now();
    if (t - this.lastDraw < 80 && this.done < this.total) return;
    this.lastDraw = t;
    const width = 30;
    const filled = Math.round((this.done / this.total) * width);
    const pct = Math.floor((this.done / this.total) * 100);
    this.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${label.padEnd(40).slice(0, 40)}`);
  }

  end(): void {
    this.write?.(`\r${' '.repeat(80)}\r`);
  }
}
