// koffi's own struct marshalling as a contender: SOCKET_PEER_TARGET_NAME declared with
// koffi.struct/koffi.union (endian-typed port and flow label), each record built as a JS object and
// serialised with koffi.encode, the name as a char16_t string array. The IP text still has to be
// parsed in JS (koffi marshals values, it does not parse addresses): the hand-written encoder's
// parser does it, and its time is part of this contender's, as it would be for a user.
import { createRequire } from 'node:module';
import * as L from '../../generated/layout.js';
import { checkName, Invalid, protocolOf, writePeer } from './js-encoder.js';
import type { PeerTargetNameInput } from '../../codec/types.js';

type KoffiType = unknown;
interface Koffi {
  struct(name: string, fields: Record<string, KoffiType>): KoffiType;
  union(name: string, fields: Record<string, KoffiType>): KoffiType;
  array(type: KoffiType, length: number, hint?: string): KoffiType;
  sizeof(type: KoffiType): number;
  offsetof(type: KoffiType, field: string): number;
  encode(ref: Uint8Array, offset: number, type: KoffiType, value: unknown): void;
}

const align8 = (n: number) => (n + 7) & ~7;
let serial = 0;

export class KoffiStructEncoder {
  private readonly koffi: Koffi;
  private readonly header: KoffiType;
  private readonly names = new Map<number, KoffiType>();
  private readonly scratch = new Uint8Array(L.SIZE_SOCKADDR_STORAGE);
  private readonly scratchView = new DataView(this.scratch.buffer);

  constructor() {
    this.koffi = createRequire(import.meta.url)('koffi') as Koffi;
    const k = this.koffi;
    const id = `${process.pid}_${serial++}`; // koffi type names are global
    const sin = k.struct(`bench_sockaddr_in_${id}`, {
      sin_family: 'uint16_t', sin_port: 'uint16_be_t', sin_addr: k.array('uint8_t', 4, 'Array'), sin_zero: k.array('uint8_t', 8, 'Array'),
    });
    const sin6 = k.struct(`bench_sockaddr_in6_${id}`, {
      sin6_family: 'uint16_t', sin6_port: 'uint16_be_t', sin6_flowinfo: 'uint32_be_t', sin6_addr: k.array('uint8_t', 16, 'Array'), sin6_scope_id: 'uint32_t',
    });
    const storage = k.union(`bench_sockaddr_storage_${id}`, { v4: sin, v6: sin6, align: k.array('uint64_t', L.SIZE_SOCKADDR_STORAGE / 8) });
    this.header = k.struct(`bench_socket_peer_target_name_${id}`, {
      SecurityProtocol: 'uint32_t', PeerAddress: storage, PeerTargetNameStringLen: 'uint32_t', AllStrings: k.array('char16_t', 2, 'Array'),
    });
    if (k.sizeof(this.header) !== L.SIZEOF_PEER_TARGET_NAME || k.offsetof(this.header, 'PeerAddress') !== L.OFFSET_PEER ||
        k.offsetof(this.header, 'AllStrings') !== L.OFFSET_STRINGS) {
      throw new Error('koffi lays SOCKET_PEER_TARGET_NAME out differently from the headers');
    }
  }

  private nameType(n: number): KoffiType {
    let type = this.names.get(n);
    if (type === undefined) {
      type = this.koffi.array('char16_t', n + 1, 'String'); // n units and the NUL koffi writes
      this.names.set(n, type);
    }
    return type;
  }

  /** The struct as a JS object, the way koffi wants it. */
  private value(input: PeerTargetNameInput): { object: Record<string, unknown>; name: string; protocol: number } {
    const protocol = protocolOf(input.protocol);
    const name = checkName(input.targetName);
    const s = this.scratch;
    s.fill(0);
    writePeer(input.peer, s, 0);
    const view = this.scratchView;
    const PeerAddress = view.getUint16(0, true) === L.AF_INET
      ? { v4: { sin_family: L.AF_INET, sin_port: view.getUint16(L.SIN_PORT), sin_addr: Array.from(s.subarray(L.SIN_ADDR, L.SIN_ADDR + 4)), sin_zero: [0, 0, 0, 0, 0, 0, 0, 0] } }
      : { v6: { sin6_family: L.AF_INET6, sin6_port: view.getUint16(L.SIN6_PORT), sin6_flowinfo: view.getUint32(L.SIN6_FLOWINFO), sin6_addr: Array.from(s.subarray(L.SIN6_ADDR, L.SIN6_ADDR + 16)), sin6_scope_id: view.getUint32(L.SIN6_SCOPE_ID, true) } };
    const n = name.length;
    return {
      object: { SecurityProtocol: protocol, PeerAddress, PeerTargetNameStringLen: protocol === L.PROTOCOL_IPSEC2 ? 2 * n : n },
      name,
      protocol,
    };
  }

  /** Many records into one region, laid out as encodePeerTargetNames lays them out. */
  encodeMany(inputs: readonly PeerTargetNameInput[]): { bytes: Uint8Array; offsets: Uint32Array; lengths: Uint32Array } {
    const count = inputs.length;
    let total = 0;
    for (let i = 0; i < count; i++) {
      const name = inputs[i].targetName;
      total += align8(L.SIZEOF_PEER_TARGET_NAME + 2 * (typeof name === 'string' ? name.length : 0));
    }
    const bytes = new Uint8Array(total);
    const offsets = new Uint32Array(count);
    const lengths = new Uint32Array(count);
    let at = 0;
    for (let i = 0; i < count; i++) {
      let value;
      try {
        value = this.value(inputs[i]);
      } catch (error) {
        if (error instanceof Invalid) continue;
        throw error;
      }
      const n = value.name.length;
      this.koffi.encode(bytes, at, this.header, value.object);
      this.koffi.encode(bytes, at + L.OFFSET_STRINGS, this.nameType(n), value.name);
      // koffi writes the NUL; the two bytes of tail padding after it stay zero (the region is fresh).
      offsets[i] = at;
      lengths[i] = L.SIZEOF_PEER_TARGET_NAME + 2 * n;
      at += align8(lengths[i]);
    }
    return { bytes: bytes.subarray(0, at), offsets, lengths };
  }
}
