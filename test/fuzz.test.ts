// The seeded 100,000-case fuzz run (test/fuzz/fuzzer.mjs) against the built package.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript module without types
import { fuzz, fuzzRegistry } from './fuzz/fuzzer.mjs';

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

  it('registry/guard mode, 30,000 seeded steps: the native table equals the registry after every step, no datagram to an unregistered peer', async () => {
    const report = await fuzzRegistry({ steps: 30_000, seed: 20261125 });
    expect(report.failures, JSON.stringify(report.failures, null, 2)).toEqual([]);
    expect(report.divergences).toBe(0);
    expect(report.steps).toBe(30_000);
    // The run exercised every path: registrations, evictions, failed deletes waiting in the list and
    // refusals when it was full, batches, every kind of abuse, and the guard's sends and refusals.
    expect(report.registered).toBeGreaterThan(1000);
    expect(report.evicted).toBeGreaterThan(1000);
    expect(report.deleteFailures).toBeGreaterThan(100);
    expect(report.pendingSeen).toBeGreaterThan(100);
    expect(report.refusedFull).toBeGreaterThan(10);
    expect(report.guardSent).toBeGreaterThan(1000);
    expect(report.guardRefused).toBeGreaterThan(100);
    for (const action of ['ensure', 'ensureMany', 'ensure-shifty', 'ensure-invalid', 'mutate', 'forget', 'clear', 'retry', 'has', 'guard.send', 'guard.flush']) {
      expect(report.actions[action], action).toBeGreaterThan(0);
    }
  }, 300_000);
});
