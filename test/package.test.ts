// The package as a consumer meets it (issue 14, "The package as installed"): `npm pack` it, install
// the tarball into a fresh consumer directory, and use it from there as each kind of consumer would:
// an ES module, a CommonJS require(), an es2020 bundle run in Node, an IIFE bundle run in Chromium
// (main thread: `await ready()` first), and, on Linux, the bridge, by following only the package's
// own advice. The tarball's file list is asserted too. Needs `npm run build` (npm test does it).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePeerTargetName, toHex } from '../host/index.js';
import { findChromium, INSTALL_HINT, launchChromium } from './preview/browser.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The same record every consumer encodes; its bytes must equal the repository's own. */
const INPUT = { protocol: 'ipsec', peer: '192.0.2.10:4500', targetName: 'host/server.example.com' } as const;
const EXPECTED = toHex(encodePeerTargetName(INPUT));
const INPUT_JS = JSON.stringify(INPUT);

/** Every file the tarball may hold: anything else is a file the package should not ship. */
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^dist\/host\/(?!tools\/preview\/).+\.(js|d\.ts)$/,
  /^build\/conformance\.(mjs|d\.mts)$/,
  /^build\/generated\/layout\.h$/,
  /^test\/conformance\/[a-z_]+\.[ch]$/,
];
const REQUIRED = [
  'package.json', 'README.md', 'dist/host/index.js', 'dist/host/index.d.ts', 'dist/host/bridge.js', 'dist/host/bridge.d.ts',
  'dist/host/tools/cli.js', 'dist/host/generated/codec-wasm.js', 'build/conformance.mjs', 'build/generated/layout.h',
  'test/conformance/peer_target_name_conformance.c', 'test/conformance/peer_target_name_conformance.h',
  'test/conformance/ptn_platform.h',
];

let work: string;
let consumer: string;
let files: string[];

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return r;
}

