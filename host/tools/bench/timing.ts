// Timing: warm-up rounds, then rounds in which every case of a section runs once, in an order that
// rotates each round (and runs again in reverse), so that machine drift (other processes, frequency
// changes, GC debt) falls on every contender alike. Cases made of many small operations (one record
// per call) run in SLICES slices instead, the slices of all such cases interleaved: on a shared
// machine whose speed swings from one millisecond to the next, two contenders then meet the same
// swings, and a round's ratio of the two compares like with like. Figures are per operation; the
// median is the headline, min and max show the spread.

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
  /** Set when the case can run a part of its operations, [from, to): it is then timed in slices. */
  range?: (from: number, to: number) => void;
}

/** How many slices a sliced case's operations are cut into, per round. */
export const SLICES = 16;

/** A case of `ops` operations that runs any range of them (timed in slices). */
export function slicedCase(id: string, ops: number, range: (from: number, to: number) => void): TimedCase {
  return { id, ops, run: () => range(0, ops), range };
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
 * Set by the harness to a full garbage collection, run before every whole run and before each
 * round's slices: a contender's own allocations are still on its clock (a collection they trigger
 * mid-run included). A whole case never pays for the garbage another left behind; sliced cases
 * share a round's, each in turn before and after the others (see interleave()).
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
 * Runs `warmup` unrecorded rounds and `rounds` recorded ones of every case, interleaved: the whole
 * cases one after another and back, then the sliced ones slice by slice (see the top of this file).
 * `tick` is called after each case's run in a round (for the progress bar).
 */
export function interleave(cases: readonly TimedCase[], warmup: number, rounds: number, tick: (label: string) => void): CaseResult[] {
  const samples = cases.map(() => [] as number[]);
  const whole = cases.map((_, i) => i).filter((i) => !cases[i].range);
  const sliced = cases.map((_, i) => i).filter((i) => cases[i].range);
  for (let r = 0; r < warmup + rounds; r++) {
    // The whole cases twice, in a rotated order and then in its reverse (A B C C B A): a drift of
    // the machine's speed through the round then weighs on every case alike; a round's figure is
    // the mean of the two runs.
    const order = whole.map((_, k) => whole[(k + r) % whole.length]);
    const first = new Map<number, number>();
    for (const i of [...order, ...order.slice().reverse()]) {
      const ns = once(cases[i]);
      const earlier = first.get(i);
      if (earlier === undefined) {
        first.set(i, ns);
        continue;
      }
      if (r >= warmup) samples[i].push((earlier + ns) / 2);
      tick(cases[i].id);
    }
    if (sliced.length === 0) continue;
    settle?.();
    const total = sliced.map(() => 0);
    for (let s = 0; s < SLICES; s++) {
      for (let k = 0; k < sliced.length; k++) {
        // Rotated every slice, and reversed every other one: each contender runs as often just
        // before a given other as just after it, so no neighbour's garbage or cache falls on it alone.
        const step = s & 1 ? sliced.length - 1 - k : k;
        const j = (step + r + s) % sliced.length;
        const c = cases[sliced[j]];
        const from = Math.floor((c.ops * s) / SLICES);
        const to = Math.floor((c.ops * (s + 1)) / SLICES);
        const start = now();
        c.range!(from, to);
        total[j] += Number(now() - start);
      }
    }
    sliced.forEach((i, j) => {
      if (r >= warmup) samples[i].push(total[j] / cases[i].ops);
      tick(cases[i].id);
    });
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
