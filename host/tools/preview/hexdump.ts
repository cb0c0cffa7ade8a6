// The hex dump: 16 bytes a row (8 on a phone), each byte tagged with the field it belongs to (from
// the shared FieldRow list, never from offsets of its own), so hovering a byte can light up its
// field and its table row. Colour is never the only cue: kinds also differ by pattern and
// underline, every field starts with a bar, and each row names (and numbers) the fields it holds.
// Long runs of zero rows (the unused end of SOCKADDR_STORAGE, a zero tail) fold into one line
// that opens on demand. The text column shows the name's characters (one per UTF-16 unit, or per
// surrogate pair) rather than its bytes read as ASCII. For a screen reader each row is a list item that says, in words,
// which fields it holds and their bytes; the visual columns are hidden from it.
import type { FieldRow } from '../../codec/fields.js';

/** Field colours cycle through this many classes (c0..c5 in style.css). */
const PALETTE = 6;
/** Runs of at least this many all-zero rows fold into one line. */
export const FOLD_MIN_ROWS = 3;

export interface ByteRange {
  offset: number;
  length: number;
}

/** How to lay the dump out: bytes per row, and which folded runs (by first byte) are open. */
export interface DumpLayout {
  perRow: number;
  open: ReadonlySet<number>;
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

const hex2 = (b: number) => b.toString(16).padStart(2, '0');
const u4 = (u: number) => u.toString(16).toUpperCase().padStart(4, '0');
const span = (from: number, to: number) => (to - from <= 1 ? `${from}` : `${from}–${to - 1}`);

const isHigh = (u: number) => u >= 0xd800 && u <= 0xdbff;
const isLow = (u: number) => u >= 0xdc00 && u <= 0xdfff;
const isControl = (u: number) => u < 0x20 || (u >= 0x7f && u < 0xa0);

/** The UTF-16 unit at index k of a string field, or undefined past its bytes. */
function unitAt(bytes: Uint8Array, row: FieldRow, k: number): number | undefined {
  const at = row.offset + 2 * k;
  return k >= 0 && at + 1 < row.offset + row.size && at + 1 < bytes.length ? bytes[at] | (bytes[at + 1] << 8) : undefined;
}

/** One UTF-16 unit of the name, in words: the unit, the character, its surrogate pair. */
export function describeUnit(bytes: Uint8Array, row: FieldRow, k: number): string {
  const u = unitAt(bytes, row, k);
  const at = row.offset + 2 * k;
  if (u === undefined) return `AllStrings byte ${at - row.offset}: half a UTF-16 unit (the field is cut short)`;
  const head = `${row.field}[${k}] = UTF-16 unit U+${u4(u)} (bytes ${at}–${at + 1}, little-endian ${hex2(bytes[at])} ${hex2(bytes[at + 1])})`;
  if (isHigh(u)) {
    const next = unitAt(bytes, row, k + 1);
    if (next !== undefined && isLow(next)) {
      const cp = String.fromCharCode(u, next).codePointAt(0) as number;
      return `${head}: high surrogate of U+${cp.toString(16).toUpperCase()} ${JSON.stringify(String.fromCodePoint(cp))}, ` +
        `pair ${u4(u)} ${u4(next)} (bytes ${at}–${at + 3})`;
    }
    return `${head}: a lone high surrogate (no low surrogate follows): not well-formed UTF-16`;
  }
  if (isLow(u)) {
    const prev = unitAt(bytes, row, k - 1);
    if (prev !== undefined && isHigh(prev)) {
      const cp = String.fromCharCode(prev, u).codePointAt(0) as number;
      return `${head}: low surrogate of U+${cp.toString(16).toUpperCase()} ${JSON.stringify(String.fromCodePoint(cp))}, ` +
        `pair ${u4(prev)} ${u4(u)} (bytes ${at - 2}–${at + 1})`;
    }
    return `${head}: a lone low surrogate (no high surrogate before it): not well-formed UTF-16`;
  }
  if (u === 0) return `${head}: NUL`;
  if (isControl(u)) return `${head}: a control character`;
  return `${head}: ${JSON.stringify(String.fromCharCode(u))}`;
}

/** The status line for one byte: its value, and its field's name, offset, size and value. */
export function describeByte(bytes: Uint8Array, fields: readonly FieldRow[], f: number, i: number): string {
  const b = bytes[i];
  const byte = `byte ${i} (0x${i.toString(16)}) = 0x${hex2(b)} (${b})`;
  if (f < 0) return `${byte}: not part of any field`;
  const row = fields[f];
  // For the name, the byte's own character says more than the whole name again.
  if (row.kind === 'string') return `${row.field}: offset ${row.offset}, size ${row.size} · ${describeUnit(bytes, row, (i - row.offset) >> 1)}`;
  return `${row.field}: offset ${row.offset}, size ${row.size}, ${row.value} · ${byte}`;
}

/** The text column for bytes [start, end): ASCII for most, one cell per UTF-16 unit for the name. */
function textColumn(bytes: Uint8Array, owner: Int32Array, fields: readonly FieldRow[], start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i++) {
    const f = owner[i];
    const row = f >= 0 ? fields[f] : undefined;
    if (row?.kind === 'string') {
      const k = (i - row.offset) >> 1;
      const u = (i - row.offset) % 2 === 0 && i + 1 < end ? unitAt(bytes, row, k) : undefined;
      if (u === undefined) {
        text += '<span class="u half">·</span>';
        continue;
      }
      i++; // the unit's second byte shares its cell
      if (isHigh(u)) {
        const next = unitAt(bytes, row, k + 1);
        text += next !== undefined && isLow(next)
          ? `<span class="u">${escapeHtml(String.fromCharCode(u, next))}</span>`
          : '<span class="u lone">�</span>';
      } else if (isLow(u)) {
        const prev = unitAt(bytes, row, k - 1);
        // The second half of a pair: its character is already in the cell before.
        if (!(prev !== undefined && isHigh(prev))) text += '<span class="u lone">�</span>';
      } else {
        text += `<span class="u">${isControl(u) ? '·' : escapeHtml(String.fromCharCode(u))}</span>`;
      }
      continue;
    }
    const c = bytes[i];
    text += c >= 0x20 && c < 0x7f ? escapeHtml(String.fromCharCode(c)) : '·';
  }
  return text;
}

