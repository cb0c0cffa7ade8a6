// The hex dump: 16 bytes a row, each byte tagged with the field it belongs to (from the shared
// FieldRow list, never from offsets of its own), so hovering a byte can light up its field and
// its table row. Colour is never the only cue: kinds also differ by pattern and underline, every
// field starts with a bar, and each row names (and numbers) the fields it holds.
import type { FieldRow } from '../fields.js';

export const BYTES_PER_ROW = 16;
/** Field colours cycle through this many classes (c0..c5 in style.css). */
const PALETTE = 6;

export interface ByteRange {
  offset: number;
  length: number;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** A short label for the row gutter: the C name without the struct prefix. */
export function shortName(field: string): string {
  return field.replace(/^PeerAddress\.(?=\w)/, '').replace(/^PeerAddress \((.*)\)$/, '$1');
}

/** CSS classes for a field's bytes: its kind (pattern) and, for plain fields, a colour. */
export function fieldClasses(row: FieldRow, index: number): string {
  return row.kind === 'field' ? `k-field c${index % PALETTE}` : `k-${row.kind}`;
}

export class HexDump {
  private spans: HTMLElement[] = [];
  private owner: Int32Array = new Int32Array(0);
  private lit: Record<string, HTMLElement[]> = {};

  constructor(private readonly root: HTMLElement) {}

  /** Draws `bytes`; `problems` are the byte ranges a problem is about (marked as such). */
  render(bytes: Uint8Array, fields: readonly FieldRow[], problems: readonly ByteRange[]): void {
    const owner = new Int32Array(bytes.length).fill(-1);
    fields.forEach((row, f) => owner.fill(f, row.offset, Math.min(bytes.length, row.offset + row.size)));
    const bad = new Uint8Array(bytes.length);
    for (const p of problems) bad.fill(1, p.offset, Math.min(bytes.length, p.offset + Math.max(1, p.length)));

    const html: string[] = [];
    for (let start = 0; start < bytes.length; start += BYTES_PER_ROW) {
      const end = Math.min(bytes.length, start + BYTES_PER_ROW);
      let hex = '';
      let text = '';
      const names: number[] = [];
      for (let i = start; i < end; i++) {
        const f = owner[i];
        const row = fields[f];
        if (f >= 0 && !names.includes(f)) names.push(f);
        const classes = ['b', f >= 0 ? fieldClasses(row, f) : 'k-none'];
        if (f >= 0 && i === row.offset) classes.push('start');
        if (bad[i]) classes.push('bad');
        if (i - start === BYTES_PER_ROW / 2) classes.push('mid');
        const title = f >= 0 ? `${row.field} @${row.offset}, byte ${i}` : `byte ${i} (not a field)`;
        hex += `<span class="${classes.join(' ')}" data-i="${i}" title="${escapeHtml(title)}">` +
          bytes[i].toString(16).padStart(2, '0') + '</span>';
        const c = bytes[i];
        text += c >= 0x20 && c < 0x7f ? escapeHtml(String.fromCharCode(c)) : '·';
      }
      // A field carried over from the row above is marked with … so a row reads on its own.
      const gutter = names
        .map((f) => `<span class="fname"><span class="fnum">${f + 1}</span>` +
          `${fields[f].offset < start ? '…' : ''}${escapeHtml(shortName(fields[f].field))}</span>`)
        .join(' ');
      html.push(
        `<div class="hd-row"><span class="off" title="offset ${start} = 0x${start.toString(16)}">` +
          `${String(start).padStart(4, '\u2007')}</span><span class="hx">${hex}</span>` +
          `<span class="tx" aria-hidden="true">${text}</span><span class="names">${gutter}</span></div>`,
      );
    }
    this.root.innerHTML = html.join('');
    this.spans = Array.from(this.root.querySelectorAll<HTMLElement>('.b'));
    this.owner = owner;
    this.lit = {};
  }

  /** The field index a byte belongs to, or -1. */
  fieldAt(byte: number): number {
    return byte >= 0 && byte < this.owner.length ? this.owner[byte] : -1;
  }

  /** Marks bytes [offset, offset+length) with `cls` (e.g. hover or selection), clearing the last ones. */
  light(cls: string, range: ByteRange | null): void {
    for (const span of this.lit[cls] ?? []) span.classList.remove(cls);
    const spans = range ? this.spans.slice(range.offset, range.offset + Math.max(1, range.length)) : [];
    for (const span of spans) span.classList.add(cls);
    // No scrolling to the bytes: moving the page under a clicked row would be worse than a glance up.
    this.lit[cls] = spans;
  }
}
