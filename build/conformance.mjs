// Builds THE CONFORMANCE LIBRARY (a test stand-in for Windows' Fwpuclnt.dll) from one C source,
// test/conformance/peer_target_name_conformance.c, in two builds:
//   POSIX build    -> build/out/libpeer_target_name_conformance.so      (host C compiler; npm run build)
//   Winsock build  -> build/out/windows-{x64,x86}/fwpuclnt.dll          (mingw-w64; the Wine test lane)
//
// The library exports WSASetSocketPeerTargetName and its family under their Windows names and
// applies the documented rules to real sockets, so the koffi bridge can be tested end to end where
// Windows' Fwpuclnt.dll cannot run. The fwpuclnt.dll build replaces Wine's (which only stubs these
// functions: a call aborts the process). Neither build is Windows' real Fwpuclnt.dll; neither does
// IPsec. See the header comment of the .c file. On a real Windows machine the real DLL is used.
//
// The package ships this script, the C sources and build/generated/layout.h (package.json "files"),
// so an installed package builds the library too: `npx peer-target-name conformance build` calls
// buildConformanceLibrary() and prints the path (the main job and the bench call it as well).
//
//   node build/conformance.mjs             build (when out of date) and print the library's path
//   node build/conformance.mjs --optional  the same, but where no C compiler exists say so loudly
//                                          (what is missing, how to get it) and exit 0: npm run build
//   node build/conformance.mjs --windows x64|x86|all
//                                          build the fwpuclnt.dll stand-in(s) with mingw-w64 (when
//                                          out of date) and print the path(s), one a line. Not part
//                                          of npm run build: the Wine lane calls it.
//
// Plain .mjs so it runs as a script on Node 20; types in build/conformance.d.mts.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const SOURCE = join(root, 'test/conformance/peer_target_name_conformance.c');
export const HEADER = join(root, 'test/conformance/peer_target_name_conformance.h');
export const PLATFORM_HEADER = join(root, 'test/conformance/ptn_platform.h');
export const LAYOUT_HEADER = join(root, 'build/generated/layout.h');
const LAYOUT_SOURCE = join(root, 'assembly/layout.ts');
const LAYOUT_SCRIPT = join(root, 'build/layout.mjs');
const OUT_DIR = join(root, 'build/out');
export const LIBRARY = join(OUT_DIR, 'libpeer_target_name_conformance.so');
export const CFLAGS = ['-O2', '-fPIC', '-shared', '-Wall', '-Wextra', '-Werror', '-pthread'];
export const INSTALL_HINT = 'apt-get install gcc';

/** The Winsock build: one fwpuclnt.dll per Windows architecture. */
export const WINDOWS_LIBRARY = Object.freeze({
  x64: join(OUT_DIR, 'windows-x64', 'fwpuclnt.dll'),
  x86: join(OUT_DIR, 'windows-x86', 'fwpuclnt.dll'),
});
export const WINDOWS_COMPILER = Object.freeze({ x64: 'x86_64-w64-mingw32-gcc', x86: 'i686-w64-mingw32-gcc' });
export const WINDOWS_INSTALL_HINT = Object.freeze({
  x64: 'apt-get install gcc-mingw-w64-x86-64',
  x86: 'apt-get install gcc-mingw-w64-i686',
});
// -static-libgcc -static: the DLL needs nothing but Windows system DLLs (kernel32, ws2_32, msvcrt).
// -Wl,--kill-at: the __stdcall exports undecorated on x86 (WSASetSocketPeerTargetName, not
// _WSASetSocketPeerTargetName@20), as the real DLL has them. Only __declspec(dllexport) is exported.
export const WINDOWS_CFLAGS = Object.freeze([
  '-O2', '-shared', '-Wall', '-Wextra', '-Werror', '-static-libgcc', '-static', '-Wl,--kill-at',
]);

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

function upToDate(target, sources) {
  if (!existsSync(target)) return false;
  const built = mtime(target);
  return sources.every((s) => mtime(s) < built);
}

/** Everything a build depends on: the .c, both headers, build/generated/layout.h, this script. */
const librarySources = () => [SOURCE, HEADER, PLATFORM_HEADER, LAYOUT_HEADER, fileURLToPath(import.meta.url)];

