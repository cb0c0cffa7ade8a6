// Which native backend the main job registers peers with: on Windows the real Fwpuclnt.dll; a
// library named by --library or PEER_TARGET_NAME_LIBRARY; elsewhere the package's Linux conformance
// library (built by `npm run build` in a checkout where a C compiler exists; in an installed package
// built here on first use, or by `npx peer-target-name conformance build`, from the shipped C source).
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openBridge, type Bridge } from '../../bridge/native-bridge.js';
import type { SocketHandle } from '../../bridge/winsock.js';

export type BackendKind = 'windows' | 'conformance' | 'library';

export interface Backend {
  kind: BackendKind;
  bridge: Bridge;
  /** The library's path ('fwpuclnt.dll' on Windows). */
  path: string;
  /** One line for people: what registrations go to. */
  description: string;
  /** Peers the native side holds for a socket, where it can be asked (the conformance library). */
  peerCount?: (handle: SocketHandle) => number;
  /** Set when the conformance library was compiled just now. */
  builtNow?: boolean;
}

/** No native backend can be had here: the message says why and what to do (exit status 69). */
export class BackendUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackendUnavailableError';
  }
}

export const CONFORMANCE_LIBRARY = 'build/out/libpeer_target_name_conformance.so';

const COMPILER_HINT =
  'Install a C compiler (Debian/Ubuntu: apt-get install gcc; Fedora: dnf install gcc; Alpine: apk add build-base; ' +
  'macOS: xcode-select --install), then run this again (it builds the library itself) or build it first with ' +
  '`npx peer-target-name conformance build`; or pass --library PATH (or set PEER_TARGET_NAME_LIBRARY) to a library ' +
  'that exports the Fwpuclnt.dll functions.';

/** The package's root (the folder of its package.json), from host/ or dist/host/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        if ((JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'peer-target-name') return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error('cannot find the package.json of peer-target-name');
}

interface ConformanceBuilder {
  buildConformanceLibrary(): { path: string; rebuilt: boolean };
}

/** The conformance library's path, compiling it first when it is missing or out of date. */
export async function conformanceLibrary(): Promise<{ path: string; builtNow: boolean }> {
  const root = packageRoot();
  const prebuilt = join(root, CONFORMANCE_LIBRARY);
  const script = join(root, 'build/conformance.mjs');
  if (!existsSync(script)) {
    if (existsSync(prebuilt)) return { path: prebuilt, builtNow: false };
    throw new BackendUnavailableError(
      `WSASetSocketPeerTargetName exists only on Windows, and this is ${process.platform}; the Linux conformance ` +
        `library that stands in for it is not built (${prebuilt} is missing) and this install has no build script for it. ` +
        'Pass --library PATH (or set PEER_TARGET_NAME_LIBRARY) to a library that exports the Fwpuclnt.dll functions.',
    );
  }
  let builder: ConformanceBuilder;
  try {
    builder = (await import(pathToFileURL(script).href)) as ConformanceBuilder;
  } catch (cause) {
    throw new BackendUnavailableError(`could not load ${script}: ${(cause as Error).message}`, { cause });
  }
  try {
    const built = builder.buildConformanceLibrary();
    return { path: built.path, builtNow: built.rebuilt };
  } catch (cause) {
    const reason = (cause as Error).message;
    const noCompiler = /No C compiler/.test(reason);
    if (noCompiler && existsSync(prebuilt)) return { path: prebuilt, builtNow: false }; // older, but usable
    if (!noCompiler) throw new BackendUnavailableError(`the conformance library failed to build: ${reason}`, { cause });
    const tried = /\(tried: ([^)]*)\)/.exec(reason)?.[1];
    throw new BackendUnavailableError(
      `no native backend here. WSASetSocketPeerTargetName exists only on Windows (Fwpuclnt.dll), and this is ` +
        `${process.platform}; in its place the main job uses the package's Linux conformance library (${prebuilt}), ` +
        `which is compiled with the system's C compiler, and none was found${tried ? ` (tried: ${tried})` : ''}. ${COMPILER_HINT}`,
      { cause },
    );
  }
}

/** peerCount(handle) from the conformance library's test exports, if it has them. */
function conformancePeerCount(path: string): ((handle: SocketHandle) => number) | undefined {
  try {
    const koffi = createRequire(import.meta.url)('koffi') as {
      load(path: string): { func(signature: string): (...args: unknown[]) => unknown };
    };
    const count = koffi.load(path).func('uint32_t ptn_peer_count(uintptr_t s)');
    return (handle) => count(handle) as number;
  } catch {
    return undefined;
  }
}

/**
 * Opens the backend for this platform: `library` (or PEER_TARGET_NAME_LIBRARY) when given; on
 * Windows Fwpuclnt.dll; elsewhere the conformance library, compiled if needed.
 * @throws BackendUnavailableError naming what is missing and how to get it.
 */
export async function openBackend(library?: string): Promise<Backend> {
  const named = library ?? process.env.PEER_TARGET_NAME_LIBRARY;
  const open = (path: string | undefined) => {
    try {
      return openBridge(path === undefined ? {} : { library: path });
    } catch (cause) {
      throw new BackendUnavailableError((cause as Error).message, { cause });
    }
  };
  if (named) {
    if (!existsSync(named)) throw new BackendUnavailableError(`no library at ${named} (from ${library ? '--library' : 'PEER_TARGET_NAME_LIBRARY'})`);
    const bridge = open(named);
    const peerCount = conformancePeerCount(named);
    return {
      kind: 'library', bridge, path: named, peerCount,
      description: `${named}${peerCount ? ' (a library with the conformance library\'s inspection exports)' : ''}`,
    };
  }
  if (process.platform === 'win32') {
    return { kind: 'windows', bridge: open(undefined), path: 'fwpuclnt.dll', description: 'Fwpuclnt.dll (Windows)' };
  }
  const { path, builtNow } = await conformanceLibrary();
  return {
    kind: 'conformance', bridge: open(path), path, builtNow, peerCount: conformancePeerCount(path),
    description: `the Linux conformance library (${path}), a stand-in for Fwpuclnt.dll: it checks each call ` +
      'against the documented rules and keeps a table per socket, but does no IPsec',
  };
}
