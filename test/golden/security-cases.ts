// The security golden cases in the package's API terms. security-golden.c states the same cases
// independently, as C initialisers of the real header types; each `name` here is the C case id
// (its COFF sections are `.sec.<name>` and `.seclen.<name>`). Keep the two lists in the same order
// and in step by hand: neither is generated from the other, which is the point.

import type {
  SocketSecurityQueryInfoInput,
  SocketSecurityQueryTemplateInput,
  SocketSecuritySettingsInput,
} from '../../host/codec/security.js';
import type { SocketType } from '../../host/codec/types.js';

export type SecurityGoldenCase =
  | { name: string; kind: 'settings'; input: SocketSecuritySettingsInput }
  | { name: string; kind: 'template'; input: SocketSecurityQueryTemplateInput; socketType?: SocketType }
  | { name: string; kind: 'info'; input: SocketSecurityQueryInfoInput };

const GUID_A_BRACED_UPPER = '{12345678-9ABC-DEF0-0123-456789ABCDEF}';
const GUID_A = '12345678-9abc-def0-0123-456789abcdef';
const GUID_B = 'a1b2c3d4-e5f6-4789-8abc-def012345678';
const TOKEN_QUERY = 0x8;
const TOKEN_IMPERSONATE = 0x4;
const MAXIMUM_ALLOWED = 0x02000000;

export const securityGoldenCases: SecurityGoldenCase[] = [
  // SOCKET_SECURITY_SETTINGS (8 bytes)
  { name: 'settings_default', kind: 'settings', input: { protocol: 'default' } },
  {
    name: 'settings_ipsec_guarantee_encryption',
    kind: 'settings',
    input: { protocol: 'ipsec', flags: ['SOCKET_SETTINGS_GUARANTEE_ENCRYPTION'] },
  },
  { name: 'settings_ipsec2_allow_insecure', kind: 'settings', input: { protocol: 'ipsec2', flags: ['allow-insecure'] } },
  { name: 'settings_default_both_flags', kind: 'settings', input: { protocol: 0, flags: 3 } },

  // SOCKET_SECURITY_SETTINGS_IPSEC (88 + the strings' bytes)
  { name: 'ipsec_empty', kind: 'settings', input: { protocol: 'ipsec', ipsec: {} } },
  {
    name: 'ipsec_policy_keys',
    kind: 'settings',
    input: {
      protocol: 'ipsec',
      flags: ['guarantee-encryption'],
      ipsec: { ipsecFlags: ['skip-filter-instantiation'], mmPolicyKey: GUID_A_BRACED_UPPER, qmPolicyKey: GUID_B },
    },
  },
  {
    name: 'ipsec_credentials',
    kind: 'settings',
    input: { protocol: 'ipsec', ipsec: { userName: 'alice', domainName: 'CORP', password: 'P@ssw0rd' } },
  },
  {
    name: 'ipsec2_credentials_unicode',
    kind: 'settings',
    input: {
      protocol: 'ipsec2',
      flags: ['allow-insecure'],
      ipsec: { mmPolicyKey: GUID_A, userName: 'jürgen', domainName: '例え', password: 'pa\u{1F511}ss' },
    },
  },
  {
    name: 'ipsec_user_only',
    kind: 'settings',
    input: { protocol: 1, ipsec: { ipsecFlags: 1, userName: 'svc-backup' } },
  },
  {
    name: 'ipsec_domain_password',
    kind: 'settings',
    input: { protocol: 'ipsec', flags: 1, ipsec: { qmPolicyKey: GUID_B, domainName: 'EXAMPLE', password: 'x' } },
  },
  {
    name: 'ipsec2_win7_ipsec_flags',
    kind: 'settings',
    input: {
      protocol: 'ipsec2',
      flags: ['guarantee-encryption'],
      ipsec: {
        ipsecFlags: [
          'SOCKET_SETTINGS_IPSEC_SKIP_FILTER_INSTANTIATION',
          'optional-peer-name-verification',
          'allow-first-inbound-pkt-unencrypted',
          'SOCKET_SETTINGS_IPSEC_PEER_NAME_IS_RAW_FORMAT',
        ],
      },
    },
  },

  // SOCKET_SECURITY_QUERY_TEMPLATE (144 bytes)
  {
    name: 'template_ipv4',
    kind: 'template',
    input: { protocol: 'ipsec', peer: '192.0.2.10:4500', peerTokenAccessMask: TOKEN_QUERY },
  },
  {
    name: 'template_ipv6_zone',
    kind: 'template',
    input: { protocol: 'ipsec2', peer: '[fe80::1%7]:500', peerTokenAccessMask: TOKEN_QUERY | TOKEN_IMPERSONATE },
  },
  { name: 'template_stream_no_peer', kind: 'template', input: { protocol: 'default' }, socketType: 'stream' },
  {
    name: 'template_peer_object_maximum_allowed',
    kind: 'template',
    input: {
      protocol: 'ipsec',
      peer: { address: '2001:db8::1', port: 500, family: 'IPv6', flowInfo: 0x12345, scopeId: 3 },
      peerTokenAccessMask: MAXIMUM_ALLOWED,
    },
  },

  // SOCKET_SECURITY_QUERY_INFO (24 bytes)
  {
    name: 'info_secured_encrypted',
    kind: 'info',
    input: {
      protocol: 'ipsec',
      flags: ['SOCKET_INFO_CONNECTION_SECURED', 'connection-encrypted'],
      peerApplicationAccessTokenHandle: 0x1234,
      peerMachineAccessTokenHandle: 0x5678n,
    },
  },
  {
    name: 'info_impersonated_high_handles',
    kind: 'info',
    input: {
      protocol: 'ipsec2',
      flags: 0x5,
      peerApplicationAccessTokenHandle: 0x00007ffe12345678n,
      peerMachineAccessTokenHandle: 0xfffffffffffffffcn,
    },
  },
  { name: 'info_default_none', kind: 'info', input: { protocol: 'default' } },
];
