// The golden cases in the package's API terms. golden.c states the same cases independently, as
// C initialisers of the real header types; each `name` here is the C case id (its COFF section is
// `.golden.<name>`). Keep the two lists in the same order and in step by hand: neither is
// generated from the other, which is the point.

import type { CodecOptions, PeerTargetNameInput } from '../../host/codec/types.js';

export interface GoldenCase {
  name: string;
  input: PeerTargetNameInput;
  options?: Pick<CodecOptions, 'lengthUnit' | 'socketType'>;
}

const SPN = 'host/server.example.com'; // 23 units
const V4_PEER = '192.0.2.10:4500';

export const goldenCases: GoldenCase[] = [
  // Protocols, IPv4, implicit `auto` length (units for DEFAULT/IPSEC, bytes for IPSEC2)
  { name: 'ipv4_default', input: { protocol: 'default', peer: V4_PEER, targetName: SPN } },
  { name: 'ipv4_ipsec', input: { protocol: 'ipsec', peer: V4_PEER, targetName: SPN } },
  { name: 'ipv4_ipsec2', input: { protocol: 'ipsec2', peer: V4_PEER, targetName: SPN } },
  { name: 'protocol_numeric', input: { protocol: 1, peer: V4_PEER, targetName: SPN } },

  // Length unit forced, and `auto` given explicitly
  {
    name: 'unit_units_ipsec2',
    input: { protocol: 'ipsec2', peer: V4_PEER, targetName: SPN },
    options: { lengthUnit: 'units' },
  },
  {
    name: 'unit_bytes_default',
    input: { protocol: 'default', peer: V4_PEER, targetName: SPN },
    options: { lengthUnit: 'bytes' },
  },
  {
    name: 'unit_bytes_ipsec',
    input: { protocol: 'ipsec', peer: V4_PEER, targetName: SPN },
    options: { lengthUnit: 'bytes' },
  },
  {
    name: 'unit_auto_default',
    input: { protocol: 'default', peer: V4_PEER, targetName: SPN },
    options: { lengthUnit: 'auto' },
  },
  {
    name: 'unit_auto_ipsec2',
    input: { protocol: 'ipsec2', peer: V4_PEER, targetName: SPN },
    options: { lengthUnit: 'auto' },
  },

  // Ports at the edges, and one with the top bit set
  { name: 'port_1', input: { protocol: 'ipsec', peer: '192.0.2.10:1', targetName: SPN } },
  { name: 'port_65535', input: { protocol: 'ipsec', peer: '192.0.2.10:65535', targetName: SPN } },
  {
    name: 'port_32768_high_address',
    input: { protocol: 'ipsec', peer: '203.0.113.255:32768', targetName: SPN },
  },

  // IPv6
  { name: 'ipv6_global', input: { protocol: 'ipsec', peer: '[2001:db8::1]:500', targetName: SPN } },
  {
    name: 'ipv6_global_ipsec2',
    input: { protocol: 'ipsec2', peer: '[2001:db8::1]:500', targetName: SPN },
  },
  { name: 'ipv6_zone', input: { protocol: 'ipsec', peer: '[fe80::1%7]:5000', targetName: SPN } },
  {
    name: 'ipv6_zone_258',
    input: { protocol: 'default', peer: '[fe80::abcd:1%258]:500', targetName: SPN },
  },
  {
    name: 'ipv6_v4mapped',
    input: { protocol: 'ipsec2', peer: '[::ffff:192.0.2.1]:4500', targetName: SPN },
  },
  {
    name: 'ipv6_port_65535',
    input: { protocol: 'default', peer: '[2001:db8::1]:65535', targetName: SPN },
  },

  // Peer given as an object
  {
    name: 'peer_object_ipv6',
    input: {
      protocol: 'ipsec',
      peer: { address: '2001:db8::2', port: 500, family: 'IPv6', flowInfo: 0x12345, scopeId: 3 },
      targetName: SPN,
    },
  },
  {
    name: 'peer_object_ipv4',
    input: {
      protocol: 'default',
      peer: { address: '198.51.100.7', port: 4500, family: 'IPv4' },
      targetName: SPN,
    },
  },

  // Stream socket with no peer: PeerAddress all zero
  {
    name: 'stream_no_peer',
    input: { protocol: 'ipsec', targetName: SPN },
    options: { socketType: 'stream' },
  },
  {
    name: 'stream_no_peer_ipsec2',
    input: { protocol: 'ipsec2', peer: null, targetName: SPN },
    options: { socketType: 'stream' },
  },

  // Names (escaped, so no editor can change their normalisation)
  { name: 'name_single_char', input: { protocol: 'default', peer: V4_PEER, targetName: 'h' } },
  {
    name: 'name_latin1', // host/sérvér.example.com
    input: { protocol: 'ipsec', peer: V4_PEER, targetName: 'host/s\u00e9rv\u00e9r.example.com' },
  },
  {
    name: 'name_cjk_ipsec2', // host/服务器.example
    input: { protocol: 'ipsec2', peer: V4_PEER, targetName: 'host/\u670d\u52a1\u5668.example' },
  },
  {
    name: 'name_astral', // host/😀.example: a surrogate pair
    input: { protocol: 'default', peer: V4_PEER, targetName: 'host/\u{1F600}.example' },
  },
  {
    name: 'name_astral_ipsec2',
    input: { protocol: 'ipsec2', peer: V4_PEER, targetName: 'host/\u{1F600}.example' },
  },
  {
    name: 'name_sql_spn',
    input: {
      protocol: 'ipsec',
      peer: '[2001:db8::1]:1433',
      targetName: 'MSSQLSvc/sql-01.corp.example.com:1433',
    },
  },
];
