// Builds the LINUX CONFORMANCE LIBRARY (a test stand-in, never shipped):
// test/conformance/peer_target_name_conformance.c -> build/out/libpeer_target_name_conformance.so
//
// The library exports WSASetSocketPeerTargetName and its family under their Windows names and
// applies the documented rules to real POSIX sockets, so the koffi bridge can be tested end to end
// where Windows' Fwpuclnt.dll cannot run (Wine only stubs it). It is not Windows and does no IPsec;
// see the header comment of the .c file. On Windows it is not needed: the real Fwpuclnt.dll is used.
//
//   node build/conformance.mjs             build (when out of date) and print the library's path
//   node build/conformance.mjs --optional  the same, but where no C compiler exists say so loudly
//                                          (what is missing, how to get it) and exit 0: npm run build
//
// Plain .mjs so it runs as a script on Node 20; types in build/conformance.d.mts.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const SOURCE = join(root, 'test/conformance/peer_target_name_conformance.c');
export const HEADER = join(root, 'test/conformance/peer_target_name_conformance.h');
export const LAYOUT_HEADER = join(root, 'build/generated/layout.h');
const LAYOUT_SOURCE = join(root, 'assembly/layout.ts');
const LAYOUT_SCRIPT = join(root, 'build/layout.mjs');
const OUT_DIR = join(root, 'build/out');
export const LIBRARY = join(OUT_DIR, 'libpeer_target_name_conformance.so');
export const CFLAGS = ['-O2', '-fPIC', '-shared', '-Wall', '-Wextra', '-Werror', '-pthread'];
export const INSTALL_HINT = 'apt-get install gcc';

/** The compilers tried, in order: $CC when set, then cc, then gcc. */
export function candidateCompilers() {
  const env = process.env.CC?.trim();
  return [...new Set([...(env ? [env] : []), 'cc', 'gcc'])];
}

function works(compiler) {
  const r = spawnSync(compiler, ['--version'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
}

/** The first compiler that runs, or undefined. */
export function findCompiler() {
  return candidateCompilers().find(works);
}

const mtime = (path) => statSync(path).mtimeMs;

function upToDate(sources) {
  if (!existsSync(LIBRARY)) return false;
  const built = mtime(LIBRARY);
  return sources.every((s) => mtime(s) < built);
}

function ensureLayoutHeader() {
  if (existsSync(LAYOUT_HEADER) && mtime(LAYOUT_HEADER) >= mtime(LAYOUT_SOURCE)) return;
  const r = spawnSync(process.execPath, [LAYOUT_SCRIPT], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`node build/layout.mjs failed (needed for build/generated/layout.h):\n${r.stderr ?? r.error}`);
  }
}

/**
 * Builds the conformance library when it is missing or older than its sources (the .c, the .h,
 * build/generated/layout.h and this script). Returns `{ path, rebuilt, compiler }`; throws on
 * Windows (not needed there), without a C compiler, or when the compile fails.
 */
export function buildConformanceLibrary() {
  if (process.platform === 'win32') {
    throw new Error(
      'The conformance library is not needed on Windows: the real Fwpuclnt.dll is used there.',
    );
  }
  ensureLayoutHeader();
  const sources = [SOURCE, HEADER, LAYOUT_HEADER, fileURLToPath(import.meta.url)];
  if (upToDate(sources)) return { path: LIBRARY, rebuilt: false, compiler: undefined };

  const compiler = findCompiler();
  if (compiler === undefined) {
    throw new Error(
      `No C compiler found to build the conformance library (tried: ${candidateCompilers().join(', ')}). ` +
        `Install one, e.g. \`${INSTALL_HINT}\`, or point $CC at one.`,
    );
  }
  mkdirSync(OUT_DIR, { recursive: true });
  // Compile to a temporary name and rename, so a process loading the library never sees half a file
  // (vitest runs test files in parallel; two of them may build at once).
  const temp = `${LIBRARY}.${process.pid}.tmp`;
  const args = [
    ...CFLAGS,
    ...(process.platform === 'darwin' ? ['-undefined', 'error'] : []),
    '-I', join(root, 'build/generated'),
    '-I', join(root, 'test/conformance'),
    '-o', temp,
    SOURCE,
  ];
  const r = spawnSync(compiler, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    rmSync(temp, { force: true });
    throw new Error(`${compiler} ${args.join(" ")} failed:\n${r.stderr ?? r.error}`);
  }
  renameSync(temp, LIBRARY);
  return { path: LIBRARY, rebuilt: true, compiler };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // --optional (the package's build, hence `npm install` / `npm ci`): a machine without a C compiler
  // still installs; it is told, loudly, what is missing and how to get it, and exits 0. Without
  // --optional any failure exits 1. A compile that FAILS (a compiler exists) is an error either way.
  const optional = process.argv.slice(2).includes('--optional');
  if (process.platform === 'win32') {
    console.log('conformance: not needed on Windows (the real Fwpuclnt.dll is used); nothing built.');
    process.exit(0);
  }
  try {
    const built = buildConformanceLibrary();
    console.log(optional
      ? `conformance: ${built.path} (${built.rebuilt ? `built with ${built.compiler}` : 'up to date'})`
      : built.path);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (optional && /^No C compiler/.test(message)) {
      const stale = existsSync(LIBRARY);
      const rule = '!'.repeat(100);
      console.error([
        rule,
        `!! conformance: NOT BUILT: no C compiler found (tried: ${candidateCompilers().join(', ')}).`,
        `!! The Linux conformance library (${LIBRARY}) stands in for Windows' Fwpuclnt.dll.`,
        stale
          ? '!! An older build of it is there: `npm start` uses it as it is; the tests that need it FAIL until it is rebuilt.'
          : '!! Without it `npm start` (the main job) exits 69 and the tests that need it FAIL.',
        '!! Everything else was built.',
        `!! To get it: \`${INSTALL_HINT}\` (Debian/Ubuntu; Fedora: dnf install gcc; Alpine: apk add build-base),`,
        '!! or point $CC at a C compiler; then run `node build/conformance.mjs` (or `npm run build`).',
        rule,
      ].join('\n'));
      process.exit(0);
    }
    console.error(`conformance: ${message}`);
    process.exit(1);
  }
}
