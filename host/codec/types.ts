// Public types of the codec API. Kept apart from the implementation so the CLI, the bridge and the
// preview page can share them without pulling in the loader.

/** SOCKET_SECURITY_PROTOCOL by name, or its number 0–2. */
export type ProtocolName = 'default' | 'ipsec' | 'ipsec2';
export type ProtocolInput = ProtocolName | 0 | 1 | 2 | number;

/** How PeerTargetNameStringLen counts the name (docs/reference.md §2: Microsoft's sources disagree). */
export type LengthUnit = 'auto' | 'units' | 'bytes';
export type SocketType = 'dgram' | 'stream';

/** A peer as Node's `dgram` hands it over in `rinfo`, plus the IPv6-only fields. */
export interface PeerObject {
  /** IPv4 dotted quad or IPv6 text, optionally with a numeric zone: `fe80::1%7`. */
  address: string;
  port: number;
  /** `'IPv4' | 'IPv6'` as Node spells it (also `4`, `6`, `'ipv4'`, `'ipv6'`); checked against the address. */
  family?: string | number;
  /** sin6_flowinfo, IPv6 only. */
  flowInfo?: number;
  /** sin6_scope_id (an interface index), IPv6 only; must agree with a `%zone` in `address`. */
  scopeId?: number;
}

/** `'192.0.2.10:4500'`, `'[2001:db8::1]:500'`, `'[fe80::1%7]:5000'`, or an object. */
export type PeerInput = string | PeerObject;

export interface PeerTargetNameInput {
  protocol: ProtocolInput;
  /** Absent (or null) only for a stream socket: its PeerAddress is then all zero. */
  peer?: PeerInput | null;
  /** The SPN, e.g. `host/server.example.com`. */
  targetName: string;
}

export interface CodecOptions {
  /** Default `'auto'`: UTF-16 units for DEFAULT and IPSEC, bytes for IPSEC2. */
  lengthUnit?: LengthUnit;
  /** Default `'dgram'`: a dgram peer must be a real address and port. */
  socketType?: SocketType;
  /** Longest accepted target name in UTF-16 units (default 1024, at most 32767). */
  maxTargetNameLength?: number;
}

export type PeerFamily = 'ipv4' | 'ipv6';

export interface DecodedPeer {
  family: PeerFamily;
  /** Dotted quad, or RFC 5952 IPv6 text (IPv4-mapped shown as `::ffff:a.b.c.d`); no zone. */
  address: string;
  port: number;
  flowInfo: number;
  scopeId: number;
}

export interface DecodedPeerTargetName {
  protocol: ProtocolName;
  peer: DecodedPeer | null;
  targetName: string;
  /** PeerTargetNameStringLen as stored. */
  stringLength: number;
  /** The unit `stringLength` was read in. */
  lengthUnit: 'units' | 'bytes';
  /** The buffer's length in bytes. */
  totalLength: number;
}
