// The paste formats the page reads, written out from bytes exactly as each tool prints them: the
// tests paste these into the page. xxd, hexdump -C and base64 are also checked against the real
// programs (paste.test.ts), so these writers are known to match them byte for byte.
import { toHex } from '../../host/index.js';

const hex2 = (b: number) => b.toString(16).padStart(2, '0');
const ascii = (bytes: Uint8Array) => Array.from(bytes, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
const rows = (bytes: Uint8Array, n: number) => {
  const out: { at: number; row: Uint8Array }[] = [];
  for (let at = 0; at < bytes.length; at += n) out.push({ at, row: bytes.subarray(at, at + n) });
  return out;
};

/** `xxd` (groups of 2 bytes, 16 a line); with `autoskip`, `xxd -a` ('*' for repeated zero lines). */
export function xxd(bytes: Uint8Array, autoskip = false): string {
  const lines: string[] = [];
  let skipping = false;
  for (const { at, row } of rows(bytes, 16)) {
    const zero = row.length === 16 && row.every((b) => b === 0);
    const prevZero = at >= 16 && bytes.subarray(at - 16, at).every((b) => b === 0);
    const last = at + 16 >= bytes.length;
    if (autoskip && zero && prevZero && !last) {
      if (!skipping) lines.push('*');
      skipping = true;
      continue;
    }
    skipping = false;
    const groups: string[] = [];
    for (let i = 0; i < row.length; i += 2) groups.push(Array.from(row.subarray(i, i + 2), hex2).join(''));
    lines.push(`${at.toString(16).padStart(8, '0')}: ${groups.join(' ').padEnd(39)}  ${ascii(row)}`);
  }
  return lines.join('\n') + '\n';
}

/** `hexdump -C`. */
export function hexdumpC(bytes: Uint8Array): string {
  const lines: string[] = [];
  let previous = '';
  let starred = false;
  for (const { at, row } of rows(bytes, 16)) {
    const key = toHex(row);
    if (key === previous && row.length === 16) {
      if (!starred) lines.push('*');
      starred = true;
      continue;
    }
    starred = false;
    previous = key;
    const left = Array.from(row.subarray(0, 8), hex2).join(' ');
    const right = Array.from(row.subarray(8), hex2).join(' ');
    lines.push(`${at.toString(16).padStart(8, '0')}  ${`${left}  ${right}`.padEnd(48)}  |${ascii(row)}|`);
  }
  lines.push(bytes.length.toString(16).padStart(8, '0'));
  return lines.join('\n') + '\n';
}

/** The address as WinDbg prints it on x64: 00000000`0014f8a0. */
const windbgAddress = (address: number) => {
  const h = address.toString(16).padStart(16, '0');
  return `${h.slice(0, 8)}\`${h.slice(8)}`;
};

/** WinDbg `db address Lcount`: 16 bytes a line, '-' between the halves, the ASCII column aligned. */
export function windbgDb(bytes: Uint8Array, address = 0x14f8a0): string {
  const lines = [`0:000> db ${windbgAddress(address)} L0x${bytes.length.toString(16)}`];
  for (const { at, row } of rows(bytes, 16)) {
    let hexs = '';
    row.forEach((b, i) => {
      hexs += hex2(b) + (i === 7 && row.length > 8 ? '-' : ' ');
    });
    lines.push(`${windbgAddress(address + at)}  ${hexs.padEnd(48)} ${ascii(row)}`);
  }
  return lines.join('\n') + '\n';
}

/** WinDbg `dq address Lcount`: two little-endian quadwords a line, each printed hi`lo. The last is whole. */
export function windbgDq(bytes: Uint8Array, address = 0x14f8a0): string {
  const padded = new Uint8Array(Math.ceil(bytes.length / 8) * 8);
  padded.set(bytes);
  const lines = [`0:000> dq ${windbgAddress(address)} L0x${(padded.length / 8).toString(16)}`];
  for (const { at, row } of rows(padded, 16)) {
    const quads: string[] = [];
    for (let i = 0; i < row.length; i += 8) {
      const q = Array.from(row.subarray(i, i + 8)).reverse().map(hex2).join('');
      quads.push(`${q.slice(0, 8)}\`${q.slice(8)}`);
    }
    lines.push(`${windbgAddress(address + at)}  ${quads.join(' ')}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Wireshark's packet bytes, "Copy ▸ …as Hex Dump": a 4-digit offset, three spaces, 16 bytes one
 * space apart, three spaces and the ASCII column (aligned on the last line). `halves`: the
 * tshark -x layout instead, two spaces after the offset and between the two halves.
 */
export function wireshark(bytes: Uint8Array, halves = false): string {
  const lines: string[] = [];
  for (const { at, row } of rows(bytes, 16)) {
    const offset = at.toString(16).padStart(4, '0');
    if (halves) {
      const left = Array.from(row.subarray(0, 8), hex2).join(' ');
      const right = Array.from(row.subarray(8), hex2).join(' ');
      lines.push(`${offset}  ${`${left}  ${right}`.padEnd(48)}   ${ascii(row)}`);
    } else {
      lines.push(`${offset}   ${Array.from(row, hex2).join(' ').padEnd(47)}   ${ascii(row)}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** `base64` (coreutils): 76 characters a line. */
export function base64(bytes: Uint8Array): string {
  return (Buffer.from(bytes).toString('base64').match(/.{1,76}/g) ?? []).join('\n') + '\n';
}
