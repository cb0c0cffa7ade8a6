// UTF-16 code units in memory → a JS string. Eight units per String.fromCharCode call: for names of
// tens of units that is about twice as fast as fromCharCode.apply over a view (which goes through
// an arguments list), needs no view, and has no argument-count limit for long names. Two copies of
// the loop, one per way of reading a unit: a shared loop over a unit-reading callback would cost a
// call per unit.

/** The n units at u16[from...] as a string (unpaired surrogates kept as they are). */
export function unitsText(u16: Uint16Array, from: number, n: number): string {
  let text = '';
  let i = from;
  const end = from + n;
  for (; i + 8 <= end; i += 8) {
    text += String.fromCharCode(u16[i], u16[i + 1], u16[i + 2], u16[i + 3], u16[i + 4], u16[i + 5], u16[i + 6], u16[i + 7]);
  }
  for (; i < end; i++) text += String.fromCharCode(u16[i]);
  return text;
}

/** The n little-endian units at bytes[at...] as a string, at any alignment (no view needed). */
export function unitsTextOfBytes(bytes: Uint8Array, at: number, n: number): string {
  const u = (i: number) => bytes[at + 2 * i] | (bytes[at + 2 * i + 1] << 8);
  let text = '';
  let i = 0;
  for (; i + 8 <= n; i += 8) text += String.fromCharCode(u(i), u(i + 1), u(i + 2), u(i + 3), u(i + 4), u(i + 5), u(i + 6), u(i + 7));
  for (; i < n; i++) text += String.fromCharCode(u(i));
  return text;
}
