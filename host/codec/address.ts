// IP address text for decoded sockaddrs: dotted quads, and IPv6 as RFC 5952 recommends
// (lower case, no leading zeros, the longest run of two or more zero groups as '::', the first
// such run on a tie, and IPv4-mapped addresses with a dotted quad).

export function formatIPv4(bytes: Uint8Array, at = 0): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

/**
 * The 16 address bytes at `at` as IPv6 text (RFC 5952, as above). Group by group with no arrays:
 * decode builds one for every IPv6 peer it reads, and a new IPv6 peer of the registry checks its
 * address text against it.
 */
export function formatIPv6(bytes: Uint8Array, at = 0): string {
  const g = (i: number) => (bytes[at + 2 * i] << 8) | bytes[at + 2 * i + 1];
  if (g(0) === 0 && g(1) === 0 && g(2) === 0 && g(3) === 0 && g(4) === 0 && g(5) === 0xffff) {
    return `::ffff:${formatIPv4(bytes, at + 12)}`;
  }
  let bestStart = -1;
  let bestLength = 1; // a single zero group is never compressed
  for (let i = 0; i < 8;) {
    if (g(i) !== 0) { i++; continue; }
    let j = i + 1;
    while (j < 8 && g(j) === 0) j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += '::';
      i += bestLength - 1;
      continue;
    }
    if (text.length > 0 && i !== bestStart + bestLength) text += ':';
    text += g(i).toString(16);
  }
  return text;
}
