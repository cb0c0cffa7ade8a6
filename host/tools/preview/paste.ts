// Inspect mode's paste box: bytes from the text engineers actually paste. Each format is recognised
// by its shape, read strictly (offsets must follow on, groups must be whole bytes), and every error
// names its place in the text as pasted (line and column), never in some cleaned-up copy of it.
//
//   hex             01000000 00000000 …, 0x01, 0x00 …, 01:00:…, xxd -p
//   C initialiser   { 0x01, 0x00, … } with comments, declaration and code around it
//   xxd             00000000: 0100 0000 0000 0000 0200 1194 c000 020a  ................
//   hexdump -C      00000000  01 00 00 00 00 00 00 00  02 00 11 94 c0 00 02 0a  |................|
//   WinDbg db/dw/dd/dq   00000000`0014f8a0  01 00 00 00 00 00 00 00-02 00 11 94 c0 00 02 0a  ........
//   Wireshark       0000   01 00 00 00 00 00 00 00 02 00 11 94 c0 00 02 0a   ................
//   base64          AQAAAAAAAAACABGUwAACCgAA…
import { PeerTargetNameError } from '../../codec/errors.js';

export type PasteFormat =
  | 'hex' | 'C initialiser' | 'xxd' | 'hexdump -C' | 'WinDbg db' | 'WinDbg dw' | 'WinDbg dd' | 'WinDbg dq'
  | 'Wireshark hex dump' | 'base64';

/** A place in the pasted text: `index` into it, and the same as 1-based line and column. */
export interface TextSpan {
  index: number;
  length: number;
  line: number;
  column: number;
}

export type PasteResult =
  | { ok: true; format: PasteFormat; bytes: Uint8Array; detail: string }
  | { ok: false; format: PasteFormat; error: PeerTargetNameError; at?: TextSpan };

/** Where `index` is in `text`, 1-based (CR LF, LF and CR all end a line). */
export function spanAt(text: string, index: number, length = 1): TextSpan {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < index && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { index, length: Math.max(1, length), line, column: index - lineStart + 1 };
}

/** Thrown inside a reader: the message and where; readPaste turns it into a PeerTargetNameError. */
class Fail {
  constructor(readonly message: string, readonly index: number, readonly length = 1) {}
}

const hexByte = (s: string) => parseInt(s, 16);

interface Line {
  text: string;
  /** Index of the line's first character in the whole text. */
  start: number;
}

function linesOf(text: string): Line[] {
  const out: Line[] = [];
  const re = /\r\n|\n|\r/g;
  let start = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({ text: text.slice(start, m.index), start });
    start = m.index + m[0].length;
  }
  out.push({ text: text.slice(start), start });
  return out;
}

const describeChar = (c: string) => (c === '"' ? "'\"'" : JSON.stringify(c));

// ---- hex --------------------------------------------------------------------------------------

/** Whitespace, ':', ',', '-' and ';' between groups; a group may start with 0x. */
const HEX_SEPARATOR = /[\s:,;\-]/;

/** Plain hex: the groups between separators, each a whole number of bytes. */
function readHex(text: string, from = 0, to = text.length): Uint8Array {
  const groups: { digits: string; index: number }[] = [];
  let i = from;
  while (i < to) {
    if (HEX_SEPARATOR.test(text[i])) {
      i++;
      continue;
    }
    let j = i;
    while (j < to && !HEX_SEPARATOR.test(text[j])) j++;
    let group = text.slice(i, j);
    let at = i;
    if (/^0[xX]/.test(group) && group.length > 2) {
      group = group.slice(2);
      at += 2;
    }
    const bad = group.search(/[^0-9a-fA-F]/);
    if (bad >= 0) throw new Fail(`${describeChar(group[bad])} is not a hex digit`, at + bad);
    groups.push({ digits: group, index: at });
    i = j;
  }
  const total = groups.reduce((n, g) => n + g.digits.length, 0);
  if (groups.length > 1) {
    const odd = groups.find((g) => g.digits.length % 2 !== 0);
    if (odd) {
      throw new Fail(`"${odd.digits}" is ${odd.digits.length} hex digit${odd.digits.length === 1 ? '' : 's'}: ` +
        'a byte takes two, and each group must be whole bytes', odd.index, odd.digits.length);
    }
  } else if (total % 2 !== 0) {
    const g = groups[0];
    throw new Fail(`${total} hex digits is an odd count: bytes take two each`, g.index + g.digits.length - 1);
  }
  const bytes = new Uint8Array(total / 2);
  let k = 0;
  for (const g of groups) for (let d = 0; d < g.digits.length; d += 2) bytes[k++] = hexByte(g.digits.substr(d, 2));
  return bytes;
}

