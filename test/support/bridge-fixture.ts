// The set-up most bridge tests share: the conformance library, one bridge opened on it by path,
// and a bound loopback UDP socket of each family asked for, made before a file's (or a describe
// block's) tests and closed after them; the library's table and counters reset before each test.
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type dgram from 'node:dgram';
import { openBridge, type Bridge } from '../../host/bridge.js';
import { loadConformance, type Conformance } from './conformance.js';
import { boundUdp, closeAll } from './sockets.js';

export interface BridgeFixture {
  native: Conformance;
  bridge: Bridge;
  /** Bound only when asked for. */
  udp4: dgram.Socket;
  udp6: dgram.Socket;
}

/**
 * Registers the hooks where it is called; `take` receives the fixture once it is made (a test file
 * keeps its own names for what it uses). `reset: false` leaves the library's state from one test to
 * the next.
 */
export function useBridgeFixture(
  families: readonly ('udp4' | 'udp6')[],
  take: (fixture: BridgeFixture) => void,
  { reset = true }: { reset?: boolean } = {},
): void {
  let fixture: BridgeFixture | undefined;
  beforeAll(async () => {
    const native = loadConformance();
    const made = { native, bridge: openBridge({ library: native.path }) } as BridgeFixture;
    fixture = made;
    for (const family of families) made[family] = await boundUdp(family);
    take(made);
  });
  afterAll(async () => {
    if (!fixture) return;
    await fixture.bridge.close();
    closeAll(...families.map((family) => fixture![family]));
  });
  if (reset) beforeEach(() => fixture!.native.reset());
}
