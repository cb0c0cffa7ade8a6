// The one map between SOCKET_SECURITY_PROTOCOL names and numbers, for every host file.
import * as L from '../generated/layout.js';
import type { ProtocolName } from './types.js';

/** By number: PROTOCOL_NAMES[L.PROTOCOL_IPSEC] is 'ipsec'. */
export const PROTOCOL_NAMES: readonly ProtocolName[] = ['default', 'ipsec', 'ipsec2'];

/** A protocol's name, or undefined for a number that is none. */
export function protocolName(value: number): ProtocolName | undefined {
  return PROTOCOL_NAMES[value];
}

/** A protocol name's number, or -1 for anything that is not one of the names. */
export function protocolNumber(name: unknown): number {
  return name === 'ipsec' ? L.PROTOCOL_IPSEC : name === 'ipsec2' ? L.PROTOCOL_IPSEC2 : name === 'default' ? L.PROTOCOL_DEFAULT : -1;
}
