// The Linux conformance library's test-only inspection exports (ptn_*), bound with koffi, so the
// bridge and registry tests can look at what the "native side" received and holds.
import koffi from 'koffi';
import { buildConformanceLibrary } from '../../build/conformance.mjs';

export interface Conformance {
  path: string;
  peerCount(socket: number | bigint): number;
  /** The name held for a peer (sockaddr as 128 bytes), or undefined. */
  lookup(socket: number | bigint, storage: Uint8Array): { name: string; seq: bigint; timeNs: bigint } | undefined;
  /** Every peer's 128-byte sockaddr, in registration order. */
  list(socket: number | bigint): Uint8Array[];
  lastBytes(): Uint8Array;
  lastSocket(): bigint | number;
  failNext(count: number, wsaError: number): void;
  refuseName(name: string): void;
  reset(): void;
  callCount(): bigint | number;
  maxLenSeen(): number;
  /** How the library reads PeerTargetNameStringLen: 0 auto, 1 units, 2 bytes. */
  setLengthUnit(unit: 0 | 1 | 2): void;
}

export function loadConformance(): Conformance {
  const { path } = buildConformanceLibrary();
  const lib = koffi.load(path);
  const count = lib.func('uint32_t ptn_peer_count(uintptr_t s)');
  const lookup = lib.func('int ptn_peer_lookup(uintptr_t s, const uint8_t *sockaddr, _Out_ uint16_t *nameOut, uint32_t cap, _Out_ uint64_t *seq, _Out_ uint64_t *timeNs)');
  const list = lib.func('int ptn_peer_list(uintptr_t s, uint8_t *out, uint32_t cap)');
  const lastBytes = lib.func('uint32_t ptn_last_bytes(uint8_t *out, uint32_t cap)');
  const lastSocket = lib.func('uintptr_t ptn_last_socket()');
  const failNext = lib.func('void ptn_fail_next(uint32_t count, int error)');
  const refuse = lib.func('void ptn_refuse_name(const uint16_t *units, uint32_t n)');
  const reset = lib.func('void ptn_reset()');
  const calls = lib.func('uint64_t ptn_call_count()');
  const maxLen = lib.func('uint32_t ptn_max_len_seen()');
  const setUnit = lib.func('int ptn_set_length_unit(int unit)');
  return {
    path,
    peerCount: (s) => count(s),
    lookup(s, storage) {
      const name = new Uint16Array(40000);
      const seq = [0n];
      const time = [0n];
      const n = lookup(s, storage, name, name.length, seq, time);
      if (n < 0) return undefined;
      return { name: String.fromCharCode(...name.subarray(0, n)), seq: BigInt(seq[0]), timeNs: BigInt(time[0]) };
    },
    list(s) {
      const total = list(s, null, 0);
      const out = new Uint8Array(total * 128);
      const n = list(s, out, total);
      return Array.from({ length: n }, (_, i) => out.subarray(i * 128, i * 128 + 128));
    },
    lastBytes() {
      const out = new Uint8Array(1 << 17);
      const n = lastBytes(out, out.length);
      return out.slice(0, n);
    },
    lastSocket: () => lastSocket(),
    failNext: (c, e) => failNext(c, e),
    refuseName(name) {
      const units = new Uint16Array(name.length);
      for (let i = 0; i < name.length; i++) units[i] = name.charCodeAt(i);
      refuse(units.length ? units : null, name.length);
    },
    reset: () => reset(),
    callCount: () => calls(),
    maxLenSeen: () => maxLen(),
    setLengthUnit(unit) {
      if (setUnit(unit) !== 0) throw new Error(`ptn_set_length_unit(${unit}) refused`);
    },
  };
}