/** Runs a consumer's script with node; its stdout, after asserting a clean exit and a quiet stderr. */
function node(file: string, env?: NodeJS.ProcessEnv): string {
  const r = run(process.execPath, [file], consumer, env);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.trim();
}

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/host/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does it)');
  work = mkdtempSync(join(tmpdir(), 'ptn-package-'));
  // --ignore-scripts: dist/ is built already; prepack would rebuild it under the other test files' feet.
  const packed = JSON.parse(execFileSync(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
    cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  })) as [{ filename: string; files: { path: string }[] }];
  files = packed[0].files.map((f) => f.path).sort();
  consumer = join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  const install = run(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(work, packed[0].filename)], consumer);
  if (install.status !== 0) throw new Error(`npm install of the tarball failed:\n${install.stderr}`);
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the tarball', () => {
  it('holds the built package, what building the conformance library needs, and nothing else', () => {
    expect(files.filter((f) => !ALLOWED.some((re) => re.test(f)))).toEqual([]);
    expect(REQUIRED.filter((f) => !files.includes(f))).toEqual([]);
    // No source map (none could point at a shipped source), no AssemblyScript tsconfig extending an
    // uninstalled package, no dist/assembly, no preview build.
    expect(files.filter((f) => /\.map$|^assembly\/|^dist\/assembly|tools\/preview/.test(f))).toEqual([]);
    // Every relative import of every shipped module resolves inside the tarball.
    const missing: string[] = [];
    for (const file of files.filter((f) => f.endsWith('.js'))) {
      const text = readFileSync(join(consumer, 'node_modules/peer-target-name', file), 'utf8');
      for (const [, spec] of text.matchAll(/(?:from|import\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const target = join(file, '..', spec!).replaceAll('\\', '/');
        if (!files.includes(target)) missing.push(`${file} -> ${spec}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('asks consumers to approve no lifecycle script of its own', () => {
    const manifest = JSON.parse(readFileSync(join(consumer, 'node_modules/peer-target-name/package.json'), 'utf8')) as {
      scripts: Record<string, string>; files: string[];
    };
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) expect(manifest.scripts[script]).toBeUndefined();
    expect(manifest.files).not.toContain('dist/assembly');
  });
});

describe('every consumer can load it', () => {
  it('an ES module imports it', () => {
    writeFileSync(join(consumer, 'esm.mjs'),
      `import { encodePeerTargetName, toHex } from 'peer-target-name';\nconsole.log(toHex(encodePeerTargetName(${INPUT_JS})));\n`);
    expect(node('esm.mjs')).toBe(EXPECTED);
  });

  it('CommonJS require()s it', () => {
    writeFileSync(join(consumer, 'cjs.cjs'),
      `const { encodePeerTargetName, toHex } = require('peer-target-name');\nconsole.log(toHex(encodePeerTargetName(${INPUT_JS})));\n`);
    expect(node('cjs.cjs')).toBe(EXPECTED);
  });

  it('an esbuild bundle for es2020 (a .js entry of a CommonJS project) runs in Node', async () => {
    writeFileSync(join(consumer, 'entry.js'),
      `const { encodePeerTargetName, toHex } = require('peer-target-name');\nconsole.log(toHex(encodePeerTargetName(${INPUT_JS})));\n`);
    const built = await esbuild.build({
      absWorkingDir: consumer, entryPoints: ['entry.js'], bundle: true, platform: 'node', target: 'es2020',
      outfile: 'out/es2020.cjs', logLevel: 'silent',
    });
    expect(built.errors).toEqual([]);
    expect(built.warnings).toEqual([]);
    expect(node('out/es2020.cjs')).toBe(EXPECTED);
  });

  it('an IIFE bundle runs in Chromium, and where the main thread refuses a synchronous compile a typed error asks for `await ready()`', async () => {
    const executable = findChromium();
    if (!executable) throw new Error(INSTALL_HINT);
    writeFileSync(join(consumer, 'browser.js'), "export * from 'peer-target-name';\n");
    const built = await esbuild.build({
      absWorkingDir: consumer, entryPoints: ['browser.js'], bundle: true, platform: 'browser', format: 'iife',
      target: 'es2020', globalName: 'PTN', write: false, logLevel: 'silent',
    });
    expect(built.warnings).toEqual([]);
    const script = built.outputFiles[0]!.text;
    expect(script).not.toMatch(/\bkoffi\b|node:/);
    const browser = await launchChromium(executable);
    try {
      // As a page would: call first, then `await ready()`, then call again.
      const use = async (page: Page, rule?: () => void) => {
        await page.setContent('<!doctype html><title>consumer</title>');
        if (rule) await page.evaluate(rule);
        await page.addScriptTag({ content: script });
        return page.evaluate(async (input) => {
          const ptn = (globalThis as unknown as { PTN: typeof import('../host/index.js') }).PTN;
          let before: string;
          try {
            before = ptn.toHex(ptn.encodePeerTargetName(input));
          } catch (error) {
            before = `${(error as Error).name}: ${(error as Error).message}`;
          }
          await ptn.ready();
          const hex = ptn.toHex(ptn.encodePeerTargetName(input));
          return { before, hex, valid: ptn.validatePeerTargetName(ptn.fromHex(hex)).ok };
        }, input);
      };
      const input = INPUT as unknown as Parameters<typeof encodePeerTargetName>[0];
      // This Chromium compiles the ~10 KB module synchronously on the main thread: no wait needed.
      const plain = await use(await browser.context.newPage());
      expect(plain).toEqual({ before: EXPECTED, hex: EXPECTED, valid: true });
      // Chromium's main thread used to refuse synchronous compilation and instantiation of modules
      // over 4 KB (a RangeError); other embedders may still. Reproduce that rule exactly.
      const refused = await use(await browser.context.newPage(), () => {
        const RealModule = WebAssembly.Module;
        const refuse = (what: string) => new RangeError(
          `WebAssembly.${what} is disallowed on the main thread, if the buffer size is larger than 4KB. Use WebAssembly.${what === 'Module' ? 'compile' : 'instantiate'}.`);
        const small = new WeakSet<WebAssembly.Module>();
        (WebAssembly as { Module: unknown }).Module = function Module(bytes: BufferSource) {
          if (bytes.byteLength > 4096) throw refuse('Module');
          const module = new RealModule(bytes);
          small.add(module);
          return module;
        };
        const RealInstance = WebAssembly.Instance;
        (WebAssembly as { Instance: unknown }).Instance = function Instance(module: WebAssembly.Module, imports?: WebAssembly.Imports) {
          if (!small.has(module)) throw refuse('Instance');
          return new RealInstance(module, imports);
        };
      });
      expect(refused.before).toMatch(/^CodecNotReadyError: .*`await ready\(\)`/);
      expect(refused.hex).toBe(EXPECTED);
      expect(refused.valid).toBe(true);
    } finally {
      await browser.close();
    }
  });
});

describe.runIf(process.platform === 'linux')('on Linux the installed bridge can be used', () => {
  it('without a C compiler, the main job (`npx peer-target-name serve`) exits 69 advising a command that works from here', () => {
    // A PATH with node only (no cc, no gcc); the library is not built yet in the installed package.
    const bin = join(work, 'node-only');
    mkdirSync(bin, { recursive: true });
    if (!existsSync(join(bin, 'node'))) symlinkSync(process.execPath, join(bin, 'node'));
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: bin };
    delete env.CC;
    delete env.PEER_TARGET_NAME_LIBRARY;
    expect(existsSync(join(consumer, 'node_modules/peer-target-name/build/out'))).toBe(false);
    const cli = join(consumer, 'node_modules/.bin/peer-target-name');
    const serve = run(process.execPath, [cli, 'serve', '--peers', '10'], consumer, env);
    expect(serve.status).toBe(69);
    expect(serve.stderr).toContain('apt-get install gcc');
    expect(serve.stderr).toContain('`npx peer-target-name conformance build`');
    expect(serve.stderr).not.toMatch(/node build\/|build\/conformance\.mjs/);
    const build = run(process.execPath, [cli, 'conformance', 'build'], consumer, env);
    expect(build.status).toBe(69);
    expect(build.stderr).toMatch(/^peer-target-name: conformance: No C compiler found .*apt-get install gcc/);
    expect(build.stdout).toBe('');
  });

  it("opens the bridge and registers a peer by following only the package's own advice", () => {
    const env = { ...process.env };
    delete env.PEER_TARGET_NAME_LIBRARY;
    // 1. What openBridge() says without a library.
    writeFileSync(join(consumer, 'advice.mjs'), `import { openBridge } from 'peer-target-name/bridge';
try { openBridge(); console.log('opened?'); } catch (error) { console.log(error.name + ': ' + error.message); }
`);
    const advice = node('advice.mjs', env);
    expect(advice).toMatch(/^BridgeUnavailableError: /);
    const command = /`(npx [^`]+)`/.exec(advice)?.[1];
    expect(command).toBe('npx peer-target-name conformance build');
    expect(advice).toContain("openBridge({ library: '<that path>' })");
    // 2. The advised command, from the consumer's directory: it prints the library's path.
    const [npx, ...args] = command!.split(' ');
    const built = run(process.platform === 'win32' ? `${npx}.cmd` : npx!, args, consumer, env);
    expect(built.stderr).toBe('');
    expect(built.status).toBe(0);
    const library = built.stdout.trim();
    expect(library.startsWith(join(consumer, 'node_modules/peer-target-name/'))).toBe(true);
    expect(existsSync(library)).toBe(true);
    // 3. openBridge({ library: '<that path>' }), and a peer registered on a real socket.
    writeFileSync(join(consumer, 'bridge.mjs'), `import dgram from 'node:dgram';
import { once } from 'node:events';
import { openBridge, socketHandle } from 'peer-target-name/bridge';
const bridge = openBridge({ library: ${JSON.stringify(library)} });
const socket = dgram.createSocket('udp4');
socket.bind(0, '127.0.0.1');
await once(socket, 'listening');
const handle = socketHandle(socket);
bridge.setPeerTargetName(handle, ${INPUT_JS});
bridge.deletePeerTargetName(handle, ${JSON.stringify(INPUT.peer)});
socket.close();
await bridge.close();
console.log('registered and deleted');
`);
    expect(node('bridge.mjs', env)).toBe('registered and deleted');
    // The main job from the consumer's directory uses the library just built.
    const serve = run(process.execPath, [join(consumer, 'node_modules/.bin/peer-target-name'), 'serve', '--peers', '10', '--json'], consumer, env);
    expect(serve.status, serve.stderr).toBe(0);
    expect(JSON.parse(serve.stdout)).toMatchObject({ peers: { total: 10, served: 10 } });
  });
});
