// The words for peer text the codec refuses (issue 14): what is wrong, said plainly, and no hint
// that belongs to another case (no IPv6-bracket advice for IPv4 text).
import { describe, expect, it } from 'vitest';
import { encodePeerTargetName } from '../host/index.js';
import { codecErrorOf } from './support/errors.js';

const good = { protocol: 'ipsec' as const, targetName: 'host/peer.example' };

describe('peer text error messages', () => {
  it('an octet over 255 says which', () => {
    const e = codecErrorOf(() => encodePeerTargetName({ ...good, peer: '192.0.2.256:500' }));
    expect(e.code).toBe('WSAEINVAL');
    expect(e.field).toBe('peer.address');
    expect(e.message).toContain('octet 256 is over 255');
    const o = codecErrorOf(() => encodePeerTargetName({ ...good, peer: { address: '300.0.2.1', port: 500 } }));
    expect(o.message).toContain('octet 300 is over 255');
  });

  it('a port given as a string says it must be a number', () => {
    const e = codecErrorOf(() => encodePeerTargetName({ ...good, peer: { address: '192.0.2.1', port: '5' as never } }));
    expect(e.code).toBe('WSAEINVAL');
    expect(e.field).toBe('peer.port');
    expect(e.message).toContain("port must be a number, got the string '5'");
  });

  it('leading zeros in an octet are refused in so many words', () => {
    const e = codecErrorOf(() => encodePeerTargetName({ ...good, peer: '192.0.02.10:80' }));
    expect(e.field).toBe('peer.address');
    expect(e.message).toContain("leading zeros aren't allowed");
    expect(e.message).toContain('02');
  });

  it('IPv4 text gets no IPv6-bracket hint', () => {
    for (const peer of ['192.0.2.1', '192.0.2.1:', '192.0.2.1:http', '[192.0.2.1]:80']) {
      const e = codecErrorOf(() => encodePeerTargetName({ ...good, peer }));
      expect(e.message, peer).not.toContain('IPv6 address goes in brackets');
      expect(e.message, peer).not.toContain('[2001:db8::1]');
    }
    expect(codecErrorOf(() => encodePeerTargetName({ ...good, peer: '192.0.2.1' })).message).toContain('port is missing');
    expect(codecErrorOf(() => encodePeerTargetName({ ...good, peer: '[192.0.2.1]:80' })).message).toContain('brackets are for IPv6 addresses only');
  });

  it('IPv6 text without brackets still gets the bracket hint', () => {
    const e = codecErrorOf(() => encodePeerTargetName({ ...good, peer: '2001:db8::1:500' }));
    expect(e.message).toContain("an IPv6 address goes in brackets: '[2001:db8::1]:500'");
  });
});
