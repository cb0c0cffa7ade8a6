// The flag words of the Secure Socket Extensions structs, by their mstcpip.h names. A file of its
// own so that the one reason → message table (reason-messages.ts) can list the known flags in its
// *_FLAGS_UNKNOWN wordings without importing security.ts, which imports that table.
import * as L from '../generated/layout.js';

/** [mstcpip.h name, short name, bit]. Inputs take either name; outputs give the header's. */
export type FlagTable = readonly (readonly [name: string, short: string, bit: number])[];

/** SecurityFlags of SOCKET_SECURITY_SETTINGS[_IPSEC]. */
export const SETTINGS_FLAGS: FlagTable = [
  ['SOCKET_SETTINGS_GUARANTEE_ENCRYPTION', 'guarantee-encryption', L.SOCKET_SETTINGS_GUARANTEE_ENCRYPTION],
  ['SOCKET_SETTINGS_ALLOW_INSECURE', 'allow-insecure', L.SOCKET_SETTINGS_ALLOW_INSECURE],
];
/** IpsecFlags of SOCKET_SECURITY_SETTINGS_IPSEC. */
export const IPSEC_FLAGS: FlagTable = [
  ['SOCKET_SETTINGS_IPSEC_SKIP_FILTER_INSTANTIATION', 'skip-filter-instantiation',
    L.SOCKET_SETTINGS_IPSEC_SKIP_FILTER_INSTANTIATION],
  ['SOCKET_SETTINGS_IPSEC_OPTIONAL_PEER_NAME_VERIFICATION', 'optional-peer-name-verification',
    L.SOCKET_SETTINGS_IPSEC_OPTIONAL_PEER_NAME_VERIFICATION],
  ['SOCKET_SETTINGS_IPSEC_ALLOW_FIRST_INBOUND_PKT_UNENCRYPTED', 'allow-first-inbound-pkt-unencrypted',
    L.SOCKET_SETTINGS_IPSEC_ALLOW_FIRST_INBOUND_PKT_UNENCRYPTED],
  ['SOCKET_SETTINGS_IPSEC_PEER_NAME_IS_RAW_FORMAT', 'peer-name-is-raw-format',
    L.SOCKET_SETTINGS_IPSEC_PEER_NAME_IS_RAW_FORMAT],
];
/** Flags of SOCKET_SECURITY_QUERY_INFO. */
export const INFO_FLAGS: FlagTable = [
  ['SOCKET_INFO_CONNECTION_SECURED', 'connection-secured', L.SOCKET_INFO_CONNECTION_SECURED],
  ['SOCKET_INFO_CONNECTION_ENCRYPTED', 'connection-encrypted', L.SOCKET_INFO_CONNECTION_ENCRYPTED],
  ['SOCKET_INFO_CONNECTION_IMPERSONATED', 'connection-impersonated', L.SOCKET_INFO_CONNECTION_IMPERSONATED],
];

/** A byte or a flag word in hex, at least two digits (0x05, 0x80000000). */
export const hexOf = (n: number) => '0x' + (n >>> 0).toString(16).padStart(2, '0');

/** A table's flags for a message: "NAME / 'short' (0x01), ...". */
export const allowedFlags = (table: FlagTable) =>
  table.map(([name, short, bit]) => `${name} / '${short}' (${hexOf(bit)})`).join(', ');