/** The row in words, for a screen reader: `Offset 16: sin_zero 00 00 …; rest of SOCKADDR_STORAGE 00 …`. */
function rowWords(bytes: Uint8Array, owner: Int32Array, fields: readonly FieldRow[], start: number, end: number): string {
  const parts: string[] = [];
  let i = start;
  while (i < end) {
    const f = owner[i];
    let j = i;
    while (j < end && owner[j] === f) j++;
    const hex = Array.from(bytes.subarray(i, j), hex2).join(' ');
    const row = f >= 0 ? fields[f] : undefined;
    let name = row ? shortName(row.field) : 'not a field';
    if (row?.kind === 'string') {
      let chars = '';
      for (let k = (i - row.offset) >> 1; row.offset + 2 * k + 1 < j; k++) {
        const u = unitAt(bytes, row, k);
        if (u !== undefined) chars += String.fromCharCode(u);
      }
      name += ` ${JSON.stringify(chars)}`;
    }
    parts.push(`${name} ${hex}`);
    i = j;
  }
  return `Offset ${start}: ${parts.join('; ')}.`;
}

export class HexDump {
  private spans: (HTMLElement | undefined)[] = [];
  private folds: { from: number; to: number; el: HTMLElement }[] = [];
  private owner: Int32Array = new Int32Array(0);
  private lit: Record<string, HTMLElement[]> = {};

  constructor(private readonly root: HTMLElement) {}

