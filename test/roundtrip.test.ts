// Properties of the codec over generated inputs (fast-check, fixed seed, 500+ runs each):
// decode(encode(x)) is x normalised, the batch API agrees byte for byte with the single one,
// validate accepts what encode makes, and decode/inspect survive any bytes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  PeerTargetNameError,
  decodePeerTargetName,
  encodePeerTargetName,
  encodePeerTargetNames,
  inspectPeerTargetName,
  validatePeerTargetName,
  type CodecOptions,
  type DecodedPeerTargetName,
  type LengthUnit,
  type PeerInput,
  type PeerTargetNameInput,
  type ProtocolName,
  type SocketType,
} from '../host/index.js';
import {
  AF_INET, AF_INET6, AT, OFFSET_PADDING, OFFSET_STRING_LENGTH, OFFSET_STRINGS, SIZEOF_HEADER,
  caught, referenceIPv4Bytes, referenceIPv6Bytes, u16be, u16le, u32be, u32le, urlCanonicalIPv6, utf16le,
} from './support/spec-reference.js';

const SEED = 0x5eed2024;
const RUNS = { seed: SEED, numRuns: 500 } as const;

// ---- generators ------------------------------------------------------------------------------

const PROTOCOLS: readonly (readonly [PeerTargetNameInput['protocol'], ProtocolName, number])[] = [
  [0, 'default', 0], [1, 'ipsec', 1], [2, 'ipsec2', 2],
  ['default', 'default', 0], ['ipsec', 'ipsec', 1], ['ipsec2', 'ipsec2', 2],
];

/** Well-formed UTF-16 (no unpaired surrogate), checked unit by unit. */
function wellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u >= 0xd800 && u <= 0xdbff) {
      const next = s.charCodeAt(i + 1); // NaN past the end
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (u >= 0xdc00 && u <= 0xdfff) {
      return false;
    }
  }
  return true;
}
const validName = (s: string) => s.length > 0 && !s.includes('\u0000') && wellFormed(s);

const NAME_POOL = ['host/server.example.com', 'ipsec/é', '😀', 'HTTP/web.contoso.com@CONTOSO.COM'];
const nameArb = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 24 }), // any code point, astral included
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)), minLength: 1, maxLength: 24 }),
  fc.constantFrom(...NAME_POOL), // repeats, so the host's name interning is exercised
  fc.integer({ min: 1, max: 1100 }).map((n) => 'n'.repeat(n)),
).filter(validName);

interface ExpectedPeer {
  family: 'ipv4' | 'ipv6';
  /** The address as generated, without zone (for the URL reference). */
  text: string;
  bytes: number[];
  port: number;
  flowInfo: number;
  scopeId: number;
}

