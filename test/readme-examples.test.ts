// The README's code examples, run as a user runs them: each ```ts/```js block is taken from
// README.md as it stands, stripped of its types (esbuild), written next to the package (so that
// `import ... from 'peer-target-name'` resolves to this package's built entry points, as it does in
// an installed copy) and run by Node in a process of its own, followed by a few checks of what it
// made. The embedding server example is run by test/main-job.test.ts, which also checks that the
// README's copy is its own. A new example in the README fails this file until it is run here too.
// Run after `npm run build` (npm test does).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConformance } from './support/conformance.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Inside the package (so the package's own name resolves), ignored by git. */
const DIR = join(ROOT, 'test', 'artifacts', 'readme-examples');

interface Block {
  lang: string;
  code: string;
  /** 1-based line of its opening fence in README.md. */
  line: number;
}

function codeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    let end = i + 1;
    while (end < lines.length && lines[end] !== '```') end++;
    blocks.push({ lang: open[1], code: lines.slice(start + 1, end).join('\n'), line: start + 1 });
    i = end;
  }
  return blocks;
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const EXAMPLES = codeBlocks(README).filter((b) => b.lang === 'ts' || b.lang === 'js');

/** The one README example whose code contains `marker` (there must be exactly one). */
function example(marker: string): Block {
  const found = EXAMPLES.filter((b) => b.code.includes(marker));
  expect(found.map((b) => b.line), `README examples containing ${JSON.stringify(marker)}`).toHaveLength(1);
  return found[0];
}

const MARKERS = {
  server: 'export async function startEchoServer(', // run by test/main-job.test.ts
  encode: 'const bytes = encodePeerTargetName({',
  into: 'const length = encodePeerTargetNameInto(region, 0, {',
  decoded: "{ protocol: 'ipsec', peer: { family: 'ipv4'",
  ready: 'await ready();',
  bridge: 'await createSecureSocket({',
  registry: 'const registry = new PeerRegistry(',
};

let library: string;
beforeAll(() => {
  library = loadConformance().path;
  mkdirSync(DIR, { recursive: true });
});
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

/**
 * Runs TypeScript (types stripped) as an ES module in its own Node process, with the bridge's
 * library set as a user on Linux sets it; fails the test with the process's stderr unless it exits 0.
 */
