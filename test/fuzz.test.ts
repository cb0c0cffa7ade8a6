// The seeded 100,000-case fuzz run (test/fuzz/fuzzer.mjs) against the built package.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript module without types
import { fuzz } from './fuzz/fuzzer.mjs';

describe('fuzzing', () => {
  it('100,000 seeded cases: only typed errors, no hang, accepted buffers re-encode to themselves, the codec stays usable', () => {
    const report = fuzz({ iterations: 100_000, seed: 20261125 });
    expect(report.failures.filter(Boolean), JSON.stringify(report.failures, null, 2)).toEqual([]);
    expect(report.failureCount).toBe(0);
    // The run exercised every path: valid and invalid buffers, successful and failed encodes.
    expect(report.accepted).toBeGreaterThan(1000);
    expect(report.encoded).toBeGreaterThan(1000);
    expect(Object.keys(report.byCode).sort()).toEqual(['WSAEAFNOSUPPORT', 'WSAEFAULT', 'WSAEINVAL', 'WSAEMSGSIZE'].filter((c) => c in report.byCode).sort());
    expect(report.byCode.WSAEINVAL).toBeGreaterThan(0);
    expect(report.byCode.WSAEMSGSIZE).toBeGreaterThan(0);
    expect(report.byCode.WSAEAFNOSUPPORT).toBeGreaterThan(0);
  }, 300_000);
});