interface Case {
  input: PeerTargetNameInput;
  options: CodecOptions;
  protocolName: ProtocolName;
  protocolValue: number;
  socketType: SocketType;
  lengthUnit: LengthUnit | undefined;
  /** null: no peer given (stream only). */
  peer: ExpectedPeer | null;
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const portArb = fc.integer({ min: 0, max: 65535 });

const ipv4Peer = fc.record({
  address: fc.ipV4(),
  port: portArb,
  form: fc.constantFrom('text', 'object'),
  hint: fc.constantFrom(undefined, 'IPv4', 'ipv4', 4, AF_INET),
}).map(({ address, port, form, hint }): [PeerInput, ExpectedPeer] => [
  form === 'text' ? `${address}:${port}` : { address, port, ...(hint !== undefined ? { family: hint } : {}) },
  { family: 'ipv4', text: address, bytes: referenceIPv4Bytes(address), port, flowInfo: 0, scopeId: 0 },
]);

const ipv6Peer = fc.record({
  address: fc.ipV6(),
  upper: fc.boolean(),
  port: portArb,
  form: fc.constantFrom('text', 'object'),
  zone: fc.option(u32, { nil: undefined }),
  flowInfo: fc.option(u32, { nil: undefined }),
  scope: fc.constantFrom('omit', 'give'),
  scopeId: u32,
  hint: fc.constantFrom(undefined, 'IPv6', 'ipv6', 6, AF_INET6),
}).map(({ address, upper, port, form, zone, flowInfo, scope, scopeId, hint }): [PeerInput, ExpectedPeer] => {
  const text = upper ? address.toUpperCase() : address;
  const zoned = zone === undefined ? text : `${text}%${zone}`;
  const bytes = referenceIPv6Bytes(address);
  if (form === 'text') {
    return [`[${zoned}]:${port}`, { family: 'ipv6', text: address, bytes, port, flowInfo: 0, scopeId: zone ?? 0 }];
  }
  // scopeId given: equal to the zone when there is one (a conflict is a rule case, not a round trip).
  const givenScope = scope === 'give' ? (zone ?? scopeId) : undefined;
  const peer = {
    address: zoned, port,
    ...(flowInfo !== undefined ? { flowInfo } : {}),
    ...(givenScope !== undefined ? { scopeId: givenScope } : {}),
    ...(hint !== undefined ? { family: hint } : {}),
  };
  return [peer, { family: 'ipv6', text: address, bytes, port, flowInfo: flowInfo ?? 0, scopeId: zone ?? givenScope ?? 0 }];
});

const isUnspecified = (p: ExpectedPeer) =>
  p.bytes.every((b) => b === 0) ||
  (p.family === 'ipv6' && p.bytes.slice(0, 10).every((b) => b === 0) && p.bytes[10] === 0xff && p.bytes[11] === 0xff &&
    p.bytes.slice(12).every((b) => b === 0));

const optionsArb = fc.record({
  socketType: fc.constantFrom<SocketType | undefined>(undefined, 'dgram', 'stream'),
  lengthUnit: fc.constantFrom<LengthUnit | undefined>(undefined, 'auto', 'units', 'bytes'),
  maxTargetNameLength: fc.constantFrom<number | undefined>(undefined, 64, 1024, 32767),
});

function caseOptions(o: { socketType?: SocketType; lengthUnit?: LengthUnit; maxTargetNameLength?: number }): CodecOptions {
  return {
    ...(o.socketType ? { socketType: o.socketType } : {}),
    ...(o.lengthUnit ? { lengthUnit: o.lengthUnit } : {}),
    ...(o.maxTargetNameLength ? { maxTargetNameLength: o.maxTargetNameLength } : {}),
  };
}

/** Valid inputs for the given options. */
function caseFor(o: { socketType?: SocketType; lengthUnit?: LengthUnit; maxTargetNameLength?: number }): fc.Arbitrary<Case> {
  const socketType = o.socketType ?? 'dgram';
  const max = o.maxTargetNameLength ?? 1024;
  const options = caseOptions(o);
  const peerArb: fc.Arbitrary<[PeerInput | null | undefined, ExpectedPeer | null]> = socketType === 'stream'
    ? fc.oneof(ipv4Peer, ipv6Peer, fc.constantFrom<[null | undefined, null]>([undefined, null], [null, null]))
    : fc.oneof(ipv4Peer, ipv6Peer).filter(([, p]) => p.port !== 0 && !isUnspecified(p));
  return fc.record({
    protocol: fc.constantFrom(...PROTOCOLS),
    peer: peerArb,
    name: nameArb.filter((s) => s.length <= max),
    omitPeerKey: fc.boolean(),
  }).map(({ protocol: [protocol, protocolName, protocolValue], peer: [peerInput, peer], name, omitPeerKey }) => ({
    input: peerInput === undefined && omitPeerKey ? { protocol, targetName: name } : { protocol, peer: peerInput, targetName: name },
    options,
    protocolName,
    protocolValue,
    socketType,
    lengthUnit: o.lengthUnit,
    peer,
  }));
}

const caseArb = optionsArb.chain(caseFor);

/** docs/reference.md §2's policy, written out again: auto = units for default/ipsec, bytes for ipsec2. */
const expectedUnit = (policy: LengthUnit | undefined, protocol: number): 'units' | 'bytes' =>
  policy === 'units' || policy === 'bytes' ? policy : protocol === 2 ? 'bytes' : 'units';

const isMapped = (b: number[]) => b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;

/** The address text decode should give: dotted quad, or RFC 5952 (URL's canonical form; mapped as ::ffff:a.b.c.d). */
function canonicalText(p: ExpectedPeer): string {
  if (p.family === 'ipv4') return p.text;
  return isMapped(p.bytes) ? `::ffff:${p.bytes.slice(12).join('.')}` : urlCanonicalIPv6(p.text);
}

function checkBytes(bytes: Uint8Array, c: Case): void {
  const n = c.input.targetName.length;
  expect(bytes.length).toBe(SIZEOF_HEADER + 2 * n);
  expect([...bytes.subarray(bytes.length - 4)]).toEqual([0, 0, 0, 0]);
  expect([...bytes.subarray(OFFSET_PADDING, OFFSET_PADDING + 4)]).toEqual([0, 0, 0, 0]);
  expect(u32le(bytes, 0)).toBe(c.protocolValue);
  expect(u32le(bytes, OFFSET_STRING_LENGTH)).toBe(expectedUnit(c.lengthUnit, c.protocolValue) === 'bytes' ? 2 * n : n);
  expect([...bytes.subarray(OFFSET_STRINGS, OFFSET_STRINGS + 2 * n)]).toEqual(utf16le(c.input.targetName));
  const p = c.peer;
  if (p === null) {
    expect(bytes.subarray(8, 136).every((b) => b === 0)).toBe(true);
  } else if (p.family === 'ipv4') {
    expect(u16le(bytes, AT.family)).toBe(AF_INET);
    expect(u16be(bytes, AT.port)).toBe(p.port);
    expect([...bytes.subarray(AT.v4addr, AT.v4addr + 4)]).toEqual(p.bytes);
    expect(bytes.subarray(AT.sinZero, 136).every((b) => b === 0)).toBe(true);
  } else {
    expect(u16le(bytes, AT.family)).toBe(AF_INET6);
    expect(u16be(bytes, AT.port)).toBe(p.port);
    expect(u32be(bytes, AT.v6flow)).toBe(p.flowInfo);
    expect([...bytes.subarray(AT.v6addr, AT.v6addr + 16)]).toEqual(p.bytes);
    expect(u32le(bytes, AT.v6scope)).toBe(p.scopeId);
    expect(bytes.subarray(AT.v6scope + 4, 136).every((b) => b === 0)).toBe(true);
  }
}

function checkDecoded(d: DecodedPeerTargetName, c: Case): void {
  const n = c.input.targetName.length;
  const unit = expectedUnit(c.lengthUnit, c.protocolValue);
  expect({ protocol: d.protocol, targetName: d.targetName, stringLength: d.stringLength, lengthUnit: d.lengthUnit, totalLength: d.totalLength })
    .toEqual({ protocol: c.protocolName, targetName: c.input.targetName, stringLength: unit === 'bytes' ? 2 * n : n, lengthUnit: unit, totalLength: 144 + 2 * n });
  const p = c.peer;
  if (p === null) {
    expect(d.peer).toBeNull();
    return;
  }
  expect(d.peer).not.toBeNull();
  const got = d.peer!;
  expect({ family: got.family, port: got.port, flowInfo: got.flowInfo, scopeId: got.scopeId })
    .toEqual({ family: p.family, port: p.port, flowInfo: p.flowInfo, scopeId: p.scopeId });
  // Same address by bytes (parsed by the URL reference), and in canonical text.
  expect(p.family === 'ipv4' ? referenceIPv4Bytes(got.address) : referenceIPv6Bytes(got.address)).toEqual(p.bytes);
  expect(got.address).toBe(canonicalText(p));
}

// ---- properties ------------------------------------------------------------------------------

describe('round trip', () => {
  it('decode(encode(x)) is x normalised; 144 + 2n bytes, zero padding and tail', () => {
    fc.assert(fc.property(caseArb, (c) => {
      const bytes = encodePeerTargetName(c.input, c.options);
      checkBytes(bytes, c);
      checkDecoded(decodePeerTargetName(bytes, c.options), c);
    }), RUNS);
  });

  it('validate(encode(x)) is ok, and inspect(encode(x)) has no problems', () => {
    fc.assert(fc.property(caseArb, (c) => {
      const bytes = encodePeerTargetName(c.input, c.options);
      expect(validatePeerTargetName(bytes, c.options)).toEqual({ ok: true });
      const inspected = inspectPeerTargetName(bytes, c.options);
      expect(inspected.problems).toEqual([]);
      expect(inspected.value.targetName).toBe(c.input.targetName);
    }), RUNS);
  });

  it('decoding under another policy never yields a different valid name silently', () => {
    // A units-stored name read as bytes (or the reverse) must be flagged, or read back identically.
    fc.assert(fc.property(caseArb, fc.constantFrom<LengthUnit>('units', 'bytes'), (c, other) => {
      const bytes = encodePeerTargetName(c.input, c.options);
      const v = validatePeerTargetName(bytes, { ...c.options, lengthUnit: other });
      if (v.ok) expect(decodePeerTargetName(bytes, { ...c.options, lengthUnit: other }).targetName).toBe(c.input.targetName);
    }), RUNS);
  });
});

// Inputs that every option set rejects.
const INVALID: readonly PeerTargetNameInput[] = [
  { protocol: 3, peer: '192.0.2.1:1', targetName: 'x' },
  { protocol: 'bogus' as ProtocolName, peer: '192.0.2.1:1', targetName: 'x' },
  null as unknown as PeerTargetNameInput,
  42 as unknown as PeerTargetNameInput,
  { protocol: 0, peer: '192.0.2.1', targetName: 'x' },
  { protocol: 0, peer: 'localhost:80', targetName: 'x' },
  { protocol: 1, peer: '[fe80::1%eth0]:1', targetName: 'x' },
  { protocol: 1, peer: { address: '192.0.2.1', port: 1, flowInfo: 1 }, targetName: 'x' },
  { protocol: 1, peer: { address: '192.0.2.1', port: 70000 }, targetName: 'x' },
  { protocol: 1, peer: { address: '192.0.2.1', port: 1, family: 'IPv6' }, targetName: 'x' },
  { protocol: 1, peer: { address: '192.0.2.1', port: 1, family: 'IPX' }, targetName: 'x' },
  { protocol: 2, peer: { address: 'fe80::1%3', port: 1, scopeId: 4 }, targetName: 'x' },
  { protocol: 2, peer: '[::1]:1', targetName: '' },
  { protocol: 2, peer: '[::1]:1', targetName: 'a\u0000' },
  { protocol: 2, peer: '[::1]:1', targetName: 'x'.repeat(32768) },
];
const invalidArb = fc.oneof(
  fc.constantFrom(...INVALID),
  // A valid name made ill-formed by a lone surrogate somewhere.
  fc.tuple(nameArb, fc.integer({ min: 0xd800, max: 0xdfff }), fc.nat()).map(([name, unit, at]) => {
    const i = at % (name.length + 1);
    const bad = name.slice(0, i) + String.fromCharCode(unit) + name.slice(i);
    return { protocol: 0, peer: '192.0.2.1:1', targetName: wellFormed(bad) ? bad + '\uDC00' : bad } as PeerTargetNameInput;
  }),
);

describe('batch API', () => {
  const batchArb = optionsArb.chain((o) => fc.array(fc.oneof(
    { weight: 3, arbitrary: caseFor(o).map((c) => ({ input: c.input, valid: true })) },
    { weight: 1, arbitrary: invalidArb.map((input) => ({ input, valid: false })) },
  ), { maxLength: 40 }).map((items) => ({ options: caseOptions(o), items })));

  it('gives the same records as the single API, and failures exactly where it throws', () => {
    fc.assert(fc.property(batchArb, ({ options, items }) => {
      const inputs = items.map((x) => x.input);
      const batch = encodePeerTargetNames(inputs, options);
      expect(batch.count).toBe(inputs.length);
      const failedIndices: number[] = [];
      inputs.forEach((input, i) => {
        let single: Uint8Array | undefined;
        let error: PeerTargetNameError | undefined;
        try {
          single = encodePeerTargetName(input, options);
        } catch (e) {
          expect(e).toBeInstanceOf(PeerTargetNameError);
          error = e as PeerTargetNameError;
        }
        // Independent of both APIs: the generator knows which inputs are valid.
        expect(error === undefined).toBe(items[i].valid);
        if (single) {
          const record = batch.record(i);
          expect(record).toBeDefined();
          expect([...record!]).toEqual([...single]);
          expect(batch.lengths[i]).toBe(single.length);
          expect(batch.offsets[i] % 8).toBe(0);
          expect(batch.error(i)).toBeUndefined();
        } else {
          failedIndices.push(i);
          expect(batch.record(i)).toBeUndefined();
          expect(batch.lengths[i]).toBe(0);
          const batchError = batch.error(i);
          expect(batchError).toBeInstanceOf(PeerTargetNameError);
          expect({ code: batchError!.code, errno: batchError!.errno, field: batchError!.field, message: batchError!.message })
            .toEqual({ code: error!.code, errno: error!.errno, field: error!.field, message: error!.message });
        }
      });
      expect(batch.failures.map((f) => f.index)).toEqual(failedIndices);
      expect(batch.ok).toBe(failedIndices.length === 0);
      expect([...batch].map((r) => r === undefined)).toEqual(inputs.map((_, i) => failedIndices.includes(i)));
    }), RUNS);
  });

  it('an empty batch is empty', () => {
    const batch = encodePeerTargetNames([]);
    expect({ count: batch.count, ok: batch.ok, bytes: batch.bytes.length }).toEqual({ count: 0, ok: true, bytes: 0 });
  });
});


describe('untrusted bytes', () => {
  const decodeOptions = optionsArb.map(caseOptions);

  function survives(bytes: Uint8Array, options: CodecOptions): void {
    let decoded: DecodedPeerTargetName | undefined;
    let thrown: unknown;
    try {
      decoded = decodePeerTargetName(bytes, options);
    } catch (e) {
      thrown = e;
    }
    if (thrown !== undefined) expect(thrown).toBeInstanceOf(PeerTargetNameError);
    const v = validatePeerTargetName(bytes, options);
    const inspected = inspectPeerTargetName(bytes, options);
    expect(v.ok).toBe(decoded !== undefined);
    if (!v.ok) {
      expect((thrown as PeerTargetNameError).message).toBe(v.error.message);
      expect(inspected.problems.map((e) => e.message)).toEqual(v.errors.map((e) => e.message));
      for (const e of v.errors) {
        expect(e).toBeInstanceOf(PeerTargetNameError);
        // A problem found in the bytes points inside them.
        if (e.offset !== undefined) expect(e.offset + (e.length ?? 0)).toBeLessThanOrEqual(bytes.length);
      }
    } else {
      expect(inspected.problems).toEqual([]);
    }
  }

  it('decode throws only PeerTargetNameError on any bytes (0..400); validate and inspect never throw', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), decodeOptions, survives), RUNS);
  });

  it('the same holds for mostly-zero buffers around 144 bytes', () => {
    const sparse = fc.tuple(fc.integer({ min: 0, max: 400 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }))
      .map(([length, patches]) => {
        const bytes = new Uint8Array(length);
        for (const [at, value] of patches) if (length > 0) bytes[at % length] = value;
        return bytes;
      });
    fc.assert(fc.property(sparse, decodeOptions, survives), RUNS);
  });

  it('a valid record with a few bytes changed is either rejected or re-encodes to the same bytes', () => {
    const mutated = caseArb.chain((c) => fc.tuple(
      fc.constant(c),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 170 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
      fc.integer({ min: -4, max: 8 }),
    ));
    fc.assert(fc.property(mutated, ([c, patches, resize]) => {
      const original = encodePeerTargetName(c.input, c.options);
      const bytes = new Uint8Array(Math.max(0, original.length + resize));
      bytes.set(original.subarray(0, bytes.length));
      for (const [at, value] of patches) if (at < bytes.length) bytes[at] = value;
      survives(bytes, c.options);
      const v = validatePeerTargetName(bytes, c.options);
      if (!v.ok) return;
      // Accepted: then it means exactly what the encoder would write for the decoded value.
      const d = decodePeerTargetName(bytes, c.options);
      const peer: PeerInput | null = d.peer === null ? null : d.peer.family === 'ipv4'
        ? { address: d.peer.address, port: d.peer.port }
        : { address: d.peer.address, port: d.peer.port, flowInfo: d.peer.flowInfo, scopeId: d.peer.scopeId };
      const again = encodePeerTargetName({ protocol: d.protocol, peer, targetName: d.targetName },
        { ...c.options, lengthUnit: d.lengthUnit });
      const common = Math.min(again.length, bytes.length);
      expect([...bytes.subarray(0, common)]).toEqual([...again.subarray(0, common)]);
      expect(bytes.subarray(common).every((b) => b === 0)).toBe(true);
      expect(again.subarray(common).every((b) => b === 0)).toBe(true);
    }), RUNS);
  });
});

describe('generators are sound (guards for the properties above)', () => {
  it('names are well-formed, non-empty, NUL-free, and include astral and repeated ones', () => {
    const sample = fc.sample(nameArb, { seed: SEED, numRuns: 2000 });
    expect(sample.every(validName)).toBe(true);
    expect(sample.some((s) => /[\uD800-\uDBFF]/.test(s))).toBe(true);
    expect(sample.filter((s) => s === NAME_POOL[0]).length).toBeGreaterThan(1);
  });
  it('the invalid inputs are rejected by the single API', () => {
    for (const input of INVALID) caught(() => encodePeerTargetName(input));
  });
});
