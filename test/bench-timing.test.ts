// The harness's timing rules (host/tools/bench/timing.ts), on counting stand-ins: whole cases run
// twice a round (rotated order, then its reverse), sliced cases cover every operation exactly once
// a round in SLICES slices, and only recorded rounds give figures.
import { describe, expect, it } from 'vitest';

import { interleave, slicedCase, SLICES, type TimedCase } from '../host/tools/bench/timing.js';

describe('bench timing', () => {
  it('runs whole cases A B C C B A each round and slices the sliced ones over every operation once', () => {
    const order: string[] = [];
    const whole = (id: string): TimedCase => ({ id, ops: 10, run: () => { order.push(id); } });
    const covered = new Map<string, number[]>();
    const sliced = (id: string, ops: number) => slicedCase(id, ops, (from, to) => {
      const seen = covered.get(id) ?? new Array(ops).fill(0);
      for (let i = from; i < to; i++) seen[i]++;
      covered.set(id, seen);
    });
    const ticks: string[] = [];
    const warmup = 1;
    const rounds = 3;
    const results = interleave([whole('a'), whole('b'), whole('c'), sliced('s', 1000), sliced('t', 37)], warmup, rounds, (id) => ticks.push(id));

    // Each round: the rotated order, then its reverse.
    const perRound = 6;
    expect(order.length).toBe((warmup + rounds) * perRound);
    for (let r = 0; r < warmup + rounds; r++) {
      const round = order.slice(r * perRound, (r + 1) * perRound);
      expect(round.slice(3)).toEqual(round.slice(0, 3).reverse());
      expect(new Set(round.slice(0, 3))).toEqual(new Set(['a', 'b', 'c']));
    }
    expect(order[0]).not.toBe(order[perRound]); // the order rotates

    // Every operation of a sliced case, once per round (also when ops is not a multiple of SLICES).
    for (const [id, seen] of covered) expect(seen.every((n) => n === warmup + rounds), id).toBe(true);
    expect(SLICES).toBeGreaterThan(1);

    // One figure per recorded round, one tick per case per round.
    for (const c of results) expect(c.rounds.length, c.id).toBe(rounds);
    expect(ticks.length).toBe((warmup + rounds) * 5);
  });
});
