// The inputs every contender encodes: what a UDP server sees. Peers are IPv4 and IPv6 alternately;
// half arrive as text ('a.b.c.d:port', '[v6]:port') and half as Node's dgram `rinfo` objects
// ({ address, family, port, size }). Every string is flat (sequential), as the strings Node hands a
// server are, so no contender pays for flattening someone else's rope.
import type { PeerTargetNameInput } from '../../codec/types.js';

export type WorkloadName = 'unique' | 'shared';

export interface Workload {
  name: WorkloadName;
  /** One line for the table and the README. */
  description: string;
  inputs: PeerTargetNameInput[];
  /** How many distinct target names the inputs use. */
  distinctNames: number;
}

/** A flat copy of s: joined from its characters, so V8 holds it as one sequential string. */
export function flat(s: string): string {
  return s.split('').join('');
}

/** Peer i's address (no port), IPv4 for even i, IPv6 for odd i; never unspecified. */
export function peerAddress(i: number): { address: string; v6: boolean } {
  const v6 = (i & 1) === 1;
  const n = i >>> 1;
  const address = v6
    ? `2001:db8:${(n >>> 16).toString(16)}:${((n * 2654435761) >>> 16).toString(16)}::${(n & 0xffff).toString(16)}`
    : `10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${(n & 255) || 1}`;
  return { address, v6 };
}

/** Peer i's port, 1024..61023. */
export const peerPort = (i: number) => 1024 + ((i * 7919) % 60000);

/** Peer i as the server would see it: text for i % 4 < 2, an rinfo object otherwise. */
export function peer(i: number): PeerTargetNameInput['peer'] {
  const { address, v6 } = peerAddress(i);
  const port = peerPort(i);
  if (i % 4 < 2) return flat(v6 ? `[${address}]:${port}` : `${address}:${port}`);
  return { address: flat(address), family: v6 ? 'IPv6' : 'IPv4', port, size: 64 } as PeerTargetNameInput['peer'];
}

/** `count` peers, each with its own name (unique) or sharing `names` names in turn (shared). */
export function makeWorkload(name: WorkloadName, count: number, names = 100): Workload {
  const inputs: PeerTargetNameInput[] = new Array(count);
  const shared = Array.from({ length: names }, (_, k) => flat(`host/service-${k}.corp.example.com`));
  for (let i = 0; i < count; i++) {
    inputs[i] = {
      protocol: i % 8 === 7 ? 'ipsec2' : 'ipsec',
      peer: peer(i),
      targetName: name === 'unique' ? flat(`host/peer-${i}.corp.example.com`) : shared[i % names],
    };
  }
  return {
    name,
    description: name === 'unique'
      ? `${count.toLocaleString('en-US')} peers, each with its own target name`
      : `${count.toLocaleString('en-US')} peers sharing ${names} target names`,
    inputs,
    distinctNames: name === 'unique' ? count : names,
  };
}