// ---- C initialiser ----------------------------------------------------------------------------

/** The text with comments, preprocessor lines and string literals blanked out, indices kept. */
function blankComments(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?(\*\/|$)/g, (m) => m.replace(/[^\r\n]/g, ' '))
    .replace(/\/\/[^\r\n]*/g, (m) => ' '.repeat(m.length))
    .replace(/^[ \t]*#[^\r\n]*/gm, (m) => ' '.repeat(m.length))
    .replace(/"(?:[^"\\\r\n]|\\.)*"/g, (m) => ' '.repeat(m.length));
}

const C_ESCAPES: Record<string, number> = { n: 10, r: 13, t: 9, '0': 0, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11 };

function cValue(item: string): number | undefined {
  const t = item.replace(/^\(\s*(?:unsigned\s+char|uint8_t|UCHAR|BYTE|char)\s*\)\s*/, '');
  let m = /^0[xX]([0-9a-fA-F]+)[uUlL]*$/.exec(t);
  if (m) return parseInt(m[1], 16);
  m = /^(0[0-7]*)[uUlL]*$/.exec(t);
  if (m) return parseInt(m[1], 8);
  m = /^([1-9][0-9]*)[uUlL]*$/.exec(t);
  if (m) return parseInt(m[1], 10);
  m = /^'(?:\\x([0-9a-fA-F]{1,2})|\\([0-7]{1,3})|\\(.)|([^\\']))'$/.exec(t);
  if (m) {
    if (m[1]) return parseInt(m[1], 16);
    if (m[2]) return parseInt(m[2], 8);
    if (m[3]) return C_ESCAPES[m[3]];
    return m[4].charCodeAt(0);
  }
  return undefined;
}