function ensureLayoutHeader() {
  // An installed package ships the generated header but not assembly/ (nor build/layout.mjs).
  if (existsSync(LAYOUT_HEADER) && (!existsSync(LAYOUT_SOURCE) || mtime(LAYOUT_HEADER) >= mtime(LAYOUT_SOURCE))) return;
  const r = spawnSync(process.execPath, [LAYOUT_SCRIPT], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`node build/layout.mjs failed (needed for build/generated/layout.h):\n${r.stderr ?? r.error}`);
  }
}

/**
 * Builds the POSIX conformance library when it is missing or older than its sources (the .c, the
 * two headers, build/generated/layout.h and this script). Returns `{ path, rebuilt, compiler }`; throws on
 * Windows (not needed there), without a C compiler, or when the compile fails.
 */
export function buildConformanceLibrary() {
  if (process.platform === 'win32') {
    throw new Error(
      'The conformance library is not needed on Windows: the real Fwpuclnt.dll is used there.',
    );
  }
  ensureLayoutHeader();
  if (upToDate(LIBRARY, librarySources())) return { path: LIBRARY, rebuilt: false, compiler: undefined };

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

/**
 * Builds the Winsock conformance library, build/out/windows-<arch>/fwpuclnt.dll, with mingw-w64
 * when it is missing or older than its sources. arch: 'x64' | 'x86'. Returns
 * `{ path, rebuilt, compiler }`; throws for another arch, when the cross compiler is missing (the
 * message names the Debian package) or when the compile fails.
 */
export function buildWindowsConformanceLibrary(arch) {
  if (!Object.hasOwn(WINDOWS_LIBRARY, arch)) {
    throw new Error(`buildWindowsConformanceLibrary: arch must be 'x64' or 'x86', not ${JSON.stringify(arch)}`);
  }
  const target = WINDOWS_LIBRARY[arch];
  ensureLayoutHeader();
  if (upToDate(target, librarySources())) return { path: target, rebuilt: false, compiler: undefined };

  const compiler = WINDOWS_COMPILER[arch];
  if (!works(compiler)) {
    throw new Error(
      `No mingw-w64 cross compiler for Windows ${arch} (${compiler} not found) to build ${target}. ` +
        `Install it: \`${WINDOWS_INSTALL_HINT[arch]}\`.`,
    );
  }
  // Compile into a private temporary folder, under the final file name (the linker writes that name
  // into the DLL's export directory), then rename: a loader never sees half a file.
  const dir = dirname(target);
  mkdirSync(dir, { recursive: true });
  const tempDir = mkdtempSync(join(dir, `.build-${process.pid}-`));
  const temp = join(tempDir, basename(target));
  const args = [
    ...WINDOWS_CFLAGS,
    '-I', join(root, 'build/generated'),
    '-I', join(root, 'test/conformance'),
    '-o', temp,
    SOURCE,
    '-lws2_32',
  ];
  try {
    const r = spawnSync(compiler, args, { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      throw new Error(`${compiler} ${args.join(' ')} failed:\n${r.stderr ?? r.error}`);
    }
    renameSync(temp, target);
  } finally {
    rmSync(tempDir, { recursive: true, force: true });
  }
  return { path: target, rebuilt: true, compiler };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // --optional (the package's build, hence `npm install` / `npm ci`): a machine without a C compiler
  // still installs; it is told, loudly, what is missing and how to get it, and exits 0. Without
  // --optional any failure exits 1. A compile that FAILS (a compiler exists) is an error either way.
  const argv = process.argv.slice(2);
  const windowsAt = argv.indexOf('--windows');
  if (windowsAt !== -1) {
    // --windows x64 | x86 | all: the fwpuclnt.dll stand-in(s), with mingw-w64 (any host).
    const which = argv[windowsAt + 1];
    const arches = which === 'all' ? ['x64', 'x86'] : [which];
    if (!arches.every((a) => Object.hasOwn(WINDOWS_LIBRARY, a))) {
      console.error('usage: node build/conformance.mjs --windows x64|x86|all');
      process.exit(2);
    }
    try {
      for (const arch of arches) console.log(buildWindowsConformanceLibrary(arch).path);
    } catch (err) {
      console.error(`conformance: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    }
    process.exit(0);
  }
  const optional = argv.includes('--optional');
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