function run(name: string, source: string): string {
  const { code } = transformSync(source, { loader: 'ts', format: 'esm', target: 'node20' });
  const file = join(DIR, `${name}.mjs`);
  writeFileSync(file, code);
  const r = spawnSync(process.execPath, [file], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, PEER_TARGET_NAME_LIBRARY: library },
  });
  expect(r.error).toBeUndefined();
  expect(r.status, `${name}: exit ${r.status}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

/** What the PeerRegistry fragment takes from the bridge example before it: bridge, socket, handle, peers. */
const REGISTRY_PRELUDE = `import { openBridge, socketHandle, PeerRegistry } from 'peer-target-name/bridge';
import dgram from 'node:dgram';
import { once } from 'node:events';
const bridge = openBridge();
const socket = dgram.createSocket('udp4');
socket.bind(0, '127.0.0.1');
await once(socket, 'listening');
const handle = socketHandle(socket);
const rinfo: dgram.RemoteInfo = { address: '192.0.2.7', family: 'IPv4', port: 4500, size: 4 };
const peers = ['192.0.2.8:500', { address: '192.0.2.9', port: 500 }, rinfo];`;

// Checks appended to an example (imports are hoisted, so they may come last; their names are
// chosen not to clash with the example's).
const CHECKS = "import readmeAssert from 'node:assert/strict';\n";

describe("the README's examples", () => {
  it('every ts/js block is one this suite knows (and runs), each found once', () => {
    const known = Object.values(MARKERS);
    for (const b of EXAMPLES) {
      expect(known.filter((m) => b.code.includes(m)), `README.md line ${b.line}: an example no test runs`).toHaveLength(1);
    }
    for (const marker of known) example(marker);
  });

  it('type-check as TypeScript against the package as a consumer resolves it (strict)', () => {
    const files: Record<string, string> = {
      'encode.ts': example(MARKERS.encode).code,
      'into.ts': example(MARKERS.into).code,
      'ready.ts': example(MARKERS.ready).code,
      'bridge.ts': example(MARKERS.bridge).code,
      'registry.ts': `${REGISTRY_PRELUDE}\n${example(MARKERS.registry).code}`,
    };
    const dir = join(DIR, 'typecheck');
    mkdirSync(dir, { recursive: true });
    for (const [name, code] of Object.entries(files)) writeFileSync(join(dir, name), `${code}\nexport {};\n`);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022',
        lib: ['es2022'], types: ['node'], skipLibCheck: true,
      },
      files: Object.keys(files),
    }));
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], {
      cwd: ROOT, encoding: 'utf8', timeout: 60_000,
    });
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  it('encodePeerTargetName: the bytes as described, and decodePeerTargetName gives the object shown', () => {
    const encode = example(MARKERS.encode).code;
    const decoded = example(MARKERS.decoded).code;
    const out = run('encode', `${encode}
${CHECKS}
readmeAssert.ok(bytes instanceof Uint8Array);
readmeAssert.equal(bytes.byteLength, 144 + 2 * 'host/server.example.com'.length); // "exactly 144 + 2n bytes"
readmeAssert.deepEqual(decodePeerTargetName(bytes), (${decoded}));
readmeAssert.equal(validatePeerTargetName(bytes).ok, true);
console.log(bytes.byteLength);
`);
    expect(out.trim()).toBe('190');
  });

  it('encodePeerTargetNameInto: the record at the start of the region, the same bytes encodePeerTargetName gives', () => {
    const out = run('into', `${example(MARKERS.into).code}
${CHECKS}
import { encodePeerTargetName as readmeEncode } from 'peer-target-name';
const readmeInput = { protocol: 'ipsec', peer: '192.0.2.10:500', targetName: 'host/peer.example.com' } as const;
readmeAssert.equal(length, 144 + 2 * readmeInput.targetName.length);
readmeAssert.deepEqual([...record], [...readmeEncode(readmeInput)]);
readmeAssert.ok(region.subarray(length).every((b) => b === 0)); // nothing else written
console.log(length);
`);
    expect(out.trim()).toBe(String(144 + 2 * 'host/peer.example.com'.length));
  });

  it('ready() resolves, and the codec works after it', () => {
    const out = run('ready', `${example(MARKERS.ready).code}
console.log(encodePeerTargetName({ protocol: 'ipsec', peer: '192.0.2.10:4500', targetName: 'host/x' }).byteLength);
`);
    expect(out.trim()).toBe(String(144 + 2 * 'host/x'.length));
  });

  it('the bridge: a secured socket names each peer before it answers (one echo round trip)', () => {
    const out = run('bridge', `${example(MARKERS.bridge).code}
${CHECKS}
import readmeDgram from 'node:dgram';
import { once as readmeOnce } from 'node:events';
const readmeClient = readmeDgram.createSocket('udp4');
readmeClient.bind(0, '127.0.0.1');
await readmeOnce(readmeClient, 'listening');
readmeClient.send('ping', 4500, '127.0.0.1');
const [readmeReply] = await readmeOnce(readmeClient, 'message');
readmeAssert.equal(String(readmeReply), 'ping');
readmeAssert.equal(typeof handle === 'number' || typeof handle === 'bigint', true);
readmeClient.close();
socket.close();
await bridge.close();
console.log('echoed');
`);
    expect(out.trim()).toBe('echoed');
  });

  it('PeerRegistry: each call as commented, on the handle of a bound socket', () => {
    const out = run('registry', `${REGISTRY_PRELUDE}
${example(MARKERS.registry).code}
${CHECKS}
readmeAssert.deepEqual(registry.failedDeletions, []);
readmeAssert.deepEqual(registry.stats, {
  size: 0, registered: 3, reused: 1, evicted: 0, forgotten: 3, failed: 0, pendingDeletions: 0, deleteFailures: 0,
});
socket.close();
await bridge.close();
console.log('ok');
`);
    expect(out.trim()).toBe('ok');
  });
});