/** `[static const] unsigned char name[N] = { 0x01, 1, '\x01', … };` with anything around it. */
function readCInitialiser(text: string): { bytes: Uint8Array; detail: string } {
  const code = blankComments(text);
  const eq = code.search(/=\s*\{/);
  const open = eq >= 0 ? code.indexOf('{', eq) : code.indexOf('{');
  if (open < 0) throw new Fail('no "{" opens the initialiser', 0);
  const close = code.indexOf('}', open);
  if (close < 0) throw new Fail('the "{" here is never closed with "}"', open);
  const values: number[] = [];
  let i = open + 1;
  while (i <= close) {
    let j = code.indexOf(',', i);
    if (j < 0 || j > close) j = close;
    const raw = code.slice(i, j);
    const lead = raw.length - raw.trimStart().length;
    const item = raw.trim();
    if (item === '') {
      // Only the last item may be empty (a trailing comma, or an empty list).
      if (j !== close) throw new Fail('an empty element between two commas', i + lead);
    } else {
      const value = cValue(item);
      if (value === undefined) throw new Fail(`${JSON.stringify(item)} is not a byte value (0x12, 18, 022 or '\\x12')`, i + lead, item.length);
      if (value > 255) throw new Fail(`${item} is ${value}, which does not fit in an unsigned char`, i + lead, item.length);
      values.push(value);
    }
    i = j + 1;
  }
  // C fills the rest of a sized array with zeros.
  const size = /\[\s*(\d+)\s*\]\s*=\s*$/.exec(code.slice(0, open));
  let bytes = Uint8Array.from(values);
  const plural = (n: number) => `${n} element${n === 1 ? '' : 's'}`;
  let detail = plural(values.length);
  if (size) {
    const n = Number(size[1]);
    const at = code.lastIndexOf(size[1], open);
    if (values.length > n) throw new Fail(`the array is declared [${n}] but has ${values.length} elements`, at, size[1].length);
    if (values.length < n) {
      bytes = new Uint8Array(n);
      bytes.set(values);
      detail = `[${n}]: ${plural(values.length)}, the other ${n - values.length} zero as C fills them`;
    }
  }
  return { bytes, detail };
}

// ---- Dumps with offsets: xxd, hexdump -C, WinDbg, Wireshark -----------------------------------

interface DumpFlavour {
  format: PasteFormat;
  /** A data line: group 1 is the offset (or address) text; the match ends where the bytes start. */
  line: RegExp;
  /** Where the byte area of a line (from the match's end) stops: the ASCII column starts there. */
  areaEnd: (rest: string) => number;
  /** Splits the byte area into groups: returns [text, index in area][]. */
  separator: RegExp;
  /** Multi-byte groups are little-endian values (WinDbg dw/dd/dq) rather than bytes in order. */
  littleEndian: boolean;
}

const firstOf = (rest: string, re: RegExp) => {
  const m = re.exec(rest);
  return m ? m.index : rest.length;
};

const XXD: DumpFlavour = {
  format: 'xxd',
  line: /^\s*([0-9a-fA-F]{1,16}):[ \t]?/,
  // Groups are one space apart; two spaces start the text column.
  areaEnd: (rest) => firstOf(rest, / {2}|\t/),
  separator: / /,
  littleEndian: false,
};

const HEXDUMP_C: DumpFlavour = {
  format: 'hexdump -C',
  line: /^\s*([0-9a-fA-F]{6,16})(?:[ \t]+|$)/,
  areaEnd: (rest) => firstOf(rest, /\|/),
  separator: /\s+/,
  littleEndian: false,
};

const WINDBG: DumpFlavour = {
  format: 'WinDbg db',
  line: /^\s*([0-9a-fA-F]{8}(?:`[0-9a-fA-F]{8})?)[ \t]+/,
  // db: '-' between the 8th and 9th byte; the text column (db, dc) starts after two spaces.
  areaEnd: (rest) => firstOf(rest, / {2}|\t/),
  separator: /[ -]/,
  littleEndian: true,
};

const WIRESHARK: DumpFlavour = {
  format: 'Wireshark hex dump',
  line: /^\s*([0-9a-fA-F]{4,8})[ \t]+/,
  // Bytes one space apart (two between the halves in some versions); three or more start the text.
  areaEnd: (rest) => firstOf(rest, / {3}|\t/),
  separator: / {1,2}/,
  littleEndian: false,
};

const WINDBG_PROMPT = /^\s*(?:\d+:\d+(?::[0-9a-zA-Z]+)?|l?kd)>\s*(\S*)/;
// Recognising a format looks at each line's start only (offset, separator, first group), so that a
// typo further on is reported where it is rather than making the dump unrecognisable.
const XXD_LINE = /^\s*[0-9a-fA-F]{4,16}: \S/;
const HEXDUMP_C_LINE = /^\s*[0-9a-fA-F]{8} {2}\S\S /;
const HEXDUMP_C_END = /^\s*[0-9a-fA-F]{6,16}\s*$/;
const WINDBG_LINE = /^\s*([0-9a-fA-F]{8}(?:`[0-9a-fA-F]{8})?) {2}\S/;
const WIRESHARK_LINE = /^\s*([0-9a-fA-F]{4,6}) {2,}\S\S(?: |$)/;
const STAR = /^\s*\*\s*$/;

function readDump(text: string, flavour: DumpFlavour): { bytes: Uint8Array; detail: string; format: PasteFormat } {
  const out: number[] = [];
  let base: number | undefined;
  let lastLine: number[] = [];
  let starPending = false;
  let lines = 0;
  let groupDigits: number | undefined;
  let format = flavour.format;
  let ended = false;
  for (const { text: line, start } of linesOf(text)) {
    if (line.trim() === '') continue;
    if (flavour === WINDBG) {
      const prompt = WINDBG_PROMPT.exec(line);
      if (prompt) {
        const cmd = /^d([bwdqc])$/i.exec(prompt[1]);
        if (cmd) format = cmd[1].toLowerCase() === 'c' ? 'WinDbg dd' : (`WinDbg d${cmd[1].toLowerCase()}` as PasteFormat);
        continue;
      }
    }
    if (STAR.test(line) && (flavour === XXD || flavour === HEXDUMP_C)) {
      starPending = true;
      continue;
    }
    if (ended) throw new Fail('text after the dump\'s closing offset line', start, line.length);
    const m = flavour.line.exec(line);
    if (!m) {
      const lead = line.length - line.trimStart().length;
      throw new Fail(`this line is not ${flavour.format} output (no offset at its start)`, start + lead, line.trim().length);
    }
    const offsetText = m[1];
    const offsetIndex = start + line.indexOf(offsetText);
    const offset = parseInt(offsetText.replace('`', ''), 16);
    const restStart = m[0].length;
    const rest = line.slice(restStart);
    const area = rest.slice(0, flavour.areaEnd(rest));
    if (base === undefined) base = offset;
    let expected = base + out.length;
    if (starPending) {
      // '*' (xxd -a, hexdump -C): the line above repeats until this line's offset.
      if (lastLine.length === 0) throw new Fail('"*" with no line above it to repeat', offsetIndex);
      while (expected < offset) {
        for (const b of lastLine) out.push(b);
        expected = base + out.length;
      }
      starPending = false;
    }
    if (offset !== expected) {
      throw new Fail(`offset ${offsetText} does not follow on: ${out.length} bytes so far, so this line should start at ` +
        `${(expected).toString(16).padStart(offsetText.replace('`', '').length, '0')}`, offsetIndex, offsetText.length);
    }
    if (flavour === HEXDUMP_C && area.trim() === '') {
      ended = true; // hexdump -C ends with the total length alone on a line
      continue;
    }
    const lineBytes: number[] = [];
    const sep = new RegExp(flavour.separator.source, 'g');
    let at = 0;
    const pieces: [string, number][] = [];
    for (let s = sep.exec(area); s; s = sep.exec(area)) {
      if (s[0].length === 0) {
        sep.lastIndex++;
        continue;
      }
      pieces.push([area.slice(at, s.index), at]);
      at = s.index + s[0].length;
    }
    pieces.push([area.slice(at), at]);
    for (const [piece, pieceAt] of pieces) {
      if (piece === '') continue;
      const index = start + restStart + pieceAt;
      let digits = piece;
      if (flavour === WINDBG) digits = digits.replace(/^([0-9a-fA-F]{8})`([0-9a-fA-F]{8})$/, '$1$2');
      const bad = digits.search(/[^0-9a-fA-F]/);
      if (bad >= 0) throw new Fail(`${describeChar(piece[bad])} is not a hex digit`, index + bad);
      if (digits.length % 2 !== 0) {
        throw new Fail(`"${piece}" is ${digits.length} hex digits: each group must be whole bytes`, index, piece.length);
      }
      if (flavour === WINDBG) {
        // One width for the whole dump: 2 digits (db), 4 (dw), 8 (dd, dc) or 16 (dq).
        if (groupDigits === undefined) {
          groupDigits = digits.length;
          format = ({ 2: 'WinDbg db', 4: 'WinDbg dw', 8: 'WinDbg dd', 16: 'WinDbg dq' } as Record<number, PasteFormat>)[digits.length] ?? format;
        } else if (digits.length !== groupDigits) {
          throw new Fail(`"${piece}" is ${digits.length} hex digits, but this dump's values have ${groupDigits}`, index, piece.length);
        }
      }
      const groupBytes: number[] = [];
      for (let d = 0; d < digits.length; d += 2) groupBytes.push(hexByte(digits.substr(d, 2)));
      if (flavour.littleEndian) groupBytes.reverse();
      lineBytes.push(...groupBytes);
    }
    if (lineBytes.length === 0) throw new Fail('a line with an offset but no bytes', offsetIndex, offsetText.length);
    out.push(...lineBytes);
    lastLine = lineBytes;
    lines++;
  }
  if (starPending) throw new Fail('the dump ends with "*": the offset line that says how far it repeats is missing', text.length - 1);
  const origin = base !== undefined && base !== 0 ? `, from ${format.startsWith('WinDbg') ? 'address' : 'offset'} ${base.toString(16)}` : '';
  return { bytes: Uint8Array.from(out), detail: `${lines} line${lines === 1 ? '' : 's'}${origin}`, format };
}

// ---- base64 -----------------------------------------------------------------------------------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function readBase64(text: string): { bytes: Uint8Array; detail: string } {
  const prefix = /^\s*data:[^,]*;base64,/i.exec(text);
  const from = prefix ? prefix[0].length : 0;
  const values: number[] = [];
  let padding = 0;
  let urlSafe = false;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (/\s/.test(c)) continue;
    if (c === '=') {
      padding++;
      continue;
    }
    if (padding > 0) throw new Fail(`${describeChar(c)} after "=" padding: padding only ends base64`, i);
    let v = B64.indexOf(c);
    if (c === '-' || c === '_') {
      v = c === '-' ? 62 : 63;
      urlSafe = true;
    }
    if (v < 0) throw new Fail(`${describeChar(c)} is not a base64 character`, i);
    values.push(v);
  }
  if (values.length % 4 === 1) throw new Fail(`${values.length} base64 characters cannot be whole bytes (one too many, or three missing)`, text.trimEnd().length - 1);
  if (padding > 2 || (padding > 0 && (values.length + padding) % 4 !== 0)) {
    throw new Fail(`${padding} "=" do not pad ${values.length} characters to a multiple of 4`, text.lastIndexOf('='));
  }
  const bytes = new Uint8Array(Math.floor((values.length * 6) / 8));
  let acc = 0;
  let bits = 0;
  let k = 0;
  for (const v of values) {
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[k++] = (acc >> bits) & 0xff;
    }
  }
  return { bytes, detail: `${values.length + padding} characters${urlSafe ? ', URL-safe alphabet' : ''}${prefix ? ', data: URL' : ''}` };
}

