// The buffer as a C initialiser, field by field, for pasting into the program that calls
// WSASetSocketPeerTargetName. Built from the same FieldRow list as the table, so the comments
// name exactly the bytes under them.
import type { FieldRow } from '../fields.js';

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

/**
 * `static const unsigned char peer_target_name[N] = { ... };` with a comment before each field.
 * `summary` heads the block (what the struct holds, in words). Bytes no field covers (a broken
 * buffer in Inspect mode) are still emitted, under a comment that says so.
 */
export function cInitialiser(bytes: Uint8Array, fields: readonly FieldRow[], summary: string): string {
  const out: string[] = [];
  out.push(`/* SOCKET_PEER_TARGET_NAME, ${bytes.length} bytes: pass sizeof peer_target_name (${bytes.length}) as PeerTargetNameLen.`);
  for (const line of summary.split('\n')) out.push(` * ${commentSafe(line)}`);
  out.push(' */');
  out.push(`static const unsigned char peer_target_name[${bytes.length}] = {`);
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
  return out.join('\n') + '\n';
}
