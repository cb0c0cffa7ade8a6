// The characters the parsers read, by name (as AssemblyScript's std names them in util/string.ts).

export const enum CharCode {
  PERCENT = 0x25,
  MINUS = 0x2d,
  DOT = 0x2e,
  _0 = 0x30,
  COLON = 0x3a,
  OPENBRACKET = 0x5b,
  CLOSEBRACKET = 0x5d,
  a = 0x61,
  /** OR-ing it into an ASCII letter makes it lower case. */
  LOWER = 0x20,
}
