// Why peer text is not what the codec takes, in words: read from the text on the error path only
// (the codec has already refused it; nothing here decides what is valid).

const DIGITS_AND_DOTS = /^[0-9.]+$/;

/** The address in peer text: inside the brackets, or before its one colon; else the text itself. */
export function addressPart(text: string): string {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    return close < 0 ? text.slice(1) : text.slice(1, close);
  }
  const colon = text.indexOf(':');
  return colon >= 0 && colon === text.lastIndexOf(':') ? text.slice(0, colon) : text;
}

/**
 * What is wrong with an address written as digits and dots (dotted IPv4), first octet first: a
 * leading zero (which some parsers read as octal), an octet over 255, a wrong count of octets.
 * Undefined for anything else (IPv6, names), and for a valid dotted quad.
 */
export function ipv4Hint(address: string): string | undefined {
  if (!DIGITS_AND_DOTS.test(address)) return undefined;
  const octets = address.split('.');
  for (const octet of octets) {
    if (octet === '') return 'an octet is empty';
    if (octet.length > 1 && octet.charCodeAt(0) === 0x30) return `leading zeros aren't allowed (${octet})`;
    if (Number(octet) > 255) return `octet ${octet} is over 255`;
  }
  if (octets.length !== 4) return `an IPv4 address has 4 octets, not ${octets.length}`;
  return undefined;
}

/** A hint for peer text that is not 'address:port' or '[address]:port' (with a leading space), or ''. */
export function peerSyntaxHint(text: string): string {
  if (text.startsWith('[')) {
    const inner = addressPart(text);
    if (DIGITS_AND_DOTS.test(inner)) return ` (brackets are for IPv6 addresses only: '${inner}:port')`;
    return " (expected '[address]:port')";
  }
  let colons = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 0x3a) colons++;
  if (colons >= 2) return " (an IPv6 address goes in brackets: '[2001:db8::1]:500')";
  if (colons === 0) return " (the port is missing: 'address:port')";
  return " (the port after ':' is a number from 1 to 65535)";
}