// ---- Recognising the format -------------------------------------------------------------------

/** The format `text` is in, by its shape (read with readPaste; this only looks). */
export function detectFormat(text: string): PasteFormat {
  const code = blankComments(text);
  if (/[{}]/.test(code)) return 'C initialiser';
  const lines = linesOf(text).map((l) => l.text).filter((l) => l.trim() !== '');
  if (lines.length === 0) return 'hex';
  const all = (test: (l: string) => boolean) => lines.every((l) => STAR.test(l) || test(l));
  if (lines.some((l) => WINDBG_PROMPT.test(l))) return 'WinDbg db';
  if (all((l) => XXD_LINE.test(l))) return 'xxd';
  if (all((l) => HEXDUMP_C_LINE.test(l) || HEXDUMP_C_END.test(l)) && lines.some((l) => /\|.*\|\s*$/.test(l))) return 'hexdump -C';
  // Offsets 16 apart on consecutive lines: what dumps have and plain hex does not.
  const steps = (re: RegExp) => {
    const offsets = lines.map((l) => re.exec(l)?.[1]).filter((o): o is string => o !== undefined).map((o) => parseInt(o.replace('`', ''), 16));
    return offsets.some((o, i) => i > 0 && o - offsets[i - 1] === 16);
  };
  if (all((l) => WINDBG_LINE.test(l)) &&
      (lines.some((l) => /^\s*[0-9a-fA-F]{8}`/.test(l) || /^\s*[0-9a-fA-F]{8} {2}(?:[0-9a-fA-F?]{2} ){7}[0-9a-fA-F?]{2}-/.test(l)) || steps(WINDBG_LINE))) {
    return 'WinDbg db';
  }
  if (all((l) => WIRESHARK_LINE.test(l)) && (steps(WIRESHARK_LINE) || (lines.length === 1 && /^\s*0000 /.test(lines[0])))) {
    return 'Wireshark hex dump';
  }
  // Base64 is one unspaced run (line breaks allowed) with letters hex does not have: many of them,
  // or few in a run of 'A's (base64's zero bytes; hex's are '0's). A long hex run with a typo or two
  // stays hex, so that the typo is reported where it is.
  const stripped = text.replace(/\s+/g, '').replace(/^data:[^,]*;base64,/i, '');
  const foreign = stripped.replace(/^0[xX]/, '').replace(/[^g-zG-Z+/=_]/g, '').length;
  const count = (c: string) => stripped.split(c).length - 1;
  if (/^\s*data:[^,]*;base64,/i.test(text) || (stripped.length >= 8 &&
      !/[ \t]/.test(text.trim().replace(/[ \t]*[\r\n]+[ \t]*/g, '\n')) &&
      !/^(0[xX][0-9a-fA-F]+[,;:\-]?)+$/.test(stripped) &&
      foreign > 0 && (foreign >= stripped.length / 50 || count('A') > count('0')))) {
    return 'base64';
  }
  return 'hex';
}

const ARTICLE: Record<PasteFormat, string> = {
  hex: 'hex', 'C initialiser': 'a C initialiser', xxd: 'xxd output', 'hexdump -C': 'hexdump -C output',
  'WinDbg db': 'WinDbg db output', 'WinDbg dw': 'WinDbg dw output', 'WinDbg dd': 'WinDbg dd output',
  'WinDbg dq': 'WinDbg dq output', 'Wireshark hex dump': 'a Wireshark hex dump', base64: 'base64',
};

/** "xxd output", "a C initialiser", …: the format as the page names it in a sentence. */
export const formatPhrase = (format: PasteFormat) => ARTICLE[format];

/** Reads pasted text in whatever format it is in; never throws for bad text (the result says why). */
export function readPaste(text: string): PasteResult {
  const format = detectFormat(text);
  try {
    switch (format) {
      case 'C initialiser': {
        const { bytes, detail } = readCInitialiser(text);
        return { ok: true, format, bytes, detail };
      }
      case 'base64': {
        const { bytes, detail } = readBase64(text);
        return { ok: true, format, bytes, detail };
      }
      case 'hex': {
        const bytes = readHex(text);
        return { ok: true, format, bytes, detail: `${bytes.length * 2} digits` };
      }
      default: {
        const flavour = format === 'xxd' ? XXD : format === 'hexdump -C' ? HEXDUMP_C
          : format === 'Wireshark hex dump' ? WIRESHARK : WINDBG;
        const { bytes, detail, format: exact } = readDump(text, flavour);
        return { ok: true, format: exact, bytes, detail };
      }
    }
  } catch (e) {
    if (!(e instanceof Fail)) throw e;
    const at = spanAt(text, e.index, e.length);
    const error = new PeerTargetNameError('WSAEINVAL', 'hex',
      `${e.message} (line ${at.line}, column ${at.column}, read as ${formatPhrase(format)})`, { value: text });
    return { ok: false, format, error, at };
  }
}
