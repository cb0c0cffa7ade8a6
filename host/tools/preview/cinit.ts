// The buffer as a C initialiser, field by field, for pasting into the program that calls
// WSASetSocketPeerTargetName. Built from the same FieldRow list as the table, so the comments
// name exactly the bytes under them. The array is aligned as the struct is (8: its
// SOCKADDR_STORAGE), so casting it to SOCKET_PEER_TARGET_NAME * is safe, and a sample call follows.
import type { FieldRow } from '../../codec/fields.js';

const PER_LINE = 12;

/** Text that goes inside a C block comment: no way to close it early, no line breaks. */
function commentSafe(text: string): string {
  return text.replace(/\*\//g, '* /').replace(/\/\*/g, '/ *').replace(/[\u0000-\u001f\u007f]/g, ' ');
}

function byteLines(bytes: Uint8Array, from: number, to: number): string[] {
  const lines: string[] = [];
  for (let i = from; i < to; i += PER_LINE) {
    const chunk: string[] = [];
    for (let j = i; j < Math.min(to, i + PER_LINE); j++) chunk.push('0x' + bytes[j].toString(16).padStart(2, '0'));
    lines.push('    ' + chunk.join(', ') + ',');
  }
  return lines;
}

/** The alignment macro: C++ alignas, MSVC's __declspec(align(8)) in C, C11's _Alignas elsewhere. */
export const ALIGN_MACRO = [
  '#if defined(__cplusplus)',
  '#  define PTN_ALIGN8 alignas(8)',
  '#elif defined(_MSC_VER)',
  '#  define PTN_ALIGN8 __declspec(align(8))',
  '#else',
  '#  define PTN_ALIGN8 _Alignas(8)',
  '#endif',
];

/** A sample call using the array: Windows only, so the rest compiles anywhere. */
export const SAMPLE_CALL = [
  '#ifdef _WIN32',
  '/* Register the target name for this peer on s, before the first send to it. Needs',
  ' * <winsock2.h>, <ws2tcpip.h> and <mstcpip.h> included first; link with Fwpuclnt.lib. */',
  'int set_peer_target_name(SOCKET s)',
  '{',
  '    if (WSASetSocketPeerTargetName(s, (const SOCKET_PEER_TARGET_NAME *)peer_target_name,',
  '                                   (ULONG)sizeof peer_target_name, NULL, NULL) == SOCKET_ERROR)',
  '        return WSAGetLastError(); /* e.g. WSAEINVAL (10022) */',
  '    return 0;',
  '}',
  '#endif',
];

/**
 * `PTN_ALIGN8 static const unsigned char peer_target_name[N] = { ... };` with a comment before
 * each field, after the macro that aligns it, and followed by a sample WSASetSocketPeerTargetName call.
 * `summary` heads the block (what the struct holds, in words). Bytes no field covers (a broken
 * buffer in Inspect mode) are still emitted, under a comment that says so.
 */
export function cInitialiser(bytes: Uint8Array, fields: readonly FieldRow[], summary: string): string {
  const out: string[] = [];
  out.push(`/* SOCKET_PEER_TARGET_NAME, ${bytes.length} bytes: pass sizeof peer_target_name (${bytes.length}) as PeerTargetNameLen.`);
  for (const line of summary.split('\n')) out.push(` * ${commentSafe(line)}`);
  out.push(' */');
  out.push(...ALIGN_MACRO);
  out.push(`PTN_ALIGN8 static const unsigned char peer_target_name[${bytes.length}] = {`);
  const width = String(bytes.length).length;
  const sorted = [...fields].sort((a, b) => a.offset - b.offset);
  let at = 0;
  const emit = (from: number, to: number, label: string) => {
    out.push(`    /* ${String(from).padStart(width)} ${commentSafe(label)} */`);
    out.push(...byteLines(bytes, from, to));
  };
  for (const row of sorted) {
    if (row.offset > at) emit(at, row.offset, '(not a field)');
    if (row.offset < at) continue; // overlapping rows cannot happen; never emit a byte twice
    const end = Math.min(bytes.length, row.offset + row.size);
    emit(row.offset, end, `${row.field}: ${row.value}`);
    at = end;
  }
  if (at < bytes.length) emit(at, bytes.length, '(not a field)');
  out.push('};');
  out.push('', ...SAMPLE_CALL);
  return out.join('\n') + '\n';
}