  /** Draws `bytes`; `problems` are the byte ranges a problem is about (marked as such). */
  render(bytes: Uint8Array, fields: readonly FieldRow[], problems: readonly ByteRange[], layout: DumpLayout): void {
    const perRow = layout.perRow;
    const owner = new Int32Array(bytes.length).fill(-1);
    fields.forEach((row, f) => owner.fill(f, row.offset, Math.min(bytes.length, row.offset + row.size)));
    const bad = new Uint8Array(bytes.length);
    for (const p of problems) bad.fill(1, p.offset, Math.min(bytes.length, p.offset + Math.max(1, p.length)));

    // Runs of whole all-zero rows: [from, to) byte ranges.
    const runs: { from: number; to: number }[] = [];
    for (let start = 0; start + perRow <= bytes.length;) {
      let end = start;
      while (end + perRow <= bytes.length && bytes.subarray(end, end + perRow).every((b) => b === 0)) end += perRow;
      if ((end - start) / perRow >= FOLD_MIN_ROWS) runs.push({ from: start, to: end });
      start = end > start ? end : start + perRow;
    }

    const html: string[] = [];
    const fieldsIn = (from: number, to: number) => {
      const seen: number[] = [];
      for (let i = from; i < to; i++) if (owner[i] >= 0 && !seen.includes(owner[i])) seen.push(owner[i]);
      return seen;
    };
    for (let start = 0; start < bytes.length; start += perRow) {
      const run = runs.find((r) => r.from === start);
      if (run) {
        const open = layout.open.has(run.from);
        const n = run.to - run.from;
        const names = fieldsIn(run.from, run.to).map((f) => shortName(fields[f].field)).join(', ');
        const what = `${n} zero bytes at ${span(run.from, run.to)}${names ? ` (${names})` : ''}`;
        html.push(
          `<div class="hd-fold${open ? ' open' : ''}" role="listitem" data-from="${run.from}" data-to="${run.to}">` +
            `<span class="off" aria-hidden="true">${open ? '' : String(run.from)}</span>` +
            `<button type="button" class="fold" data-fold="${run.from}" aria-expanded="${open}">` +
            `${open ? '▴ Fold' : '⋯ Show'} <span class="fold-what">${escapeHtml(what)}</span></button></div>`,
        );
        if (!open) {
          start = run.to - perRow;
          continue;
        }
      }
      const end = Math.min(bytes.length, start + perRow);
      let hex = '';
      for (let i = start; i < end; i++) {
        const f = owner[i];
        const row = fields[f];
        const classes = ['b', f >= 0 ? fieldClasses(row, f) : 'k-none'];
        if (f >= 0 && i === row.offset) classes.push('start');
        if (bad[i]) classes.push('bad');
        if (i - start === perRow / 2) classes.push('mid');
        hex += `<span class="${classes.join(' ')}" data-i="${i}">${hex2(bytes[i])}</span>`;
      }
      // A field carried over from the row above is marked with … so a row reads on its own.
      const gutter = fieldsIn(start, end)
        .map((f) => `<span class="fname"><span class="fnum">${f + 1}</span>` +
          `${fields[f].offset < start ? '…' : ''}${escapeHtml(shortName(fields[f].field))}</span>`)
        .join(' ');
      html.push(
        `<div class="hd-row" role="listitem"><span class="visually-hidden">${escapeHtml(rowWords(bytes, owner, fields, start, end))}</span>` +
          `<span class="off" aria-hidden="true">${String(start).padStart(4, '\u2007')}</span>` +
          `<span class="hx" aria-hidden="true">${hex}</span>` +
          `<span class="tx" aria-hidden="true">${textColumn(bytes, owner, fields, start, end)}</span>` +
          `<span class="names" aria-hidden="true">${gutter}</span></div>`,
      );
    }
    this.root.style.setProperty('--per-row', String(perRow));
    this.root.setAttribute('role', 'list');
    this.root.innerHTML = html.join('');
    this.spans = new Array(bytes.length);
    for (const el of this.root.querySelectorAll<HTMLElement>('.b')) this.spans[Number(el.dataset.i)] = el;
    this.folds = Array.from(this.root.querySelectorAll<HTMLElement>('.hd-fold:not(.open)'), (el) => ({
      from: Number(el.dataset.from), to: Number(el.dataset.to), el,
    }));
    this.owner = owner;
    this.lit = {};
  }

  /** Shows a message instead of bytes. */
  empty(message: string): void {
    this.root.removeAttribute('role');
    this.root.innerHTML = `<p class="empty">${escapeHtml(message)}</p>`;
    this.spans = [];
    this.folds = [];
    this.owner = new Int32Array(0);
    this.lit = {};
  }

  /** The field index a byte belongs to, or -1. */
  fieldAt(byte: number): number {
    return byte >= 0 && byte < this.owner.length ? this.owner[byte] : -1;
  }

  /** The fields a byte range overlaps, first byte first. */
  fieldsIn(from: number, to: number): number[] {
    const seen: number[] = [];
    for (let i = from; i < to && i < this.owner.length; i++) if (this.owner[i] >= 0 && !seen.includes(this.owner[i])) seen.push(this.owner[i]);
    return seen;
  }

  /** The elements that show bytes [offset, offset+length): byte spans, or the fold lines hiding them. */
  private elementsFor(range: ByteRange | null): HTMLElement[] {
    if (!range) return [];
    const end = range.offset + Math.max(1, range.length);
    const els: HTMLElement[] = [];
    for (let i = range.offset; i < end && i < this.spans.length; i++) {
      const el = this.spans[i];
      if (el) els.push(el);
    }
    for (const fold of this.folds) if (fold.from < end && fold.to > range.offset) els.push(fold.el);
    return els;
  }

  /** Marks bytes [offset, offset+length) with `cls` (e.g. hover or selection), clearing the last ones. */
  light(cls: string, range: ByteRange | null): void {
    for (const el of this.lit[cls] ?? []) el.classList.remove(cls);
    const els = this.elementsFor(range);
    for (const el of els) el.classList.add(cls);
    this.lit[cls] = els;
  }

  /** Scrolls the dump's own box (never the page) so that the first of `range`'s bytes is in it. */
  reveal(range: ByteRange | null): void {
    const el = this.elementsFor(range).sort((a, b) => a.offsetTop - b.offsetTop)[0];
    if (!el || this.root.scrollHeight <= this.root.clientHeight) return;
    const box = this.root.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    if (r.top < box.top) this.root.scrollTop -= box.top - r.top + 8;
    else if (r.bottom > box.bottom) this.root.scrollTop += r.bottom - box.bottom + 8;
  }
}
