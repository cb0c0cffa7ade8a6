// The one target-name template compiler (host/bridge/target-name-template.ts): PeerRegistry,
// DgramGuard and the CLI's `serve --target-name` refuse a bad template alike (an unknown or
// unbalanced placeholder is never registered as a literal name), and render a good one alike.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DgramGuard, PeerRegistry, type Bridge } from '../host/bridge.js';
import { compileTargetNameTemplate, TargetNameTemplateError } from '../host/bridge/target-name-template.js';
import { checkTemplate } from '../host/tools/main-job.js';
import { main } from '../host/tools/cli.js';
import { PeerTargetNameError } from '../host/index.js';
import type { Conformance } from './support/conformance.js';
import { fdOf } from './support/sockets.js';
import type dgram from 'node:dgram';
import { useBridgeFixture } from './support/bridge-fixture.js';

let native: Conformance;
let bridge: Bridge;
let udp: dgram.Socket;
useBridgeFixture(['udp4'], (f) => ({ native, bridge, udp4: udp } = f), { reset: false });

/** Each bad template, what is wrong and where (the 0-based index of the '{' or the stray '}'). */
const BAD: [template: string, problem: TargetNameTemplateError['problem'], position: number, mention: string][] = [
  ['host/{adress}', 'unknown-placeholder', 5, 'unknown placeholder {adress} at position 5'],
  ['host/{address', 'unclosed-placeholder', 5, "the placeholder at position 5 (\"{address\") has no closing '}'"],
  ['host/address}', 'stray-brace', 12, "a '}' at position 12 closes no placeholder"],
  ['host/{address}}', 'stray-brace', 14, "a '}' at position 14 closes no placeholder"],
  ['host/{{address}', 'unclosed-placeholder', 5, "the placeholder at position 5 (\"{\") has no closing '}'"],
  ['host/{}', 'unknown-placeholder', 5, 'unknown placeholder {} at position 5'],
  ['{Address}.example', 'unknown-placeholder', 0, 'unknown placeholder {Address} at position 0'],
  ['host/{port}-{scopeid}', 'unknown-placeholder', 12, 'unknown placeholder {scopeid} at position 12'],
];

/** What a call threw (or undefined). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

async function cli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await main(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from([]),
  });
  return { status, stdout, stderr };
}

describe('the target-name template compiler', () => {
  it('renders every placeholder, and a name without braces as it is', () => {
    const peer = { family: 'ipv6' as const, address: 'fe80::1', port: 500, scopeId: 7 };
    expect(compileTargetNameTemplate('host/{family}/{address}/{port}/{scopeId}')(peer)).toBe('host/ipv6/fe80::1/500/7');
    expect(compileTargetNameTemplate('host/{address}')(peer)).toBe('host/fe80::1');
    expect(compileTargetNameTemplate('{address}{address}')(peer)).toBe('fe80::1fe80::1');
    expect(compileTargetNameTemplate('host/fixed.example')(peer)).toBe('host/fixed.example');
    expect(compileTargetNameTemplate('')(peer)).toBe('');
  });

  it('refuses an unknown or unbalanced placeholder with a typed error naming the template and the position', () => {
    for (const [template, problem, position, mention] of BAD) {
      const error = thrown(() => compileTargetNameTemplate(template));
      expect(error, template).toBeInstanceOf(TargetNameTemplateError);
      expect(error, template).toBeInstanceOf(PeerTargetNameError);
      expect(error).toMatchObject({ name: 'TargetNameTemplateError', code: 'WSAEINVAL', field: 'targetName', template, position, problem });
      expect((error as Error).message).toContain(JSON.stringify(template));
      expect((error as Error).message).toContain(mention);
      expect((error as Error).message).toContain('(known: {address}, {port}, {family}, {scopeId})');
    }
  });

  it('PeerRegistry and DgramGuard refuse a bad template when made, with the same error; nothing is registered', () => {
    native.reset();
    for (const [template, problem, position] of BAD) {
      const fromCompiler = thrown(() => compileTargetNameTemplate(template)) as TargetNameTemplateError;
      const fromRegistry = thrown(() => new PeerRegistry({ bridge, socket: fdOf(udp), targetName: template }));
      const fromGuard = thrown(() => new DgramGuard(udp, { bridge, targetName: template }));
      for (const error of [fromRegistry, fromGuard]) {
        expect(error, template).toBeInstanceOf(TargetNameTemplateError);
        expect(error).toMatchObject({ template, position, problem, message: fromCompiler.message });
      }
    }
    expect(native.peerCount(fdOf(udp))).toBe(0);
  });

  it("the CLI's serve refuses it before serving: exit 2, --target-name named, the same reason", async () => {
    for (const [template, , , mention] of BAD) {
      expect(checkTemplate(template, 'ipsec', ['udp4', 'udp6'])).toBe(`--target-name '${template}': ` +
        (thrown(() => compileTargetNameTemplate(template)) as TargetNameTemplateError).detail);
      const r = await cli(['serve', '--target-name', template, '--peers', '1']);
      expect(r.status, template).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`peer-target-name serve: --target-name '${template}': ${mention}`);
    }
    expect(checkTemplate('host/{family}-{address}-{port}-{scopeId}', 'ipsec', ['udp4', 'udp6'])).toBeUndefined();
  });

  it('a good template registers the name the compiler renders', () => {
    native.reset();
    const template = 'host/{family}-{address}-{port}';
    const registry = new PeerRegistry({ bridge, socket: fdOf(udp), targetName: template });
    registry.ensure('192.0.2.9:99');
    const name = compileTargetNameTemplate(template)({ family: 'ipv4', address: '192.0.2.9', port: 99, scopeId: 0 });
    expect(name).toBe('host/ipv4-192.0.2.9-99');
    const held = native.list(fdOf(udp));
    expect(held).toHaveLength(1);
    expect(native.lookup(fdOf(udp), held[0])?.name).toBe(name);
    registry.clear();
  });
});
